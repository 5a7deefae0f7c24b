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
python3 ./tdc.py -f /smooth/tests/tdc/smooth.json 2>&1 | tee /tmp/tdc.out
ok=$(grep -c '^ok ' /tmp/tdc.out || true)
notok=$(grep -c '^not ok ' /tmp/tdc.out || true)
total=$(jq length /smooth/tests/tdc/smooth.json)
say "tdc: $ok ok, $notok not ok, of $total cases"
expect_eq "$ok" "$total" "tdc cases passed"
rmmod sch_smooth
finish
