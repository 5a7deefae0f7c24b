#!/bin/bash
# sch_smooth under load: 100 cycles of replace / change / delete+add while
# TCP and UDP saturate the vif; change keeps queued packets; the module
# unloads cleanly afterwards. /init fails the run on any kernel warning,
# and in the debug kernel on KASAN, lockdep or kmemleak reports.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up
in_guest iperf3 -s -D --logfile /tmp/iperf3-server.log
in_guest iperf3 -s -p 5202 -D --logfile /tmp/iperf3-server2.log
sleep 0.5

# 1 Mbit/s under UDP at up to 40 Mbit/s and TCP: a standing queue of about
# max_delay (200 ms at 1 Mbit/s: 25 kB, ~17 packets) even in the slow debug
# kernel.
tc qdisc add dev "$VIF" root smooth rate 1mbit window 3ms
in_client iperf3 -c "$GUEST_IP" -t 300 >/dev/null 2>&1 &
tcp=$!
in_client iperf3 -c "$GUEST_IP" -p 5202 -u -b 40M -l 1400 -t 300 >/dev/null 2>&1 &
udp=$!
sleep 3

# change under load keeps the queue: the backlog survives the change.
before=$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].qlen')
tc qdisc change dev "$VIF" root smooth window 5ms
after=$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].qlen')
say "backlog before/after change under load: $before / $after packets"
[ "$before" -gt 0 ] && [ "$after" -gt 0 ] && say "ok: change kept the queued packets" \
    || { say "FAIL: queue empty around change ($before/$after)"; FAILED=1; }

failures=0
rates=(1mbit 2mbit 4mbit 8mbit 16mbit)
windows=(1ms 3ms 5ms 8ms)
for i in $(seq 1 100); do
    r=${rates[$((i % 5))]}
    w=${windows[$((i % 4))]}
    case $((i % 3)) in
        0) tc qdisc replace dev "$VIF" root smooth rate "$r" window "$w" || failures=$((failures + 1)) ;;
        1) tc qdisc change dev "$VIF" root smooth window "$w" burst 10ms || failures=$((failures + 1)) ;;
        2) { tc qdisc del dev "$VIF" root && tc qdisc add dev "$VIF" root smooth rate "$r" window "$w"; } \
               || failures=$((failures + 1)) ;;
    esac
done
expect_eq "$failures" 0 "failed tc commands in 100 cycles under load"
kill "$tcp" "$udp" 2>/dev/null || true
wait "$tcp" "$udp" 2>/dev/null || true

tc -s qdisc show dev "$VIF"
in_client ping -c 3 -W 2 -q "$GUEST_IP" >/dev/null && say "ok: traffic flows after the cycles" \
    || { say "FAIL: no traffic after the cycles"; FAILED=1; }
tc qdisc del dev "$VIF" root
rmmod sch_smooth && say "ok: module unloaded after use under load" || { say "FAIL: rmmod"; FAILED=1; }
insmod /smooth/sch_smooth.ko && rmmod sch_smooth && say "ok: reload and unload" || { say "FAIL: reload"; FAILED=1; }
finish
