#!/bin/bash
# Proves the harness: runs in the guest kernel, builds the dom0-like
# topology, and measures a baseline shaper (tbf at 2 Mbit/s on the vif).
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
topo_up
say "topology up: client -> xenbr0 -> $VIF -> guest"

# A malformed tc command must fail (tbf without burst).
expect_failure "tbf without burst" tc qdisc add dev "$VIF" root tbf rate 2mbit

tc qdisc add dev "$VIF" root tbf rate 2mbit burst 3000 latency 50ms
start_iperf3_server
rate=$(steady_rate "$VIF" 2 8 in_client iperf3 -c "$GUEST_IP")
say "tbf 2mbit: iperf3 TCP client->guest, qdisc-counted rate $rate bit/s over 8 s"
expect_within "$rate" 2000000 10 "tbf rate (bytes counted by the qdisc)"
tc -s qdisc show dev "$VIF"
finish
