#!/bin/busybox sh
# /init of the dom0 initramfs: PID 1 of a Linux PV dom0 on Xen 4.17, booted
# by run-e2e under QEMU. It starts the xenstored under test exactly as
# xencommons would (as root, no --standalone, so it must introduce dom0 from
# /proc/xen/xsd_kva + xsd_port), brings up the Xen toolstack around it,
# creates two PV guests with `xl create`, checks what they report, destroys
# them, and prints for run-e2e to collect:
#   CHECK <name> PASS|FAIL <detail>     one line per check
#   XSDLOG| GUESTCON| SYSLOG|           logs, for diagnosis
#   E2E-DONE                            then powers the machine off
# Configuration comes from /e2e/config (XSD, XSD_ARGS, BIG_N). Booted with
# e2e_mode=lu on its command line, it runs the live-update checks of
# lu-phase.sh instead.
cd / && /bin/busybox mkdir -p proc sys dev run tmp var/lib var/log
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/e2e/bin:/usr/lib/xen-4.17/bin:/usr/bin:/bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
ln -s /run /var/run
mkdir -p /var/lib/xen /var/lib/xenstored /var/log/xen/console /run/xen \
  /run/xenstored
syslogd -O /var/log/messages -s 2000   # libxl and the C xenstored use syslog
. /e2e/config
export XENSTORED_ROOTDIR=/var/lib/xenstored
SOCK=/run/xenstored/socket
LOG=/run/xenstored.log
# The checks each guest reports (see guest-init.sh; keep the two in step).
GUEST_CHECKS="xenbus_dev ring_relative_read ring_absolute_read
  ring_relative_write ring_absolute_write ring_read_back ring_owned_write
  libxenstore_read perm_denied_read perm_denied_write big_dir_e2big
  ring_alive_after_e2big big_dir_part libxenstore_list_big watch_event"

# Spawning a process costs a PV dom0 under emulation a good fraction of a
# second, so the helpers below use shell built-ins only.
up() { read -r u _ </proc/uptime; echo "$u"; }
log() { read -r u _ </proc/uptime; echo "E2E[$u] $*"; }
# The live-update boot's checks are all named lu_<name>.
CP=""
case " $(cat /proc/cmdline) " in *" e2e_mode=lu "*) CP=lu_ ;; esac
check() { # check NAME PASS|FAIL detail...
  n=$1; r=$2; shift 2
  read -r u _ </proc/uptime
  echo "CHECK $CP$n $r $* [t=$u]"
}
# Every client call is bounded: a hung daemon must fail checks, not the run.
xs() { timeout 20 "$@"; }
# wait_for SECONDS COMMAND...: retries COMMAND every 0.5 s until it succeeds.
wait_for() {
  n=$(($1 * 2)); shift
  while [ $n -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5; n=$((n - 1))
  done
  return 1
}
finish() {
  log "xenstored log:"; tail -n 200 $LOG 2>/dev/null | sed 's/^/XSDLOG| /'
  for f in /var/log/xen/console/guest-*.log; do
    [ -f "$f" ] && sed "s/^/GUESTCON| ${f##*guest-}: /" "$f"
  done
  tail -n 30 /var/log/messages 2>/dev/null | sed 's/^/SYSLOG| /'
  echo "E2E-DONE"
  sync
  poweroff -f
  while :; do sleep 3600; done
}

log "dom0 init start, kernel $(uname -r); under test: $XSD $XSD_ARGS"
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs; do
  insmod /lib/modules/$m.ko || log "insmod $m failed"
done
mount -t xenfs xenfs /proc/xen
if [ -e /proc/xen/xsd_kva ] && [ -e /dev/xen/evtchn ] &&
  grep -q control_d /proc/xen/capabilities; then
  check dom0_xen_devices PASS "$(ls /dev/xen | tr '\n' ' ')"
else
  check dom0_xen_devices FAIL "/proc/xen: $(ls /proc/xen | tr '\n' ' ')"
  finish
fi

# xl destroy: @releaseDomain fires, and the domain's nodes go.
# destroy NAME DOMID CHECK-PREFIX
destroy() {
  # The first event is the firing at registration; the second one is ours.
  xsraw -u $SOCK -t 60 watch @releaseDomain 2 >/run/release.out 2>&1 &
  w=$!
  wait_for 10 grep -q '^EVENT' /run/release.out
  timeout 60 xl destroy $1 >/run/xl-destroy.log 2>&1 || log "xl destroy $1: $(cat /run/xl-destroy.log)"
  wait $w
  if [ "$(grep -c '^EVENT @releaseDomain' /run/release.out)" = 2 ]; then
    check ${3}_destroy_release_domain PASS ""
  else
    check ${3}_destroy_release_domain FAIL "$(tr '\n' ' ' </run/release.out)"
  fi
  gone() {
    ! xs xl domid $1 && ! xs xenstore-exists /local/domain/$2 &&
      ! xs xenstore-exists /e2e/owned-$2
  }
  if wait_for 15 gone $1 $2; then
    check ${3}_destroy_cleanup PASS "/local/domain/$2 and /e2e/owned-$2 removed"
  else
    check ${3}_destroy_cleanup FAIL "left: $(xs xl domid $1 2>/dev/null)" \
      "$(xs xenstore-exists /local/domain/$2 && echo /local/domain/$2)" \
      "$(xs xenstore-exists /e2e/owned-$2 && echo /e2e/owned-$2)"
  fi
}
# The live-update boot (run-e2e's "lu" phase) has checks of its own.
if [ "$CP" = lu_ ]; then
  . /e2e/lu-phase.sh
  finish
fi

# ---- the daemon under test ------------------------------------------------
t0=$(up)
$XSD $XSD_ARGS >$LOG 2>&1 &
# Socket only (-s), as Debian's init script asks: without it libxenstore
# falls back to /dev/xen/xenbus, and that request alone would wake the dom0
# kernel's xenbus and hide a daemon that never kicked it (dom0_introduced).
if wait_for 30 xenstore-read -s /; then
  check xenstored_ready PASS "answers on $SOCK after $(echo "$(up) $t0" |
    awk '{ printf "%.1f", $1 - $2 }') s"
