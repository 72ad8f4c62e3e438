# The live-update boot (run-e2e's "lu" phase), sourced by dom0-init.sh after
# its common start (modules, xenfs, helpers; every check is named lu_<name>).
#
# The host starts on Debian's C xenstored 4.17, as a stock host would, and a
# PV guest is left blocked on a watch of its home. Then, with the stock
# `xenstore-control live-update` and nothing restarted:
#   c_to_cxs     C 4.17 -> cxenstored (hot swap, -c gives cxenstored's args)
#   refused_*    three updates cxenstored must refuse while serving on
#   cxs_to_cxs   cxenstored -> cxenstored (no -c: the argv carries over)
#   cxs_to_c     cxenstored -> C 4.17 (rollback, -c gives C's args)
# After each update: the same process runs the new binary, `xenstore-ls -fp /`
# is byte-identical, dom0's kernel ring, the guest's watch and ring, a socket
# client's watch and `xl list` all work. At the end, under C again, the
# guest's destruction is cleaned up and a second guest boots.
C_XSD=/usr/lib/xen-4.17/bin/xenstored
CXS=/usr/sbin/cxenstored
STATE=/run/xenstored/state_dump

log "live-update phase: the host starts on $C_XSD"
t0=$(up)
# As Debian's init script does (there without -N: it forks).
$C_XSD -N --pid-file /run/xenstore.pid >$LOG 2>&1 &
if wait_for 30 xenstore-read -s /; then
  check c_xenstored_ready PASS "answers on $SOCK after $(echo "$(up) $t0" |
    awk '{ printf "%.1f", $1 - $2 }') s"
else
  check c_xenstored_ready FAIL "no answer within 30 s: $(head -c 300 $LOG)"
  return
fi
XSD_PID=$(pidof xenstored | cut -d' ' -f1)
wait_for 15 xenstore-read /local/domain/0/control/feature-poweroff ||
  log "dom0's kernel wrote no control/feature-poweroff"
xs xen-init-dom0 >/run/xen-init-dom0.log 2>&1 ||
  log "xen-init-dom0: $(tail -n 3 /run/xen-init-dom0.log | tr '\n' ';')"
xs xenconsoled --pid-file=/run/xenconsoled.pid --log=guest \
  --log-dir=/var/log/xen/console || log "xenconsoled failed to start"
printf 'autoballoon="off"\n' >/etc/xen/xl.conf

# Some state of dom0's own to carry along: a value, an empty node, a
# permission naming the guest (set once it exists).
xs xenstore-write /e2e/lu/value carried /e2e/lu/empty ""
xs xenstore-chmod /e2e r0

# lu_guest NAME: a guest in live-update mode (guest-init.sh), created paused
# so that /e2e/owned-<domid> exists before it runs; prints its domid.
lu_guest() {
  cat >/etc/xen/$1.cfg <<EOF
name = "$1"
type = "pv"
kernel = "/e2e/kernel"
ramdisk = "/e2e/guest-initrd.gz"
memory = 256
vcpus = 1
extra = "console=hvc0 loglevel=4 e2e_mode=lu"
on_poweroff = "destroy"
on_crash = "destroy"
EOF
  timeout 120 xl create -p /etc/xen/$1.cfg >/run/xl-create-$1.log 2>&1 || return 1
  dd=$(xs xl domid $1) || return 1
  xs xenstore-write /e2e/owned-$dd ""
  xs xenstore-chmod /e2e/owned-$dd n$dd
  xs xl unpause $1 || return 1
  echo $dd
}
pong_is() { [ "$(xs xenstore-read /local/domain/$1/data/e2e/lu-pong 2>/dev/null)" = "$2" ]; }

tc=$(up)
G1=$(lu_guest lu-guest1) || G1=""
if [ -n "$G1" ] && wait_for 150 pong_is "$G1" none; then
  check guest_waits_on_watch PASS "domid $G1 blocked on data/e2e/lu-ping after $(echo "$(up) $tc" |
    awk '{ printf "%.1f", $1 - $2 }') s"
else
  check guest_waits_on_watch FAIL "guest '$G1': $(tail -n 3 /run/xl-create-lu-guest1.log | tr '\n' ';')"
  return
fi
xs xenstore-chmod /e2e/lu/value n0 r$G1

# A toolstack-side client too: one socket connection whose watch must
# survive every update (its fd is inherited by each new daemon).
xsraw -u $SOCK -t 900 watch /e2e/lu/sockwatch 4 >/run/lu-sockwatch.out 2>&1 &
wait_for 10 grep -q '^EVENT' /run/lu-sockwatch.out
sock_events() { grep -c '^EVENT' /run/lu-sockwatch.out; }
sock_more_than() { [ "$(sock_events)" -gt "$1" ]; }

# The daemon's utime + stime in seconds (100 Hz ticks): a new daemon that
# spins shows here.
cpu_s() { awk '{ printf "%.1f", ($14 + $15) / 100 }' /proc/$XSD_PID/stat; }
fd_count() { ls /proc/$XSD_PID/fd | wc -l; }

