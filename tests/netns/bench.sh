#!/bin/bash
# The in-kernel streaming benchmark (E1 of `cargo xtask bench`): each corpus
# trace is replayed by `smooth-sim replay-send` from the VM's namespace to
# `smooth-sim replay-recv` in the client's, through each shaper on the IFB
# that carries the VM's traffic (what replaces netback's own limiter), all at
# 2 Mbit/s. One line per run, `SMOOTH-BENCH {json}`, for the host to report
# (smooth-sim bench-report). BENCH_QUICK=1: one trace, fewer shapers, 10 s.
. /smooth/tests/netns/lib.sh

RATE=250000 # bytes/s: 2 Mbit/s
PORT=5004
load_smooth
topo_up
topo_ifb

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    traces=(paper-vbr)
    buckets=(1514 12500 40000)
    secs=10
else
    traces=(paper-vbr gop12-25fps x264-mandel-30fps vp8-testsrc2-25fps)
    buckets=(1514 3000 6000 12500 25000 50000)
    secs=20
fi

# "family bucket window qdisc…" per shaper; the qdisc words go on the IFB's
# root, except htb-based ones, set up by `shape`.
specs=("none 0 0 pfifo limit 10000")
for b in "${buckets[@]}"; do
    specs+=("tbf $b 0 tbf rate 2mbit burst $b latency 200ms")
    # smooth's burst is the same bucket as time at the rate.
    specs+=("smooth $b 3000000 smooth rate 2mbit burst $((b * 4))us")
done
specs+=(
    "smooth 12500 1000000 smooth rate 2mbit window 1ms"
    "smooth 12500 8000000 smooth rate 2mbit window 8ms"
    "htb 0 0 htb"
    "cake 0 0 cake bandwidth 2mbit besteffort flowblind"
    "cake 0 0 cake bandwidth 2mbit besteffort flows"
    "fq 0 0 fq maxrate 2mbit"
    "fq_codel 0 0 fq_codel"
)

# Puts "$@" (a qdisc) on the IFB; htb and fq_codel sit under an HTB class
# at the rate with iproute2's defaults.
shape() {
    tc qdisc del dev "$IFB" root 2>/dev/null || true
    case "$1" in
    htb)
        tc qdisc add dev "$IFB" root handle 1: htb default 1
        tc class add dev "$IFB" parent 1: classid 1:1 htb rate 2mbit
        ;;
    fq_codel)
        tc qdisc add dev "$IFB" root handle 1: htb default 1
        tc class add dev "$IFB" parent 1: classid 1:1 htb rate 2mbit
        tc qdisc add dev "$IFB" parent 1:1 fq_codel
        ;;
    *) tc qdisc add dev "$IFB" root "$@" ;;
    esac
}

for trace in "${traces[@]}"; do
    for spec in "${specs[@]}"; do
        read -r family bucket window qdisc <<<"$spec"
        shape $qdisc
        in_client smooth-sim replay-recv --port "$PORT" --duration "$((secs + 5))s" --idle 2s >/tmp/rx.json &
        rx=$!
        sleep 0.5
        in_guest smooth-sim replay-send --trace "$trace" --to "$CLIENT_IP:$PORT" --duration "${secs}s" >/tmp/tx.json
        wait "$rx"
        say "$trace through $qdisc: $(jq '.packets | length' /tmp/rx.json) of $(jq .sent /tmp/tx.json) received"
        echo "SMOOTH-BENCH $(jq -c --arg t "$trace" --arg f "$family" --argjson b "$bucket" --argjson w "$window" \
            --arg q "$qdisc" --argjson r "$RATE" --slurpfile tx /tmp/tx.json \
            '{trace: $t, family: $f, bucket: $b, window: $w, qdisc: $q, rate: $r, sender: $tx[0], packets: .packets}' \
            /tmp/rx.json)"
    done
done
tc qdisc del dev "$IFB" root 2>/dev/null || true
say "bench done"
