#!/bin/bash
# `cargo xtask bench` in the guest: the experiments of the in-kernel
# benchmark, on the dom0-like topology of lib.sh, all at 2 Mbit/s unless
# said otherwise. Each result is one console line `SMOOTH-BENCH {json}` with
# a "kind"; the host reports them (smooth-sim bench-report). Nothing here
# judges a result.
#
#   stream  E1   corpus traces replayed by `smooth-sim replay-send` from the
#                VM's namespace to `replay-recv` in the client's, through each
#                shaper on the IFB that carries the VM's traffic (what replaces
#                netback's own limiter)
#   irtt    E1b  irtt probes (-i 20ms -l 172) from the client, answered from
#                the VM through each shaper while the paper's video plays
#   flent   E1b  flent (Debian) through each shaper: `voip`, D-ITG's G.711
#                stream from ITGSend in the VM's namespace to ITGRecv in the
#                client's (started by flent's D-ITG control server there)
#                while the paper's video plays; and `rrul` from the client,
#                four TCP flows each way against netserver in the VM's
#                namespace with ICMP (fping) and UDP (irtt) probes. Only the
#                VM → client way crosses the shaper: rrul's download is
#                shaped, its upload (dom0 → VM) is not
#   http    E2   ApacheBench: 2000 requests for an 8 KB file from busybox
#                httpd in the VM's namespace; beside the shapers, netem
#                holding every packet a fixed 10 ms: what holding a packet
#                alone does to the wait on this platform
#   window  E3   smooth's window and counters every 100 ms (tc-smooth watch
#                --json) during the video, and across rate steps under a
#                greedy UDP load
#   rate    E4   netperf TCP_STREAM/UDP_STREAM (3 × 60 s) and iperf3 beside it
#                at 4, 8, 16, 32 Mbit/s on the vif's root (dom0 → VM), each
#                read by the qdisc's own byte counter over the steady state
#   mixed   E5   the video and a bulk TCP flow from the VM through one shaper
#   cost    E6   pktgen (queue_xmit) into a dummy device's root qdisc at a rate
#                that does not limit: packets/s and CPU per packet; 1000 idle
#                smooth qdiscs: memory per instance and armed timers
#
# BENCH_QUICK=1: fewer traces, shapers and seconds (the test suite's run).
# BENCH_ONLY="http rate": those experiments only (default: all).
. /smooth/tests/netns/lib.sh

RATE=250000 # bytes/s: 2 Mbit/s
PORT=5004
QUICK=${BENCH_QUICK:-0}
ONLY=${BENCH_ONLY:-stream irtt flent http window rate mixed cost}
load_smooth
topo_up
topo_ifb

wants() { [[ " $ONLY " == *" $1 "* ]]; }

# Emits one result: SMOOTH-BENCH followed by a JSON object.
emit() { echo "SMOOTH-BENCH $1"; }

# "family bucket window qdisc…": the bucket (bytes) and smooth's window (ns)
# are what the report groups by; the rest is the qdisc as tc takes it.
NONE="none 0 0 pfifo limit 10000"
smooth_at() { echo "smooth $1 3000000 smooth rate 2mbit burst $(($1 * 4))us"; }
tbf_at() { echo "tbf $1 0 tbf rate 2mbit burst $1 latency 200ms"; }
OTHERS=(
    "smooth 12500 1000000 smooth rate 2mbit window 1ms"
    "smooth 12500 8000000 smooth rate 2mbit window 8ms"
    "htb 0 0 htb"
    "cake 0 0 cake bandwidth 2mbit besteffort flowblind"
    "cake 0 0 cake bandwidth 2mbit besteffort flows"
    "fq 0 0 fq maxrate 2mbit"
    "fq_codel 0 0 fq_codel"
)
# E1 sweeps the bucket; the other experiments take one MTU, the netback-like
# R × 50 ms (smooth's default) and the largest video frame.
if [ "$QUICK" = 1 ]; then
    TRACES=(paper-vbr)
    SWEEP=(1514 12500 40000)
    SECS=5
    FEW=("$NONE" "$(tbf_at 12500)" "$(smooth_at 12500)" "fq_codel 0 0 fq_codel")