else
  check xenstored_ready FAIL "no answer within 30 s: $(head -c 300 $LOG)"
  finish
fi
XSD_PID=$(pidof "$(basename "$XSD")" | cut -d' ' -f1)

# dom0's kernel talks to the store over the xsd_kva ring, and defers its
# xenbus probe until the daemon's first event on xsd_port. Once probed it
# writes control/feature-* into its home; nothing in dom0 has touched
# /dev/xen/xenbus yet, so seeing them proves the daemon mapped the ring,
# bound the port and kicked it.
if wait_for 15 xenstore-read /local/domain/0/control/feature-poweroff; then
  check dom0_introduced PASS "dom0 kernel wrote control/feature-* over its ring"
else
  check dom0_introduced FAIL "no /local/domain/0/control/feature-poweroff;" \
    "$(xs xenstore-ls -f /local/domain/0 2>&1 | tr '\n' ';' | head -c 200)"
fi

if xs xen-init-dom0 >/run/xen-init-dom0.log 2>&1; then check xen_init_dom0 PASS ""
else check xen_init_dom0 FAIL "$(tail -n 3 /run/xen-init-dom0.log | tr '\n' ';')"; fi
xs xenconsoled --pid-file=/run/xenconsoled.pid --log=guest \
  --log-dir=/var/log/xen/console || log "xenconsoled failed to start"

# ---- the toolstack against the daemon, from dom0 ----------------------------
printf 'autoballoon="off"\n' >/etc/xen/xl.conf
if xs xl info >/run/xl-info 2>&1 && grep -q '^xen_version' /run/xl-info; then
  check xl_info PASS "$(grep -E '^(xen_version|free_memory)' /run/xl-info |
    tr -s ' ' | tr '\n' ';')"
else
  check xl_info FAIL "$(head -c 300 /run/xl-info)"
fi
xs xenstore-ls -fp / >/run/xs-ls 2>&1
if grep -q '^/local/domain/0/name = "Domain-0"' /run/xs-ls; then
  check xenstore_ls PASS "$(wc -l </run/xs-ls) nodes"
else
  check xenstore_ls FAIL "$(head -c 300 /run/xs-ls)"