# update NAME EXE XENSTORE-CONTROL-ARGS...: one live update to EXE, then
# what must hold after it.
update() {
  name=$1; exe=$2; shift 2
  xs xenstore-ls -fp / >/run/lu-$name.before 2>&1
  tu=$(up)
  timeout 120 xenstore-control live-update "$@" >/run/lu-$name.out 2>&1
  rc=$?
  took=$(echo "$(up) $tu" | awk '{ printf "%.1f", $1 - $2 }')
  if [ $rc = 0 ]; then
    check $name PASS "xenstore-control live-update $* in $took s" \
      "$(tr '\n' ' ' </run/lu-$name.out | head -c 100)"
  else
    check $name FAIL "rc=$rc after $took s: $(tr '\n' ' ' </run/lu-$name.out | head -c 200)"
  fi
  now=$(readlink /proc/$XSD_PID/exe 2>/dev/null)
  pidfile=$(cat /run/xenstore.pid 2>/dev/null)
  if [ "$now" = "$exe" ] && [ "$pidfile" = "$XSD_PID" ]; then
    check ${name}_same_pid PASS "pid $XSD_PID (also in /run/xenstore.pid) now runs $exe" \
      "($(cpu_s) s of CPU so far, $(fd_count) fds)"
  else
    check ${name}_same_pid FAIL "pid $XSD_PID runs '$now', not $exe; pid file '$pidfile'"
  fi
  # Idle, the new daemon sleeps (a busy loop on a stale fd would show here).
  c0=$(cpu_s); sleep 2; c1=$(cpu_s)
  idle=$(echo "$c1 $c0" | awk '{ printf "%.2f", $1 - $2 }')
  if echo "$idle" | awk '{ exit !($1 < 0.3) }'; then
    check ${name}_idle PASS "$idle s of CPU in 2 s idle"
  else
    check ${name}_idle FAIL "$idle s of CPU in 2 s idle"
  fi
  tl=$(up)
  xs xenstore-ls -fp / >/run/lu-$name.after 2>&1
  tl=$(echo "$(up) $tl" | awk '{ printf "%.1f", $1 - $2 }')
  if cmp -s /run/lu-$name.before /run/lu-$name.after; then
    check ${name}_store_identical PASS "xenstore-ls -fp /: $(wc -l </run/lu-$name.after) lines in $tl s"
  else
    check ${name}_store_identical FAIL "$(diff /run/lu-$name.before /run/lu-$name.after |
      grep '^[-+]/' | head -n 4 | tr '\n' ';' | head -c 300)"
  fi
  # dom0's kernel xenbus: its xsd_kva ring, mapped again by the new daemon.
  # libxenstore goes there too when XENSTORED_PATH names the device.
  out="$(xsraw -d /dev/xen/xenbus write /e2e/lu/dom0-ring $name 2>&1) $(xsraw -d /dev/xen/xenbus read /e2e/lu/dom0-ring 2>&1)"
  out="$out $(XENSTORED_PATH=/dev/xen/xenbus xs xenstore-read /e2e/lu/dom0-ring 2>&1)"
  case "$out" in
    "OK write"*"value=$name $name") check ${name}_dom0_ring PASS "write and read over /dev/xen/xenbus" ;;
    *) check ${name}_dom0_ring FAIL "$out" ;;
  esac
  # The guest's watch, registered before any update, fires; its answer
  # comes back over its ring.
  xs xenstore-write /local/domain/$G1/data/e2e/lu-ping $name
  if wait_for 30 pong_is $G1 $name; then
    check ${name}_guest_watch PASS "dom$G1 saw lu-ping=$name and answered"
  else
    check ${name}_guest_watch FAIL "lu-pong is '$(xs xenstore-read /local/domain/$G1/data/e2e/lu-pong 2>&1)'"
  fi
  n=$(sock_events)
  xs xenstore-write /e2e/lu/sockwatch $name
  if wait_for 10 sock_more_than "$n"; then
    check ${name}_socket_watch PASS "the socket client's watch fired"
  else
    check ${name}_socket_watch FAIL "$(tr '\n' ' ' </run/lu-sockwatch.out)"
  fi
  if xs xl list >/run/xl-list 2>&1 && grep -q '^lu-guest1 ' /run/xl-list; then
    check ${name}_xl_list PASS ""
  else
    check ${name}_xl_list FAIL "$(tr '\n' ';' </run/xl-list | head -c 200)"
  fi
}

