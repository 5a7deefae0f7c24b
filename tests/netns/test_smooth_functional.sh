#!/bin/bash
# sch_smooth through the stock tc and q_smooth.so: add / change / replace /
# del / show, options and xstats in text and JSON, and every refusal with its
# exact message.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up

# Creation needs a rate; the kernel says so through extack.
expect_error "add without rate" "smooth: rate is required" \
    tc qdisc add dev "$VIF" root smooth

tc qdisc add dev "$VIF" root smooth rate 2mbit window 3ms
tc qdisc show dev "$VIF"
expect_eq "$(opt "$VIF" rate)" 250000 "rate (bytes/s)"
expect_eq "$(opt "$VIF" window)" 3000000 "window (ns)"
expect_eq "$(opt "$VIF" burst)" 50000000 "default burst (ns)"
expect_eq "$(opt "$VIF" max_delay)" 200000000 "default max_delay (ns)"
expect_eq "$(opt "$VIF" limit)" 1000 "default limit"

# What tc prints pastes back.
printed=$(tc qdisc show dev "$VIF" | sed -n 's/.*refcnt [0-9]* //p')
say "printed options: $printed"
tc qdisc replace dev "$VIF" root smooth $printed
expect_eq "$(tc qdisc show dev "$VIF" | sed -n 's/.*refcnt [0-9]* //p')" "$printed" "print/parse round trip"

# change keeps what it does not name.
tc qdisc change dev "$VIF" root smooth window 5ms limit 200
expect_eq "$(opt "$VIF" window)" 5000000 "changed window"
expect_eq "$(opt "$VIF" limit)" 200 "changed limit"
expect_eq "$(opt "$VIF" rate)" 250000 "rate kept across change"

tc qdisc replace dev "$VIF" root smooth rate 4mbit window 1ms burst 10ms max_delay 50ms limit 500 limit_bytes 64kb
for pair in rate:500000 window:1000000 burst:10000000 max_delay:50000000 limit:500 limit_bytes:65536; do
    expect_eq "$(opt "$VIF" "${pair%%:*}")" "${pair#*:}" "replaced ${pair%%:*}"
done

# Refusals: userspace checks each value with smooth-core's rules ...
expect_error "rate too low" "rate 1Kbit out of range 8Kbit..=100Gbit" \
    tc qdisc change dev "$VIF" root smooth rate 1kbit
expect_error "rate too high" "rate 100000000008bit out of range 8Kbit..=100Gbit" \
    tc qdisc change dev "$VIF" root smooth rate 100000000008bit
expect_error "bad rate word" "rate \"fast\" is not a rate like 2mbit" \
    tc qdisc change dev "$VIF" root smooth rate fast
expect_error "rate finer than a byte/s" "rate \"8001bit\" is not a whole number of bytes/s (a multiple of 8bit)" \
    tc qdisc change dev "$VIF" root smooth rate 8001bit
expect_error "bytes in fractions" "limit_bytes \"0.4\" is not a whole number of bytes" \
    tc qdisc change dev "$VIF" root smooth limit_bytes 0.4
expect_error "a word twice" "smooth: \"rate\" given twice" \
    tc qdisc change dev "$VIF" root smooth rate 2mbit rate 4mbit
expect_error "burst too long" "burst 11s out of range 0us..=10s" \
    tc qdisc change dev "$VIF" root smooth burst 11s
expect_error "bad burst word" "burst \"5 ms\" is not a time like 3ms" \
    tc qdisc change dev "$VIF" root smooth burst "5 ms"
expect_error "max_delay too long" "max_delay 20s out of range 1ms..=10s" \
    tc qdisc change dev "$VIF" root smooth max_delay 20s
expect_error "window wider than max_delay" "window 60ms out of range 0us..=50ms" \
    tc qdisc change dev "$VIF" root smooth window 60ms max_delay 50ms
expect_error "limit zero" "limit 0 out of range 1..=65536 packets" \
    tc qdisc change dev "$VIF" root smooth limit 0
expect_error "limit too high" "limit 65537 out of range 1..=65536 packets" \
    tc qdisc change dev "$VIF" root smooth limit 65537
expect_error "limit_bytes beyond u32" "limit_bytes 8589934592 out of range 0..=4294967295 bytes" \
    tc qdisc change dev "$VIF" root smooth limit_bytes 8gb
expect_error "unknown word" "unknown option \"speed\"" \
    tc qdisc change dev "$VIF" root smooth speed 1
