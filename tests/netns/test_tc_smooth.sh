#!/bin/bash
# guest-needs: python3
# tc-smooth against the real sch_smooth in the guest kernel: every
# subcommand, a one-line error for bad input in every field, the kernel's
# extack text for a refusal, `tc -s -j` and `tc-smooth show -s --json`
# agreeing, attach/detach leaving nothing behind, and attach shaping
# guest-originated traffic through the IFB to ±2 % of 2 Mbit/s.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
topo_up

# Fails the test unless "$@" exits with status $3 and prints exactly the
# one line $2 (stdout and stderr together).
expect_line() {
    local what=$1 want=$2 status=$3; shift 3
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" = "$status" ] && [ "$out" = "$want" ]; then
        say "ok: $what: '$out' (exit $rc)"
    else
        say "FAIL: $what: exit $rc, got '$out'; expected exit $status, '$want'"
        FAILED=1
    fi
}

# What exists: links, qdiscs (no counters) and ingress filters on $VIF.
state() {
    ip -j link show | jq -c '[.[] | {ifname, flags}]'
    tc -j qdisc show | jq -c '[.[] | {dev, kind, handle, parent, root, options}]'
    tc -j filter show dev "$VIF" parent ffff: 2>/dev/null || echo "no ingress filters"
}

say "== add / show / change / replace / del"
tc-smooth add "$VIF" --rate 2mbit --window 3ms
expect_eq "$(opt "$VIF" rate)" 250000 "rate set by tc-smooth, read by tc (bytes/s)"
expect_eq "$(opt "$VIF" window)" 3000000 "window set by tc-smooth, read by tc (ns)"
tc-smooth show "$VIF"
expect_eq "$(tc-smooth show "$VIF" | sed -n 's/.*refcnt [0-9]* //p')" \
    "$(tc qdisc show dev "$VIF" | sed -n 's/.*refcnt [0-9]* //p' | sed 's/ *$//')" "text options as tc prints them"
tc-smooth change "$VIF" root --window 5ms --limit 200
expect_eq "$(opt "$VIF" window)" 5000000 "changed window"
expect_eq "$(opt "$VIF" limit)" 200 "changed limit"
expect_eq "$(opt "$VIF" rate)" 250000 "rate kept across change"
tc-smooth replace "$VIF" --rate 4mbit --window 1ms --burst 10ms --max-delay 50ms --limit 500 \
    --limit-bytes 64kb
for pair in rate:500000 window:1000000 burst:10000000 max_delay:50000000 limit:500 limit_bytes:65536; do
    expect_eq "$(opt "$VIF" "${pair%%:*}")" "${pair#*:}" "replaced ${pair%%:*}"
done

say "== tc's words: the design card's line, and the options show prints read back"
shown=$(tc-smooth show "$VIF" | sed -n 's/.*refcnt [0-9]* //p')
expect_eq "$(echo "$shown" | cut -d' ' -f1)" rate "show printed the options (from rate on)"
tc-smooth del dev "$VIF" root smooth
expect_eq "$(tc-smooth add dev "$VIF" root smooth rate 2mbit window 3ms; echo $?)" 0 "tc's line accepted"
expect_eq "$(opt "$VIF" rate) $(opt "$VIF" window)" "250000 3000000" "tc's line: rate and window set"
tc-smooth del "$VIF" root
# shellcheck disable=SC2086 # the options, one word each
expect_eq "$(tc-smooth add "$VIF" root $shown; echo $?)" 0 "the options show printed, given to add, accepted"
expect_eq "$(tc-smooth show "$VIF" | sed -n 's/.*refcnt [0-9]* //p')" "$shown" \
    "the options show printed, given to add, show the same"
expect_eq "$(tc-smooth show dev "$VIF")" "$(tc-smooth show "$VIF")" "show dev DEV, as tc writes it"
expect_line "parent as a word and a flag" '"parent" given twice' 2 tc-smooth add "$VIF" root --parent 1:10 rate 2mbit
expect_line "a parameter as a word and a flag" 'smooth: "rate" given twice' 2 tc-smooth change "$VIF" rate 2mbit --rate 3mbit
expect_line "a word that is not smooth's" 'smooth: unknown option "tbf"' 2 tc-smooth add "$VIF" root tbf rate 2mbit
expect_line "del with parameters" 'unexpected word "rate": del takes [dev] DEV [root | parent ID] [handle ID] [smooth]' 2 tc-smooth del "$VIF" root rate 2mbit

