#!/bin/bash
# sch_smooth's promises, measured in the guest kernel:
#  - an under-rate flow: nothing dropped, every packet's sojourn inside its
#    window plus the timer lateness measured here (TCG's timer noise);
#  - TCP and UDP at 4/8/16/32 Mbit/s: the qdisc's own byte counter within
#    ±2 % of the configured rate over 10 s of steady state (HTB measured on
#    the same path in the same run shows what the emulator can carry);
#  - overload (UDP at 10x): counted drops, delay bounded by max_delay.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up
in_guest iperf3 -s -D --logfile /tmp/iperf3-server.log
sleep 0.5

report_delay() {
    say "  window [$(xstat "$VIF" window_min), $(xstat "$VIF" window_max)] ns," \
        "sojourn min/max $(xstat "$VIF" sojourn_min)/$(xstat "$VIF" sojourn_max) ns," \
        "lateness p50 <$(hist_percentile "$VIF" lateness 50) p99 <$(hist_percentile "$VIF" lateness 99) max $(xstat "$VIF" lateness_max) ns," \
        "drops $(tc -s -j qdisc show dev "$VIF" root | jq '.[0].drops')"
}

say "== under-rate flow: UDP 1 Mbit/s, 1000-byte datagrams, through rate 2mbit window 3ms"
tc qdisc add dev "$VIF" root smooth rate 2mbit window 3ms
in_client iperf3 -c "$GUEST_IP" -u -b 1M -l 1000 -t 10 >/dev/null
report_delay
expect_eq "$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].drops')" 0 "under-rate drops"
expect_le "$(xstat "$VIF" sojourn_max)" "$(( $(xstat "$VIF" window_max) + $(xstat "$VIF" lateness_max) ))" \
    "sojourn max within window top + measured lateness"
expect_le "$(xstat "$VIF" window_max)" 3000000 "window stays at [0, 3 ms] for a smooth under-rate flow"
tc qdisc del dev "$VIF" root

say "== under-rate bursts: UDP 1.5 Mbit/s sent in 20 ms bursts"
tc qdisc add dev "$VIF" root smooth rate 2mbit window 3ms
in_client iperf3 -c "$GUEST_IP" -u -b 1.5M -l 1400 --pacing-timer 20000 -t 10 >/dev/null
report_delay
expect_eq "$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].drops')" 0 "bursty under-rate drops"
tc qdisc del dev "$VIF" root

# The emulated guest may not push 32 Mbit/s through the bridge at all: HTB
# on the same path, in the same run, tells what the environment delivers.
# smooth must be within ±2 % of its rate, or — where even HTB falls short
# (environment-limited, reported as such) — within 2 % of HTB's figure.
for mbit in 4 8 16 32; do
    target=$((mbit * 1000000))
    for proto in tcp udp; do
        flow=(in_client iperf3 -c "$GUEST_IP")
        [ "$proto" = udp ] && flow+=(-u -b "$((2 * mbit))M" -l 1400)
        tc qdisc add dev "$VIF" root handle 1: htb default 1
        tc class add dev "$VIF" parent 1: classid 1:1 htb rate "${mbit}mbit"
        base=$(steady_rate "$VIF" 2 10 "${flow[@]}")
        tc qdisc del dev "$VIF" root
        tc qdisc add dev "$VIF" root smooth rate "${mbit}mbit" window 3ms
        rate=$(steady_rate "$VIF" 2 10 "${flow[@]}")
        say "rate ${mbit}mbit, $proto: smooth sent $rate bit/s, htb $base bit/s (ratio $(awk -v a="$rate" -v b="$base" 'BEGIN{printf "%.3f", a/b}'))"
        report_delay
        if awk -v b="$base" -v t="$target" 'BEGIN { exit !(b < t * 0.98) }'; then
            say "  environment-limited: htb reaches only $base of $target bit/s"
            expect_within "$rate" "$base" 2 "$proto at ${mbit}mbit against htb in the same run"
            [ "$rate" -le $((target * 102 / 100)) ] || { say "FAIL: above the rate"; FAILED=1; }
        else
            expect_within "$rate" "$target" 2 "$proto at ${mbit}mbit (qdisc byte counter)"
        fi
        tc qdisc del dev "$VIF" root
    done
done

say "== overload: UDP at 10x the rate (20 Mbit/s into 2mbit)"
tc qdisc add dev "$VIF" root smooth rate 2mbit window 3ms max_delay 50ms
rate=$(steady_rate "$VIF" 2 10 in_client iperf3 -c "$GUEST_IP" -u -b 20M -l 1400)
report_delay
expect_within "$rate" 2000000 2 "overloaded rate"
drops=$(xstat "$VIF" drops_ceiling)
[ "$drops" -gt 0 ] && say "ok: $drops packets dropped at the delay ceiling" || { say "FAIL: no ceiling drops under 10x overload"; FAILED=1; }
expect_le "$(xstat "$VIF" sojourn_max)" "$(( 50000000 + $(xstat "$VIF" lateness_max) ))" "sojourn bounded by max_delay + lateness"
tc -s qdisc show dev "$VIF"
finish
