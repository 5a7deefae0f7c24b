# The network half's installation on a dom0 and helpers for the scenarios
# that use it (sourced; bash). install_smooth runs the commands
# docs/deploy.md gives an operator, from the directory the artefacts were
# copied to (/smooth/deploy: xtask/src/xen/deploy.rs); uninstall_smooth
# its roll-back. Both are literal: change them and docs/deploy.md together.

install_smooth() {
    (
        set -e
        cd /smooth/deploy
        install -D -m 0644 sch_smooth.ko "/lib/modules/$(uname -r)/updates/sch_smooth.ko"
        depmod -a
        modprobe sch_smooth
        echo sch_smooth >> /etc/modules
        install -m 0755 tc-smooth /usr/sbin/tc-smooth
        install -D -m 0644 q_smooth.so /usr/lib/x86_64-linux-gnu/tc/q_smooth.so
        install -m 0755 vif-smooth /etc/xen/scripts/vif-smooth
    )
}

uninstall_smooth() {
    (
        set -e
        rmmod sch_smooth
        sed -i '/^sch_smooth$/d' /etc/modules
        rm -f "/lib/modules/$(uname -r)/updates/sch_smooth.ko" /usr/sbin/tc-smooth \
            /usr/lib/x86_64-linux-gnu/tc/q_smooth.so /etc/xen/scripts/vif-smooth
        depmod -a
    )
}

# vif_cfg NAME ROLE IP VIF [xl.cfg lines…]: net_cfg's guest with the vif
# spec VIF (what goes between the quotes of `vif = [ '…' ]`).
vif_cfg() {
    local name=$1 role=$2 ip=$3 spec=$4
    shift 4
    net_cfg "$name" "$role" "$ip" "$@"
    sed -i "s|^vif=.*|vif=['$spec']|" "/tmp/$name.cfg"
}

# has_rate DEV BYTES_PER_S: both tc (through q_smooth.so) and tc-smooth
# read back smooth at that rate as DEV's root qdisc.
has_rate() {
    local tc_out ts_out
    tc_out=$(tc -j qdisc show dev "$1" root 2>&1)
    ts_out=$(tc-smooth show "$1" -j 2>&1)
    echo "  tc: $tc_out"
    echo "  tc-smooth: $ts_out"
    echo "$tc_out" | grep -q '"kind":"smooth"' &&
        echo "$tc_out" | grep -Eq "\"rate\": ?$2[,}]" &&
        echo "$ts_out" | grep -Eq "\"rate\": ?$2[,}]"
}

# Seconds since boot with two decimals (/proc/uptime: busybox date has no %N).
now() { cut -d' ' -f1 /proc/uptime; }

# rx_rate VIF SECS: bit/s netback received from the guest on VIF (its
# rx_bytes counter, before any qdisc or redirect) over the next SECS s.
rx_rate() {
    local f=/sys/class/net/$1/statistics/rx_bytes b0 b1 t0 t1
    t0=$(now); b0=$(cat "$f")
    sleep "$2"
    t1=$(now); b1=$(cat "$f")
    awk -v b="$((b1 - b0))" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f\n", b * 8 / (t1 - t0) }'
}

# Leftovers of vif-smooth anywhere in dom0: smooth qdiscs, IFBs, ingress
# qdiscs and redirect filters; one line each, nothing if clean.
leftovers() {
    local dev
    tc qdisc show | grep -E 'qdisc (smooth|ingress)'
    ip -o link show type ifb | awk -F': ' '{ print "ifb: " $2 }'
    for dev in $(ls /sys/class/net); do
        tc filter show dev "$dev" ingress 2>/dev/null | grep -q . && echo "filter: $dev ingress"
    done
    return 0
}