say "== bad input: one line naming the field and its range, exit 2"
expect_line "add without rate" "smooth: rate is required" 2 tc-smooth add "$VIF" --window 3ms
expect_line "bad rate word" 'smooth: rate "fast" is not a rate like 2mbit (range 8Kbit..=100Gbit)' 2 tc-smooth change "$VIF" --rate fast
expect_line "rate too low" "smooth: rate 1Kbit out of range 8Kbit..=100Gbit" 2 tc-smooth change "$VIF" --rate 1kbit
expect_line "rate too high" "smooth: rate 100000000008bit out of range 8Kbit..=100Gbit" 2 tc-smooth change "$VIF" --rate 100000000008bit
expect_line "bad window word" 'smooth: window "3 ms" is not a time like 3ms (range 0us..=1s)' 2 tc-smooth change "$VIF" --window "3 ms"
expect_line "window wider than max_delay" "smooth: window 60ms out of range 0us..=50ms" 2 tc-smooth change "$VIF" --window 60ms --max-delay 50ms
expect_line "burst too long" "smooth: burst 11s out of range 0us..=10s" 2 tc-smooth change "$VIF" --burst 11s
expect_line "bad burst word" 'smooth: burst "5 ms" is not a time like 3ms (range 0us..=10s)' 2 tc-smooth change "$VIF" --burst "5 ms"
expect_line "max_delay too long" "smooth: max_delay 20s out of range 1ms..=10s" 2 tc-smooth change "$VIF" --max-delay 20s
expect_line "limit zero" "smooth: limit 0 out of range 1..=65536 packets" 2 tc-smooth change "$VIF" --limit 0
expect_line "limit too high" "smooth: limit 65537 out of range 1..=65536 packets" 2 tc-smooth change "$VIF" --limit 65537
expect_line "bad limit word" 'smooth: limit "many" is not a whole number (range 1..=65536 packets)' 2 tc-smooth change "$VIF" --limit many
expect_line "limit_bytes too large" 'smooth: limit_bytes 8589934592 out of range 0..=4294967295 bytes' 2 tc-smooth change "$VIF" --limit-bytes 8gb
# The PID controller's options are gone: clap refuses them (exit 2). Only
# watch has an --interval (its refresh period).
for gone in --interval --kp --ki --kd; do
    rc=0
    out=$(tc-smooth change "$VIF" "$gone" 1 2>&1) || rc=$?
    if [ "$rc" = 2 ] && [ "$(echo "$out" | head -n 1)" = "error: unexpected argument '$gone' found" ]; then
        say "ok: removed option $gone refused (exit 2)"
    else
        say "FAIL: removed option $gone: exit $rc, got '$out'"
        FAILED=1
    fi
done
expect_line "bad handle" 'handle "zz:" is not a qdisc handle like 1: (hex 1..=ffff)' 2 tc-smooth add "$VIF" --handle zz: --rate 2mbit
expect_line "no such device" 'Cannot find device "nope0"' 1 tc-smooth add nope0 --rate 2mbit

say "== kernel refusals: the kernel's extack text, exit 1"
expect_line "window beyond the max_delay in force" \
    "Error: smooth: window 80000000 out of range 0..=50000000 ns" 1 tc-smooth change "$VIF" --window 80ms
expect_line "add over an existing root" "Error: Exclusivity flag on, cannot modify" 1 \
    tc-smooth add "$VIF" --rate 2mbit
expect_eq "$(opt "$VIF" window)" 1000000 "a refused change leaves the qdisc as it was"
# The bucket depth is not bounded by max_delay: the kernel takes a burst
# longer than the max_delay in force.
expect_line "burst beyond the max_delay in force" "" 0 tc-smooth change "$VIF" --burst 60ms
expect_eq "$(opt "$VIF" burst),$(opt "$VIF" max_delay)" 60000000,50000000 "burst beyond max_delay accepted"
tc-smooth change "$VIF" --burst 10ms
# A max_delay alone is checked against the window in force (1 ms), not
# against the default one (3 ms).
expect_line "max_delay lowered below the default window" "" 0 tc-smooth change "$VIF" --max-delay 2ms
expect_eq "$(opt "$VIF" window),$(opt "$VIF" max_delay)" 1000000,2000000 "max_delay lowered, window in force kept"
tc-smooth change "$VIF" --max-delay 50ms

