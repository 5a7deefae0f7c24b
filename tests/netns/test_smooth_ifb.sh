#!/bin/bash
# The guest->dom0 path, the one that replaces netback's own limiter:
# `tc-smooth attach` redirects the vif's ingress to an IFB whose root is
# smooth. What the guest sends, TCP and UDP at 4, 8, 16 and 32 Mbit/s, must
# leave the IFB's smooth within ±2 % of the rate over 10 s of steady state,
# each case against a reference through the same IFB measured in the same
# run (lib.sh's rate_case).
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up
in_client iperf3 -s -D --logfile /tmp/iperf3-server.log
sleep 0.5

# attach (again) updates both roots in place; the reference case replaced
# the IFB's, so this puts smooth back on it.
smooth_on_ifb() { tc-smooth attach "$VIF" --rate "$1" --window 3ms; }
smooth_on_ifb 4mbit
for mbit in 4 8 16 32; do
    for proto in tcp udp; do
        rate_case "$IFB" "$mbit" "$proto" smooth_on_ifb in_guest iperf3 -c "$CLIENT_IP"
        expect_eq "$(opt "$IFB" rate)" "$((mbit * 125000))" "IFB smooth's rate after the $proto case (bytes/s)"
    done
done
tc-smooth show "$IFB" -s
tc-smooth detach "$VIF"
expect_eq "$(ip -j link show | jq '[.[] | select(.ifname | startswith("ifb-"))] | length')" 0 "no IFB left after detach"
finish
