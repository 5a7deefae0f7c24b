#!/bin/bash
# smooth's Xen scheduler safety tests, run by dom0's /init in QEMU on one
# pCPU (the Xen stage of `cargo xtask test`, or `cargo xtask xen --test`):
# real-time budgets and admission control.
#
#  - Admission: the real-time utilisation admitted in a cpupool (per vCPU
#    budget/period, or budget/deadline for aperiodic) never exceeds the
#    bound Xen reports (50 % of each pCPU by default); a set beyond it is
#    refused by xl naming the bound, by the hypervisor with ENOSPC, and at
#    xl create; destroying a real-time domain or making it plain credit
#    gives its utilisation back, a destroyed one at once even while a page
#    of it is still mapped (a zombie), and its driver slot with it.
#  - Budgets: two real-time guests admitted up to the bound beside three
#    CPU hogs, first CPU-bound aperiodic guests with a 500 us deadline
#    (which, without budgets, alternated forever and starved every hog),
#    then guests that spin 200 us and sleep 3 ms over and over: over 10 s
#    every hog gets at least its weighted share of the CPU the real-time
#    bound leaves, within 2 % of the window.
#  - Driver domain: dom0 made the pool's driver domain (2 ms per 10 ms)
#    and spinning beside three hogs: over 10 s every hog gets at least its
#    weighted share (dom0 weighted like a guest) of what the driver budget
#    leaves, within 2 % (an unbounded driver priority would leave them
#    nothing); a second driver domain in the pool is refused.
#  - Timer: the pCPU's EDF timer is one-shot, set for the EDF head's
#    deadline: over each window it fires at most once per job queued (a
#    polling check would fire every 0.5 ms while a job waits); with the
#    waking guests alone, jobs are queued and the same holds.
#
# Each result is one line `SMOOTH-XEN-TEST: PASS|FAIL <name>`.
set -u
. /smooth/tests/lib.sh

accepted() { # TEST COMMAND…: must succeed
    local name=$1 out rc
    shift
    out=$("$@" 2>&1); rc=$?
    [ $rc -eq 0 ] || echo "$out" | grep -v '^$' | head -3 | sed 's/^/  | /'
    if [ $rc -eq 0 ]; then pass "$name"; else fail "$name (rc $rc)"; fi
}

# shares [--dom0-competes] LABEL UTIL RT… -- HOG…: samples every guest's
# and dom0's CPU time over 10 s and asserts that each hog got at least its
# weighted share of what the real-time bound leaves: weight / (sum of the
# guests' weights) x (window - dom0's time - UTIL x window), less 2 % of the
# window.  UTIL is the admitted real-time utilisation (a fraction of the
# pCPU).  With --dom0-competes dom0 is one of the weighted domains (a busy
# dom0) instead of having its time taken off the top.
#
# Why 2 %: credit settles its shares every 30 ms accounting period and
# slice, so over 10 s its own granularity is a few slices (a few tenths of
# a percent each); 2 % = 200 ms, about 7 slices, leaves room for TCG's
# uneven timekeeping without hiding a starved hog (whose share would be
# near zero against a bar near 8 %).
shares() {
    local competes=0 names=() hogs=() ids="0" d s0 s1 w
    [ "$1" = --dom0-competes ] && { competes=1; shift; }
    local label=$1 util=$2
    shift 2
    while [ "$1" != -- ]; do names+=("$1"); shift; done
    shift
    hogs=("$@")
    names+=("${hogs[@]}")
    for d in "${names[@]}"; do ids="$ids $(xl domid "$d")"; done
    w=$(weight 0)
    for d in "${names[@]}"; do w="$w $(weight "$d")"; done
    s0=$(/smooth/rtcheck --cputime $ids)
    sleep 10
    s1=$(/smooth/rtcheck --cputime $ids)
    echo "$s0" > "/tmp/shares.$label"
    echo "$s1" >> "/tmp/shares.$label"
    awk -v label="$label" -v util="$util" -v names="${names[*]}" -v w="$w" \
        -v nhogs="${#hogs[@]}" -v competes="$competes" '
        NR == 1 { for (i = 1; i <= NF; i++) a[i] = $i }
        NR == 2 { for (i = 1; i <= NF; i++) b[i] = $i }
        END {
            n = split(names, nm, " "); split(w, w0, " ")
            for (i = 1; i <= n; i++) wt[i] = w0[i + 1]
            win = b[1] - a[1]; dom0 = b[2] - a[2]; sumw = competes ? w0[1] : 0
            for (i = 1; i <= n; i++) sumw += wt[i]
            left = win - (competes ? 0 : dom0) - util * win
            printf "SMOOTH-XEN-SHARES %s: window %.2f s, dom0 %.1f %%, real-time bound %.0f %%", label, win / 1e9, 100 * dom0 / win, 100 * util
            for (i = 1; i <= n; i++) printf ", %s %.1f %%", nm[i], 100 * (b[i + 2] - a[i + 2]) / win
            printf "\n"
            ok = win > 5e9
            for (i = n - nhogs + 1; i <= n; i++) {
                got = b[i + 2] - a[i + 2]; bar = wt[i] / sumw * left - 0.02 * win
                printf "  %s: %.1f %% of the window, bar %.1f %%\n", nm[i], 100 * got / win, 100 * bar / win
                if (got < bar) ok = 0
            }
            exit !ok
        }' "/tmp/shares.$label"
}