else
    TRACES=(paper-vbr gop12-25fps x264-mandel-30fps vp8-testsrc2-25fps)
    SWEEP=(1514 3000 6000 12500 25000 50000)
    SECS=20
    FEW=("$NONE")
    for b in 1514 12500 50000; do FEW+=("$(tbf_at "$b")" "$(smooth_at "$b")"); done
    FEW+=("${OTHERS[@]}")
fi
# The unshaped path's J moves from run to run within a boot (by a third and
# more under TCG), so E1 measures its floor at the start of each trace's
# runs, after the sweep and at the end, not once.
ALL=("$NONE")
for b in "${SWEEP[@]}"; do ALL+=("$(tbf_at "$b")" "$(smooth_at "$b")"); done
ALL+=("$NONE")
[ "$QUICK" = 1 ] || ALL+=("${OTHERS[@]}" "$NONE")

# Puts qdisc "$2…" on the root of device $1; htb and fq_codel sit under an
# HTB class at the rate with iproute2's defaults.
shape_dev() {
    local dev=$1
    shift
    tc qdisc del dev "$dev" root 2>/dev/null || true
    case "$1" in
    none) ;;
    htb | fq_codel)
        tc qdisc add dev "$dev" root handle 1: htb default 1
        tc class add dev "$dev" parent 1: classid 1:1 htb rate 2mbit
        [ "$1" = htb ] || tc qdisc add dev "$dev" parent 1:1 fq_codel
        ;;
    *) tc qdisc add dev "$dev" root "$@" ;;
    esac
}
shape() { shape_dev "$IFB" "$@"; }

# The spec's fields as a JSON object, for the results.
spec_json() {
    local family bucket window qdisc
    read -r family bucket window qdisc <<<"$1"
    jq -cn --arg f "$family" --argjson b "$bucket" --argjson w "$window" --arg q "$qdisc" \
        --argjson r "$RATE" '{family: $f, bucket: $b, window: $w, qdisc: $q, rate: $r}'
}

# Replays trace $1 for $2 s from the VM to the client; leaves the receiver's
# report in /tmp/rx.json and the sender's in /tmp/tx.json.
# Sender and receiver share vCPU 0, and so does the path between them (its
# softirqs run where the sender sends): under the instruction-counting clock
# the two vCPUs take turns on one host thread, so whatever runs on the other
# vCPU — the receiver, woken by the burst it is measuring — would stall the
# sender's path for its turn and show up as jitter no shaper made.
replay() {
    in_client taskset -c 0 smooth-sim replay-recv --port "$PORT" --duration "$(($2 + 5))s" --idle 2s >/tmp/rx.json &
    local rx=$!
    sleep 0.5
    in_guest taskset -c 0 smooth-sim replay-send --trace "$1" --to "$CLIENT_IP:$PORT" --duration "${2}s" >/tmp/tx.json
    wait "$rx"
}

bench_stream() {
    local trace spec
    for trace in "${TRACES[@]}"; do
        for spec in "${ALL[@]}"; do
            read -r _ _ _ qdisc <<<"$spec"
            shape $qdisc
            replay "$trace" "$SECS"
            say "stream: $trace through $qdisc: $(jq '.packets | length' /tmp/rx.json) of $(jq .sent /tmp/tx.json) received"
            # The root qdisc's own counters: what the shaper held, beside
            # the model (smooth's xstats; the others' differ).
            tc -s -j qdisc show dev "$IFB" root |
                jq -c '.[0] | {packets, overlimits, xstats: (if .kind == "smooth" then .xstats else null end)}' >/tmp/qdisc.json
            emit "$(jq -c --arg t "$trace" --argjson s "$(spec_json "$spec")" --slurpfile tx /tmp/tx.json \
                --slurpfile qd /tmp/qdisc.json \
                '$s + {kind: "stream", trace: $t, sender: $tx[0], qdisc_stats: $qd[0], packets: .packets}' /tmp/rx.json)"
        done
    done
}