# The removed PID controller's words are unknown now.
for word in interval kp ki kd; do
    expect_error "removed word $word" "unknown option \"$word\"" \
        tc qdisc change dev "$VIF" root smooth "$word" 1
done
expect_error "missing value" "\"window\" needs a value" \
    tc qdisc change dev "$VIF" root smooth window

# ... and the kernel checks against the parameters in force (extack).
expect_error "kernel: window beyond the max_delay in force" \
    "Error: smooth: window 80000000 out of range 0..=50000000 ns" \
    tc qdisc change dev "$VIF" root smooth window 80ms
expect_eq "$(opt "$VIF" window)" 1000000 "a refused change leaves the qdisc as it was"
# The bucket depth is not bounded by max_delay: the kernel takes a burst
# longer than the max_delay in force.
tc qdisc change dev "$VIF" root smooth burst 60ms
expect_eq "$(opt "$VIF" burst),$(opt "$VIF" max_delay)" 60000000,50000000 "burst beyond the max_delay in force accepted"
# A max_delay alone is checked against the window in force (1 ms), not
# against the default one (3 ms); creating one, against the default.
tc qdisc change dev "$VIF" root smooth max_delay 2ms
expect_eq "$(opt "$VIF" window),$(opt "$VIF" max_delay)" 1000000,2000000 "max_delay lowered below the default window"
tc qdisc change dev "$VIF" root smooth max_delay 50ms
expect_error "add: max_delay below the default window" "smooth: window 3ms out of range 0us..=2ms" \
    tc qdisc add dev lo root smooth rate 2mbit max_delay 2ms

# Statistics: traffic moves the counters, xstats decode in text and JSON.
ip netns exec client ping -c 20 -i 0.05 -q "$GUEST_IP" >/dev/null
tc -s qdisc show dev "$VIF"
sent=$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].packets')
[ "$sent" -ge 20 ] && say "ok: qdisc sent $sent packets" || { say "FAIL: qdisc sent $sent packets"; FAILED=1; }
expect_eq "$(xstat "$VIF" 'sojourn_hist | length')" 16 "histogram buckets in JSON"
# 13 scalars and the two histograms (tc prints xstats without the version).
expect_eq "$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].xstats | keys | length')" 16 "xstats fields in JSON"
expect_eq "$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].xstats | .window_max - .window_min')" 1000000 \
    "window_max - window_min = window"
# Pings far below the rate fit the 30 kB bucket: none waits, the window
# never rises.
expect_eq "$(xstat "$VIF" throttled),$(xstat "$VIF" raised)" 0,0 "under-rate pings: throttled, raised"
tc -s qdisc show dev "$VIF" | grep -q "credit_owed [0-9]" && say "ok: text xstats show credit_owed" \
    || { say "FAIL: no credit_owed in tc -s qdisc show"; FAILED=1; }
hist_total=$(tc -s -j qdisc show dev "$VIF" root | jq '[.[0].xstats.sojourn_hist[]] | add')
[ "$hist_total" -ge 20 ] && say "ok: histogram counts $hist_total packets" || { say "FAIL: histogram counts $hist_total"; FAILED=1; }
if tc -s -j qdisc show dev "$VIF" | jq -e . >/dev/null; then
    say "ok: tc -s -j output is valid JSON"
else
    say "FAIL: tc -s -j output is not valid JSON"
    FAILED=1
fi

tc qdisc del dev "$VIF" root
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" noqueue "qdisc deleted (veth default)"

# As a child of an HTB class and on an IFB (guest-originated traffic).
tc qdisc add dev "$VIF" root handle 1: htb default 10
tc class add dev "$VIF" parent 1: classid 1:10 htb rate 100mbit
tc qdisc add dev "$VIF" parent 1:10 handle 10: smooth rate 2mbit window 3ms
ip netns exec client ping -c 5 -i 0.05 -q "$GUEST_IP" >/dev/null
expect_eq "$(tc -s -j qdisc show dev "$VIF" | jq '[.[] | select(.kind == "smooth")][0].packets >= 5')" true "smooth under htb forwards"
tc qdisc del dev "$VIF" root
topo_ifb
tc qdisc add dev "$IFB" root smooth rate 2mbit window 3ms
ip netns exec guest ping -c 5 -i 0.05 -q "$CLIENT_IP" >/dev/null
expect_eq "$(tc -s -j qdisc show dev "$IFB" root | jq '.[0].packets >= 5')" true "smooth on the IFB shapes guest-originated traffic"
tc qdisc del dev "$IFB" root

rmmod sch_smooth && say "ok: module unloaded after use" || { say "FAIL: rmmod"; FAILED=1; }
finish
