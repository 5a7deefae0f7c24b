#!/bin/bash
# smooth deployed on Xen, four configurations in one run (`cargo xtask xen
# --bench-deploy`; docs/deploy.md says what an operator does, this does the
# same): the network half installed in dom0 (install_smooth), dom0 alone on
# pCPU 0 (as an operator pins it), two CPU-hog guests and a streaming guest
# sharing pCPU 1, and for each configuration
#   stock  plain credit; vif-bridge with rate= (netback's credit limiter)
#   cpu    the CPU half: the streaming guest real-time (aperiodic, from
#          xl.cfg), dom0 the driver domain; netback's limiter as in stock
#   net    the network half: plain credit; script=vif-smooth (smooth on the
#          vif and its IFB at the xl.cfg rate, netback's limiter off)
#   both   both halves
# (three rounds, the order rotated) the guest is created from its xl.cfg,
# replays a corpus trace to
# `smooth-sim replay-recv` in dom0 while dom0 pings it every 50 ms, and is
# destroyed. Each configuration's measurements are one console line
# `SMOOTH-DEPLOY {json}` (xtask writes the results from them); checks that
# the configuration is what it claims are `SMOOTH-XEN-TEST` lines.
set -u
TEST_PREFIX="deploy: "
. /smooth/tests/lib.sh
. /smooth/tests/deploy-lib.sh
SV_IP=10.0.0.2
TRACE=x264-mandel-30fps
SECS=30
RATE='2Mb/s@50ms'
PORT=9000
# The streaming guest's real-time parameters (aperiodic: a job per
# wake-up, due 5 ms after it, 1.25 ms of CPU; 25 % of the pCPU) and dom0's
# driver-domain budget (2 ms per 10 ms: 20 %), each on its own pCPU.
RT_CFG='rtmode="aperiodic"
deadline=5000
rtbudget=1250'
DRIVER="-M driver -P 10000 -b 2000"

# stream_cfg CONFIG: the streaming guest's xl.cfg for CONFIG.
stream_cfg() {
    local spec="bridge=xenbr0,rate=$RATE" rt=""
    case $1 in
    net | both) spec="$spec,script=vif-smooth" ;;
    esac
    case $1 in
    cpu | both) rt=$RT_CFG ;;
    esac
    vif_cfg sv stream "$SV_IP" "$spec" $rt "$GUEST_CPU"
    sed -i 's|^ramdisk=.*|ramdisk="/smooth/domu-stream.cpio"|; s|^memory=.*|memory=128|' /tmp/sv.cfg
}

# ping_json FILE SENT: ping's replies as {"sent":…,"replies":…,"p50":…,…,
# "cdf":[the 0th, 1st, …, 100th percentile]} (ms).
ping_json() {
    local n
    grep -o 'time=[0-9.]*' "$1" | cut -d= -f2 | sort -n > "$1.sorted"
    n=$(wc -l < "$1.sorted")
    awk -v n="$n" -v sent="$2" '
        function at(q,  i) { i = int(q * n + 0.999999); if (i < 1) i = 1; return v[i] }
        { v[NR] = $1 }
        END { if (n == 0) { printf "{\"sent\":%d,\"replies\":0}", sent; exit }
              printf "{\"sent\":%d,\"replies\":%d,\"p50\":%s,\"p90\":%s,\"p99\":%s,\"max\":%s,\"cdf\":[",
                     sent, n, at(0.5), at(0.9), at(0.99), v[n]
              for (q = 0; q <= 100; q++) printf "%s%s", (q ? "," : ""), at(q / 100)
              printf "]}" }' "$1.sorted"
}

section "install (docs/deploy.md)"
if install_smooth; then pass "install: as docs/deploy.md says"; else fail "install: as docs/deploy.md says"; fi
before=$(leftovers)

# The guests share pCPU 1; dom0 (the receiver, the pinger, netback) has
# pCPU 0 to itself, so no configuration changes how fast the measuring side
# runs: the stream's jitter comes from the sender's pCPU and the shaper.
[ "$(xl info | awk '/^nr_cpus/ { print $3 }')" = 2 ] && pass "two pCPUs" || fail "two pCPUs"
GUEST_CPU='cpus="1"'
# on_guest_cpu DOMAIN: every vCPU of DOMAIN may run on pCPU 1 only (its
# hard affinity, `xl vcpu-list`'s seventh column).
on_guest_cpu() {
    xl vcpu-list "$1" | awk 'NR > 1 { if ($7 != "1") bad = 1; n++ } END { exit bad || !n }'
}

