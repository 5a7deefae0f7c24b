#!/bin/bash
# Issue 15's Figs 6, 2 and 12, the reserve and the placement in Xen under
# QEMU (`cargo xtask bench-xen`), one boot per hypervisor: dom0, the
# measuring side, alone on pCPU 0 and plain credit (the driver domain only
# in the placement cases, which measure with the hypervisor's counters);
# the guests on pCPU 1 unless said otherwise.
#
# Fig 6: a periodic sender (`udpclock serve`: a datagram due every 10 ms;
# once awake it computes 2 ms by the clock, then sends, stamped with its
# lateness) weighted 768 against two hogs of 256 (60 % of the pCPU), dom0
# timestamping the datagrams. Stock credit, or periodic real-time with
# period 10 ms, deadline D and budget min(D, 4 ms). Under TCG every wake-up
# costs the guest CPU well beyond its work (its kernel, a 1 kHz tick and
# the send, emulated): 2 ms of work keeps it inside its 60 %, and a 4 ms
# budget covers work and overhead (at D = 3 ms the budget is 3 ms).
#
# Fig 2: the sender alone (the hogs paused), 1 ms of CPU per datagram, its
# wake-ups forced onto a grid of G ms (as if its vCPU were provisioned only
# every G ms), and without.
#
# Fig 12 (patched only: the CPU times come from rtcheck, built against the
# series' libxc): five equal hogs in the paper's staircase, hog i (1…5) on
# from step i−1 to step 11−i (1, 2, 3, 4, 5, 5, 4, 3, 2, 1 hogs), beside the
# sender as a periodic real-time guest (500 µs every 10 ms; period 10 ms,
# D = 5 ms, budget 1 ms); every guest's CPU time over each step. Then the
# same staircase with the sender a plain credit domain: the baseline, what
# credit's proportional share alone gives the hogs over such steps here.
#
# Reserve (patched): an I/O guest computing 2 ms every 40 ms (5 %, plus
# its kernel's overhead under TCG, near its sixth of the pCPU) and
# answering dom0's pings every 100 ms, beside five hogs, no
# real-time domain; its credit reserve R % (`xl sched-credit -R`), the
# first setting measured again last as the noise floor.
#
# Placement (patched): dom0 made the driver domain (2 ms per 10 ms) and
# kept busy, three hogs on pCPU 1, and a waking real-time guest (spins
# 200 us, sleeps 3 ms; aperiodic, D = 2 ms, budget 500 us) free to run on
# either pCPU: the series keeps it off the driver domain's pCPU ("apart"),
# or its affinity puts it there as if the rule were off ("beside"); apart,
# beside, apart again (the noise floor). Its jobs and how many started
# late, from the hypervisor's own counters ('r' dump), per case.
#
# The kernel command line says what to run:
#   smooth_hv=stock|patched   whose tools these are
#   smooth_fig6=C[:C…]        credit | pD (periodic, deadline D ms)
#   smooth_count=N            datagrams per Fig 6 run (at 10 ms)
#   smooth_step=S             Fig 12's step in seconds; 0: no Fig 12
#   smooth_fig2=G[:G…]        Fig 2's grids, ms (0: none); empty: no Fig 2
#   smooth_reserve=R[:R…]     the reserves, %; empty: no reserve runs
#   smooth_pings=N            pings per reserve run (at 100 ms)
#   smooth_placement=S        seconds per placement case; 0: none
# Results: `SMOOTH-XEN-FIG <json>` lines; checks as `SMOOTH-XEN-TEST` lines.
set -u
. /smooth/tests/lib.sh
arg() { sed -n "s/.*smooth_$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
HV=$(arg hv)
FIG6=$(arg fig6 | tr : ' ')
COUNT=$(arg count)
STEP=$(arg step)
FIG2=$(arg fig2 | tr : ' ')
RESERVES=$(arg reserve | tr : ' ')
PINGS=$(arg pings)
PLACEMENT=$(arg placement)
IO_IP=10.0.0.5
SCHED=$(xl info | awk '$1 == "xen_scheduler" { print $3 }')
TEST_PREFIX="bench-figs ($HV $SCHED): "
SENDER_IP=10.0.0.4
PERIOD_US=10000
FIG6_WORK_US=2000
FIG6_BUDGET_US=4000
FIG12_WORK_US=500
FIG2_WORK_US=1000

fig() { echo "SMOOTH-XEN-FIG {\"hv\":\"$HV\",\"sched\":\"$SCHED\",$1}"; }

section "bench-figs: $HV hypervisor, scheduler $SCHED, Fig 6 '$FIG6' ($COUNT datagrams), Fig 12 step ${STEP}s, Fig 2 '$FIG2', reserves '$RESERVES' ($PINGS pings)"
xl info | grep -E '^(xen_version|xen_scheduler|nr_cpus|xen_commandline)'
if xl help sched-credit 2>&1 | grep -q -- '--rtmode'; then tools=patched; else tools=stock; fi
[ "$tools" = "$HV" ] && pass "xl is the $HV one" || fail "xl is the $HV one (its sched-credit looks $tools)"
# (Stock credit has no driver domain to check.)
if [ "$HV" != stock ]; then
    [ "$(params 0)" = "none 0 0 0 0" ] && pass "dom0 is plain credit (not the driver domain)" ||
        fail "dom0 is plain credit (not the driver domain), got '$(params 0)'"
fi

net_cfg tsend idle "$SENDER_IP" 'cpus="1"' 'cpu_weight=768'
for i in 1 2 3 4 5; do cfg "hog$i" hog 'cpus="1"'; done
ok=1
# Each hog held once booted (the next guest boots alone); two run from here.
create tsend || ok=0
for i in 1 2 3 4 5; do create "hog$i" && hold "hog$i" || ok=0; done
[ $ok = 1 ] && pass "the sender and five hogs are created" || fail "the sender and five hogs are created"
release hog1 hog2
wait_ping "$SENDER_IP" && pass "the sender answers ping" || fail "the sender answers ping"
[ "$(xl sched-credit -d tsend | awk 'NR == 2 { print $3 }')" = 768 ] && pass "the sender's weight is 768" ||
    fail "the sender's weight is 768"
xl vcpu-list | sed 's/^/  /'

# sender LABEL COUNT WORK_US [GRID_US]: a run of the periodic sender; the
# SMOOTH-XEN-SENDER object of udpclock, or nothing.
sender() {
    /smooth/udpclock recv "$1" "$SENDER_IP" "$2" "$PERIOD_US" 0 "$3" "${4:-0}" > "/tmp/sender.$1"
    sed 's/^/  /' "/tmp/sender.$1" >&2
    sed -n 's/^SMOOTH-XEN-SENDER {\(.*\)}$/\1/p' "/tmp/sender.$1"
}

# set_mode CONFIG: the sender's scheduling parameters.
set_mode() {
    local d b
    case $1 in
    p*)
        d=$((${1#p} * 1000))
        b=$((d < FIG6_BUDGET_US ? d : FIG6_BUDGET_US))
        xl sched-credit -d tsend -M periodic -e "$d" -P "$PERIOD_US" -b "$b" &&
            [ "$(params tsend)" = "periodic $d $PERIOD_US 0 $b" ] &&
            pass "$1: the sender is periodic, period $PERIOD_US us, D = $d us, budget $b us" ||
            fail "$1: the sender is periodic, period $PERIOD_US us, D = $d us, budget $b us"
        ;;
    credit)
        [ "$HV" = stock ] || xl sched-credit -d tsend -M none
        ;;
    esac
}

section "Fig 6: the sender (2 ms every 10 ms, weight 768) beside two hogs"
for c in $FIG6; do
    set_mode "$c"
    sleep 2
    t0=$(xl list tsend | awk 'NR == 2 { print $6 }')
    got=$(sender "fig6-$c" "$COUNT" "$FIG6_WORK_US")
    t1=$(xl list tsend | awk 'NR == 2 { print $6 }')
    if [ -n "$got" ]; then
        fig "\"fig\":\"fig6\",\"config\":\"$c\",\"work_us\":$FIG6_WORK_US,\"sender_cpu_s\":$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'),$got"
        pass "Fig 6, $c: the sender's datagrams received and filed"
    else
        fail "Fig 6, $c: the sender's datagrams received and filed"
    fi
    set_mode credit
done

# staircase KIND: the ten steps of Fig 12 with the sender KIND (`periodic`:
# the real-time guest; `plain`: the same guest in credit's proportional
# share only, what credit alone gives the hogs beside the same load).
staircase() {
    local kind=$1 label=fig12 ids i w on s0 s1 used ok=1 rx got
    [ "$kind" = periodic ] || label=fig12-plain
    if [ "$kind" = periodic ]; then
        xl sched-credit -d tsend -M periodic -e 5000 -P "$PERIOD_US" -b 1000 &&
            [ "$(params tsend)" = "periodic 5000 $PERIOD_US 0 1000" ] &&
            pass "Fig 12: the sender is periodic (D = 5 ms, budget 1 ms), weight 256 like the hogs" ||
            fail "Fig 12: the sender is periodic (D = 5 ms, budget 1 ms), weight 256 like the hogs"
    else
        xl sched-credit -d tsend -M none && [ "$(params tsend)" = "none 0 0 0 0" ] &&
            pass "Fig 12, plain: the sender is plain credit, weight 256 like the hogs" ||
            fail "Fig 12, plain: the sender is plain credit, weight 256 like the hogs"
    fi
    ids="$(xl domid tsend)"
    for i in 1 2 3 4 5; do ids="$ids $(xl domid "hog$i")"; done
    # The sender runs through all ten steps (and a little beyond).
    sender "$label" $((10 * STEP * 1000000 / PERIOD_US + 300)) "$FIG12_WORK_US" > "/tmp/$label.sender" &
    rx=$!
    sleep 1
    for w in 0 1 2 3 4 5 6 7 8 9; do
        on=""
        for i in 1 2 3 4 5; do
            if [ "$w" -ge $((i - 1)) ] && [ "$w" -lt $((11 - i)) ]; then release "hog$i"; on="$on,1"; else hold "hog$i"; on="$on,0"; fi
        done
        # shellcheck disable=SC2086
        s0=$(/smooth/rtcheck --cputime $ids) || ok=0
        sleep "$STEP"
        # shellcheck disable=SC2086
        s1=$(/smooth/rtcheck --cputime $ids) || ok=0
        # Nanoseconds of wall clock, then each guest's CPU time in the step.
        used=$(echo "$s0 $s1" | awk '{ n = NF / 2; s = $(n + 1) - $1; for (i = 2; i <= n; i++) s = s "," ($(n + i) - $i); print s }')
        fig "\"fig\":\"fig12\",\"sender\":\"$kind\",\"step\":$w,\"on\":[${on#,}],\"wall_ns\":${used%%,*},\"cpu_ns\":[${used#*,}]"
        echo "  step $w ($kind sender): hogs on [${on#,}], wall and CPU (ns): $used"
    done
    [ $ok = 1 ] && pass "Fig 12, $kind: CPU times read at every step" || fail "Fig 12, $kind: CPU times read at every step"
    for i in 1 2 3 4 5; do hold "hog$i"; done
    wait $rx
    got=$(cat "/tmp/$label.sender")
    if [ -n "$got" ]; then
        fig "\"fig\":\"fig12-sender\",\"config\":\"$kind\",\"work_us\":$FIG12_WORK_US,$got"
        pass "Fig 12, $kind: the sender's datagrams received and filed"
    else
        fail "Fig 12, $kind: the sender's datagrams received and filed"
    fi
}

if [ "${STEP:-0}" -gt 0 ] && [ "$HV" = patched ]; then
    section "Fig 12: five hogs in a staircase of ${STEP}s steps beside a periodic real-time sender, then beside it as a plain credit domain"
    xl sched-credit -d tsend -w 256
    staircase periodic
    staircase plain
fi

if [ -n "$FIG2" ]; then
    section "Fig 2: the sender alone, its wake-ups forced onto a grid"
    set_mode credit
    for i in 1 2 3 4 5; do hold "hog$i"; done
    for g in $FIG2; do
        got=$(sender "fig2-g$g" "$COUNT" "$FIG2_WORK_US" $((g * 1000)))
        if [ -n "$got" ]; then
            fig "\"fig\":\"fig2\",\"config\":\"g$g\",\"work_us\":$FIG2_WORK_US,$got"
            pass "Fig 2, grid $g ms: the sender's datagrams received and filed"
        else
            fail "Fig 2, grid $g ms: the sender's datagrams received and filed"
        fi
    done
fi

if [ -n "$RESERVES" ] && [ "$HV" = patched ]; then
    section "Reserve: an I/O guest (2 ms every 40 ms, pinged) beside five hogs"
    hold tsend
    net_cfg tio waker "$IO_IP" 'cpus="1"'
    sed -i 's|smooth_role=waker|smooth_role=waker smooth_wake=2000:38000|' /tmp/tio.cfg
    create tio && pass "reserve: the I/O guest is created" || fail "reserve: the I/O guest is created"
    wait_ping "$IO_IP" && pass "reserve: the I/O guest answers ping" || fail "reserve: the I/O guest answers ping"
    for i in 1 2 3 4 5; do release "hog$i"; done
    n=0
    for r in $RESERVES; do
        n=$((n + 1))
        xl sched-credit -d tio -R "$r" && [ "$(params tio)" = "none 0 0 $r 0" ] &&
            pass "reserve $r % (run $n): set and read back, plain credit otherwise" ||
            fail "reserve $r % (run $n): set and read back, plain credit otherwise"
        sleep 2
        t0=$(xl list tio | awk 'NR == 2 { print $6 }')
        ping -c "$PINGS" -i 0.1 -W 2 "$IO_IP" > /tmp/ping.out 2>&1
        t1=$(xl list tio | awk 'NR == 2 { print $6 }')
        grep -o 'time=[0-9.]*' /tmp/ping.out | cut -d= -f2 | sort -n > /tmp/rtt
        got=$(wc -l < /tmp/rtt)
        dist=$(awk -v n="$got" 'function at(q,  i) { i = int(q * n + 0.999999); if (i < 1) i = 1; return v[i] }
            { v[NR] = $1 } END { if (n) printf "{\"p50\":%s,\"p90\":%s,\"p99\":%s,\"max\":%s}", at(0.5), at(0.9), at(0.99), v[n] }' /tmp/rtt)
        if [ "$got" -gt 0 ]; then
            fig "\"fig\":\"reserve\",\"run\":$n,\"reserve_pct\":$r,\"sent\":$PINGS,\"received\":$got,\"rtt_ms\":$dist,\"guest_cpu_s\":$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
            pass "reserve $r % (run $n): pings answered and filed"
        else
            fail "reserve $r % (run $n): pings answered and filed"
        fi
    done
    xl destroy tio
fi

if [ "${PLACEMENT:-0}" -gt 0 ] && [ "$HV" = patched ]; then
    section "Placement: a waking real-time guest beside a busy driver domain, or apart from it"
    hold tsend
    for i in 1 2 3; do release "hog$i"; done
    for i in 4 5; do hold "hog$i"; done
    xl sched-credit -d 0 -M driver -P 10000 -b 2000 && [ "$(params 0 | cut -d' ' -f1)" = driver ] &&
        pass "placement: dom0 is the driver domain (2 ms per 10 ms)" ||
        fail "placement: dom0 is the driver domain (2 ms per 10 ms)"
    cfg trt waker 'rtmode="aperiodic"' 'deadline=2000' 'rtbudget=500'
    create trt && pass "placement: the real-time guest is created, free to use either pCPU" ||
        fail "placement: the real-time guest is created, free to use either pCPU"
    dom0cpu=$(xl vcpu-list 0 | awk 'NR == 2 { print $4 }')
    ( while :; do :; done ) &
    spinner=$!
    n=0
    for case in apart beside apart; do
        n=$((n + 1))
        if [ "$case" = beside ]; then xl vcpu-pin trt 0 "$dom0cpu"; else xl vcpu-pin trt 0 all; fi
        sleep 2
        s0=$(job_stats)
        on=0 samples=0 end=$(($(date +%s) + PLACEMENT))
        while [ "$(date +%s)" -lt "$end" ]; do
            [ "$(xl vcpu-list trt | awk 'NR == 2 { print $4 }')" = "$dom0cpu" ] && on=$((on + 1))
            samples=$((samples + 1))
            sleep 0.5
        done
        s1=$(job_stats)
        counts=$(echo "$s0 $s1" | awk 'NF == 14 { print $8 - $1 "," $9 - $2 "," $10 - $3 "," $11 - $4 }')
        if [ -n "$counts" ]; then
            IFS=, read -r jobs l100 l1 l10 <<< "$counts"
            fig "\"fig\":\"placement\",\"run\":$n,\"case\":\"$case\",\"samples\":$samples,\"on_driver_pcpu\":$on,\"jobs\":$jobs,\"late_100us\":$l100,\"late_1ms\":$l1,\"late_10ms\":$l10"
            pass "placement, $case (run $n): jobs counted and filed"
        else
            fail "placement, $case (run $n): jobs counted and filed"
        fi
        echo "  $case: on the driver's pCPU in $on of $samples samples; jobs, late > 100 us, > 1 ms, > 10 ms: $counts"
    done
    kill "$spinner"
    wait "$spinner" 2>/dev/null
    xl destroy trt
    xl sched-credit -d 0 -M none && [ "$(params 0)" = "none 0 0 0 0" ] &&
        pass "placement: dom0 is plain credit again" || fail "placement: dom0 is plain credit again"
fi

for d in tsend hog1 hog2 hog3 hog4 hog5; do xl destroy "$d"; done
[ -z "$(xl list | awk 'NR > 2')" ] && pass "every guest destroyed" || fail "every guest destroyed"
if xl dmesg | grep -qE "Assertion '|Xen BUG at|FATAL TRAP"; then fail "no assertion or BUG in xl dmesg"; else pass "no assertion or BUG in xl dmesg"; fi
finish