say "== show -s --json agrees with tc -s -j"
in_client ping -c 20 -i 0.05 -q "$GUEST_IP" >/dev/null
# Two bursts of 10 UDP datagrams (14.4 kB at L2) 300 ms apart, each more
# than the 5 kB bucket (10 ms at 4 Mbit/s): the rest of a burst waits for
# credit, more than the 1 ms window above its floor, so the window rises;
# the next burst finds the bucket full again, and the window slides down
# to its first packet, which leaves at once.
raised=$(xstat "$VIF" raised)
lowered=$(xstat "$VIF" lowered)
in_client python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for burst in range(2):
    for _ in range(10):
        s.sendto(b"x" * 1400, (sys.argv[1], 9))
    time.sleep(0.3)
' "$GUEST_IP"
sleep 0.2
tc-smooth show "$VIF" -s
expect_eq "$(( $(xstat "$VIF" raised) > raised ))" 1 "bursts above the bucket raised the window (raised was $raised)"
expect_eq "$(( $(xstat "$VIF" lowered) > lowered ))" 1 "a burst after idle lowered it (lowered was $lowered)"
# Stray packets (neighbour discovery) can move the counters, and
# credit_owed counts down until the bucket is full: tc-smooth's snapshot
# must equal tc's taken just before or just after it.
agree=no
for _ in 1 2 3 4 5; do
    a=$(tc -s -j qdisc show dev "$VIF" root | jq -S '.[0]')
    b=$(tc-smooth show "$VIF" -s --json | jq -S '.[0]')
    a2=$(tc -s -j qdisc show dev "$VIF" root | jq -S '.[0]')
    if [ "$a" = "$b" ] || [ "$a2" = "$b" ]; then agree=yes; break; fi
done
if [ "$agree" = yes ]; then
    say "ok: tc -s -j and tc-smooth show -s --json agree ($(echo "$b" | jq '.packets') packets, $(echo "$b" | jq '.xstats | length') xstats keys)"
else
    say "FAIL: tc -s -j and tc-smooth show -s --json differ:"
    say "  tc:        $(echo "$a" | jq -c .)"
    say "  tc-smooth: $(echo "$b" | jq -c .)"
    FAILED=1
fi
expect_eq "$(tc-smooth show "$VIF" -s --json | jq '.[0].xstats.sojourn_hist | keys | length')" 16 "sojourn histogram buckets"
expect_eq "$(tc-smooth show "$VIF" -s --json | jq -r '.[0].xstats.lateness_hist | keys_unsorted | .[0] + " " + .[15]')" \
    "<128us >=2097152us" "histogram labels"

say "== watch --count 2"
out=$(tc-smooth watch "$VIF" --interval 500ms --count 2)
echo "$out"
expect_eq "$(echo "$out" | grep -c '^smooth on ')" 2 "frames"
expect_eq "$(echo "$out" | grep -c "$(printf '\033')" || true)" 0 "escape sequences when stdout is not a tty"
expect_line "watch without smooth" "no smooth qdisc on \"peth0\"" 1 tc-smooth watch dev peth0 --count 1

say "== del, and a child of an HTB class with a handle"
tc-smooth del "$VIF" root
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" noqueue "qdisc deleted"
expect_line "del when there is none" "Error: Invalid qdisc name" 1 tc-smooth del "$VIF"
tc qdisc add dev "$VIF" root handle 1: htb default 10
tc class add dev "$VIF" parent 1: classid 1:10 htb rate 100mbit
tc-smooth add "$VIF" --parent 1:10 --handle 10: --rate 2mbit
expect_eq "$(tc -j qdisc show dev "$VIF" | jq -r '.[] | select(.kind == "smooth") | .handle + " " + .parent')" "10: 1:10" "smooth under htb"
expect_eq "$(tc-smooth show "$VIF" --json | jq -r '.[0].handle + " " + .[0].parent')" "10: 1:10" "tc-smooth shows the child"
tc-smooth del "$VIF" --parent 1:10 --handle 10:
tc qdisc del dev "$VIF" root

