#!/bin/bash
# The main job, in the guest kernel: a dom0-like topology, a VM receiving a
# 30 fps video-like UDP stream at 1.8 Mbit/s (frames sent as bursts every
# 33 ms) plus isochronous VoIP-like probes (irtt, 172 B every 20 ms), through
# the shapers an operator could put on the vif at 2 Mbit/s. For each: the
# probes' one-way delay and IPDV, the video's loss, the rate the qdisc sent.
. /smooth/tests/netns/lib.sh

load_smooth
topo_up
in_guest iperf3 -s -D --logfile /tmp/iperf3-server.log
in_guest irtt server -b "$GUEST_IP" >/tmp/irtt-server.log 2>&1 &
sleep 1

shapers=(
    "pfifo limit 1000"
    "tbf rate 2mbit burst 12500 latency 200ms"
    "tbf rate 2mbit burst 3000 latency 200ms"
    "smooth rate 2mbit window 3ms"
)
names=("no shaper" "tbf, burst 12.5 kB (netback @50ms)" "tbf, burst 3 kB" "smooth, window 3 ms")
printf '\n%-36s %9s %9s %9s %9s %9s %8s %10s\n' shaper "owd.p50" "owd.p99" "owd.max" "ipdv.p99" spread "loss%" "rate"
results=()
for i in "${!shapers[@]}"; do
    tc qdisc replace dev "$VIF" root ${shapers[$i]}
    b0=$(qdisc_bytes "$VIF"); t0=${EPOCHREALTIME/./}
    in_client iperf3 -c "$GUEST_IP" -u -b 1.8M -l 1200 --pacing-timer 33000 -t 12 -J >/tmp/video.json 2>/dev/null &
    video=$!
    sleep 1
    in_client irtt client -q -i 20ms -l 172 -d 10s -o /tmp/irtt.json "$GUEST_IP" >/dev/null 2>&1
    wait "$video" || true
    b1=$(qdisc_bytes "$VIF"); t1=${EPOCHREALTIME/./}
    line=$(jq -r '[.round_trips[] | select(.delay.send != null) | .delay.send / 1e6] as $d
        | ($d | sort) as $s | ($s | length) as $n
        | [ [range(1; $n)] | .[] as $k | ($d[$k] - $d[$k - 1]) | fabs ] | sort as $ipdv
        | "\($s[($n * 0.5 | floor)]) \($s[($n * 0.99 | floor)]) \($s[-1]) \($ipdv[(($ipdv | length) * 0.99 | floor)]) \($s[-1] - $s[0])"' /tmp/irtt.json)
    loss=$(jq -r '.end.sum.lost_percent // 0' /tmp/video.json)
    rate=$(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.2fMbit", b * 8 / (t / 1e6) / 1e6 }')
    read -r p50 p99 max ipdv spread <<<"$line"
    printf '%-36s %8.2fms %8.2fms %8.2fms %8.2fms %8.2fms %8.2f %10s\n' "${names[$i]}" "$p50" "$p99" "$max" "$ipdv" "$spread" "$loss" "$rate"
done
printf '%s\n' "one-way delay (owd) and IPDV of the 20 ms probes in ms; loss of the video stream; rate = what the qdisc sent, video + probes" \
    "(TCG emulation: timer noise of a few ms is the emulator's; see docs/qdisc.md)"
tc -s qdisc show dev "$VIF"