fi
out=$(xsraw -d /dev/xen/xenbus read /local/domain/0/name 2>&1)
case "$out" in
  *value=Domain-0) check dom0_ring_read PASS "over /dev/xen/xenbus" ;;
  *) check dom0_ring_read FAIL "$out" ;;
esac
ts=$(up)
if timeout 120 test-xenstore >/run/test-xenstore.log 2>&1; then
  check test_xenstore PASS "$(echo "$(up) $ts" | awk '{ printf "%.1f", $1 - $2 }') s"
else
  check test_xenstore FAIL "rc=$? $(tail -n 3 /run/test-xenstore.log | tr '\n' ';')"
fi

# ---- fixtures the guests read -------------------------------------------------
# Owned by dom0, readable by all ("r0"); children inherit the parent's
# permissions, so /e2e/big's 600 entries need no chmod of their own.
xs xenstore-write /e2e/marker alive-after-e2big
xs xenstore-chmod /e2e r0
xs xenstore-chmod /e2e/marker r0
xs xenstore-write /e2e/big ""
xs xenstore-chmod /e2e/big r0
# 600 names of 11 bytes: a 6600-byte XS_DIRECTORY reply, over 4096 (XSA-72).
# Written pipelined on one socket connection: 600 requests in flight at once.
out=$(xsraw -u $SOCK -t 60 fill /e2e/big $BIG_N 2>&1) || log "fill: $out"
last=/e2e/big/$(printf 'entry%05d' $((BIG_N - 1)))
out="$(xs xenstore-read $last 2>&1) $(xsraw -u $SOCK getperms $last 2>&1)"
case "$out" in
  "v OK getperms"*"value=r0 ") check bigdir_setup PASS "$BIG_N children, inherited r0" ;;
  *) check bigdir_setup FAIL "$last: $out" ;;
esac
out=$(xsraw -d /dev/xen/xenbus dir /e2e/big 2>&1)
case "$out" in
  "ERR dir E2BIG"*) check dom0_ring_big_dir_e2big PASS "" ;;
  *) check dom0_ring_big_dir_e2big FAIL "$(echo "$out" | head -c 120)" ;;
esac
out=$(xsraw -d /dev/xen/xenbus read /e2e/marker 2>&1)
case "$out" in
  *value=alive-after-e2big) check dom0_ring_after_big PASS "" ;;
  *) check dom0_ring_after_big FAIL "$out" ;;
esac

# ---- two PV guests -------------------------------------------------------------
# Created paused, so that /e2e/owned-<domid> (the guest's own node outside its
# home, which only xenstored's cleanup can remove) exists before it runs.
DOMIDS=""
for g in 1 2; do
  cat >/etc/xen/guest$g.cfg <<EOF
name = "e2e-guest$g"
type = "pv"
kernel = "/e2e/kernel"
ramdisk = "/e2e/guest-initrd.gz"
memory = 256
vcpus = 1
extra = "console=hvc0 loglevel=4"
on_poweroff = "destroy"
on_crash = "destroy"
EOF
  tc=$(up)
  if timeout 120 xl create -p /etc/xen/guest$g.cfg >/run/xl-create$g.log 2>&1; then
    d=$(xs xl domid e2e-guest$g)
    xs xenstore-write /e2e/owned-$d ""
    xs xenstore-chmod /e2e/owned-$d n$d
    xs xl unpause e2e-guest$g
    DOMIDS="$DOMIDS $d"
    check guest${g}_create PASS "domid $d in $(echo "$(up) $tc" |
      awk '{ printf "%.1f", $1 - $2 }') s"
  else
    check guest${g}_create FAIL "$(tail -n 5 /run/xl-create$g.log | tr '\n' ';')"
  fi
done
set -- $DOMIDS
D1=${1:-none}; D2=${2:-none}
[ "$D1" != none ] || finish

# Waits until every guest in $DOMIDS has written data/e2e/$1.
wait_all() {
  for d in $DOMIDS; do
    wait_for "$2" xs xenstore-read /local/domain/$d/data/e2e/$1 || return 1
  done
}
if wait_all done 150; then
  check guests_finished PASS "both guests ran their checks"
else
  check guests_finished FAIL "no data/e2e/done from every guest of$DOMIDS"