# "fires inserts" of pCPU 0's EDF timer, from the 'r' dump.
edf_counters() {
    xl debug-keys r
    sleep 1     # the dump is written after the key returns
    xl dmesg | grep 'CPU\[00\].*edf_timer=' | tail -n 1 |
        sed -n 's/.* edf_timer=\([0-9]*\) edf_insert=\([0-9]*\).*/\1 \2/p'
}

# timer LABEL "fires inserts" "fires inserts" [jobs]: over a window the
# timer fired at most once per job queued; with "jobs", jobs were queued too.
timer_ok() {
    local label=$1 need=${4:-}
    echo "$2 $3" | awk -v label="$label" -v need="$need" '{
        f = $3 - $1; n = $4 - $2
        printf "SMOOTH-XEN-EDF-TIMER %s: %d timer expiries, %d jobs queued\n", label, f, n
        exit !(NF == 4 && f <= n && (n > 0 || need != "jobs"))
    }'
}

section "boot"
if xl info | grep -q '^xen_scheduler *: credit$' && xl dmesg | grep -q 'debug=y'; then
    pass "boot: patched debug=y Xen, credit scheduler, PV dom0 toolstack up"
else
    xl info | grep -E 'xen_scheduler|xen_version'
    fail "boot: patched debug=y Xen, credit scheduler, PV dom0 toolstack up"
fi
/smooth/rtcheck --info 0 | sed 's/^/  dom0: /'
bound=$(/smooth/rtcheck --info 0 | sed -n 's/.* bound \([0-9]*\) .*/\1/p')
echo "  admission bound: ${bound:-?} ppm per pCPU"
[ "$bound" = 500000 ] && pass "Xen reports the default admission bound, 50 % per pCPU" ||
    fail "Xen reports the default admission bound, 50 % per pCPU (got '${bound:-}')"
check "dom0 weighted $DRIVING_WEIGHT while it drives the tests" dom0_weight "$DRIVING_WEIGHT"

section "two CPU-bound aperiodic guests (deadline 500 us, budget 125 us: 25 % each) and three hogs"
cfg rt1 hog 'rtmode="aperiodic"' 'deadline=500' 'rtbudget=125'
cfg rt2 hog
for i in 1 2 3; do cfg "hog$i" hog; done
# Each held once booted: the next boots alone, and the checks up to the
# first measurement are dom0's xl calls, which need no guest running.
all=1
for d in rt1 rt2 hog1 hog2 hog3; do create "$d" && hold "$d" || all=0; done
check "xl create: two real-time candidates and three hogs" [ $all = 1 ]
expect_params "xl.cfg rtmode=aperiodic deadline=500 rtbudget=125 reads back" rt1 "aperiodic 500 0 0 125"
accepted "xl sched-credit -M aperiodic -e 500 -b 125 admitted up to the bound (50 %)" \
    xl sched-credit -d rt2 -M aperiodic -e 500 -b 125
