#!/bin/bash
# sch_smooth under load: 100 cycles of replace / change / delete+add at 1-32
# Mbit/s while TCP and UDP at 32 Mbit/s saturate the vif, then a replace by
# another kind and back, then module unload refused while an instance
# exists. Afterwards a fresh instance must still be exact: its rate within
# ±2 % over 10 s of steady state and its drops accounted to the packet
# (lib.sh's expect_accounted). A change under load keeps the queue. /init
# fails the run on any kernel warning, and in the debug kernel on KASAN,
# lockdep or kmemleak reports.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up
quiet_path

# TCP and UDP at 32 Mbit/s towards the guest for "$1" seconds, in the
# background; load_stop ends them. Each load gets its own one-off servers on
# fresh ports (a server whose client was killed may still be busy), and the
# clients are not started through in_client: a function run in the
# background is a subshell, and killing it would leave iperf3 running.
port=5201
load_start() {
    in_guest iperf3 -s -1 -D -p "$port"
    in_guest iperf3 -s -1 -D -p $((port + 1))
    sleep 0.5
    ip netns exec client iperf3 -c "$GUEST_IP" -p "$port" -t "$1" >/dev/null 2>&1 &
    tcp=$!
    ip netns exec client iperf3 -c "$GUEST_IP" -p $((port + 1)) -u -b 32M -l 1400 -t "$1" \
        >"/tmp/udp-load-$port.log" 2>&1 &
    udp=$!
    port=$((port + 2))
}
load_stop() {
    kill "$tcp" "$udp" 2>/dev/null || true
    wait "$tcp" "$udp" 2>/dev/null || true
}

# 1 Mbit/s: a standing queue of about max_delay (200 ms: 25 kB, ~17
# packets) even in the slow debug kernel.
tc qdisc add dev "$VIF" root smooth rate 1mbit window 3ms
load_start 600
sleep 3

# change under load keeps the queue: the backlog survives the change.
before=$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].qlen')
tc qdisc change dev "$VIF" root smooth window 5ms
after=$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].qlen')
say "backlog before/after change under load: $before / $after packets"
[ "$before" -gt 0 ] && [ "$after" -gt 0 ] && say "ok: change kept the queued packets" \
    || { say "FAIL: queue empty around change ($before/$after)"; FAILED=1; }

failures=0
rates=(1mbit 2mbit 4mbit 8mbit 16mbit 32mbit)
windows=(1ms 3ms 5ms 8ms)
for i in $(seq 1 100); do
    r=${rates[$((i % 6))]}
    w=${windows[$((i % 4))]}
    case $((i % 3)) in
        0) tc qdisc replace dev "$VIF" root smooth rate "$r" window "$w" || failures=$((failures + 1)) ;;
        1) tc qdisc change dev "$VIF" root smooth rate "$r" window "$w" burst 10ms || failures=$((failures + 1)) ;;
        2) { tc qdisc del dev "$VIF" root && tc qdisc add dev "$VIF" root smooth rate "$r" window "$w"; } \
               || failures=$((failures + 1)) ;;
    esac
done
expect_eq "$failures" 0 "failed tc commands in 100 cycles under load"

# Another kind and back, under load.
tc qdisc replace dev "$VIF" root tbf rate 8mbit burst 20kb latency 50ms
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" tbf "root kind after replace by tbf"
tc qdisc replace dev "$VIF" root smooth rate 8mbit
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" smooth "root kind after replace back"

# The module cannot go while an instance exists, traffic or not.
if rmmod sch_smooth 2>/tmp/rmmod.err; then
    say "FAIL: rmmod succeeded with a smooth qdisc in place"
    FAILED=1
else
    say "ok: rmmod refused while in use ($(head -n 1 /tmp/rmmod.err))"
fi
expect_eq "$(opt "$VIF" rate)" 1000000 "the instance's rate after the refused rmmod (bytes/s)"
load_stop
sleep 1
tail -n 3 /tmp/udp-load-5201.log

# A fresh instance after all this: exact rate (kept backlogged by TCP
# beside UDP at 32 Mbit/s) and exact drop accounting. Whether this phase
# drops at all is not required: here iperf3's UDP sender has been seen to
# send only ~7.5 of the 32 Mbit/s asked (its log is printed; cause not
# found), with TCP filling the rest without loss. Each drop path is driven
# and accounted by test_smooth_drops.sh.
drain
tc qdisc del dev "$VIF" root
tc qdisc add dev "$VIF" root smooth rate 8mbit window 3ms
o0=$(count client eth0 tx_packets)
d0=$(count guest eth0 rx_packets)
load_start 16
rate=$(smooth-nl rate "$VIF" 2 10)
wait "$tcp" "$udp" 2>/dev/null || true
tail -n 4 /tmp/udp-load-5203.log
expect_within "$rate" 8000000 2 "rate after the cycles over 10 s (qdisc byte counter, bit/s)"
drain
expect_accounted "after the cycles" "" "$(($(count client eth0 tx_packets) - o0))" \
    "$(($(count guest eth0 rx_packets) - d0))"

tc -s qdisc show dev "$VIF"
in_client ping -c 3 -W 2 -q "$GUEST_IP" >/dev/null && say "ok: traffic flows after the cycles" \
    || { say "FAIL: no traffic after the cycles"; FAILED=1; }

# Delete and unload while traffic still flows (through the default qdisc).
sleep 1
load_start 10
sleep 2
tc qdisc del dev "$VIF" root
rmmod sch_smooth && say "ok: module unloaded with traffic flowing" || { say "FAIL: rmmod"; FAILED=1; }
load_stop
insmod /smooth/sch_smooth.ko && rmmod sch_smooth && say "ok: reload and unload" || { say "FAIL: reload"; FAILED=1; }
finish
