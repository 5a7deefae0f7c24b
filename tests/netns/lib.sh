# Shared helpers for smooth's VM tests; sourced by every tests/netns/test_*.sh.
#
# The dom0-like topology (all inside the QEMU guest):
#
#   netns "guest" (the VM)        root namespace (dom0)               netns "client"
#   eth0 10.99.0.2  <--veth-->  vif1.0 --+                              (a remote host)
#                                        xenbr0 (bridge)
#                               peth0  --+ <--veth-->  eth0 10.99.0.1
#
# A root qdisc on vif1.0 shapes dom0->guest traffic (what netback feeds the
# guest); guest-originated traffic is shaped on ifb-vif1.0, fed by an ingress
# redirect on vif1.0 (topo_ifb).

set -eu

# On the debug kernel (KASAN, lockdep, kmemleak) the emulated guest runs
# several times slower: timing figures are printed but not asserted there;
# that run is about sanitizer reports, which /init turns into failures.
DEBUG_KERNEL=0
grep -q 'smooth.variant=debug' /proc/cmdline && DEBUG_KERNEL=1

GUEST_IP=10.99.0.2
CLIENT_IP=10.99.0.1
VIF=vif1.0
IFB=ifb-vif1.0
FAILED=0

say() { echo "[$(basename "$0" .sh)] $*"; }

topo_up() {
    ip netns add guest
    ip netns add client
    ip link add xenbr0 type bridge
    ip link add "$VIF" type veth peer name eth0 netns guest
    ip link add peth0 type veth peer name eth0 netns client
    ip link set "$VIF" master xenbr0
    ip link set peth0 master xenbr0
    for dev in xenbr0 "$VIF" peth0; do ip link set "$dev" up; done
    ip -n guest addr add "$GUEST_IP/24" dev eth0
    ip -n client addr add "$CLIENT_IP/24" dev eth0
    for ns in guest client; do
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
    done
    # The bridge forwards at once: no STP listening delay.
    ip link set xenbr0 type bridge forward_delay 0 stp_state 0
    ip netns exec client ping -c 1 -W 5 "$GUEST_IP" >/dev/null
}

# Shapes guest-originated traffic: vif1.0 ingress -> ifb-vif1.0 egress.
topo_ifb() {
    ip link add "$IFB" type ifb
    ip link set "$IFB" up
    tc qdisc add dev "$VIF" handle ffff: ingress
    tc filter add dev "$VIF" parent ffff: matchall action mirred egress redirect dev "$IFB"
}

in_guest() { ip netns exec guest "$@"; }
in_client() { ip netns exec client "$@"; }

# Bytes the root qdisc of $1 has sent (qdisc_pkt_len, what tc rates count).
qdisc_bytes() {
    tc -s -j qdisc show dev "$1" root | jq '.[0].bytes'
}

# Fails the test (at the end) unless $1 is within $3 percent of $2.
expect_within() {
    local value=$1 target=$2 pct=$3 what=$4
    if [ "$DEBUG_KERNEL" = 1 ]; then
        say "debug kernel, not asserted: $what = $value (target $target ±$pct%)"
    elif awk -v v="$value" -v t="$target" -v p="$pct" \
        'BEGIN { d = v - t; if (d < 0) d = -d; exit !(d <= t * p / 100) }'; then
        say "ok: $what = $value (target $target ±$pct%)"
    else
        say "FAIL: $what = $value, outside $target ±$pct%"
        FAILED=1
    fi
}

# Fails the test unless the command fails (and prints what it said).
expect_failure() {
    local what=$1; shift
    local out
    if out=$("$@" 2>&1); then
        say "FAIL: $what: '$*' succeeded"
        FAILED=1
    else
        say "ok: $what: refused ($(echo "$out" | head -n 1))"
    fi
}