expect_params "rt2 reads back aperiodic 500/125" rt2 "aperiodic 500 0 0 125"

section "admission beyond the bound"
refused "xl: a third real-time domain beyond the pool's bound is refused, naming it" \
    "admission refused.*the bound is 50.0% per pCPU" xl sched-credit -d hog1 -M aperiodic -e 500 -b 100
refused "xl: one vCPU above the bound is refused, naming it" \
    "one vCPU would take 60.0% of a pCPU.*the bound is 50.0% per pCPU" xl sched-credit -d hog1 -M aperiodic -e 1000 -b 600
refused "xl: a deadline of 500 us with the default budget (500 us: 100 %) is refused" \
    "admission refused" xl sched-credit -d hog1 -M aperiodic -e 500
refused "xl: a budget below 100 us is refused" "budget out of range" xl sched-credit -d hog1 -M aperiodic -e 2000 -b 50
refused "xl: a budget above the deadline is refused" "budget out of range" xl sched-credit -d hog1 -M periodic -e 2000 -P 10000 -b 3000
refused "xl: a budget without a mode is refused" "needs rtmode" xl sched-credit -d hog1 -b 200
refused "xl: a non-numeric budget is refused" "Invalid budget" xl sched-credit -d hog1 -b 1ms
refused "xl: a budget of 0 is refused, not made the default" "budget 0 out of range" \
    xl sched-credit -d hog1 -M aperiodic -e 2000 -b 0
expect_params "refused sets left hog1 plain credit" hog1 "none 0 0 0 0"
if /smooth/rtcheck --admission "$(xl domid hog1)"; then
    pass "hypervisor refuses sets beyond the bound with ENOSPC (raw domctl), domain unchanged"
else
    fail "hypervisor refuses sets beyond the bound with ENOSPC (raw domctl), domain unchanged"
fi
if /smooth/rtcheck "$(xl domid hog1)"; then
    pass "hypervisor refuses each invalid set (budgets included) with EINVAL, domain unchanged"
else
    fail "hypervisor refuses each invalid set (budgets included) with EINVAL, domain unchanged"
fi
n=$(xl dmesg | grep -c 'real-time admission refused')
xl dmesg | grep 'real-time admission refused' | head -2 | sed 's/^/  /'
check "hypervisor logs its admission refusals ($n in xl dmesg)" [ "$n" -ge 2 ]
cfg bad hog 'rtmode="periodic"' 'deadline=1000' 'rtperiod=2000' 'rtbudget=500'
refused "xl create of a guest beyond the bound is refused" "admission refused" xl create /tmp/bad.cfg
if xl list bad > /dev/null 2>&1; then fail "a refused create leaves no domain"; xl destroy bad; else pass "a refused create leaves no domain"; fi
# An int's worth: 4294967796 would wrap to 500, and "-1" (a negative
# number only parses quoted) read as "not given".
cfg wrap hog 'rtmode="aperiodic"' 'deadline=4294967796' 'rtbudget=125'
refused "xl.cfg: a deadline beyond an int is refused, not wrapped" "deadline: expected a whole number from 0 to 2147483647" \
    xl create /tmp/wrap.cfg
cfg unset hog 'rtmode="aperiodic"' 'deadline=2000' 'rtbudget="-1"'
refused "xl.cfg: a negative budget is refused, not read as unset" "rtbudget: expected a whole number from 0 to 2147483647" \
    xl create /tmp/unset.cfg
