#!/bin/bash
# smooth's Xen placement test, run by dom0's /init on two pCPUs with dom0
# pinned (dom0_max_vcpus=1 dom0_vcpus_pin) and made the driver domain: a
# real-time guest must never be placed on dom0's pCPU, while plain guests
# may be; a real-time guest paused and unpaused, moved between pCPUs by its
# affinity, or saved and restored, keeps its parameters and gets jobs
# again, started by their deadline; a real-time guest moved to another
# credit cpupool keeps its parameters, the move is admitted like a set,
# and a waking one's jobs start by their deadline there; a pCPU moved through
# many credit cpupools whose timers fire every millisecond comes back. Lines
# `SMOOTH-XEN-TEST: PASS|FAIL <name>` as in dom0-sched.sh.
set -u
TEST_PREFIX="placement: "
. /smooth/tests/lib.sh

pcpu() { xl vcpu-list "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }

[ "$(xl info | awk '/^nr_cpus/ { print $3 }')" = 2 ] && pass "two pCPUs" || fail "two pCPUs"
dom0cpu=$(pcpu 0)
echo "  dom0's vCPU is on pCPU $dom0cpu"
xl sched-credit -d 0 -M driver -P 10000 -b 2000 &&
    pass "dom0 made the pool's driver domain (2 ms per 10 ms)" || fail "dom0 made the pool's driver domain (2 ms per 10 ms)"
cfg rt hog 'rtmode="aperiodic"' 'deadline=2000'
cfg hog1 hog
cfg hog2 hog
cfg hog3 hog
ok=1
for d in rt hog1 hog2 hog3; do create "$d" || ok=0; done
[ $ok = 1 ] && pass "xl create: a real-time CPU-bound guest and three hogs" || fail "xl create: a real-time CPU-bound guest and three hogs"

# 40 samples, 0.5 s apart, while four CPU-bound guests compete for two pCPUs:
# the real-time one must stay off dom0's pCPU; count where the hogs were.
# One `xl vcpu-list` per sample: each xl call costs dom0 about a second here.
on_dom0=0 hogs_on_dom0=0 rt_seen=0
for i in $(seq 40); do
    xl vcpu-list > /tmp/vcpus 2>/dev/null
    rt_cpu=$(awk '$1 == "rt" { print $4 }' /tmp/vcpus)
    [ -n "$rt_cpu" ] && rt_seen=$((rt_seen + 1))
    [ "$rt_cpu" = "$dom0cpu" ] && on_dom0=$((on_dom0 + 1))
    hogs_on_dom0=$((hogs_on_dom0 + $(awk -v c="$dom0cpu" '$1 ~ /^hog[123]$/ && $4 == c { n++ } END { print n + 0 }' /tmp/vcpus)))
    sleep 0.5
done
echo "  samples with the real-time guest on dom0's pCPU: $on_dom0/40 (found in $rt_seen); hog samples there: $hogs_on_dom0/120"
[ "$on_dom0" = 0 ] && [ "$rt_seen" = 40 ] && pass "the real-time guest never sat on dom0's pCPU" || fail "the real-time guest never sat on dom0's pCPU"
[ "$hogs_on_dom0" -gt 0 ] && pass "plain guests do use dom0's pCPU (the rule is specific)" || fail "plain guests do use dom0's pCPU (the rule is specific)"
xl vcpu-list | sed 's/^/  /'

cputime() { /smooth/rtcheck --cputime "$(xl domid "$1")" | awk '{ print $2 }'; }
jobs_all() { # jobs queued so far on both pCPUs (the last dump's two lines)
    xl debug-keys r
    sleep 1
    xl dmesg | grep 'CPU\[0[01]\].*edf_insert=' | tail -n 2 |
        sed -n 's/.* edf_insert=\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}

# A waking real-time guest (spins 200 us, sleeps 3 ms: a job per wake-up)
# paused and unpaused, then moved onto dom0's pCPU by its affinity and let
# go again; the hogs are paused meanwhile so that it blocks at every sleep
# (see dom0-safety.sh); after each step its jobs start by their deadline.
section "pause and migration keep a real-time guest's parameters and jobs"
cfg wk waker 'rtmode="aperiodic"' 'deadline=5000' 'rtbudget=1250'
# The hogs held first: the guest boots alone, and its checks start once
# its init runs.
hold hog1 hog2 hog3
create wk || echo "  xl create wk failed"
sleep 3
want="aperiodic 5000 0 0 1250"
xl pause wk
t0=$(cputime wk); sleep 2; t1=$(cputime wk)
[ "$(params wk)" = "$want" ] && [ "$t0" = "$t1" ] && pass "a paused real-time guest keeps its parameters (and does not run)" ||
    { echo "  got '$(params wk)', cpu time $t0 -> $t1"; fail "a paused real-time guest keeps its parameters (and does not run)"; }
j0=$(jobs_all); s0=$(job_stats --last)
xl unpause wk
sleep 3
j1=$(jobs_all); s1=$(job_stats --last)
echo "  ${j0:-?} -> ${j1:-?} jobs queued (both pCPUs) over the 3 s after the unpause"
[ "$(params wk)" = "$want" ] && [ "${j1:-0}" -gt "${j0:-0}" ] && pass "unpaused, it gets jobs again with the same parameters" ||
    fail "unpaused, it gets jobs again with the same parameters"
check_deadlines() { # LABEL "before" "after"
    if deadlines_met "$@"; then pass "$1: its jobs start by their deadline (10 ms of slack)"
    else fail "$1: its jobs start by their deadline (10 ms of slack)"; fi
}
check_deadlines "unpaused" "$s0" "$s1"
# The 'r' dump runs in the caller's context, dom0's, on dom0's pCPU, and
# holds it while it prints: sampled while the guest is there, it would
# delay the very jobs it counts.  So the counters of dom0's pCPU are read
# before the guest is moved there and after it has left again.
s0=$(job_stats "$dom0cpu")
xl vcpu-pin wk 0 "$dom0cpu"
sleep 4
on=$(pcpu wk); got=$(params wk)
xl vcpu-pin wk 0 all
left=0
for i in $(seq 20); do [ "$(pcpu wk)" != "$dom0cpu" ] && { left=1; break; }; sleep 0.5; done
s1=$(job_stats "$dom0cpu")
echo "  pinned to dom0's pCPU $dom0cpu: on pCPU $on; jobs started there before and after: ${s0%% *} -> ${s1%% *}"
[ "$on" = "$dom0cpu" ] && [ "$got" = "$want" ] && [ "${s1%% *}" -gt "${s0%% *}" ] &&
    pass "moved by its affinity, it keeps its parameters and gets jobs on the new pCPU" ||
    fail "moved by its affinity, it keeps its parameters and gets jobs on the new pCPU"
check_deadlines "moved onto dom0's pCPU" "$s0" "$s1"
[ $left = 1 ] && [ "$(params wk)" = "$want" ] && pass "let go, it leaves dom0's pCPU again, parameters unchanged" ||
    fail "let go, it leaves dom0's pCPU again, parameters unchanged"

# xl save keeps the live parameters (libxl_retrieve_domain_configuration()
# reads them back), xl restore sets them again: a reserve set at run time,
# not in the guest's xl.cfg, shows that they are not just the xl.cfg's.
section "save and restore keep a real-time guest's parameters"
xl sched-credit -d wk -R 10
want="aperiodic 5000 0 10 1250"
out=$( { xl save wk /tmp/wk.save && xl restore /tmp/wk.save; } 2>&1); rc=$?
[ $rc -eq 0 ] || echo "$out" | tail -5 | sed 's/^/  | /'
check_restored() {
    local got j0 j1
    got=$(params wk)
    j0=$(jobs_all); s0=$(job_stats --last); sleep 3; j1=$(jobs_all); s1=$(job_stats --last)
    echo "  restored: '$got', ${j0:-?} -> ${j1:-?} jobs queued over 3 s"
    [ $rc -eq 0 ] && [ "$got" = "$want" ] && [ "${j1:-0}" -gt "${j0:-0}" ]
}
check_restored && pass "saved and restored, it keeps its parameters (a reserve set at run time included) and gets jobs" ||
    fail "saved and restored, it keeps its parameters (a reserve set at run time included) and gets jobs"
check_deadlines "restored" "$s0" "$s1"
rm -f /tmp/wk.save
xl destroy wk
sleep 2     # its utilisation is given back with its final release (RCU)
release hog1 hog2 hog3

section "cpupool moves keep the real-time parameters (and are admitted)"
xl sched-credit -d 0 -M none     # the pools' figures below are the guests' alone
pool_of() { xl list -c "$1" 2>/dev/null | awk 'NR == 2 { print $NF }'; }
info() { /smooth/rtcheck --info "$(xl domid "$1")"; }
other=$((1 - dom0cpu))
xl sched-credit -d rt -M aperiodic -e 2000 -b 400 -R 10
xl cpupool-cpu-remove Pool-0 "$other"
xl cpupool-create 'name="rtpool"' 'sched="credit"' "cpus=\"$other\"" 2>&1 | sed 's/^/  /'
if xl cpupool-migrate rt rtpool && [ "$(pool_of rt)" = rtpool ]; then
    pass "a real-time guest moves to another credit cpupool"
else
    fail "a real-time guest moves to another credit cpupool"
fi
got=$(params rt)
[ "$got" = "aperiodic 2000 0 10 400" ] && pass "its parameters and reserve moved with it" ||
    { echo "  got '$got'"; fail "its parameters and reserve moved with it"; }
echo "  rt: $(info rt)"
echo "  dom0 (Pool-0): $(/smooth/rtcheck --info 0)"
info rt | grep -q ' pool 200000 cpus 1$' && pass "the new pool admitted its 20 %" || fail "the new pool admitted its 20 %"
/smooth/rtcheck --info 0 | grep -q ' pool 0 cpus 1$' && pass "the old pool gave its 20 % back" || fail "the old pool gave its 20 % back"
xl sched-credit -d hog1 -M aperiodic -e 1000 -b 500
out=$(xl cpupool-migrate hog1 rtpool 2>&1); rc=$?
echo "$out" | head -3 | sed 's/^/  | /'
if [ $rc -ne 0 ] && [ "$(pool_of hog1)" = Pool-0 ] && [ "$(params hog1)" = "aperiodic 1000 0 0 500" ]; then
    pass "a move beyond the new pool's bound (20 % + 50 %) is refused; the guest stays, unchanged"
else
    fail "a move beyond the new pool's bound (20 % + 50 %) is refused; the guest stays, unchanged (rc $rc, pool $(pool_of hog1))"
fi
xl dmesg | grep -q 'real-time admission refused: moving' && pass "the hypervisor logs the refused move" || fail "the hypervisor logs the refused move"

# A waking real-time guest moved into that pool beside the CPU-bound one,
# which runs credit slices there: its jobs start by their deadline.
xl sched-credit -d hog1 -M none
cfg wk2 waker 'rtmode="aperiodic"' 'deadline=5000' 'rtbudget=1250'
create wk2 || echo "  xl create wk2 failed"
if xl cpupool-migrate wk2 rtpool && [ "$(pool_of wk2)" = rtpool ] && [ "$(params wk2)" = "aperiodic 5000 0 0 1250" ]; then
    sleep 1
    s0=$(job_stats "$other"); sleep 3; s1=$(job_stats "$other")
    check_deadlines "moved to another cpupool" "$s0" "$s1"
else
    fail "moved to another cpupool: its jobs start by their deadline (10 ms of slack) (pool $(pool_of wk2), '$(params wk2)')"
fi

for d in rt wk2 hog1 hog2 hog3; do xl destroy "$d"; done
left=$(xl list | awk 'NR > 1 { print $1 }' | tr '\n' ' ')
[ "$left" = "Domain-0 " ] && pass "every guest destroyed" || fail "every guest destroyed"
xl cpupool-destroy rtpool && xl cpupool-cpu-add Pool-0 "$other" && pass "the cpupool removed, its pCPU back in Pool-0" ||
    fail "the cpupool removed, its pCPU back in Pool-0"

# A pCPU leaving a credit pool stops that pool's timers on it, which may be
# firing right then. Moved through many pools whose 1 ms time slice runs
# their accounting every millisecond, it must come back to Pool-0; a handler
# racing the removal hangs or crashes the host, and the boot times out.
rounds=2000
section "a pCPU moved through $rounds credit cpupools with 1 ms slices"
if /smooth/rtcheck --cpupool-churn "$other" "$rounds" &&
    [ "$(xl cpupool-list -c | awk '$1 == "Pool-0" { print $2 }')" = "0,1" ]; then
    pass "a pCPU moved through $rounds cpupools with 1 ms slices, back in Pool-0"
else
    fail "a pCPU moved through $rounds cpupools with 1 ms slices, back in Pool-0"
fi
if xl dmesg | grep -E "Assertion '|Xen BUG at|FATAL TRAP|Xen WARN at"; then
    fail "xl dmesg: no assertion or BUG"
else
    pass "xl dmesg: no assertion or BUG"
fi
finish
