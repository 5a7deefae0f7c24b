#!/bin/bash
# The kernel's own checks on TCA_OPTIONS, reached with hand-built netlink
# messages (smooth-nl send) because tc and tc-smooth refuse bad values before
# sending them: every out-of-range value, unknown and duplicate attributes,
# wrong sizes and a truncated stream are refused with an extack message
# naming the attribute or the problem; TCA_OPTIONS is accepted with and without NLA_F_NESTED; a refused
# change leaves the qdisc as it was.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up

nl() { smooth-nl send "$VIF" "$@"; }
RATE=1:u64:250000

# TCA_OPTIONS as stock tc sends it (no NLA_F_NESTED) and as libmnl/rtnetlink
# users send it (nested): the same qdisc either way.
for form in --flat ""; do
    expect_eq "$(nl add $form $RATE 2:u64:3000000)" ok "add with TCA_OPTIONS ${form:-nested}"
    expect_eq "$(opt "$VIF" rate),$(opt "$VIF" window)" 250000,3000000 "options in force (${form:-nested})"
    tc qdisc del dev "$VIF" root
done
expect_eq "$(nl add $RATE 7:hex:)" ok "TCA_SMOOTH_PAD (7) is ignored"
tc qdisc del dev "$VIF" root
# Attribute 3 is TCA_SMOOTH_BURST (u64 ns), dumped back as it was given.
expect_eq "$(nl add $RATE 3:u64:30000000)" ok "add with TCA_SMOOTH_BURST"
expect_eq "$(opt "$VIF" burst)" 30000000 "burst in force (ns)"
tc qdisc del dev "$VIF" root

# The stream itself.
expect_error "unknown type" "smooth: unknown attribute type 8 (attribute type 8)" nl add $RATE 8:u32:1
# The PID controller's attributes are gone; 11 was the old TCA_SMOOTH_BURST.
expect_error "former burst number" "smooth: unknown attribute type 11 (attribute type 11)" nl add $RATE 11:u64:20000000
expect_error "TCA_SMOOTH_UNSPEC" "smooth: unknown attribute type 0 (attribute type 0)" nl add 0:u32:0 $RATE
expect_error "u32 rate" "smooth: TCA_SMOOTH_RATE has 4 bytes, expected 8 (attribute type 1)" nl add 1:u32:250000
expect_error "u64 limit" "smooth: TCA_SMOOTH_LIMIT has 8 bytes, expected 4 (attribute type 5)" nl add $RATE 5:u64:100
expect_error "u32 burst" "smooth: TCA_SMOOTH_BURST has 4 bytes, expected 8 (attribute type 3)" nl add $RATE 3:u32:20000000
expect_error "duplicate" "smooth: TCA_SMOOTH_WINDOW given twice (attribute type 2)" \
    nl add $RATE 2:u64:3000000 2:u64:4000000
# nla_len 12 with only 8 bytes left.
expect_error "truncated stream" "smooth: malformed attributes (attribute type 1)" nl add --raw-options 0c000100e8030000
expect_error "no rate" "smooth: rate is required" nl add 2:u64:3000000
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" noqueue "nothing created by refused adds"

# Every range, checked by the kernel itself (bounds from smooth-core's
# Config); the extack offset points at the attribute with the bad value.
while IFS='|' read -r what attr want; do
    expect_error "kernel: $what" "smooth: $want (attribute type ${attr%%:*})" \
        nl add $attr $( [ "${attr%%:*}" = 1 ] || echo $RATE )
done <<'EOF'
rate too low|1:u64:999|rate 999 out of range 1000..=12500000000 bytes/s
rate too high|1:u64:12500000001|rate 12500000001 out of range 1000..=12500000000 bytes/s
window beyond max_delay|2:u64:200000001|window 200000001 out of range 0..=200000000 ns
window above 1 s|2:u64:1000000001 4:u64:10000000000|window 1000000001 out of range 0..=1000000000 ns
burst too long|3:u64:10000000001|burst 10000000001 out of range 0..=10000000000 ns
max_delay too short|4:u64:999999|max_delay 999999 out of range 1000000..=10000000000 ns
max_delay too long|4:u64:10000000001|max_delay 10000000001 out of range 1000000..=10000000000 ns
limit zero|5:u32:0|limit 0 out of range 1..=65536 packets
limit too high|5:u32:65537|limit 65537 out of range 1..=65536 packets
EOF
# A window out of range for max_delay: the offset on the window if the
# request carries it, else on the max_delay below the default window.
expect_error "kernel: default window beyond max_delay" \
    "smooth: window 3000000 out of range 0..=2000000 ns (attribute type 4)" nl add $RATE 4:u64:2000000
expect_error "kernel: window beyond a given max_delay" \
    "smooth: window 60000000 out of range 0..=50000000 ns (attribute type 2)" \
    nl add $RATE 2:u64:60000000 4:u64:50000000
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" noqueue "nothing created by out-of-range adds"

# The bucket depth is bounded by its own range only, not by max_delay.
expect_eq "$(nl add $RATE 3:u64:10000000000 4:u64:100000000)" ok "burst 10 s with max_delay 100 ms"
expect_eq "$(opt "$VIF" burst),$(opt "$VIF" max_delay)" 10000000000,100000000 "burst beyond max_delay in force"
tc qdisc del dev "$VIF" root

# A refused change is all or nothing: the window given beside the bad
# attribute is not applied either.
expect_eq "$(nl add $RATE 2:u64:3000000)" ok "add for change tests"
expect_error "change with unknown" "smooth: unknown attribute type 9" nl change 2:u64:5000000 9:u32:1
expect_error "change with bad burst" "smooth: burst 10000000001 out of range" nl change 2:u64:5000000 3:u64:10000000001
# The window in force is out of range for a new max_delay: extack names
# the window and points at the max_delay that moved its bound.
out=$(nl change 4:u64:2000000 2>&1) && { say "FAIL: max_delay below the window accepted"; FAILED=1; }
expect_eq "$out" "error EINVAL: smooth: window 3000000 out of range 0..=2000000 ns (attribute type 4)" "change of max_delay below the window in force"
expect_eq "$(opt "$VIF" window),$(opt "$VIF" burst)" 3000000,50000000 "options unchanged after refused changes"
expect_eq "$(nl change --flat 2:u64:5000000)" ok "change, flat"
expect_eq "$(opt "$VIF" window),$(opt "$VIF" rate)" 5000000,250000 "change applied, rate kept"
# The kernel turns a replace by a qdisc of the same kind into ->change().
expect_eq "$(nl replace 1:u64:500000)" ok "replace"
expect_eq "$(opt "$VIF" rate),$(opt "$VIF" window)" 500000,5000000 "replace by the same kind changes in place"
tc qdisc del dev "$VIF" root

rmmod sch_smooth && say "ok: module unloaded after use" || { say "FAIL: rmmod"; FAILED=1; }
finish