for d in wrap unset; do
    if xl list "$d" > /dev/null 2>&1; then fail "xl.cfg $d: no domain left"; xl destroy "$d"; else pass "xl.cfg $d: no domain left"; fi
done

section "CPU-bound real-time guests at the bound: the hogs' share"
release rt1 rt2 hog1 hog2 hog3
c0=$(edf_counters)
check "10 s, two CPU-bound aperiodic guests (D 500 us) at the bound: each hog gets its weighted share of the rest (2 %)" \
    shares cpu-bound 0.5 rt1 rt2 -- hog1 hog2 hog3
c1=$(edf_counters)
check "EDF timer: at most one expiry per job queued (CPU-bound guests: jobs queued, one a deadline while runnable)" \
    timer_ok cpu-bound "$c0" "$c1" jobs
xl debug-keys r
xl dmesg | grep -E ' rt=' | tail -n 2 | sed 's/^/  /'

section "utilisation given back"
xl sched-credit -d rt2 -M none
expect_params "rt2 made plain credit" rt2 "none 0 0 0 0"
accepted "its 25 % is admitted to another domain" xl sched-credit -d hog1 -M periodic -e 1000 -P 4000 -b 1000
expect_params "hog1 reads back periodic 1000/4000/1000" hog1 "periodic 1000 4000 0 1000"

section "a dying domain's claim given back at once"
# rt1, made the driver domain, is destroyed while dom0 still maps one of its
# pages, as a backend that has not let go would: it stays, dying, until the
# mapping goes. Its driver slot and its utilisation must be free at once,
# not only when its scheduler data is finally freed.
accepted "rt1 made the driver domain (2 ms per 10 ms: 20 %)" xl sched-credit -d rt1 -M driver -P 10000 -b 2000
id=$(xl domid rt1)
ring=$(xenstore-read "/local/domain/$id/console/ring-ref")
# The mapping lasts until rtcheck's stdin (the coprocess's pipe) closes.
coproc HOLDER { /smooth/rtcheck --hold "$id" "$ring" 2>&1; }
holder=$HOLDER_PID
read -r -t 60 line <&"${HOLDER[0]}"
echo "  rtcheck --hold d$id frame $ring: ${line:-no answer}"
xl destroy rt1
check "rt1 destroyed while dom0 maps a page of it: dying, not yet freed" [ "$(/smooth/rtcheck --state "$id")" = dying ]
accepted "the dying driver domain's slot is given to dom0 at once" xl sched-credit -d 0 -M driver -P 10000 -b 2000
xl sched-credit -d 0 -M none
accepted "the dying real-time domain's 20 % is admitted to another at once (25 % beside hog1's 25 %)" \
    xl sched-credit -d rt2 -M aperiodic -e 500 -b 125
exec {HOLDER[1]}>&-
wait "$holder"
for i in $(seq 20); do [ "$(/smooth/rtcheck --state "$id")" = gone ] && break; sleep 0.5; done
check "rt1 is freed once the mapping goes" [ "$(/smooth/rtcheck --state "$id")" = gone ]
xl sched-credit -d hog1 -M none
# rt2's 25 % admitted: room for the default budget's 10 %.
if /smooth/rtcheck --default-budget "$(xl domid hog1)"; then
    pass "hypervisor gives a mode set with budget 0 (older tools) the default budget, and takes it back"
else
    fail "hypervisor gives a mode set with budget 0 (older tools) the default budget, and takes it back"
fi
expect_params "hog1 is plain credit again" hog1 "none 0 0 0 0"
xl destroy rt2

section "waking real-time guests (deadline 5 ms, budget 1.25 ms: 25 % each) and three hogs"
cfg wk1 waker 'rtmode="aperiodic"' 'deadline=5000' 'rtbudget=1250'
cfg wk2 waker 'rtmode="aperiodic"' 'deadline=5000' 'rtbudget=1250'
all=1
hold hog1 hog2 hog3
for d in wk1 wk2; do create "$d" || all=0; done
release hog1 hog2 hog3
check "xl create: two waking aperiodic guests at the bound" [ $all = 1 ]
c0=$(edf_counters)
check "10 s, two waking aperiodic guests at the bound: each hog gets its weighted share of the rest (2 %)" \
    shares waking 0.5 wk1 wk2 -- hog1 hog2 hog3
