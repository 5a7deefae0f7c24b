#!/bin/bash
# guest-needs: python3
# smooth's cases in the kernel's own tc-testing format (tests/tdc/*.json),
# run by the kernel's tdc.py from the same source tree the kernel was built
# from.
. /smooth/tests/netns/lib.sh

say "guest kernel: $(uname -r)"
load_smooth
cd /smooth/tc-testing
cat > tdc_config_local.py <<CFG
EXTRA_NAMES = {'TC': '$(command -v tc)', 'IP': '$(command -v ip)'}
CFG
status=0
python3 ./tdc.py -f /smooth/tests/tdc/smooth.json >/tmp/tdc.out 2>&1 || status=$?
cat /tmp/tdc.out
# tdc prints a skipped case as "ok N … # skipped - …": not a pass.
ok=$(grep '^ok ' /tmp/tdc.out | grep -vc '# skipped' || true)
skipped=$(grep '^ok ' /tmp/tdc.out | grep -c '# skipped' || true)
notok=$(grep -c '^not ok ' /tmp/tdc.out || true)
total=$(jq length /smooth/tests/tdc/smooth.json)
say "tdc: $ok ok, $skipped skipped, $notok not ok, of $total cases (exit status $status)"
expect_eq "$ok" "$total" "tdc cases passed"
expect_eq "$status" 0 "tdc's exit status"
rmmod sch_smooth
finish
