#!/bin/bash
# sch_smooth's netlink interface under smooth-nlfuzz (nlfuzz/): 100000
# random, malformed and mutated RTM_NEWQDISC requests for the root of the
# vif (changes, creates/replaces, now and then a delete, so init, change and
# destroy all run) while iperf3 UDP flows through it. Every refusal must
# carry an extack message, and smooth's its offset on the attribute at fault
# where docs/uapi.md says one is (the fuzzer exits 1 otherwise); afterwards a plain
# `tc qdisc replace … smooth rate 2mbit` works, traffic flows, and the module
# unloads (no qdisc leaked a reference). /init fails the run on any kernel
# warning, e.g. an extack offset outside the request.
#
# Run time: about 10 s on the base kernel and 6-7 min on the debug kernel
# (~270 requests/s under KASAN, lockdep and kmemleak). The fuzzer stops at
# NLFUZZ_SECONDS (900 s) even if it has not sent NLFUZZ_MESSAGES (100000)
# yet, so a stuck run stays inside the guest's timeout (20 min on the debug
# kernel); a run that stops early fails (the bar is all of them). The guest does not see the host's environment; to
# change them:
#   cargo xtask vm -- 'NLFUZZ_MESSAGES=20000 NLFUZZ_SEED=7 bash tests/netns/test_netlink_fuzz.sh'
# A failure names the seed; the same seed sends the same requests.
. /smooth/tests/netns/lib.sh

MESSAGES=${NLFUZZ_MESSAGES:-100000}
BUDGET=${NLFUZZ_SECONDS:-900}
SEED=${NLFUZZ_SEED:-1}

say "guest kernel: $(uname -r)"
load_smooth
topo_up
in_guest iperf3 -s -D --logfile /tmp/iperf3-server.log
in_guest iperf3 -s -p 5202 -D --logfile /tmp/iperf3-server2.log
sleep 0.5

# A smooth root to start from, and UDP through it for the whole run (the
# client is killed afterwards; -t only bounds a run that goes wrong).
tc qdisc add dev "$VIF" root smooth rate 2mbit
tx0=$(cat "/sys/class/net/$VIF/statistics/tx_packets")
# (Not through in_client: killing a backgrounded function's subshell would
# leave iperf3 running.)
ip netns exec client iperf3 -c "$GUEST_IP" -u -b 5M -l 1000 -t $((BUDGET > 0 ? BUDGET + 120 : 3600)) \
    >/dev/null 2>&1 &
udp=$!
sleep 1

say "smooth-nlfuzz: $MESSAGES requests (at most $BUDGET s), seed $SEED"
rc=0
summary=$(smooth-nlfuzz --dev "$VIF" --messages "$MESSAGES" --seed "$SEED" \
    --max-seconds "$BUDGET") || rc=$?
say "summary: $summary"
kill "$udp" 2>/dev/null || true
wait "$udp" 2>/dev/null || true
tx1=$(cat "/sys/class/net/$VIF/statistics/tx_packets")
field() { printf '%s' "$summary" | jq -r ".$1"; }

expect_eq "$rc" 0 "smooth-nlfuzz exit status (seed $SEED)"
expect_eq "$(field smooth_without_message)" 0 "refusals without an extack message that may be smooth's"
expect_eq "$(field other)" 0 "requests without a proper answer"
expect_eq "$(field final_replace)" ack "the fuzzer's final valid replace"
expect_eq "$(field messages)" "$MESSAGES" "requests sent in $(field elapsed_s) s"
# The stream reached smooth both ways, and packets crossed the vif meanwhile.
expect_le 1 "$(field accepted)" "accepted requests"
expect_le 1 "$(field refused_by_smooth)" "refusals by smooth"
expect_le 1 "$((tx1 - tx0))" "packets through $VIF during the run"

say "qdiscs after the run:"
tc qdisc show

# A plain tc replace goes in and shows as asked.
if tc qdisc replace dev "$VIF" root smooth rate 2mbit; then
    say "ok: tc qdisc replace after the run"
else
    say "FAIL: tc qdisc replace after the run"
    FAILED=1
fi
tc -s qdisc show dev "$VIF"
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" smooth "root qdisc kind"
expect_eq "$(opt "$VIF" rate)" 250000 "rate in force (bytes/s)"

# Traffic still flows through it.
in_client ping -c 3 -W 2 -q "$GUEST_IP" >/dev/null && say "ok: ping through the vif" \
    || { say "FAIL: no ping through the vif"; FAILED=1; }
b0=$(qdisc_bytes "$VIF")
if in_client iperf3 -c "$GUEST_IP" -p 5202 -u -b 1M -l 1000 -t 2 >/tmp/iperf3-final.log 2>&1; then
    say "ok: iperf3 UDP through the vif"
else
    cat /tmp/iperf3-final.log
    say "FAIL: iperf3 UDP through the vif"
    FAILED=1
fi
expect_le 10000 "$(($(qdisc_bytes "$VIF") - b0))" "bytes smooth sent in 2 s at 1 Mbit/s"

tc qdisc del dev "$VIF" root
rmmod sch_smooth && say "ok: module unloaded: no qdisc left behind" || { say "FAIL: rmmod"; FAILED=1; }
finish