c1=$(edf_counters)
check "EDF timer: at most one expiry per job queued (waking guests beside three hogs)" timer_ok waking "$c0" "$c1"
xl debug-keys r
xl dmesg | grep -E ' rt=' | tail -n 2 | sed 's/^/  /'

# Beside five other busy vCPUs a guest's own 1 kHz tick keeps it runnable
# under QEMU's emulation, so the wakers rarely block above; alone (the hogs
# paused) they block at every sleep and each wake-up releases a job.
section "the EDF timer with jobs: the two waking guests alone (hogs paused)"
for d in hog1 hog2 hog3; do xl pause "$d"; done
c0=$(edf_counters); s0=$(job_stats --last 0)
sleep 10
c1=$(edf_counters); s1=$(job_stats --last 0)
check "EDF timer: jobs queued, at most one expiry per job (waking guests alone, D 5 ms)" \
    timer_ok waking-alone "$c0" "$c1" jobs
check "jobs start by their deadline, 10 ms of slack (waking guests alone, D 5 ms)" \
    deadlines_met waking-alone "$s0" "$s1"
for d in hog1 hog2 hog3; do xl unpause "$d"; done

for d in wk1 wk2; do xl destroy "$d" || echo "  xl destroy $d failed"; done
sleep 2

section "a busy driver domain: dom0 (2 ms per 10 ms: 20 %) spinning beside three hogs"
check "dom0 back at credit's default weight, 256: here it competes by weight" dom0_weight 256
accepted "xl sched-credit -d 0 -M driver -P 10000 -b 2000: dom0 made the driver domain" \
    xl sched-credit -d 0 -M driver -P 10000 -b 2000
expect_params "dom0 reads back driver 0 10000 0 2000" 0 "driver 0 10000 0 2000"
refused "a second driver domain in the cpupool is refused" "already has a driver domain" \
    xl sched-credit -d hog1 -M driver -P 10000 -b 1000
expect_params "the refused set left hog1 plain credit" hog1 "none 0 0 0 0"
n=$(xl dmesg | grep -c 'driver domain refused')
check "hypervisor logs the refused driver domain ($n in xl dmesg)" [ "$n" -ge 1 ]
( while :; do :; done ) &
spin=$!
check "10 s, dom0 spinning as the driver domain: each hog gets its weighted share of what the driver budget leaves (2 %)" \
    shares --dom0-competes busy-driver 0.2 -- hog1 hog2 hog3
kill "$spin"
wait "$spin" 2>/dev/null
xl sched-credit -d 0 -M none
expect_params "dom0 made plain credit again" 0 "none 0 0 0 0"
check "dom0 weighted $DRIVING_WEIGHT again to destroy the spinning hogs" dom0_weight "$DRIVING_WEIGHT"

section "destroy"
for d in hog1 hog2 hog3; do xl destroy "$d" || echo "  xl destroy $d failed"; done
sleep 2
left=$(xl list | awk 'NR > 1 { print $1 }' | tr '\n' ' ')
[ "$left" = "Domain-0 " ] && pass "every guest destroyed cleanly" || { echo "  left: $left"; fail "every guest destroyed cleanly"; }
pool=$(/smooth/rtcheck --info 0 | sed -n 's/.* pool \([0-9]*\) .*/\1/p')
check "with every real-time domain gone the pool's admitted utilisation is 0 (got ${pool:-?})" [ "$pool" = 0 ]
if xl dmesg | grep -E "Assertion '|Xen BUG at|FATAL TRAP|Xen WARN at"; then
    fail "xl dmesg: no assertion or BUG"
else
    pass "xl dmesg: no assertion or BUG"
fi
finish