say "== attach / detach"
before=$(state)
tc-smooth attach "$VIF" --rate 2mbit --window 3ms
tc-smooth attach dev "$VIF" --rate 2mbit --window 4ms
ip -br link show "$IFB"
tc qdisc show dev "$VIF"
tc qdisc show dev "$IFB"
tc filter show dev "$VIF" ingress
expect_eq "$(ip -j link show | jq '[.[] | select(.ifname | startswith("ifb-"))] | length')" 1 "one IFB after attaching twice"
expect_eq "$(ip -j link show "$IFB" | jq -r '.[0].flags | index("UP") != null')" true "IFB is up"
expect_eq "$(tc -j qdisc show dev "$VIF" | jq '[.[] | select(.kind == "ingress")] | length')" 1 "one ingress qdisc"
expect_eq "$(tc -j filter show dev "$VIF" ingress | jq '[.[] | select(.options != null)] | length')" 1 "one redirect filter"
expect_eq "$(tc -j filter show dev "$VIF" ingress | jq -r '.[] | select(.options != null) | .options.actions[0] | .kind + " " + .to_dev')" \
    "mirred $IFB" "filter redirects to the IFB"
expect_eq "$(opt "$VIF" window)" 4000000 "second attach updated the vif's window"
expect_eq "$(opt "$IFB" window)" 4000000 "second attach updated the IFB's window"
expect_eq "$(ip -j -d link show "$IFB" | jq -r '.[0].ifalias')" "smooth ingress of $VIF" "the IFB's alias names its device"
tc-smooth detach "$VIF"
after=$(state)
if [ "$before" = "$after" ]; then
    say "ok: detach left links, qdiscs and filters as they were before attach"
else
    say "FAIL: state differs after detach:"
    say "  before: $before"
    say "  after:  $after"
    FAILED=1
fi
tc-smooth detach "$VIF" && say "ok: detach again is a no-op" || { say "FAIL: second detach"; FAILED=1; }
tc-smooth attach "$VIF" --rate 2mbit --egress
expect_eq "$(ip -j link show | jq '[.[] | select(.ifname | startswith("ifb-"))] | length')" 0 "--egress creates no IFB"
tc-smooth detach "$VIF"
expect_eq "$(state)" "$before" "state after --egress attach and detach"
expect_line "attach without rate" "smooth: rate is required" 2 tc-smooth attach "$VIF" --window 3ms
# An IFB by attach's name that shapes another device's ingress (two long
# names can share one) is neither taken over nor deleted.
ip link add ifb-dm0 type ifb
ip link set ifb-dm0 alias "smooth ingress of dm1"
ip link add dm0 type dummy
expect_line "attach refuses another device's IFB" \
    'IFB "ifb-dm0" shapes the ingress of dm1: not sharing it with dm0' 1 tc-smooth attach dm0 --rate 2mbit
expect_eq "$(tc -j qdisc show dev dm0 | jq '[.[] | select(.kind == "smooth")] | length')" 0 "a refused attach changes nothing (no smooth on dm0)"
tc-smooth detach dm0
expect_eq "$(ip -j link show ifb-dm0 | jq -r '.[0].ifname')" ifb-dm0 "detach leaves another device's IFB"
ip link del ifb-dm0
# An IFB of that name without the alias (made by hand) is taken over and
# named; detach then removes it.
ip link add ifb-dm0 type ifb
tc-smooth attach dm0 --rate 2mbit --ingress
expect_eq "$(ip -j -d link show ifb-dm0 | jq -r '.[0].ifalias')" "smooth ingress of dm0" "an unnamed IFB taken over is named"
tc-smooth detach dm0
expect_eq "$(ip -j link show | jq '[.[] | select(.ifname == "ifb-dm0")] | length')" 0 "detach removes the IFB it took over"
ip link del dm0
expect_eq "$(state)" "$before" "state after the foreign IFB's test"

# UDP offered at twice the rate: this checks the plumbing (the IFB's qdisc
# sees and shapes what the guest sends); TCP's accuracy through smooth is
# test_smooth_behaviour's subject (docs/qdisc.md).
say "== attach shapes guest-originated traffic: UDP guest -> client at 4 Mbit/s into 2 Mbit/s"
tc-smooth attach "$VIF" --rate 2mbit --window 3ms
in_client iperf3 -s -D --logfile /tmp/iperf3-server-client.log
sleep 0.5
rate=$(steady_rate "$IFB" 2 10 in_guest iperf3 -c "$CLIENT_IP" -u -b 4M -l 1400)
expect_within "$rate" 2000000 2 "IFB qdisc rate over 10 s of steady state (bit/s)"
tc-smooth show "$IFB" -s
tc-smooth detach "$VIF"
expect_eq "$(state)" "$before" "state after the rate test's detach"

say "== man page"
expect_eq "$(tc-smooth man | grep -c '^\.TH tc-smooth 8')" 1 "roff title line"

finish
