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

# Fails the test (at the end) unless $1 is within $3 percent of $2. On the
# debug kernel, too slow to reach every rate, only the upper bound is
# asserted (a shaper must never send above its rate, however slow the path),
# and that something was sent at all.
expect_within() {
    local value=$1 target=$2 pct=$3 what=$4
    if [ "$DEBUG_KERNEL" = 1 ]; then
        if awk -v v="$value" -v t="$target" -v p="$pct" 'BEGIN { exit !(v > 0 && v <= t * (1 + p / 100)) }'; then
            say "ok (debug kernel: upper bound only): $what = $value <= $target +$pct%"
        else
            say "FAIL: $what = $value, not in (0, $target +$pct%]"
            FAILED=1
        fi
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
# are outside the measured span.
steady_rate() {
    local dev=$1 warm=$2 secs=$3; shift 3
    "$@" -t $((warm + secs + 2)) >/tmp/iperf3-client.log 2>&1 &
    local pid=$! rate
    # One process reads the counter twice over netlink, timestamping each
    # read within a millisecond (smooth-netlink/src/bin/smooth-nl/rate.rs
    # says why not `tc | jq`).
    rate=$(smooth-nl rate "$dev" "$warm" "$secs")
    wait "$pid" || { echo "iperf3 client failed:" >&2; cat /tmp/iperf3-client.log >&2; }
    echo "$rate"
}

# "$1" / "$2" with three decimals.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}

# Fails unless smooth's rate "$2" is at least "$5" % of the reference's "$3"
# ("$6", measured in the same run) and not above the configured "$4" + 2 %.
expect_near_reference() {
    local what=$1 rate=$2 base=$3 target=$4 pct=$5 ref=$6
    if [ "$DEBUG_KERNEL" = 1 ]; then
        expect_within "$rate" "$target" 2 "$what"
    elif [ "$rate" -lt $((base * pct / 100)) ] || [ "$rate" -gt $((target * 102 / 100)) ]; then
        say "FAIL: $what: $rate bit/s, below $pct % of $ref's $base or above the rate"
        FAILED=1
    else
        say "ok: $what: $rate bit/s, at least $pct % of $ref's $base, not above the rate"
    fi
}

# One rate case: "$3" (tcp or udp) at "$2" Mbit/s through the root qdisc of
# "$1", sent by "${@:5}" (an iperf3 client command without -u/-b/-t). The
# function named "$4" puts smooth at that rate ("$4" RATE) on "$1"'s root.
#
# What the emulated path can carry is measured in the same run: for UDP
# (offered at twice the rate) the same flow through an unshaped pfifo, for
# TCP (whose rate also depends on timers and scheduling, which TCG on a busy
# host makes erratic) the same flow through HTB at the same rate. smooth
# must be within ±2 % of its rate (its own byte counter over 10 s of steady
# state); only where the reference itself falls short of the rate is the
# case reported as environment-limited, and smooth must then be within 2 %
# of the reference or better; a reference below half the rate fails the
# case. smooth stays in place afterwards.
rate_case() {
    local dev=$1 mbit=$2 proto=$3 put_smooth=$4; shift 4
    local target=$((mbit * 1000000)) flow=("$@") refname base rate
    if [ "$proto" = udp ]; then
        flow+=(-u -b "$((2 * mbit))M" -l 1400)
        tc qdisc replace dev "$dev" root pfifo limit 1000
        refname="unshaped path"
    else
        tc qdisc replace dev "$dev" root handle 1: htb default 1
        tc class add dev "$dev" parent 1: classid 1:1 htb rate "${mbit}mbit"
        refname="htb"
    fi
    base=$(steady_rate "$dev" 2 10 "${flow[@]}")
    tc qdisc del dev "$dev" root
    "$put_smooth" "${mbit}mbit"
    rate=$(steady_rate "$dev" 2 10 "${flow[@]}")
    say "rate ${mbit}mbit, $proto on $dev: smooth sent $rate bit/s ($(ratio "$rate" "$target") of the rate); $refname $base bit/s ($(ratio "$base" "$target"))"
    if [ "$DEBUG_KERNEL" != 1 ] && [ "$base" -lt $((target / 2)) ]; then
        # A reference this far short is a failed client or a broken path
        # (no redirect to the IFB counts nothing), not a slow one: judging
        # smooth against it would pass anything.
        say "FAIL: $proto at ${mbit}mbit on $dev: $refname carried only $base of $target bit/s, too little to judge smooth by"
        FAILED=1
    elif [ "$base" -lt $((target * 98 / 100)) ]; then
        say "  environment-limited: $refname reaches only $base of $target bit/s"
        expect_near_reference "$proto at ${mbit}mbit on $dev" "$rate" "$base" "$target" 98 "$refname"
    else
        expect_within "$rate" "$target" 2 "$proto at ${mbit}mbit on $dev (qdisc byte counter)"
    fi
}

# Makes the devices on either side of the vif count exactly the packets its
# root qdisc sees, so that offered - delivered can be checked against the
# qdisc's drops: nothing but the test's traffic crosses it (static
# neighbours: no ARP; IPv6 off: no MLD or ND), and the client sends one
# segment per packet (gso_max_segs 1), because a qdisc counts a GSO packet
# it drops whole as one drop while the devices count its segments.
quiet_path() {
    local ns
    for ns in "" guest client; do
        ${ns:+ip netns exec "$ns"} sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;
            echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6'
    done
    ip -n client neigh replace "$GUEST_IP" lladdr "$(mac guest eth0)" dev eth0 nud permanent
    ip -n guest neigh replace "$CLIENT_IP" lladdr "$(mac client eth0)" dev eth0 nud permanent
    ip -n client link set eth0 gso_max_segs 1
}

# The MAC address of device "$2" in namespace "$1" ("" for dom0's).
mac() { ip ${1:+-n "$1"} -j link show "$2" | jq -r '.[0].address'; }

# A device counter "$3" of device "$2" in namespace "$1" ("" for dom0's).
count() { ${1:+ip netns exec "$1"} cat "/sys/class/net/$2/statistics/$3"; }

# Waits (up to 10 s) until the root qdisc of the vif has sent everything.
drain() {
    local i
    for i in $(seq 100); do
        [ "$(tc -s -j qdisc show dev "$VIF" root | jq '.[0].qlen')" = 0 ] && return 0
        sleep 0.1
    done
    say "FAIL: queue not drained in 10 s"
    FAILED=1
}

# Checks the drop accounting of the vif's root smooth (created for the
# case, after quiet_path): "$1" the case, "$2" the xstats counter the case
# drives (must not be 0; "" for none), "$3" packets offered, "$4" packets
# delivered (device counters). The qdisc's drops must equal its per-reason
# counters summed and offered - delivered, it must have sent what was
# delivered, and its backlog must be empty.
expect_accounted() {
    local what=$1 reason=$2 offered=$3 delivered=$4 j
    j=$(tc -s -j qdisc show dev "$VIF" root)
    say "$what: offered $offered, delivered $delivered; qdisc $(printf '%s' "$j" | jq -r '.[0] |
        "sent \(.packets), drops \(.drops), backlog \(.qlen) packets \(.backlog) bytes;
        limit \(.xstats.drops_limit), bytes \(.xstats.drops_bytes), ceiling \(.xstats.drops_ceiling),
        gso \(.xstats.drops_gso)"' | tr -s ' \n' ' ')"
    local drops reasons
    drops=$(printf '%s' "$j" | jq '.[0].drops')
    reasons=$(printf '%s' "$j" | jq '.[0].xstats | .drops_limit + .drops_bytes + .drops_ceiling + .drops_gso')
    [ -z "$reason" ] || expect_le 1 "$(printf '%s' "$j" | jq ".[0].xstats.$reason")" "$what: $reason (the path ran)"
    expect_eq "$reasons" "$drops" "$what: per-reason drops summed vs the qdisc's drops"
    expect_eq "$((offered - delivered))" "$drops" "$what: offered - delivered vs the qdisc's drops"
    expect_eq "$(printf '%s' "$j" | jq '.[0].packets')" "$delivered" "$what: packets the qdisc sent vs delivered"
    expect_eq "$(printf '%s' "$j" | jq '"\(.[0].qlen) \(.[0].backlog)"' -r)" "0 0" "$what: backlog (packets bytes)"
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
