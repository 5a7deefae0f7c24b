#!/bin/bash
# The boot at every patch of the series (`cargo xtask xen --check-series`):
# that patch's debug hypervisor, with the tools of the last patch that
# changed them (or the domctl ABI they are built against), stock before the
# first. The toolstack drives the hypervisor; a CPU hog and a guest that
# blocks share dom0's pCPU, both run, and the guest answers ping beside the
# hog; where xl knows the real-time modes, it answers as an aperiodic
# real-time domain too and is put back; everything is destroyed cleanly.
# (The harness fails the boot on any hypervisor assertion, BUG or WARN.)
set -u
. /smooth/tests/lib.sh
IP=10.0.0.2

# cpu_seconds DOMAIN: the Time(s) column of `xl list`.
cpu_seconds() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $6 }'; }

# answers LABEL: 20 pings at 100 ms, at least 18 replies.
answers() {
    local n
    n=$(ping -c 20 -i 0.1 -W 2 "$IP" 2>&1 | grep -c 'bytes from')
    echo "  $1: $n/20 replies"
    [ "$n" -ge 18 ]
}

if xl info > /tmp/xl-info 2>&1; then
    pass "xl info: the toolstack drives the hypervisor"
else
    sed 's/^/  | /' /tmp/xl-info | head -5
    fail "xl info: the toolstack drives the hypervisor"
fi

cfg hog hog
net_cfg target idle "$IP"
if create hog && create target; then pass "a hog and a guest are created"; else fail "a hog and a guest are created"; fi
wait_ping "$IP" && pass "the guest answers ping" || fail "the guest answers ping"

t0=$(cpu_seconds hog)
answers "credit, beside the hog" && pass "credit: the guest answers ping beside the hog" ||
    fail "credit: the guest answers ping beside the hog"
t1=$(cpu_seconds hog)
echo "  hog: ${t0:-?} s -> ${t1:-?} s of CPU"
awk -v a="${t0:-0}" -v b="${t1:-0}" 'BEGIN { exit !(b - a >= 0.5) }' &&
    pass "the hog runs beside the guest" || fail "the hog runs beside the guest"

if xl help sched-credit 2>&1 | grep -q -- '--rtmode'; then
    if xl sched-credit -d target -M aperiodic -e 5000; then
        answers "aperiodic, D = 5 ms" && pass "aperiodic real-time: the guest answers ping beside the hog" ||
            fail "aperiodic real-time: the guest answers ping beside the hog"
        xl sched-credit -d target -M none && pass "the guest is put back to plain credit" ||
            fail "the guest is put back to plain credit"
    else
        fail "xl sched-credit -M aperiodic -e 5000 is taken"
    fi
else
    echo "  xl has no real-time modes at this patch"
fi

xl destroy hog; xl destroy target
left=$(xl list | awk 'NR > 1 && $1 != "Domain-0"' | wc -l)
[ "$left" -eq 0 ] && pass "every guest destroyed" || fail "every guest destroyed ($left left)"
finish
