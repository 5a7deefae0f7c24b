# Helpers the dom0 test scripts share (sourced; bash). Results are lines
# `SMOOTH-XEN-TEST: PASS|FAIL <TEST_PREFIX><name>`; `fails` counts failures.
# PARAM_FIELDS (default 5): how many of `xl sched-credit`'s real-time
# columns `params` prints (mode deadline period reserve budget).
fails=0
pass() { echo "SMOOTH-XEN-TEST: PASS ${TEST_PREFIX-}$*"; }
fail() { echo "SMOOTH-XEN-TEST: FAIL ${TEST_PREFIX-}$*"; fails=$((fails + 1)); }
check() { # NAME COMMAND…: passes if COMMAND succeeds
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
# The script's last word: the harness counts a script that never says it
# (stopped by `set -u`, a syntax error, an early exit) as not run to its end.
finish() { echo "SMOOTH-XEN-END: $fails failed"; exit $((fails > 0)); }
# section TITLE: a section's header, with dom0's uptime so that the console
# log shows where a boot's time goes.
section() { echo "== $* (dom0 up $(cut -d' ' -f1 /proc/uptime) s)"; }

# net_cfg NAME ROLE IP [xl.cfg lines…]: a 64 MB PV guest running the same
# kernel as dom0 (its ELF vmlinux, which xl loads without unpacking), with a
# vif on xenbr0 if IP is not empty. ROLE (the guest's /init): hog spins
# forever; waker spins 200 us by the clock and sleeps 3 ms, over and over
# (`smooth_wake=SPIN_US:SLEEP_US` added to the guest's extra= line changes
# both); anything else idles.
net_cfg() {
    local name=$1 role=$2 ip=$3
    shift 3
    {
        echo "name=\"$name\""
        echo 'type="pv"'
        echo 'kernel="/smooth/vmlinux"'
        echo 'ramdisk="/smooth/domu.cpio"'
        echo "extra=\"console=hvc0 rdinit=/init smooth_role=$role${ip:+ smooth_ip=$ip}\""
        echo 'memory=64'
        echo 'vcpus=1'
        [ -n "$ip" ] && echo 'vif=["bridge=xenbr0"]'
        printf '%s\n' "$@"
    } > "/tmp/$name.cfg"
}

wait_ping() { # IP: up to 60 s for a first reply
    local i
    for i in $(seq 60); do
        ping -c 1 -W 1 "$1" > /dev/null 2>&1 && return 0
    done
    return 1
}

cfg() { # NAME ROLE [xl.cfg lines…]: net_cfg without a network
    local name=$1 role=$2
    shift 2
    net_cfg "$name" "$role" "" "$@"
}

# create NAME: xl create, then wait (up to 180 s) for the guest's init to
# print its banner, a line starting `smooth-domu: ` (every guest init in
# xtask/src/xen/ prints one), on its console (xenconsoled logs it, dom0's
# init starts it with --log=guest): what follows works on a booted guest,
# not on its boot. Fails if either does not happen.
GUEST_LOGS=/var/log/xen/console
create() {
    local t0=$(date +%s) out rc log="$GUEST_LOGS/guest-$1.log" i
    rm -f "$log"    # xenconsoled appends: a former guest of this name
    out=$(xl create "/tmp/$1.cfg" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then
        for i in $(seq 360); do
            grep -q '^smooth-domu: ' "$log" 2> /dev/null && break
            sleep 0.5
        done
        grep -q '^smooth-domu: ' "$log" 2> /dev/null ||
            { out="its init printed no banner within 180 s ($log)"; rc=1; }
    fi
    echo "  xl create $1: rc $rc in $(($(date +%s) - t0)) s"
    [ $rc -eq 0 ] || echo "$out" | sed 's/^/  | /'
    return $rc
}

# hold NAME…: pauses each guest not paused yet; release NAME…: unpauses each
# paused one. Xen counts the toolstack's pauses (each needs its unpause), so
# these act only on a change. Guests are held while dom0 runs xl for
# parameter checks: beside spinning guests on one emulated pCPU each xl call
# takes tens of seconds.
paused() { xl list "$1" | awk 'NR == 2 { exit !($5 ~ /p/) }'; }
hold() { local d; for d; do paused "$d" || xl pause "$d"; done; }
release() { local d; for d; do ! paused "$d" || xl unpause "$d"; done; }

# The credit weight of domain $1.
weight() { xl sched-credit -d "$1" 2>&1 | awk 'NR == 2 { print $3 }'; }

# dom0_weight W: sets dom0's credit weight and reads it back. dom0-sched.sh
# and dom0-safety.sh give dom0 a large weight, as operators favour dom0: at
# credit's default, five spinning guests on one emulated pCPU starve each xl
# call for tens of seconds. A window in which dom0 competes for the CPU by
# weight sets the default back first (docs/xen.md says which windows see
# dom0 at which weight).
DRIVING_WEIGHT=4096
dom0_weight() { xl sched-credit -d 0 -w "$1" && [ "$(weight 0)" = "$1" ]; }

# The real-time columns of a domain, from `xl sched-credit -d`.
params() {
    xl sched-credit -d "$1" 2>&1 |
        awk -v n="${PARAM_FIELDS:-5}" 'NR == 2 { s = $5; for (i = 6; i < 5 + n; i++) s = s " " $i; print s }'
}

expect_params() { # TEST DOMAIN "the params line wanted"
    local got
    got=$(params "$2")
    if [ "$got" = "$3" ]; then pass "$1"; else echo "  got '$got', want '$3'"; fail "$1"; fi
}

refused() { # TEST MESSAGE COMMAND…: must fail, saying MESSAGE
    local name=$1 msg=$2 out rc
    shift 2
    out=$("$@" 2>&1); rc=$?
    echo "$out" | grep -v '^$' | head -3 | sed 's/^/  | /'
    if [ $rc -ne 0 ] && echo "$out" | grep -qi -- "$msg"; then
        pass "$name"
    else
        fail "$name (rc $rc, wanted a failure saying '$msg')"
    fi
}

# job_stats [--last] [PCPU…]: "jobs late100us late1ms late10ms latest_us
# late10ms_unstalled stall_max_us" of real-time jobs started on those pCPUs
# (default: all), summed (the latest start and the longest stall: the
# maximum), from a fresh 'r' dump of the patched credit scheduler (--last:
# from the last dump).  The dump holds the caller's pCPU while it
# prints, delaying what waits there: take as few as a measurement allows.
job_stats() {
    local c fresh=1
    [ "${1-}" = --last ] && { fresh=0; shift; }
    local cpus=("$@")
    [ ${#cpus[@]} -gt 0 ] || cpus=($(seq 0 $(($(xl info | awk '/^nr_cpus/ { print $3 }') - 1))))
    if [ $fresh = 1 ]; then
        xl debug-keys r
        sleep 1     # the dump is written after the key returns
    fi
    for c in "${cpus[@]}"; do
        xl dmesg | grep "CPU\[$(printf %02d "$c")\].* jobs=" | tail -n 1
    done | sed -n 's/.* jobs=\([0-9]*\) late>100us=\([0-9]*\) late>1ms=\([0-9]*\) late>10ms=\([0-9]*\) late_max=\(-*[0-9]*\)us late>10ms_unstalled=\([0-9]*\) stall_max=\([0-9]*\)us.*/\1 \2 \3 \4 \5 \6 \7/p' |
        awk '{ for (i = 1; i <= 4; i++) s[i] += $i; s[6] += $6
               if ($5 > m) m = $5; if ($7 > st) st = $7 }
             END { if (NR) print s[1], s[2], s[3], s[4], m + 0, s[6], st + 0 }'
}

# deadlines_met LABEL "job_stats before" "job_stats after": jobs started
# in between, and none of them more than 10 ms after its deadline once the
# time its pCPU was stalled is taken out.  Why 10 ms: a job stranded on a
# queue (lost on a move, left on another pCPU's queue), or held by a
# priority nothing bounds, waits for a credit slice (30 ms); the driver
# domain may hold a due job for two of its budgets (4 ms in these tests),
# and TCG leaves an EDF dispatch a few ms late.  Why stalls are taken out:
# under TCG a pCPU is a host thread, and a busy host can leave it unrun for
# tens of ms, job or no job; the hypervisor sees it as its scheduler's
# timers served late (patch 0015), and no scheduling decision can make that
# time up.  A stranded or starved job waits while its pCPU's timers are on
# time, so it stays counted.  The raw count late by more than 10 ms, those
# by more than 100 us and 1 ms, and the longest stall are printed, not
# asserted.
deadlines_met() {
    echo "$2 $3" | awk -v label="$1" '{
        n = $8 - $1; a = $9 - $2; b = $10 - $3; c = $11 - $4; u = $13 - $6
        printf "SMOOTH-XEN-DEADLINES %s: %d jobs started; late by > 100 us: %d, > 1 ms: %d, > 10 ms: %d (%d with the pCPU'"'"'s stalls taken out); latest start so far %d us after its deadline; longest stall so far %d us\n", label, n, a, b, c, u, $12, $14
        exit !(NF == 14 && n > 0 && u == 0)
    }'
}
