#!/bin/busybox sh
# /init of the PV guest's initramfs. Every xenstore access made here travels
# guest kernel xenbus driver -> shared ring page + event channel -> cxenstored
# in dom0: this is the half of the suite that no socket test can reach.
#
# Protocol with dom0 (dom0-init.sh), all through the guest's home
# /local/domain/<domid>, which the guest may write:
#   data/e2e/<check> = "PASS|FAIL detail"   one per check, also on hvc0
#   data/e2e/done    = 1                    all checks written
#   data/e2e/ack     (dom0 writes)          fires the guest's watch
#   data/e2e/final   = 1                    watch_event written too
#   data/e2e/ping    (dom0 writes)          answered with data/e2e/pong = pong
# Then the guest idles until dom0 destroys it with `xl destroy`.
#
# Booted with e2e_mode=lu (run-e2e's live-update boot, lu-phase.sh), it
# only waits on one watch, registered once and kept while dom0 replaces the
# daemon under it several times:
#   data/e2e/lu-ping (dom0 writes)          fires the watch; the guest copies
#   data/e2e/lu-pong = <lu-ping's value>    the value over (also at the
#                                           registration's firing: "none")
cd / && /bin/busybox mkdir -p proc sys dev run tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /e2e-config   # BIG_N
echo "GUEST-START kernel $(uname -r)"

for i in $(seq 1 50); do [ -e /dev/xen/xenbus ] && break; sleep 0.2; done

if grep -q 'e2e_mode=lu' /proc/cmdline; then
  echo "GUEST-LU waiting on data/e2e/lu-ping"
  # One connection, one watch, blocked in read() on /dev/xen/xenbus across
  # every update; each event is answered over the ring.
  xsraw -t 1200 watch data/e2e/lu-ping 100000 2>&1 |
    while read -r ev path; do
      [ "$ev" = EVENT ] || continue
      out=$(xsraw read data/e2e/lu-ping 2>&1)
      case "$out" in "OK read"*) v=${out##*value=} ;; *) v=none ;; esac
      xsraw write data/e2e/lu-pong "$v" >/dev/null 2>&1
      echo "GUEST-LU event $path: pong $v"
    done
  echo "GUEST-LU watch ended"
  while :; do sleep 3600; done
fi

result() { # result CHECK PASS|FAIL detail...
  c=$1; r=$2; shift 2
  echo "GUEST-CHECK $c $r $*"
  xsraw write "data/e2e/$c" "$r $*" >/dev/null 2>&1
}
# expect CHECK PATTERN COMMAND...: PASS if the command's output matches the
# shell PATTERN (xsraw prints "OK <op> ... value=<v>" or "ERR <op> <EXXX>").
expect() {
  c=$1; pat=$2; shift 2
  out=$("$@" 2>&1)
  echo "  $c: $out" | head -c 300; echo
  case "$out" in
    $pat) result "$c" PASS "" ;;
    *) result "$c" FAIL "$(echo "$out" | head -c 160)" ;;
  esac
}

if [ -e /dev/xen/xenbus ]; then result xenbus_dev PASS ""
else result xenbus_dev FAIL "no /dev/xen/xenbus"; fi

# Relative paths resolve against the guest's home, /local/domain/<domid>.
out=$(xsraw read domid 2>&1)
case "$out" in
  "OK read "*) domid=${out##*value=}; result ring_relative_read PASS "domid=$domid" ;;
  *) domid=unknown; result ring_relative_read FAIL "$out" ;;
esac
expect ring_absolute_read "*value=alive-after-e2big" xsraw read /e2e/marker
expect ring_relative_write "OK write*" xsraw write data/hello "from-guest-$domid"
expect ring_absolute_write "OK write*" \
  xsraw write "/local/domain/$domid/data/absolute" "abs-$domid"
expect ring_read_back "*value=abs-$domid" xsraw read data/absolute
# dom0 handed this guest /e2e/owned-<domid>; what the guest creates under it
# is the guest's, and must vanish with the guest.
expect ring_owned_write "OK write*" xsraw write "/e2e/owned-$domid/child" x
expect libxenstore_read "alive-after-e2big" timeout 10 xenstore-read /e2e/marker

# Another domain's home is off limits, and so is dom0's read-only fixture.
expect perm_denied_read "ERR read EACCES*" xsraw read /local/domain/0/name
expect perm_denied_write "ERR write EACCES*" xsraw write /e2e/marker hijack

# XSA-72: one XS_DIRECTORY whose reply would exceed the 4096-byte payload
# limit must be refused with E2BIG, and the same ring must go on working.
expect big_dir_e2big "ERR dir E2BIG*" xsraw dir /e2e/big
expect ring_alive_after_e2big "*value=alive-after-e2big" xsraw read /e2e/marker
expect big_dir_part "OK dirall entries=$BIG_N" xsraw dirall /e2e/big
n=$(timeout 20 xenstore-list /e2e/big 2>/dev/null | wc -l)
if [ "$n" = "$BIG_N" ]; then result libxenstore_list_big PASS "$n entries"
else result libxenstore_list_big FAIL "got $n of $BIG_N"; fi

# A watch over the ring: registered before "done", so dom0's ack (written
# only after it read "done") is a change the watch must report. The first
# event is the firing at registration.
xsraw -t 120 watch data/e2e/ack 2 >/run/watch.out 2>&1 &
for i in $(seq 1 50); do grep -q '^EVENT' /run/watch.out && break; sleep 0.2; done
xsraw write data/e2e/done 1 >/dev/null 2>&1
echo "GUEST-DONE waiting for dom0's ack"
wait
if [ "$(grep -c '^EVENT data/e2e/ack$' /run/watch.out)" = 2 ]; then
  result watch_event PASS ""
else
  result watch_event FAIL "$(tr '\n' ' ' </run/watch.out | head -c 160)"
fi
xsraw write data/e2e/final 1 >/dev/null 2>&1

# Stay reachable: dom0 pings the survivor after destroying the other guest.
out=$(xsraw -t 240 watch data/e2e/ping 2 2>&1)
xsraw write data/e2e/pong pong >/dev/null 2>&1
echo "GUEST-IDLE"
while :; do sleep 3600; done
