#!/bin/bash
# xen/scripts/vif-smooth, the vif hotplug script. There is no Xen in this
# guest: this tests the SCRIPT'S LOGIC, not a real Xen hotplug. Stub
# `vif-bridge`, `xenstore-read`, `xenstore-write` and `xenstore-rm` come
# first on PATH; the stub xenstore is a directory of files; tc-smooth and
# sch_smooth are the real ones, acting on the test topology's vif1.0.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r) (no Xen: stubs stand in for xenstore and vif-bridge)"
load_smooth
topo_up

stubs=$(mktemp -d)
store=$stubs/xenstore
mkdir -p "$store"
cat >"$stubs/vif-bridge" <<'EOF'
#!/bin/sh
echo "vif-bridge $*" >>"${STUB_LOG:?}"
EOF
cat >"$stubs/xenstore-read" <<'EOF'
#!/bin/sh
f="${STUB_STORE:?}/$(echo "$1" | tr / _)"
[ -f "$f" ] && cat "$f" || { echo "couldn't read path $1" >&2; exit 1; }
EOF
cat >"$stubs/xenstore-write" <<'EOF'
#!/bin/sh
printf '%s' "$2" >"${STUB_STORE:?}/$(echo "$1" | tr / _)"
EOF
cat >"$stubs/xenstore-rm" <<'EOF'
#!/bin/sh
rm -f "${STUB_STORE:?}/$(echo "$1" | tr / _)"
EOF
chmod +x "$stubs"/vif-bridge "$stubs"/xenstore-*
export PATH="$stubs:$PATH" STUB_STORE=$store STUB_LOG=$stubs/log
export vif=$VIF XENBUS_PATH=/local/domain/0/backend/vif/1/0
key() { echo "$store/$(echo "$XENBUS_PATH/$1" | tr / _)"; }
hook=/smooth/xen/vif-smooth

before_links=$(ip -j link show | jq -c '[.[].ifname]')
before_qdiscs=$(tc -j qdisc show | jq -c '[.[] | {dev, kind, handle}]')

# xl.cfg rate=2Mb/s@50ms: xl writes 12500 bytes per 50000 us.
printf '12500,50000' >"$(key rate)"
SMOOTH_WINDOW=4ms "$hook" online
expect_eq "$(cat "$STUB_LOG")" "vif-bridge online" "vif-bridge ran first, with the same arguments"
expect_eq "$(opt "$VIF" rate)" 250000 "egress smooth at 12500 B / 50 ms = 250000 B/s"
expect_eq "$(opt "$VIF" window)" 4000000 "SMOOTH_WINDOW honoured"
expect_eq "$(opt "$IFB" rate)" 250000 "ingress smooth on the IFB"
expect_eq "$(tc -j filter show dev "$VIF" ingress | jq -r '.[] | select(.options != null) | .options.actions[0].to_dev')" \
    "$IFB" "guest traffic redirected to the IFB"
expect_eq "$([ -e "$(key rate)" ] && echo present || echo removed)" removed \
    "rate key removed: netback's credit limiter stands down"
expect_eq "$(cat "$(key smooth-rate)")" "12500,50000" "rate kept as smooth-rate"

# A second online (the key is now smooth-rate) re-attaches idempotently.
"$hook" online
expect_eq "$(opt "$VIF" window)" 3000000 "re-run: default window 3ms"
expect_eq "$(ip -j link show | jq '[.[] | select(.ifname | startswith("ifb-"))] | length')" 1 "re-run: still one IFB"

"$hook" offline
expect_eq "$(tail -n 1 "$STUB_LOG")" "vif-bridge offline" "vif-bridge ran on offline"
expect_eq "$(ip -j link show | jq -c '[.[].ifname]')" "$before_links" "offline: links as before"
expect_eq "$(tc -j qdisc show | jq -c '[.[] | {dev, kind, handle}]')" "$before_qdiscs" "offline: qdiscs as before"

# No rate configured: bridged, not shaped.
rm -f "$(key smooth-rate)"
expect_eq "$("$hook" online 2>&1)" "vif-smooth: $VIF: no rate in xenstore: not shaped" "no rate: says so"
expect_eq "$(tc -j qdisc show dev "$VIF" root | jq -r '.[0].kind')" noqueue "no rate: not shaped"
"$hook" offline

# A malformed rate fails the hotplug (vif-bridge has run).
printf 'fast' >"$(key rate)"
expect_error "malformed rate" 'cannot parse rate "fast"' "$hook" online
rm -f "$(key rate)"

# Missing environment: one line, non-zero.
expect_error "no vif" "vif is not set" env -u vif "$hook" online

finish