section "two CPU hogs"
cfg hog1 hog "$GUEST_CPU"
cfg hog2 hog "$GUEST_CPU"
create hog1 && create hog2 && pass "two CPU-hog guests running" || fail "two CPU-hog guests running"
xl vcpu-list
on_guest_cpu hog1 && on_guest_cpu hog2 && pass "the hogs run on pCPU 1" || fail "the hogs run on pCPU 1"

# Each configuration ROUNDS times, the order rotated every round (the
# hogs run throughout: no configuration always comes first).
ROUNDS=3
ORDER=(stock cpu net both)
for round in $(seq $ROUNDS); do
for config in "${ORDER[@]}"; do
    section "$config, round $round"
    case $config in
    cpu | both) xl sched-credit -d 0 $DRIVER ;;
    *) xl sched-credit -d 0 -M none ;;
    esac
    stream_cfg $config
    sed 's/^/  | /' /tmp/sv.cfg
    if ! create sv; then
        fail "$config: streaming guest created"
        continue
    fi
    D=$(xl domid sv)
    VIF=vif$D.0
    on_guest_cpu sv && pass "$config: the streaming guest runs on pCPU 1 with the hogs" ||
        fail "$config: the streaming guest runs on pCPU 1 with the hogs"
    xl sched-credit
    # The configuration is what it claims.
    case $config in
    net | both)
        has_rate "$VIF" 250000 && has_rate "ifb-$VIF" 250000 &&
            ! xenstore-read "/local/domain/0/backend/vif/$D/0/rate" > /dev/null 2>&1 &&
            pass "$config: smooth on $VIF and ifb-$VIF, netback's rate key gone" ||
            fail "$config: smooth on $VIF and ifb-$VIF, netback's rate key gone"
        ;;
    *)
        [ "$(xenstore-read "/local/domain/0/backend/vif/$D/0/rate" 2>&1)" = "12500,50000" ] &&
            ! tc qdisc show dev "$VIF" | grep -q smooth &&
            pass "$config: netback's rate limit (12500,50000), no smooth" ||
            fail "$config: netback's rate limit (12500,50000), no smooth"
        ;;
    esac
    case $config in
    cpu | both) want="aperiodic 5000 0 0 1250" dom0="driver" ;;
    *) want="none 0 0 0 0" dom0="none" ;;
    esac
    expect_params "$config: streaming guest's scheduling parameters" sv "$want"
    [ "$(params 0 | cut -d' ' -f1)" = "$dom0" ] && pass "$config: dom0 mode $dom0" || fail "$config: dom0 mode $dom0"
    wait_ping "$SV_IP" || fail "$config: streaming guest answers pings"

    smooth-sim replay-recv --port $PORT --duration "$((SECS + 10))s" --idle 3s > "/tmp/rx.$config.json" &
    rx=$!
    timeout $((SECS + 60)) nc -l -p 5004 > "/tmp/tx.$config.json" &
    tx=$!
    sleep 1
    count=$((SECS * 20))
    ping -i 0.05 -c $count -W 2 "$SV_IP" > "/tmp/ping.$config" 2>&1 &
    pinger=$!
    echo "$TRACE $SECS 10.0.0.1:$PORT" | timeout 20 nc "$SV_IP" 5003
    wait $rx $pinger
    wait $tx
    echo "  sender: $(cat "/tmp/tx.$config.json")"
    if stream=$(smooth-sim replay-measure --trace $TRACE --duration "${SECS}s" --received "/tmp/rx.$config.json"); then
        pass "$config: stream received and measured"
        sender=$(cat "/tmp/tx.$config.json")
        case $sender in "{"*) ;; *) sender=null ;; esac
        echo "SMOOTH-DEPLOY {\"config\":\"$config\",\"round\":$round,\"trace\":\"$TRACE\",\"seconds\":$SECS,\"rate\":\"$RATE\",\"hogs\":\"two CPU-hog guests on the streaming guest's pCPU\",\"stream\":$stream,\"sender\":$sender,\"ping\":$(ping_json "/tmp/ping.$config" $count)}"
    else
        fail "$config: stream received and measured"
    fi
    xl destroy sv
    sleep 2
    [ "$(leftovers)" = "$before" ] && pass "$config: destroy leaves nothing behind" || fail "$config: destroy leaves nothing behind"
done
ORDER=("${ORDER[@]:1}" "${ORDER[0]}")
done
xl sched-credit -d 0 -M none
xl destroy hog1
xl destroy hog2
finish
