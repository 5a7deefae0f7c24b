#!/bin/bash
# guest-needs: python3
# Every drop path of sch_smooth driven in the guest kernel, and accounted
# exactly (lib.sh's expect_accounted): the packet limit, the byte limit and
# the delay ceiling under UDP and under TCP, and a GSO packet that cannot be
# segmented. For each, qdisc drops = the per-reason counters summed =
# packets offered to the vif - packets delivered to the guest, and the
# path's own counter is not zero.
#
# GSO failure: failslab, restricted to one task (task-filter), fails that
# task's non-sleeping slab allocations. udp_gso_send.py, in dom0's own
# namespace (so the qdisc runs in its task context: failslab ignores softirq
# context), sends UDP GSO datagrams through the bridge to the guest with
# every other one's allocations failing: building the datagram sleeps
# (GFP_KERNEL, spared by ignore-gfp-wait), segmenting it in the qdisc does
# not (GFP_ATOMIC). TCP cannot drive this path: it clones every segment
# with GFP_ATOMIC in the same task before the qdisc sees it.
#
# Then GSO packets segmented under HTB, some segments dropped: the parent's
# counters must come back to zero.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up
quiet_path
in_guest iperf3 -s -D --logfile /tmp/iperf3-server.log
sleep 0.5

# One case: "$1" name, "$2" the counter it drives, "$3" smooth's options,
# "${@:4}" the flow (client to guest).
drop_case() {
    local what=$1 reason=$2 opts=$3; shift 3
    tc qdisc del dev "$VIF" root 2>/dev/null || true
    # shellcheck disable=SC2086 # the options are words
    tc qdisc add dev "$VIF" root smooth $opts
    local o0 d0
    o0=$(count client eth0 tx_packets)
    d0=$(count guest eth0 rx_packets)
    "$@" >/tmp/flow.log 2>&1 || { say "$what: the flow failed:"; cat /tmp/flow.log; }
    drain
    expect_accounted "$what" "$reason" "$(($(count client eth0 tx_packets) - o0))" \
        "$(($(count guest eth0 rx_packets) - d0))"
}

udp=(in_client iperf3 -c "$GUEST_IP" -u -b 10M -l 1400 -t 3)
tcp=(in_client iperf3 -c "$GUEST_IP" -t 3)
drop_case "UDP, packet limit" drops_limit "rate 1mbit limit 5" "${udp[@]}"
drop_case "UDP, byte limit" drops_bytes "rate 1mbit limit_bytes 6000" "${udp[@]}"
drop_case "UDP, delay ceiling" drops_ceiling "rate 1mbit max_delay 20ms" "${udp[@]}"
drop_case "TCP, packet limit" drops_limit "rate 4mbit limit 3" "${tcp[@]}"
drop_case "TCP, byte limit" drops_bytes "rate 4mbit limit_bytes 4500" "${tcp[@]}"
drop_case "TCP, delay ceiling" drops_ceiling "rate 4mbit max_delay 5ms" "${tcp[@]}"

say "== GSO packets that cannot be segmented (failslab)"
grep -q ' /sys/kernel/debug debugfs ' /proc/mounts || mount -t debugfs none /sys/kernel/debug
F=/sys/kernel/debug/failslab
echo Y > $F/task-filter
echo Y > $F/ignore-gfp-wait
echo 0 > $F/verbose
echo 0 > $F/space
echo 1 > $F/interval
echo -1 > $F/times
echo 100 > $F/probability
DOM0_IP=10.99.0.3
ip addr add "$DOM0_IP/24" dev xenbr0
ip neigh replace "$GUEST_IP" lladdr "$(mac guest eth0)" dev xenbr0 nud permanent
ip -n guest neigh replace "$DOM0_IP" lladdr "$(mac "" xenbr0)" dev eth0 nud permanent
# The bridge must know where the guest is: flooding would clone (GFP_ATOMIC).
ping -c 1 -W 5 "$GUEST_IP" >/dev/null
tc qdisc del dev "$VIF" root 2>/dev/null || true
# 2 ms of credit at 8 Mbit/s is 2000 bytes: every 20-segment datagram is
# larger than the bucket and must be segmented; 50 ms apart, they stay
# under the rate, so nothing else drops.
tc qdisc add dev "$VIF" root smooth rate 8mbit burst 2ms
d0=$(count guest eth0 rx_packets)
sent=$(python3 /smooth/tests/netns/udp_gso_send.py "$GUEST_IP" 9 40 20 1400 50)
drain
echo 0 > $F/probability
d1=$(count guest eth0 rx_packets)
say "udp_gso_send.py: $sent"
sends=$(printf '%s' "$sent" | jq .sends)
failing=$(printf '%s' "$sent" | jq .failing)
segments=$(printf '%s' "$sent" | jq .segments)
# Offered in packets as the qdisc counts them: a segmented datagram's
# segments one by one, an unsegmentable one as one packet.
expect_accounted "UDP GSO, segmentation failing" drops_gso \
    "$(((sends - failing) * segments + failing))" "$((d1 - d0))"
expect_eq "$(xstat "$VIF" drops_gso)" "$failing" "GSO packets whose segmentation failed"
expect_eq "$(xstat "$VIF" gso_segmented)" "$((sends - failing))" "GSO packets segmented"
tc -s qdisc show dev "$VIF"
tc qdisc del dev "$VIF" root

say "== GSO packets segmented under a parent"
# smooth tells its parent what it queued in place of a GSO packet
# (qdisc_tree_reduce_backlog, by its own queue's counts). Under HTB, with a
# 10-packet limit that drops half of every 20-segment datagram, HTB's queue
# length and backlog come back to 0 once drained only if that is exact.
tc qdisc add dev "$VIF" root handle 1: htb default 10
tc class add dev "$VIF" parent 1: classid 1:10 htb rate 100mbit
tc qdisc add dev "$VIF" parent 1:10 handle 10: smooth rate 8mbit burst 2ms limit 10
python3 /smooth/tests/netns/udp_gso_send.py "$GUEST_IP" 9 20 20 1400 50 >/dev/null
drain
child=$(tc -s -j qdisc show dev "$VIF" parent 1:10 | jq -c '.[0]')
say "smooth under htb: $(printf '%s' "$child" | jq -c '{packets, drops, gso_segmented: .xstats.gso_segmented, drops_limit: .xstats.drops_limit}')"
expect_eq "$(printf '%s' "$child" | jq '.xstats.gso_segmented')" 20 "GSO packets segmented under htb"
expect_eq "$(printf '%s' "$child" | jq '.xstats.drops_limit > 0')" true "segments dropped at the limit under htb"
expect_eq "$(tc -s -j qdisc show dev "$VIF" root | jq -r '.[0] | "\(.qlen) \(.backlog)"')" "0 0" \
    "htb's queue length and backlog once drained"
tc qdisc del dev "$VIF" root

rmmod sch_smooth && say "ok: module unloaded" || { say "FAIL: rmmod"; FAILED=1; }
finish
