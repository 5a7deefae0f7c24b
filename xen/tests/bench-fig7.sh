#!/bin/bash
# Issue 15's Fig 7 in Xen under QEMU (`cargo xtask bench-xen`), one boot per
# hypervisor and scheduler: dom0, the measuring side, alone on pCPU 0
# (dom0_max_vcpus=1 dom0_vcpus_pin) and never a driver domain, pings a guest
# on pCPU 1 every 100 ms while 1, 3 or 5 CPU hogs share that pCPU with it.
# Two target guests, one measured at a time (the other paused): `blocked`
# idles between pings (every ping wakes it), `busy` spins in a loop and
# answers ping from its kernel (the issue's "CPU-bound guest").
#
# The kernel command line says what to run:
#   smooth_hv=stock|patched   whose tools these are (checked, below)
#   smooth_configs=C[:C…]     credit | credit2 | rtds | apD (patched
#                             aperiodic real-time, deadline D ms)
#   smooth_hogs=N[:N…]  smooth_pings=COUNT
#   smooth_apbudget=US        the aperiodic guest's budget per job
# Results: `SMOOTH-XEN-BENCH <json>` lines, each measurement's round-trip
# times in chunks (`"part"`) then its summary (`"kind":"run"`); checks as
# `SMOOTH-XEN-TEST: PASS|FAIL …` (lib.sh).
set -u
. /smooth/tests/lib.sh
arg() { sed -n "s/.*smooth_$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
HV=$(arg hv)
CONFIGS=$(arg configs | tr : ' ')
HOGS=$(arg hogs | tr : ' ')
PINGS=$(arg pings)
SCHED=$(xl info | awk '$1 == "xen_scheduler" { print $3 }')
TEST_PREFIX="bench-fig7 ($HV $SCHED): "
BLOCKED_IP=10.0.0.2
BUSY_IP=10.0.0.3
AP_BUDGET=$(arg apbudget)
# RTDS (stated in the results): the target 1 ms every 5 ms, each hog 1 ms
# every 10 ms, dom0 4 ms every 10 ms, all with extratime (work-conserving).
RTDS_TARGET="-p 5000 -b 1000 -e 1"
RTDS_HOG="-p 10000 -b 1000 -e 1"
RTDS_DOM0="-p 10000 -b 4000 -e 1"

bench() { echo "SMOOTH-XEN-BENCH {\"hv\":\"$HV\",\"sched\":\"$SCHED\",$1}"; }

section "bench-fig7: $HV hypervisor, scheduler $SCHED, configs '$CONFIGS', hogs '$HOGS', $PINGS pings"
xl info | grep -E '^(xen_version|xen_scheduler|nr_cpus|xen_commandline)'

# What this boot is, checked: stock tools drive the hypervisor only if it
# is stock too (the series' domctl interface version is 0x80000015, stock
# 4.17's 0x15: a mismatch fails every domctl with EACCES), and the stock
# xl has none of the series' options.
if xl list 0 > /dev/null 2>&1; then pass "the toolstack drives the hypervisor (domctl interface versions agree)"; else fail "the toolstack drives the hypervisor (domctl interface versions agree)"; fi
if xl help sched-credit 2>&1 | grep -q -- '--rtmode'; then tools=patched; else tools=stock; fi
if [ "$tools" = "$HV" ]; then pass "xl is the $HV one (sched-credit --rtmode: $tools)"; else fail "xl is the $HV one (its sched-credit looks $tools)"; fi
if [ "$SCHED" = credit ]; then
    cols=$(xl sched-credit -d 0 | head -n 1)
    echo "  xl sched-credit: $cols"
    if [ "$HV" = stock ]; then
        case $cols in *RTmode*) fail "stock: xl sched-credit has no real-time columns" ;; *) pass "stock: xl sched-credit has no real-time columns" ;; esac
    else
        [ "$(params 0)" = "none 0 0 0 0" ] && pass "patched: dom0 is plain credit (not the driver domain)" ||
            fail "patched: dom0 is plain credit (not the driver domain), got '$(params 0)'"
    fi
fi

# The guests, all on pCPU 1.
net_cfg tblocked idle "$BLOCKED_IP" 'cpus="1"'
net_cfg tbusy hog "$BUSY_IP" 'cpus="1"'
for i in 1 2 3 4 5; do cfg "hog$i" hog 'cpus="1"'; done
ok=1
# Each spinning guest held once booted: the next one boots alone.
create tblocked || ok=0
for d in tbusy hog1 hog2 hog3 hog4 hog5; do create "$d" && hold "$d" || ok=0; done
[ $ok = 1 ] && pass "the targets and five hogs are created" || fail "the targets and five hogs are created"
release tbusy
for ip in $BLOCKED_IP $BUSY_IP; do
    wait_ping "$ip" && pass "target $ip answers ping" || fail "target $ip answers ping"
done
hold tbusy
xl vcpu-list | sed 's/^/  /'

# rtds_is DOMAIN "PERIOD BUDGET EXTRATIME": its vCPU's parameters read back.
rtds_is() { [ "$(xl sched-rtds -d "$1" -v all | awk 'NR == 2 { print $4, $5, $6 }')" = "$2" ]; }
if [ "$SCHED" = rtds ]; then
    xl sched-rtds -d 0 -v all $RTDS_DOM0
    for d in tblocked tbusy; do xl sched-rtds -d "$d" -v all $RTDS_TARGET; done
    for i in 1 2 3 4 5; do xl sched-rtds -d "hog$i" -v all $RTDS_HOG; done
    xl sched-rtds -v all | sed 's/^/  /'
    ok=1
    rtds_is 0 "10000 4000 yes" || ok=0
    for d in tblocked tbusy; do rtds_is "$d" "5000 1000 yes" || ok=0; done
    for i in 1 2 3 4 5; do rtds_is "hog$i" "10000 1000 yes" || ok=0; done
    [ $ok = 1 ] && pass "RTDS parameters set and read back" || fail "RTDS parameters set and read back"