# refuse NAME TARGET MESSAGE: an update to TARGET is refused with MESSAGE,
# and cxenstored serves on as before.
refuse() {
  timeout 60 xenstore-control live-update -F $2 >/run/lu-$1.out 2>&1
  rc=$?
  msg=$(tr '\n' ' ' </run/lu-$1.out | head -c 200)
  now=$(readlink /proc/$XSD_PID/exe 2>/dev/null)
  v=$(xs xenstore-read -s /e2e/lu/value 2>&1)
  if [ $rc != 0 ] && grep -q "$3" /run/lu-$1.out && [ "$now" = "$CXS" ] &&
    [ "$v" = carried ] && [ ! -e $STATE ]; then
    check $1 PASS "rc=$rc: $msg"
  else
    check $1 FAIL "rc=$rc: '$msg'; pid $XSD_PID runs '$now'; /e2e/lu/value '$v'" \
      "$([ -e $STATE ] && echo "; $STATE left")"
  fi
}

# Without -c: cxenstored gets the C daemon's own argv (-N --pid-file ...)
# plus -U, as an administrator's plain `xenstore-control live-update` gives.
update c_to_cxs $CXS -F $CXS

# Refused while cxenstored runs: the old daemon keeps serving.
printf '#!/bin/sh\nexit 0\n' >/run/lu-not-executable
chmod 644 /run/lu-not-executable
printf '#!/bin/sh\necho "no help here"\nexit 3\n' >/run/lu-fails-help
printf '#!/bin/sh\ncase "$*" in\n*--help*) echo "Usage: cxenstored [options]"; exit 0 ;;\n*--check-state*) echo "state: unreadable by this build"; exit 1 ;;\nesac\nexit 9\n' >/run/lu-cannot-restore
chmod 755 /run/lu-fails-help /run/lu-cannot-restore
refuse refused_not_executable /run/lu-not-executable "not executable"
refuse refused_fails_help /run/lu-fails-help "fails --help"
refuse refused_cannot_restore /run/lu-cannot-restore "cannot restore the state"
out="$(xsraw -d /dev/xen/xenbus read /e2e/lu/value 2>&1)"
case "$out" in
  *value=carried) check refused_dom0_ring PASS "" ;;
  *) check refused_dom0_ring FAIL "$out" ;;
esac
# ... and still sees a domain die: one created paused, never run, destroyed.
D3=$(timeout 60 xl create -p /etc/xen/lu-guest1.cfg 'name="lu-dying"' >/run/xl-create-lu-dying.log 2>&1 &&
  xs xl domid lu-dying) || D3=""
if [ -n "$D3" ]; then
  xs xenstore-write /e2e/owned-$D3 ""
  xs xenstore-chmod /e2e/owned-$D3 n$D3
  destroy lu-dying $D3 refused_then
else
  check refused_then_destroy_release_domain FAIL "xl create: $(tail -n 3 /run/xl-create-lu-dying.log | tr '\n' ';')"
fi

update cxs_to_cxs $CXS -F $CXS
update cxs_to_c $C_XSD -c "-N --pid-file /run/xenstore.pid" -F $C_XSD
# cxenstored blocks SIGTERM, SIGINT and SIGHUP for its signalfd; the C
# daemon it became must not inherit that (it could not be stopped).
blk=$(awk '/^SigBlk:/ { print $2 }' /proc/$XSD_PID/status)
if [ "$blk" = 0000000000000000 ]; then
  check cxs_to_c_signals_unblocked PASS ""
else
  check cxs_to_c_signals_unblocked FAIL "SigBlk $blk"
fi

# Back on C 4.17: the guest that lived through all three updates dies and
# is cleaned up, and a new guest boots.
destroy lu-guest1 $G1 guest1
tc=$(up)
G2=$(lu_guest lu-guest2) || G2=""
if [ -n "$G2" ] && wait_for 150 pong_is "$G2" none; then
  check second_guest_boots PASS "domid $G2 up in $(echo "$(up) $tc" |
    awk '{ printf "%.1f", $1 - $2 }') s"
  xs xenstore-write /local/domain/$G2/data/e2e/lu-ping hello
  if wait_for 30 pong_is $G2 hello; then check second_guest_watch PASS ""
  else check second_guest_watch FAIL "no pong"; fi
else
  check second_guest_boots FAIL "guest '$G2': $(tail -n 3 /run/xl-create-lu-guest2.log | tr '\n' ';')"
fi

if kill -0 $XSD_PID 2>/dev/null && [ "$(readlink /proc/$XSD_PID/exe)" = $C_XSD ] &&
  [ "$(xs xenstore-read /e2e/lu/value 2>/dev/null)" = carried ]; then
  check xenstored_alive_at_end PASS "pid $XSD_PID, $C_XSD"
else
  check xenstored_alive_at_end FAIL "pid $XSD_PID: '$(readlink /proc/$XSD_PID/exe)'"
fi
# cxenstored's error lines (the refusals are expected ones), C's barfs.
bad=$(awk '($3 == "error" && !/live update: refused/) || $3 == "critical"' $LOG
  grep -E 'terminate called|Assertion|Segmentation|FATAL|barf' $LOG)
if [ -z "$bad" ]; then
  check xenstored_log_clean PASS "$(wc -l <$LOG) lines, no error"
else
  check xenstored_log_clean FAIL "$(echo "$bad" | head -n 3 | tr '\n' ';')"
fi
