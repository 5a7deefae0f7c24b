#!/bin/bash
# guest-needs: python3
# The main job, in the guest kernel: a dom0-like topology, a VM receiving
# the paper's video stream (30 fps, an I-frame every 30 frames six times a
# P-frame, 0.96 x 2 Mbit/s at L2, each frame sent as one burst) plus
# isochronous VoIP-like probes (irtt, 172 B every 20 ms), through the shapers
# an operator could put on the vif at 2 Mbit/s. smooth and the netback-like
# TBF get the same bucket (12.5 kB), so they are compared at equal burst
# allowance. For each: the video's RFC 3550 jitter, one-way delay and IPDV
# (kernel receive timestamps), the sigma its output needs, the probes' delay
# and IPDV, and the rate the qdisc sent.
. /smooth/tests/netns/lib.sh

load_smooth
topo_up
in_guest irtt server -b "$GUEST_IP" >/tmp/irtt-server.log 2>&1 &
sleep 1

shapers=(
    "pfifo limit 1000"
    "tbf rate 2mbit burst 12500 latency 200ms"
    "tbf rate 2mbit burst 3000 latency 200ms"
    "smooth rate 2mbit window 3ms"
)
names=("no shaper" "tbf, burst 12.5 kB (netback @50ms)" "tbf, burst 3 kB" "smooth, window 3 ms (burst 12.5 kB)")
printf '\n%-38s | %7s %8s %8s %9s %7s | %8s %8s %9s | %9s\n' shaper "J" "owd.p50" "owd.p99" "ipdv.p99" "σ" \
    "owd.p50" "owd.p99" "ipdv.p99" rate
printf '%-38s | %43s | %28s |\n' "" "video (ms, σ in bytes)" "probes (ms)"
for i in "${!shapers[@]}"; do
    tc qdisc replace dev "$VIF" root ${shapers[$i]}
    in_guest python3 /smooth/tests/netns/burst_stream.py recv 5001 14 /tmp/video.json &
    rx=$!
    sleep 0.5
    in_client python3 /smooth/tests/netns/burst_stream.py send "$GUEST_IP" 5001 12 33.333 6600 1100 30 6 >/dev/null &
    tx=$!
    sleep 1
    in_client irtt client -q -i 20ms -l 172 -d 10s -o /tmp/irtt.json "$GUEST_IP" >/dev/null 2>&1 &
    probe=$!
    # What the qdisc sent over the 10 s of video and probes together.
    bps=$(smooth-nl rate "$VIF" 0 10)
    wait "$probe" "$tx" "$rx" || true
    video=$(python3 /smooth/tests/netns/burst_stream.py analyse /tmp/video.json 250000)
    probes=$(jq -r '[.round_trips[] | select(.delay.send != null) | .delay.send / 1e6] as $d
        | ($d | sort) as $s | ($s | length) as $n
        | [ [range(1; $n)] | .[] as $k | ($d[$k] - $d[$k - 1]) | fabs ] | sort as $ipdv
        | "\($s[($n * 0.5 | floor)]) \($s[($n * 0.99 | floor)]) \($ipdv[(($ipdv | length) * 0.99 | floor)])"' /tmp/irtt.json)
    rate=$(awk -v b="$bps" 'BEGIN { printf "%.2fMbit", b / 1e6 }')
    read -r vj vp50 vp99 vipdv vsigma <<<"$(jq -r '"\(.jitter_mean / 1e6) \(.delay_p50 / 1e6) \(.delay_p99 / 1e6) \(.ipdv_p99 / 1e6) \(.sigma)"' <<<"$video")"
    read -r pp50 pp99 pipdv <<<"$probes"
    printf '%-38s | %7.2f %8.2f %8.2f %9.2f %7d | %8.2f %8.2f %9.2f | %9s\n' "${names[$i]}" \
        "$vj" "$vp50" "$vp99" "$vipdv" "$vsigma" "$pp50" "$pp99" "$pipdv" "$rate"
done
printf '%s\n' "J = RFC 3550 jitter (mean over the run); owd = one-way delay; σ = the token-bucket depth at 2 Mbit/s" \
    "the video's arrivals need (sup over all windows); rate = what the qdisc sent, video + probes." \
    "TCG emulation: timer noise of a few ms is the emulator's (docs/qdisc.md)."
tc -s qdisc show dev "$VIF"