fi

# EDF dispatches of domain $1 so far (patched: the 'r' dump), or empty.
edf_disp() {
    [ "$HV" = patched ] && [ "$SCHED" = credit ] || return 0
    xl debug-keys r
    xl dmesg | grep " \[$1\.0\] .* rt=" | tail -n 1 | sed -n 's/.* edf_disp=\([0-9]*\).*/\1/p'
}

# vcpu_time DOMAIN: its vCPU's CPU time so far, s (xl's 0.1 s resolution:
# the only counter the stock tools have).
vcpu_time() { xl vcpu-list "$1" | awk 'NR == 2 { print $6 }'; }

# measure CONFIG GUEST HOGS: pings to the unpaused target with the first
# HOGS hogs running; the RTTs in chunks of 20, then the summary with the
# target's and dom0's CPU time and the wall time over the pings (what the
# simulator's guest and dom0 are given, see bench.rs).
measure() {
    local config=$1 guest=$2 n=$3 ip dom i got id e0 e1 edf=null c0 c1 w0 w1 cpu=null
    local d0 d1 dom0_cpu=null
    if [ "$guest" = busy ]; then ip=$BUSY_IP dom=tbusy; else ip=$BLOCKED_IP dom=tblocked; fi
    for i in 1 2 3 4 5; do
        if [ "$i" -le "$n" ]; then release "hog$i"; else hold "hog$i"; fi
    done
    sleep 2
    id=$(xl domid "$dom")
    e0=$(edf_disp "$id")
    c0=$(vcpu_time "$dom"); d0=$(vcpu_time Domain-0); w0=$(cut -d" " -f1 /proc/uptime)
    ping -c "$PINGS" -i 0.1 -W 2 "$ip" > /tmp/ping.out 2>&1
    w1=$(cut -d" " -f1 /proc/uptime); d1=$(vcpu_time Domain-0); c1=$(vcpu_time "$dom")
    e1=$(edf_disp "$id")
    [ -n "$e0" ] && [ -n "$e1" ] && edf=$((e1 - e0))
    [ -n "$c0" ] && [ -n "$c1" ] && cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", b - a }')
    [ -n "$d0" ] && [ -n "$d1" ] && dom0_cpu=$(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.1f", b - a }')
    grep -o 'time=[0-9.]*' /tmp/ping.out | cut -d= -f2 > /tmp/rtt
    got=$(wc -l < /tmp/rtt)
    local key="\"config\":\"$config\",\"guest\":\"$guest\",\"hogs\":$n"
    awk 'NR % 20 == 1 { if (s != "") print s; s = $1; next } { s = s "," $1 } END { if (s != "") print s }' /tmp/rtt |
        while read -r part; do bench "$key,\"kind\":\"part\",\"rtt_ms\":[$part]"; done
    bench "$key,\"kind\":\"run\",\"sent\":$PINGS,\"received\":$got,\"edf_dispatches\":$edf,\"cpu_s\":$cpu,\"dom0_cpu_s\":$dom0_cpu,\"wall_s\":$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')"
    echo "  $config $guest $n hogs: $got/$PINGS replies, $(sort -n /tmp/rtt | awk '{ a[NR] = $1 } END { if (NR) print "median", a[int(NR / 2) + 1], "max", a[NR], "ms" }')"
    [ "$got" -gt 0 ] && pass "$config, $guest guest, $n hogs: pings answered" ||
        fail "$config, $guest guest, $n hogs: pings answered"
}

# set_config CONFIG DOMAIN: the target's scheduling parameters.
set_config() {
    case $1 in
    ap*)
        xl sched-credit -d "$2" -M aperiodic -e $((${1#ap} * 1000)) -b "$AP_BUDGET" &&
            pass "$1: $2 admitted as aperiodic, D = ${1#ap} ms, budget $AP_BUDGET us" ||
            fail "$1: $2 admitted as aperiodic, D = ${1#ap} ms, budget $AP_BUDGET us"
        echo "  $2: $(params "$2")"
        ;;
    credit)
        [ "$HV" = patched ] && xl sched-credit -d "$2" -M none > /dev/null
        ;;
    esac
}

# The noise floor: the blocked target with no hog running.
measure floor blocked 0
for c in $CONFIGS; do
    for g in blocked busy; do
        if [ "$g" = busy ]; then hold tblocked; release tbusy; dom=tbusy; else hold tbusy; release tblocked; dom=tblocked; fi
        set_config "$c" "$dom"
        for n in $HOGS; do measure "$c" "$g" "$n"; done
        set_config credit "$dom"
    done
done

for d in tblocked tbusy hog1 hog2 hog3 hog4 hog5; do xl destroy "$d"; done
[ -z "$(xl list | awk 'NR > 2')" ] && pass "every guest destroyed" || fail "every guest destroyed"
if xl dmesg | grep -qE "Assertion '|Xen BUG at|FATAL TRAP"; then fail "no assertion or BUG in xl dmesg"; else pass "no assertion or BUG in xl dmesg"; fi
finish