bench_irtt() {
    local spec
    in_guest irtt server -b "$GUEST_IP:2112" >/dev/null 2>&1 &
    local server=$!
    sleep 0.5
    for spec in "${FEW[@]}"; do
        read -r _ _ _ qdisc <<<"$spec"
        shape $qdisc
        replay paper-vbr "$SECS" &
        local video=$!
        in_client irtt client -q -i 20ms -l 172 -d "${SECS}s" -o /tmp/irtt.json "$GUEST_IP:2112" >/dev/null
        wait "$video"
        say "irtt: through $qdisc: $(jq '.stats.packets_received' /tmp/irtt.json) of $(jq '.stats.packets_sent' /tmp/irtt.json) probes answered"
        # Per probe: sequence, lost ("false" or which way), RTT and the
        # shaped way's delay (server → client), ns.
        emit "$(jq -c --argjson s "$(spec_json "$spec")" \
            '$s + {kind: "irtt", probes: [.round_trips[] | [.seqno, .lost, (.delay.rtt // null), (.delay.receive // null)]]}' \
            /tmp/irtt.json)"
    done
    kill "$server"
}

# One flent run: "$1" namespace, "$2" test, "$3" host; the rest, flent's
# options. Prints extract.py's JSON of the data file. flent runs with
# tests/netns/flent/sitecustomize.py (which fixes its D-ITG runner) on
# PYTHONPATH.
flent_run() {
    local ns=$1 test=$2 host=$3
    shift 3
    rm -rf /tmp/flent
    mkdir -p /tmp/flent
    if ! ip netns exec "$ns" env PYTHONPATH=/smooth/tests/netns/flent \
        flent "$test" -H "$host" -D /tmp/flent -t bench "$@" >/tmp/flent.out 2>&1; then
        cat /tmp/flent.out >&2
        return 1
    fi
    python3 /smooth/tests/netns/flent/extract.py /tmp/flent/*.flent.gz
}

bench_flent() {
    local spec len=60
    [ "$QUICK" = 1 ] && len=5
    # flent's D-ITG control server, as Debian ships it, less ITGRecv's -I
    # (a patch to D-ITG Debian's build does not carry; it only ignores a
    # sender's request to log remotely, which flent's ITGSend never makes).
    python3 -c 'import gzip, sys; sys.stdout.write(gzip.open(sys.argv[1], "rt").read())' \
        /usr/share/doc/flent/misc/ditg-control-server.py.gz | sed "/^ *'-I',$/d" >/tmp/ditg-control.py
    if grep -q "'-I'" /tmp/ditg-control.py; then
        say "flent: the D-ITG control server still passes -I"
        return 1
    fi
    in_client python3 /tmp/ditg-control.py --insecure-xml -a "$CLIENT_IP" >/tmp/ditg-control.log 2>&1 &
    local control=$!
    in_guest netserver -p 12865 >/dev/null
    in_guest irtt server -b "$GUEST_IP:2112" >/dev/null 2>&1 &
    local irtt=$!
    sleep 1
    for spec in "${FEW[@]}"; do
        read -r _ _ _ qdisc <<<"$spec"
        shape $qdisc
        # voip: the VoIP stream leaves the VM beside the video. No irtt
        # server answers in the client's namespace, so flent's VoIP runner
        # takes D-ITG (extract.py names the runner; the report checks it).
        replay paper-vbr $((len + 4)) &
        local video=$!
        sleep 1
        local voip rrul
        voip=$(flent_run guest voip "$CLIENT_IP" -l "$len")
        wait "$video"
        say "flent: voip through $qdisc: $(jq '.packets | length' <<<"$voip") VoIP packets received"
        emit "$(jq -c --argjson s "$(spec_json "$spec")" '$s + {kind: "flent"} + .' <<<"$voip")"
        # rrul: from the client towards the VM.
        rrul=$(flent_run client rrul "$GUEST_IP" -l "$len")
        say "flent: rrul through $qdisc: $(jq -c '[.download, .upload] | map(length)' <<<"$rrul") steps down/up"
        emit "$(jq -c --argjson s "$(spec_json "$spec")" '$s + {kind: "flent"} + .' <<<"$rrul")"
    done
    kill "$control" "$irtt"
    killall netserver ITGRecv 2>/dev/null || true
}

bench_http() {
    local spec n=2000
    [ "$QUICK" = 1 ] && n=100
    mkdir -p /tmp/www
    dd if=/dev/urandom of=/tmp/www/8k.bin bs=8192 count=1 2>/dev/null
    in_guest httpd -p "$GUEST_IP:80" -h /tmp/www
    for spec in "${FEW[@]}" "netem 0 0 netem delay 10ms limit 10000"; do
        read -r _ _ _ qdisc <<<"$spec"
        shape $qdisc
        in_client ab -q -n "$n" -c 1 -g /tmp/ab.tsv "http://$GUEST_IP/8k.bin" >/tmp/ab.out 2>&1 ||
            { cat /tmp/ab.out; return 1; }
        local failed
        failed=$(awk '/^Failed requests:/ { print $3 }' /tmp/ab.out)
        say "http: through $qdisc: $n requests, $failed failed"
        # ab -g: one line per request; "wait" (request sent → first byte of
        # the response) and "ttime" (connect → last byte), whole ms.
        emit "$(awk -F'\t' 'NR > 1 { printf "%s[%d,%d]", (n++ ? "," : ""), $6, $5 } END { print "" }' /tmp/ab.tsv |
            jq -c --argjson s "$(spec_json "$spec")" --argjson n "$n" --argjson f "$failed" \
                -R '$s + {kind: "http", requests: $n, failed: $f, wait_total_ms: ("[" + . + "]" | fromjson)}')"
    done
    killall httpd 2>/dev/null || true
}

# Samples smooth on the IFB every 100 ms into /tmp/watch.jsonl while "$@" runs.
watched() {
    tc-smooth watch "$IFB" --interval 100ms --json >/tmp/watch.jsonl &
    local w=$!
    "$@"
    kill "$w"
    wait "$w" 2>/dev/null || true
}

# Frames of /tmp/watch.jsonl as [time ns, bytes, window_min, window_max,
# credit_owed, raised, lowered, drops].
frames_json() {
    jq -cs '[.[] | [.time_ns, .qdisc.bytes, .qdisc.xstats.window_min, .qdisc.xstats.window_max,
        .qdisc.xstats.credit_owed, .qdisc.xstats.raised, .qdisc.xstats.lowered, .qdisc.drops]]' /tmp/watch.jsonl
}

bench_window() {
    # The window during the video, with every packet's delay.
    local spec
    spec=$(smooth_at 12500)
    read -r _ _ _ qdisc <<<"$spec"
    shape $qdisc
    watched replay paper-vbr "$SECS"
    emit "$(jq -c --argjson s "$(spec_json "$spec")" --argjson f "$(frames_json)" \
        '$s + {kind: "window", trace: "paper-vbr", frames: $f, packets: .packets}' /tmp/rx.json)"
    # Rate steps 4 → 2 → 4 Mbit/s every $step s under a greedy 6 Mbit/s UDP
    # load (the video would not fill the rate). The load's packets stay
    # charged to its socket while the IFB's qdisc holds them (veth keeps the
    # owner across namespaces, and ingress runs before ip_rcv orphans them):
    # with the default buffer (≈ 46 such packets, 115 ms at 4 Mbit/s) the
    # sender blocks and is slowed to the shaper's rate instead of being
    # dropped, then bursts to catch up with its 6 Mbit/s average once the
    # lower rate drops. A buffer deeper than 200 ms at 6 Mbit/s keeps the
    # load greedy: the qdisc, not the socket, decides what is dropped.
    # (iperf3 -w sets the receive buffer too, and checks both.)
    local step=10 wmem rmem core=/proc/sys/net/core
    [ "$QUICK" = 1 ] && step=3
    shape smooth rate 4mbit
    in_client iperf3 -s -D -1 --logfile /tmp/iperf3-step.log
    read -r wmem <"$core/wmem_max"
    read -r rmem <"$core/rmem_max"
    echo $((4 << 20)) >"$core/wmem_max"
    echo $((4 << 20)) >"$core/rmem_max"
    sleep 0.5
    steps() {
        in_guest iperf3 -c "$CLIENT_IP" -u -b 6M -l 1200 -w 4M -t $((3 * step)) >/dev/null &
        local load=$! t1 t2
        sleep "$step"
        t1=${EPOCHREALTIME/./}000
        tc qdisc change dev "$IFB" root smooth rate 2mbit
        sleep "$step"
        t2=${EPOCHREALTIME/./}000
        tc qdisc change dev "$IFB" root smooth rate 4mbit
        wait "$load"
        echo "{\"steps\": [[$t1, 250000], [$t2, 500000]], \"end\": ${EPOCHREALTIME/./}000}" >/tmp/steps.json
    }
    watched steps
    echo "$wmem" >"$core/wmem_max"
    echo "$rmem" >"$core/rmem_max"
    say "window: rate steps at $(cat /tmp/steps.json)"
    emit "$(jq -cn --argjson f "$(frames_json)" --slurpfile st /tmp/steps.json \
        '{kind: "step", qdisc: "smooth rate 4mbit", rate: 500000, steps: $st[0].steps, end: $st[0].end, frames: $f}')"
}

# "$1" TCP|UDP, "$2" Mbit/s, "$3" seconds measured after 2 s of warm-up, then
# the load generator: prints the qdisc's rate (bit/s) over the measured span
# and leaves the generator's output in /tmp/load.out.
rate_run() {
    local secs=$1
    shift
    "$@" >/tmp/load.out 2>&1 &
    local pid=$! rate
    rate=$(smooth-nl rate "$VIF" 2 "$secs")
    wait "$pid" || { cat /tmp/load.out >&2; }
    echo "$rate"
}

bench_rate() {
    local mbits=(4 8 16 32) secs=60 repeats=3 mbit proto i rate tool
    [ "$QUICK" = 1 ] && { mbits=(4 32); secs=5; repeats=1; }
    in_guest netserver -p 12865 >/dev/null
    in_guest iperf3 -s -D --logfile /tmp/iperf3-rate.log
    sleep 0.5
    for mbit in "${mbits[@]}"; do
        shape_dev "$VIF" smooth rate "${mbit}mbit"
        for proto in TCP UDP; do
            for i in $(seq "$repeats") iperf3; do
                if [ "$i" = iperf3 ]; then
                    tool=iperf3
                    local extra=()
                    [ "$proto" = UDP ] && extra=(-u -b "$((2 * mbit))M" -l 1400)
                    rate=$(rate_run "$secs" in_client iperf3 -c "$GUEST_IP" -t $((secs + 4)) "${extra[@]}")
                else
                    tool=netperf
                    local test=TCP_STREAM opts=()
                    [ "$proto" = UDP ] && { test=UDP_STREAM; opts=(-m 1400); }
                    rate=$(rate_run "$secs" in_client netperf -H "$GUEST_IP" -l $((secs + 4)) -t "$test" -P 0 -- \
                        "${opts[@]}" -k THROUGHPUT,ELAPSED_TIME)
                fi
                local goodput
                goodput=$(awk -F= '/^THROUGHPUT=/ { printf "%.0f", $2 * 1e6 }' /tmp/load.out)
                say "rate: $tool $proto at ${mbit}mbit: qdisc sent $rate bit/s over ${secs} s"
                emit "$(jq -cn --arg t "$tool" --arg p "$proto" --argjson c "$((mbit * 1000000))" \
                    --argjson r "$rate" --argjson s "$secs" --argjson g "${goodput:-null}" \
                    '{kind: "rate", family: "smooth", tool: $t, proto: $p, configured_bps: $c, delivered_bps: $r, secs: $s, goodput_bps: $g}')"
            done
        done
    done
    shape_dev "$VIF" none
    killall netserver iperf3 2>/dev/null || true
}

bench_mixed() {
    local spec
    in_client iperf3 -s -D --logfile /tmp/iperf3-mixed.log
    sleep 0.5
    for spec in "${FEW[@]}"; do
        read -r _ _ _ qdisc <<<"$spec"
        shape $qdisc
        in_guest iperf3 -c "$CLIENT_IP" -t $((SECS + 2)) -J >/tmp/bulk.json &
        local bulk=$!
        sleep 1
        replay paper-vbr "$SECS"
        wait "$bulk" || true
        local goodput
        goodput=$(jq '.end.sum_received.bits_per_second // 0 | floor' /tmp/bulk.json)
        say "mixed: through $qdisc: video $(jq '.packets | length' /tmp/rx.json) of $(jq .sent /tmp/tx.json), bulk $goodput bit/s"
        emit "$(jq -c --argjson s "$(spec_json "$spec")" --slurpfile tx /tmp/tx.json --argjson g "$goodput" \
            '$s + {kind: "mixed", trace: "paper-vbr", sender: $tx[0], packets: .packets, bulk_bps: $g}' /tmp/rx.json)"
    done
    killall iperf3 2>/dev/null || true
}

# Busy jiffies (all CPUs) from /proc/stat.
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# One pktgen run of $1 packets of 64 B through pg0's root qdisc; prints
# "pps busy_jiffies".
pktgen_run() {
    local pg=/proc/net/pktgen
    echo "rem_device_all" >"$pg/kpktgend_0"
    echo "add_device pg0" >"$pg/kpktgend_0"
    for cmd in "count $1" "pkt_size 64" "delay 0" "xmit_mode queue_xmit" "dst 10.98.0.2" \
        "dst_mac 02:00:00:00:00:02"; do
        echo "$cmd" >"$pg/pg0"
    done
    local j0 j1
    j0=$(busy_jiffies)
    echo start >"$pg/pgctrl"
    j1=$(busy_jiffies)
    echo "$(awk '/pps/ { sub("pps", "", $1); print $1 }' "$pg/pg0") $((j1 - j0))"
}

# Memory figures of /proc/meminfo, kB: "MemFree Slab Percpu", after the
# page cache is dropped (tc's and ip's reads must not count).
meminfo() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
    sleep 1
    awk '/^(MemFree|Slab|Percpu):/ { printf "%s ", $2 } END { print "" }' /proc/meminfo
}

# Hrtimers armed for qdisc watchdogs, over all CPUs.
watchdog_timers() { grep -c qdisc_watchdog /proc/timer_list || true; }

bench_cost() {
    # /proc/stat counts USER_HZ ticks: 100 per second on x86.
    local count=300000 rounds=10 round spec hz=100
    [ "$QUICK" = 1 ] && { count=100000; rounds=2; }
    say "cost: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
    ip link add pg0 type dummy
    ip link set pg0 up
    # The emulator's speed drifts by tens of percent over a minute: each
    # round runs TBF and smooth back to back in the order A B B A (which
    # cancels a linear drift), the others once.
    for round in $(seq "$rounds"); do
        for spec in "tbf tbf rate 10gbit burst 1mb latency 10ms" "smooth smooth rate 10gbit" \
            "smooth smooth rate 10gbit" "tbf tbf rate 10gbit burst 1mb latency 10ms" \
            "none pfifo limit 10000" "htb htb" "fq fq" "cake cake bandwidth 10gbit besteffort"; do
            read -r family qdisc <<<"$spec"
            tc qdisc del dev pg0 root 2>/dev/null || true
            case "$family" in
            htb)
                tc qdisc add dev pg0 root handle 1: htb default 1
                tc class add dev pg0 parent 1: classid 1:1 htb rate 10gbit quantum 60000
                ;;
            *) tc qdisc add dev pg0 root $qdisc ;;
            esac
            read -r pps busy <<<"$(pktgen_run "$count")"
            local sent
            sent=$(tc -s -j qdisc show dev pg0 root | jq '.[0].packets')
            say "cost: $qdisc round $round: $pps pps, $sent packets, $busy busy jiffies"
            emit "$(jq -cn --arg f "$family" --arg q "$qdisc" --argjson r "$round" --argjson pps "$pps" \
                --argjson n "$sent" --argjson c "$count" --argjson b "$busy" --argjson hz "$hz" \
                '{kind: "pps", family: $f, qdisc: $q, round: $r, pps: $pps, packets: $n, offered: $c, busy_jiffies: $b, hz: $hz}')"
        done
    done
    tc qdisc del dev pg0 root 2>/dev/null || true
    ip link del pg0

    # 1000 dummies: memory with no qdisc, with smooth, with TBF; armed timers.
    local n=1000 i
    [ "$QUICK" = 1 ] && n=200
    for i in $(seq "$n"); do echo "link add d$i type dummy"; done | ip -batch -
    for i in $(seq "$n"); do echo "link set d$i up"; done | ip -batch -
    local bare with_smooth with_tbf timers_idle timers_after
    bare=$(meminfo)
    for i in $(seq "$n"); do echo "qdisc add dev d$i root smooth rate 2mbit"; done | tc -batch -
    with_smooth=$(meminfo)
    timers_idle=$(watchdog_timers)
    # Traffic through one of them, held by its rate, then idle again: the
    # watchdog it armed must not stay armed once the queue is empty.
    ip addr add 10.98.0.1/24 dev d1
    ip neigh add 10.98.0.2 lladdr 02:00:00:00:00:02 dev d1 2>/dev/null || true
    exec 3>/dev/udp/10.98.0.2/9
    for i in $(seq 50); do printf '%1000s' x >&3; done
    exec 3>&-
    local held
    held=$(tc -s -j qdisc show dev d1 root | jq '.[0].xstats.throttled')
    sleep 2
    timers_after=$(watchdog_timers)
    for i in $(seq "$n"); do echo "qdisc del dev d$i root"; done | tc -batch -
    for i in $(seq "$n"); do echo "qdisc add dev d$i root tbf rate 2mbit burst 12500 latency 200ms"; done | tc -batch -
    with_tbf=$(meminfo)
    for i in $(seq "$n"); do echo "link del d$i"; done | ip -batch -
    say "cost: $n dummies: bare [$bare] smooth [$with_smooth] tbf [$with_tbf] kB; watchdogs idle $timers_idle, after traffic $timers_after (throttled $held)"
    emit "$(jq -cn --argjson n "$n" --arg b "$bare" --arg s "$with_smooth" --arg t "$with_tbf" \
        --argjson ti "$timers_idle" --argjson ta "$timers_after" --argjson h "$held" \
        'def kb: split(" ") | map(select(. != "") | tonumber) | {memfree: .[0], slab: .[1], percpu: .[2]};
         {kind: "scale", instances: $n, bare: ($b | kb), smooth: ($s | kb), tbf: ($t | kb),
          watchdogs_idle: $ti, watchdogs_after_traffic: $ta, throttled_by_traffic: $h}')"
}

for experiment in stream irtt flent http window rate mixed cost; do
    if wants "$experiment"; then
        say "== $experiment"
        emit "{\"kind\": \"begin\", \"experiment\": \"$experiment\"}"
        "bench_$experiment"
    fi
done
shape none
say "bench done"