# Runs an iperf3 client in "client" towards the guest for $1 seconds with
# the remaining iperf3 options, and prints the rate in bit/s seen by the
# root qdisc of $VIF (bytes the qdisc sent over the measured time).
measure_qdisc_rate() {
    local dev=$1 secs=$2; shift 2
    local b0 b1 t0 t1
    b0=$(qdisc_bytes "$dev")
    t0=${EPOCHREALTIME/./}
    "$@" -t "$secs" >/tmp/iperf3.out 2>&1 || { cat /tmp/iperf3.out; return 1; }
    t1=${EPOCHREALTIME/./}
    b1=$(qdisc_bytes "$dev")
    awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.0f\n", b * 8 / (t / 1e6) }'
}

start_iperf3_server() {
    in_guest iperf3 -s -D -1 --logfile /tmp/iperf3-server.log
    sleep 0.5
}

finish() {
    if [ "$FAILED" = 0 ]; then
        say "all checks passed"
    else
        say "some checks FAILED"
    fi
    exit "$FAILED"
}

# Loads the module once per guest.
load_smooth() {
    if ! grep -q '^sch_smooth ' /proc/modules; then
        insmod /smooth/sch_smooth.ko
    fi
}

# A field of the root qdisc's options in `tc -j` output.
opt() {
    tc -j qdisc show dev "$1" root | jq -r ".[0].options.$2"
}

# A field of the root qdisc's xstats in `tc -s -j` output.
xstat() {
    tc -s -j qdisc show dev "$1" root | jq -r ".[0].xstats.$2"
}

# Fails the test unless "$1" equals "$2".
expect_eq() {
    if [ "$1" = "$2" ]; then
        say "ok: $3 = $1"
    else
        say "FAIL: $3 = '$1', expected '$2'"
        FAILED=1
    fi
}

# Fails the test unless the command fails with stderr containing $2.
expect_error() {
    local what=$1 want=$2; shift 2
    local out
    if out=$("$@" 2>&1); then
        say "FAIL: $what: '$*' succeeded"
        FAILED=1
    elif printf '%s' "$out" | grep -qF -- "$want"; then
        say "ok: $what: $(printf '%s' "$out" | grep -F -- "$want" | head -n 1)"
    else
        say "FAIL: $what: expected '$want', got: $out"
        FAILED=1
    fi
}

# Runs "${@:4}" (an iperf3 client) in the background, waits $2 s of
# warm-up, then prints the rate in bit/s the root qdisc of $1 sent over the
# next $3 s (its own byte counter: qdisc_pkt_len, what tc rates count), and
# waits for the client. Steady state only: slow start and the final drain
# are outside the measured span. Needs `# guest-needs: python3`.
steady_rate() {
    local dev=$1 warm=$2 secs=$3; shift 3
    "$@" -t $((warm + secs + 2)) >/tmp/iperf3-client.log 2>&1 &
    local pid=$! rate
    # One process reads the counter twice over netlink, timestamping each
    # read within a millisecond (qdisc_rate.py says why not `tc | jq`).
    rate=$(python3 /smooth/tests/netns/qdisc_rate.py "$dev" "$warm" "$secs")
    wait "$pid" || { cat /tmp/iperf3-client.log >&2; }
    echo "$rate"
}

# Fails the test unless $1 <= $2 (integers).
expect_le() {
    if [ "$1" -le "$2" ]; then
        say "ok: $3: $1 <= $2"
    else
        say "FAIL: $3: $1 > $2"
        FAILED=1
    fi
}

# Prints the pNN of a histogram in `tc -s -j` xstats as the bucket's upper
# edge in µs: "$1" dev, "$2" histogram name, "$3" percentile.
hist_percentile() {
    tc -s -j qdisc show dev "$1" root | jq -r --arg h "$2_hist" --argjson p "$3" '
        .[0].xstats[$h] | to_entries as $e | ([$e[].value] | add) as $n
        | reduce $e[] as $b ({acc: 0, out: null};
            .acc += $b.value
            | if .out == null and .acc * 100 >= $n * $p then .out = $b.key else . end)
        | .out'
}