fi
[ "$D2" != none ] && xs xl list >/run/xl-list 2>&1
if grep -q '^e2e-guest1 ' /run/xl-list && grep -q '^e2e-guest2 ' /run/xl-list; then
  check two_guests_at_once PASS "domids $D1 $D2 running together"
else
  check two_guests_at_once FAIL "$(tr '\n' ';' </run/xl-list 2>/dev/null)"
fi
# Acknowledge: fires each guest's watch; the guests then write watch_event.
for d in $DOMIDS; do xs xenstore-write /local/domain/$d/data/e2e/ack 1; done
wait_all final 30 || log "a guest never wrote data/e2e/final"

# guest_<check> lines for the first guest; the second one's are summed up.
# results DOMID PREFIX: one CHECK line per guest check, from the guest's
# data/e2e ("check = \"PASS detail\"" lines; xenstore-ls may cut a long
# value short, only its start counts), in one awk rather than a loop.
results() {
  read -r u _ </proc/uptime
  xs xenstore-ls /local/domain/$1/data/e2e 2>/dev/null |
    awk -v checks="$GUEST_CHECKS" -v prefix="$2" -v t="$u" '
      { v = $0; sub(/^[^=]*= "/, "", v); sub(/"$/, "", v); got[$1] = v }
      END {
        n = split(checks, c, /[ \n]+/)
        for (i = 1; i <= n; i++) {
          if (c[i] == "") continue
          v = got[c[i]]
          r = (v ~ /^PASS/) ? "PASS" : "FAIL"
          if (v == "") v = "not reported"
          sub(/^(PASS|FAIL) ?/, "", v)
          print "CHECK " prefix c[i] " " r " " v " [t=" t "]"
        }
      }'
}
results $D1 guest_
v=$(xs xenstore-read /local/domain/$D1/data/hello 2>/dev/null)
[ "$v" = "from-guest-$D1" ] && check guest_write_visible_in_dom0 PASS "" ||
  check guest_write_visible_in_dom0 FAIL "got '$v'"
if [ "$D2" != none ]; then
  results $D2 "" >/run/guest2-results
  bad=$(awk '$3 != "PASS" { printf " %s", $2 }' /run/guest2-results)
  [ -z "$bad" ] && check guest2_all_checks PASS "$(wc -l </run/guest2-results) checks" ||
    check guest2_all_checks FAIL "failed or missing:$bad"
fi

destroy e2e-guest1 $D1 guest
if [ "$D2" != none ]; then
  # The survivor's ring is untouched by its neighbour's death.
  xs xenstore-write /local/domain/$D2/data/e2e/ping 1
  if wait_for 30 xs xenstore-read /local/domain/$D2/data/e2e/pong; then
    check guest2_alive_after_guest1_destroy PASS ""
  else
    check guest2_alive_after_guest1_destroy FAIL "no pong over its ring"
  fi
  destroy e2e-guest2 $D2 guest2
fi

# ---- the daemon at the end ---------------------------------------------------------
if [ -n "$XSD_PID" ] && kill -0 "$XSD_PID" 2>/dev/null &&
  [ "$(xs xenstore-read /e2e/marker 2>/dev/null)" = alive-after-e2big ]; then
  # utime + stime, in clock ticks (100 Hz): how much dom0 CPU it took
  cpu=$(awk '{ printf "%.1f", ($14 + $15) / 100 }' /proc/$XSD_PID/stat)
  check xenstored_alive_at_end PASS "pid $XSD_PID, ${cpu} s of CPU"
else
  check xenstored_alive_at_end FAIL "pid '$XSD_PID' gone or not answering"
fi
# In the foreground cxenstored logs "<date> <time> <level> <text>" to
# stderr; forked, it logs to syslog (busybox: "<date> <host> daemon.err ...").
bad=$(awk '$3 == "error" || $3 == "critical"' $LOG
  grep -E 'terminate called|Assertion|Segmentation|AddressSanitizer' $LOG
  grep -E 'daemon\.(err|crit|alert|emerg) [^ ]*xenstored' /var/log/messages)
if [ -z "$bad" ]; then
  check xenstored_log_clean PASS "$(wc -l <$LOG) lines, no error"
else
  check xenstored_log_clean FAIL "$(echo "$bad" | head -n 3 | tr '\n' ';')"
fi
finish
