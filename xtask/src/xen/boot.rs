//! Booting the patched Xen: the debug hypervisor under QEMU with a Linux PV
//! dom0 whose initramfs carries the tools, the guests' kernel and initrd and
//! `xen/tests/`; each boot runs one dom0 script and reports its tests
//! (the Xen stage of `cargo xtask test`, and `cargo xtask xen --test`).

use super::build::{self, XenBuild};
use crate::image::Image;
use crate::kernel::{self, Kernel};
use crate::qemu::{Clock, Ended, Machine};
use crate::util::{output, repo_root, run};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Busybox applets in dom0 and the guests. No `brctl`: the hotplug scripts
/// then use `ip`.
const APPLETS: &[&str] = &[
    "sh", "mount", "umount", "mkdir", "cat", "echo", "sleep", "grep", "awk", "sed", "ps", "kill",
    "dmesg", "poweroff", "seq", "wc", "head", "tail", "cut", "tr", "sort", "date", "ls", "rm",
    "cp", "mv", "ln", "true", "false", "test", "[", "printf", "uname", "env", "timeout", "xargs",
    "find", "expr", "hostname", "ping", "wait", "pidof", "uniq", "stat", "basename", "dirname",
    "chmod", "touch", "sync", "usleep", "mktemp", "tee", "which", "logger", "readlink", "id",
    "mknod", "nproc", "depmod", "modprobe", "lsmod", "rmmod", "nc",
];
/// Host programs for dom0 (with their libraries).
const DOM0_HOST_TOOLS: &[&str] = &["bash", "ip", "flock"];

/// The boots of the Xen stage: pCPUs and the `xen/tests/` script dom0 runs.
/// The main run and the safety run on one pCPU; placement needs a second;
/// the vif hook under Xen (the network half in dom0) on one.
const BOOTS: &[(u32, &str)] = &[
    (1, "dom0-sched.sh"),
    (1, "dom0-safety.sh"),
    (2, "dom0-placement.sh"),
    (1, "dom0-vif.sh"),
];

/// Printed by dom0's init after the script; carries its status.
const EXIT_MARKER: &str = "SMOOTH-XEN-EXIT:";
/// A dom0 script's last line (`finish` in xen/tests/lib.sh).
const END_MARKER: &str = "SMOOTH-XEN-END:";
/// Typed on the console of a boot that has hung until its timeout: three
/// Ctrl-A give Xen the serial input, then its debug keys: `r` the run
/// queues (the series' EDF queues and driver domain included), `q` the
/// domains and their vCPUs, `0` dom0's vCPU, `d` every pCPU's registers and
/// stack.
const XEN_DUMP_KEYS: &[&[u8]] = &[b"\x01\x01\x01r", b"q", b"0", b"d"];
/// Console lines before a hang that its diagnosis quotes.
const HANG_CONTEXT: usize = 12;
/// The hypervisor dump's lines the diagnosis quotes at most.
const HANG_DUMP: usize = 150;
/// Printed by the dom0 scripts: `SMOOTH-XEN-TEST: PASS|FAIL <name>`.
const TEST_MARKER: &str = "SMOOTH-XEN-TEST: ";

/// Lines of the Xen console that mean the hypervisor is unwell.
const XEN_TROUBLE: &[&str] = &[
    "Assertion '",
    "Xen BUG at",
    "FATAL TRAP",
    "Panic on CPU",
    "Xen WARN at",
];

/// The guests' init: a role (`hog`, `waker` or idle) and an address from
/// the kernel command line.
const DOMU_INIT: &str = r#"#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
role=$(sed -n 's/.*smooth_role=\([a-z]*\).*/\1/p' /proc/cmdline)
addr=$(sed -n 's/.*smooth_ip=\([0-9.]*\).*/\1/p' /proc/cmdline)
ip link set lo up
if [ -n "$addr" ]; then ip addr add "$addr/24" dev eth0; ip link set eth0 up; fi
echo "smooth-domu: role $role addr $addr"
# The periodic sender, started by a request from dom0 (xen/tests/udpclock.c).
if [ -n "$addr" ]; then udpclock serve & fi
if [ "$role" = hog ]; then while :; do :; done; fi
# Blocks and wakes all the time: spins SPIN us by the clock, sleeps SLEEP us
# (smooth_wake=SPIN:SLEEP; 200 us and 3 ms if not given).
wake=$(sed -n 's/.*smooth_wake=\([0-9]*:[0-9]*\).*/\1/p' /proc/cmdline)
wake=${wake:-200:3000}
if [ "$role" = waker ]; then exec udpclock wake "${wake%:*}" "${wake#*:}"; fi
while :; do sleep 3600; done
"#;
/// dom0's init: the toolstack, the bridge, then the test script the kernel
/// command line names.
const DOM0_INIT: &str = r#"#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /var/run/xen /var/run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen /var/lock /run/lock /root
mount -t devpts devpts /dev/pts; mount -t tmpfs tmp /tmp
mount -t xenfs xenfs /proc/xen
ip link set lo up
/usr/sbin/xenstored --pid-file /var/run/xenstored.pid
/usr/lib/xen/bin/xen-init-dom0
# Guest consoles logged to /var/log/xen/console/guest-NAME.log: the tests'
# `create` waits there for a guest's init (xen/tests/lib.sh).
mkdir -p /var/log/xen/console
/usr/sbin/xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console
ip link add name xenbr0 type bridge stp_state 0 forward_delay 0
ip addr add 10.0.0.1/24 dev xenbr0; ip link set xenbr0 up
echo "smooth-dom0: toolstack ready"
cd /smooth
script=$(sed -n 's/.*smooth_script=\([^ ]*\).*/\1/p' /proc/cmdline)
/bin/bash "/smooth/tests/${script:-dom0-sched.sh}"
echo "SMOOTH-XEN-EXIT: $?"
poweroff -f
"#;

/// A dom0 or domU root: busybox, and root as the only user.
fn xen_root(dir: PathBuf) -> Result<Image> {
    let image = Image::new(dir, &["tmp", "run", "var"], APPLETS)?;
    image.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")?;
    image.write("/etc/group", "root:x:0:\n")?;
    // The kernel runs /sbin/modprobe (CONFIG_MODPROBE_PATH; /sbin is a
    // link to usr/sbin) to load a module on demand, such as a qdisc tc
    // names; Debian has it there too.
    image.symlink("../bin/busybox", "/usr/sbin/modprobe")?;
    Ok(image)
}

/// Compiles `xen/tests/<name>.c` to `work/<name>`: `gcc -O2 -Wall -Werror
/// <flags> -o … <source> <libs>`.
fn compile(work: &Path, name: &str, flags: &[String], libs: &[String]) -> Result<PathBuf> {
    let out = work.join(name);
    run(Command::new("gcc")
        .args(["-O2", "-Wall", "-Werror"])
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(repo_root().join(format!("xen/tests/{name}.c")))
        .args(libs))?;
    Ok(out)
}

/// The guests' initrd: busybox, the periodic sender and their init.
fn domu_initramfs(work: &Path, udpclock: &Path) -> Result<PathBuf> {
    let image = xen_root(work.join("domu-root"))?;
    image.copy(udpclock, "/usr/bin/udpclock")?;
    image.init(DOMU_INIT)?;
    let out = work.join("domu.cpio");
    image.cpio(&out)?;
    Ok(out)
}

/// Every ELF file of the installed tools (their libraries go in too).
fn tool_binaries(tools: &Path) -> Result<Vec<PathBuf>> {
    let elves = output(Command::new("sh").arg("-c").arg(format!(
        "find '{}' -type f -perm -u+x -o -type f -name '*.so*' | while read f; do head -c4 \"$f\" | grep -q ELF && echo \"$f\"; done",
        tools.display()
    )))?;
    Ok(elves.lines().map(PathBuf::from).collect())
}

/// Builds dom0's initramfs (the installed `tools` tree, tests, the guest
/// kernel and initrd) in `work`. `rtcheck`, the series' direct domctl
/// check, only with the patched tools (it uses their libxc).
pub(super) fn dom0_initramfs(
    work: &Path,
    tools_dir: &Path,
    kernel: &Kernel,
    with_rtcheck: bool,
) -> Result<PathBuf> {
    std::fs::create_dir_all(work)?;
    let tools = tools_dir.display();
    // The periodic sender/receiver, static: the guests have no libc.
    let udpclock = compile(work, "udpclock", &["-static".into()], &[])?;
    // The direct domctl check, built against the tools just installed.
    let rtcheck = if with_rtcheck {
        Some(compile(
            work,
            "rtcheck",
            &[format!("-I{tools}/usr/include")],
            &[
                format!("-L{tools}/usr/lib"),
                format!("-Wl,-rpath-link,{tools}/usr/lib"),
                "-lxenctrl".into(),
                "-lxencall".into(),
                "-lxenforeignmemory".into(),
            ],
        )?)
    } else {
        None
    };
    let domu_cpio = domu_initramfs(work, &udpclock)?;

    let mut image = xen_root(work.join("dom0-root"))?;
    image.copy_tree(format!("{tools}/."), "/")?;
    image.library_path(format!("{tools}/usr/lib:{tools}/usr/lib64"));
    image.host_tools(DOM0_HOST_TOOLS)?;
    for f in tool_binaries(tools_dir)? {
        image.libraries_of(&f)?;
    }
    image.library("/lib/x86_64-linux-gnu/libgcc_s.so.1");
    super::deploy::add_to_dom0(&mut image, kernel, work)?;
    image.install_libraries(Some(tools_dir))?;
    if let Some(rtcheck) = &rtcheck {
        image.copy(rtcheck, "/smooth/rtcheck")?;
    }
    image.copy(&udpclock, "/smooth/udpclock")?;
    // The guests boot the uncompressed ELF: from the bzImage, xl create
    // spends seconds of dom0's emulated CPU unpacking it for every guest.
    image.copy(&kernel.vmlinux(), "/smooth/vmlinux")?;
    image.copy(&domu_cpio, "/smooth/domu.cpio")?;
    for entry in std::fs::read_dir(repo_root().join("xen/tests"))? {
        let p = entry?.path();
        if p.is_file() {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            image.copy(&p, &format!("/smooth/tests/{name}"))?;
        }
    }
    image.write("/etc/hosts", "127.0.0.1 localhost\n")?;
    image.init(DOM0_INIT)?;
    let out = work.join("dom0.cpio");
    image.cpio(&out)?;
    Ok(out)
}

/// One test's outcome, as the dom0 script and the console report it.
pub struct XenTest {
    pub name: String,
    pub ok: bool,
    /// What a failure leaves for the reader beyond its name (a hung boot's
    /// last lines and the hypervisor's dump), printed with the summary.
    pub detail: Option<String>,
}

/// The names of the tests that failed.
pub fn failed(tests: &[XenTest]) -> Vec<&str> {
    tests
        .iter()
        .filter(|t| !t.ok)
        .map(|t| t.name.as_str())
        .collect()
}

/// The Xen build the tests boot: the cached one, or a development tree
/// standing in for it (`SMOOTH_XEN_PREBUILT=DIR` with `DIR/hv-debug/xen`
/// and `DIR/tools-dist`).
pub(super) fn xen_build() -> Result<XenBuild> {
    Ok(match std::env::var_os("SMOOTH_XEN_PREBUILT") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            XenBuild {
                xen_release: dir.join("hv-release/xen"),
                xen_debug: dir.join("hv-debug/xen"),
                tools: dir.join("tools-dist"),
                dir,
            }
        }
        None => build::ensure()?,
    })
}

/// Boots the patched debug Xen with a PV dom0 and runs the scheduler tests.
/// Every test the dom0 script reports is returned; a hypervisor assertion,
/// BUG, WARN or panic anywhere in the run is one more (failing) test.
pub fn run_tests(timeout: Duration) -> Result<Vec<XenTest>> {
    let xen = xen_build()?;
    let kernel = kernel::ensure(kernel::Variant::Base)?;
    let work = repo_root().join("target/xen");
    std::fs::create_dir_all(&work)?;
    let initrd = dom0_initramfs(&work, &xen.tools, &kernel, true)?;
    // SMOOTH_XEN_ONLY=SCRIPT[,SCRIPT…] boots those alone (development).
    let only = std::env::var("SMOOTH_XEN_ONLY").ok();
    let mut tests = Vec::new();
    for (cpus, script) in BOOTS {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|s| s == *script))
        {
            continue;
        }
        let spec = Boot {
            hypervisor: &xen.xen_debug,
            kernel: &kernel,
            initrd: &initrd,
            cpus: *cpus,
            sched: "credit",
            script,
            args: String::new(),
            log: work.join(format!("console-{}.log", script.trim_end_matches(".sh"))),
            timeout,
        };
        tests.extend(spec.run(|_| ())?);
    }
    if tests.is_empty() {
        bail!("SMOOTH_XEN_ONLY names none of the boots' scripts");
    }
    Ok(tests)
}

/// What a boot killed at its timeout leaves for the summary: how long the
/// console had been silent, its last lines, and what Xen's debug keys
/// dumped, less the memory, register and raw stack lines (the whole dump is
/// in the log).
fn hang_diagnosis(
    script: &str,
    timeout: Duration,
    ended: &Ended,
    raw: &[String],
    log: &Path,
) -> String {
    let before = ended.lines_before_timeout.min(raw.len());
    let mut text = format!(
        "{script} timed out after {:.0} s, its console silent for the last {:.0} s ({}); \
         its last lines:\n",
        timeout.as_secs_f64(),
        timeout.saturating_sub(ended.last_line_at).as_secs_f64(),
        log.display()
    );
    for line in &raw[before.saturating_sub(HANG_CONTEXT)..before] {
        text += &format!("    | {line}\n");
    }
    let dump: Vec<&String> = raw[before..].iter().filter(|l| !dump_noise(l)).collect();
    text += &format!(
        "  the hypervisor's dump (debug keys r q 0 d), {} lines{}:\n",
        dump.len(),
        if dump.len() > HANG_DUMP {
            ", the first shown"
        } else {
            ""
        }
    );
    for line in dump.into_iter().take(HANG_DUMP) {
        text += &format!("    | {line}\n");
    }
    text
}

/// A line of Xen's debug dump that says nothing about where a boot hangs:
/// a domain's memory and rangesets, a register or a raw stack word.
fn dump_noise(line: &str) -> bool {
    const NOISE: &[&str] = &[
        "Rangesets",
        "Interrupts {",
        "I/O Memory",
        "I/O Ports",
        "log-dirty",
        "Memory pages",
        "DomPage",
        "XenPage",
        "NODE affinity",
        "refcnt=",
        "nr_pages=",
        "handle=",
        "rax:",
        "rdx:",
        "rbp:",
        "r9:",
        "r12:",
        "r15:",
        "cr3:",
        "fsb:",
        "ds:",
        "code around",
        " <48>",
    ];
    let body = line.split_once("] ").map_or(line, |(_, b)| b).trim();
    NOISE.iter().any(|n| body.contains(n))
        || (!body.is_empty()
            && body
                .split(' ')
                .all(|w| w.len() == 16 && w.bytes().all(|b| b.is_ascii_hexdigit())))
}

/// dom0's console lines, put back together. dom0 and the hypervisor share
/// the serial console: a hypervisor message (`(XEN) [time] …`, a whole
/// line) can land in the middle of a line dom0 is writing, whose rest then
/// starts the next console line. `push` returns the lines as they were
/// meant: the hypervisor's message, and dom0's line once it is whole.
#[derive(Default)]
pub(super) struct Splicer {
    /// The start of a dom0 line a hypervisor message cut.
    cut: Option<String>,
}

impl Splicer {
    pub fn push(&mut self, text: &str) -> Vec<String> {
        if text.starts_with("(XEN) ") {
            return vec![text.to_string()];
        }
        let whole = match self.cut.take() {
            Some(head) => head + text,
            None => text.to_string(),
        };
        match whole.find("(XEN) [") {
            Some(at) if !whole[..at].trim().is_empty() => {
                self.cut = Some(whole[..at].to_string());
                vec![whole[at..].to_string()]
            }
            _ => vec![whole],
        }
    }
}

/// The JSON value at the start of `text`, what a dom0 script printed after
/// its marker. dom0 and the hypervisor share the serial console, so a
/// hypervisor message can follow dom0's line on the same console line: what
/// trails the value is not dom0's. A value the hypervisor broke into is an
/// error.
pub(super) fn first_json(text: &str) -> serde_json::Result<serde_json::Value> {
    use serde::de::Error;
    serde_json::Deserializer::from_str(text)
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(serde_json::Error::custom("no JSON value")))
}

/// dom0's lines before a failed test that its report quotes: what the
/// script measured and printed for it (a deadline check's figures, say).
const FAIL_CONTEXT: usize = 8;

/// What one boot's console said: the tests dom0 reported, and the
/// hypervisor's trouble lines.
#[derive(Default)]
struct Console {
    tests: Vec<XenTest>,
    trouble: Vec<String>,
    /// dom0's lines since the last test it reported.
    since_test: Vec<String>,
    /// The script printed its last line.
    finished: bool,
}

impl Console {
    fn read(&mut self, line: &str) {
        if line.contains(END_MARKER) {
            self.finished = true;
        }
        if let Some(rest) = line.split(TEST_MARKER).nth(1) {
            if let Some((verdict, name)) = rest.trim().split_once(' ') {
                let ok = verdict == "PASS";
                let context = &self.since_test;
                self.tests.push(XenTest {
                    name: format!("xen: {name}"),
                    ok,
                    detail: (!ok && !context.is_empty()).then(|| {
                        context.iter().fold(
                            format!("xen: {name}: failed after dom0 printed:\n"),
                            |text, l| text + "    | " + l + "\n",
                        )
                    }),
                });
            }
            self.since_test.clear();
        } else if !line.starts_with("(XEN) ") && !line.trim().is_empty() {
            if self.since_test.len() == FAIL_CONTEXT {
                self.since_test.remove(0);
            }
            self.since_test.push(line.trim_end().to_string());
        }
        if XEN_TROUBLE.iter().any(|t| line.contains(t)) {
            self.trouble.push(line.to_string());
        }
    }

    /// Whether dom0's script ran to its end: it printed its last line
    /// ([`END_MARKER`]) and dom0 then reported its exit status. A script
    /// stopped early (`set -u`, a syntax error, an early `exit`) never
    /// reported the tests after that point. The test's name is the caller's.
    fn script_ended(&self, exit: Option<i32>) -> XenTest {
        let (ok, detail) = match exit {
            Some(_) if self.finished => (true, None),
            Some(status) => (
                false,
                Some(self.since_test.iter().fold(
                    format!(
                        "the script stopped before its end (exit status {status}, no \
                         {END_MARKER} line), after dom0 printed:\n"
                    ),
                    |text, l| text + "    | " + l + "\n",
                )),
            ),
            None => (
                false,
                Some("dom0 never printed the script's exit status".into()),
            ),
        };
        XenTest {
            name: String::new(),
            ok,
            detail,
        }
    }
}

/// One boot: a hypervisor on `cpus` pCPUs with `sched=`, dom0 pinned to
/// pCPU 0 running `xen/tests/<script>`.
pub(super) struct Boot<'a> {
    pub hypervisor: &'a Path,
    pub kernel: &'a Kernel,
    /// dom0's initramfs.
    pub initrd: &'a Path,
    pub cpus: u32,
    /// Xen's `sched=`.
    pub sched: &'a str,
    pub script: &'a str,
    /// More words for dom0's kernel command line (`smooth_…=` for the
    /// script).
    pub args: String,
    /// Where the console is kept.
    pub log: PathBuf,
    pub timeout: Duration,
}

impl Boot<'_> {
    /// Boots; every console line also goes to `line`. Returns the tests the
    /// script reported, "ran to its end" and "no assertion, BUG, WARN or
    /// panic in the hypervisor".
    pub fn run(&self, mut line: impl FnMut(&str)) -> Result<Vec<XenTest>> {
        let script = self.script;
        let machine = Machine {
            cpu: "qemu64",
            memory_mb: 2048,
            cpus: self.cpus,
            clock: Clock::Host,
            kernel: self.hypervisor,
            // Multiboot modules: dom0's kernel with its command line, its initrd.
            initrd: format!(
                "{} console=hvc0 earlyprintk=xen rdinit=/init smooth_script={script}{}{},{}",
                self.kernel.bzimage.display(),
                if self.args.is_empty() { "" } else { " " },
                self.args,
                self.initrd.display()
            ),
            append: format!(
                "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot \
                 console_timestamps=boot dom0_mem=512M,max:512M dom0_max_vcpus=1 \
                 dom0_vcpus_pin sched={}",
                self.sched
            ),
            extra: &["-serial", "stdio", "-monitor", "none"],
            exit_marker: EXIT_MARKER,
            // Xen has panicked and halts (`noreboot`).
            halt_marker: Some("Manual reset required"),
            timeout: self.timeout,
            dump_keys: XEN_DUMP_KEYS,
            log: Some(self.log.clone()),
        };
        eprintln!(
            "[xen] booting {} (sched={}, {script})",
            self.hypervisor.display(),
            self.sched
        );
        let mut console = Console::default();
        let mut splicer = Splicer::default();
        let mut raw = Vec::new();
        let ended = machine.boot(|text| {
            raw.push(text.to_string());
            for text in splicer.push(text) {
                console.read(&text);
                line(&text);
            }
            true
        })?;
        eprintln!(
            "[xen] run took {:.0} s; console: {}",
            ended.elapsed.as_secs_f64(),
            self.log.display()
        );
        let ran = if ended.timed_out {
            let diagnosis = hang_diagnosis(script, self.timeout, &ended, &raw, &self.log);
            XenTest {
                name: String::new(),
                ok: false,
                detail: Some(diagnosis),
            }
        } else {
            console.script_ended(ended.exit)
        };
        let mut tests = console.tests;
        tests.push(XenTest {
            name: format!("xen: {script} ran to its end"),
            ..ran
        });
        for t in &console.trouble {
            println!("  hypervisor trouble: {t}");
        }
        tests.push(XenTest {
            name: format!("xen: {script}: no assertion, BUG, WARN or panic in the hypervisor"),
            ok: console.trouble.is_empty() && ended.exit.is_some(),
            detail: None,
        });
        Ok(tests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hang_is_diagnosed_from_its_last_lines_and_the_dump() {
        let raw: Vec<String> = [
            "SMOOTH-XEN-TEST: PASS placement: two pCPUs",
            "SMOOTH-XEN-TEST: PASS placement: dom0 made the pool's driver domain",
            "(XEN) [  89.59] *** Serial input to Xen (type 'CTRL-a' three times to switch input)",
            "(XEN) [  89.60] CPU[00] current=d0v0, curr=d0v0, prev=NULL",
            "(XEN) [  89.61]     XenPage 000000000007fbca: caf=c000000000000002",
            "(XEN) [  89.62]    ffff82d0403fa5ef ffff82d0405f45a2 00000014dc2b567d",
            "(XEN) [  89.63]    [<ffff82d0402621ff>] F printk+0x4d/0x53",
        ]
        .map(String::from)
        .to_vec();
        let ended = Ended {
            exit: None,
            timed_out: true,
            last_line_at: Duration::from_secs(100),
            lines_before_timeout: 2,
            elapsed: Duration::from_secs(1220),
        };
        let text = hang_diagnosis(
            "dom0-placement.sh",
            Duration::from_secs(1200),
            &ended,
            &raw,
            Path::new("x.log"),
        );
        assert!(
            text.starts_with("dom0-placement.sh timed out after 1200 s"),
            "{text}"
        );
        assert!(text.contains("silent for the last 1100 s"), "{text}");
        assert!(
            text.contains("| SMOOTH-XEN-TEST: PASS placement: dom0 made"),
            "{text}"
        );
        assert!(
            text.contains("dump (debug keys r q 0 d), 3 lines:"),
            "{text}"
        );
        assert!(
            text.contains("CPU[00] current=d0v0") && text.contains("F printk"),
            "{text}"
        );
        assert!(
            !text.contains("XenPage") && !text.contains("ffff82d0403fa5ef"),
            "{text}"
        );
    }

    #[test]
    fn console_reports_tests_and_trouble() {
        let mut console = Console::default();
        for line in [
            "(XEN) [   1.0] Xen version 4.17.5",
            "[  12.1] SMOOTH-XEN-TEST: PASS rt vCPU meets its deadline",
            "SMOOTH-XEN-TEST: FAIL placement",
            "(XEN) Assertion 'x' failed at common/sched/credit.c:100",
        ] {
            console.read(line);
        }
        let tests: Vec<(&str, bool)> = console
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.ok))
            .collect();
        assert_eq!(
            tests,
            [
                ("xen: rt vCPU meets its deadline", true),
                ("xen: placement", false)
            ]
        );
        assert_eq!(console.trouble.len(), 1);
    }

    #[test]
    fn a_failed_test_quotes_what_dom0_printed_since_the_last_one() {
        let mut console = Console::default();
        for line in [
            "SMOOTH-XEN-TEST: PASS placement: unpaused",
            "  pinned to dom0's pCPU 0: on pCPU 0",
            "(XEN) [  90.1] a hypervisor line",
            "SMOOTH-XEN-DEADLINES moved: 40 jobs started; > 10 ms: 1",
            "SMOOTH-XEN-TEST: FAIL placement: moved: its jobs start by their deadline",
            "SMOOTH-XEN-TEST: FAIL placement: right after",
            "SMOOTH-XEN-TEST: PASS placement: let go",
        ] {
            console.read(line);
        }
        let details: Vec<Option<&str>> =
            console.tests.iter().map(|t| t.detail.as_deref()).collect();
        assert_eq!(details[0], None);
        assert_eq!(
            details[1],
            Some(
                "xen: placement: moved: its jobs start by their deadline: failed after dom0 printed:\n    \
                 |   pinned to dom0's pCPU 0: on pCPU 0\n    \
                 | SMOOTH-XEN-DEADLINES moved: 40 jobs started; > 10 ms: 1\n"
            )
        );
        assert_eq!(details[2], None, "nothing printed since the last test");
        assert_eq!(details[3], None, "a pass quotes nothing");
    }

    #[test]
    fn a_script_that_stops_early_did_not_run_to_its_end() {
        let read = |lines: &[&str]| {
            let mut console = Console::default();
            for line in lines {
                console.read(line);
            }
            console
        };
        let passed = read(&[
            "SMOOTH-XEN-TEST: PASS sched: one",
            "SMOOTH-XEN-END: 0 failed",
        ]);
        assert!(passed.script_ended(Some(0)).ok);
        assert!(!passed.script_ended(None).ok, "no exit status");
        // `set -u` killed the script after a passing test.
        let stopped = read(&[
            "SMOOTH-XEN-TEST: PASS sched: one",
            "/smooth/tests/dom0-sched.sh: line 40: hog2: unbound variable",
        ]);
        let t = stopped.script_ended(Some(1));
        assert!(!t.ok);
        assert!(t
            .detail
            .unwrap()
            .contains("line 40: hog2: unbound variable"));
        // A failure reported, then the script stopped: it did not end.
        let failed = read(&[
            "SMOOTH-XEN-TEST: PASS sched: one",
            "SMOOTH-XEN-TEST: FAIL sched: two",
        ]);
        assert!(!failed.script_ended(Some(1)).ok);
        let ended = read(&[
            "SMOOTH-XEN-TEST: FAIL sched: two",
            "SMOOTH-XEN-END: 1 failed",
        ]);
        assert!(
            ended.script_ended(Some(1)).ok,
            "its failures are the tests'"
        );
    }

    #[test]
    fn splicer_puts_back_a_line_a_hypervisor_message_cut() {
        let mut s = Splicer::default();
        let mut out = Vec::new();
        for text in [
            r#"SMOOTH-XEN-BENCH {"rtt_ms":[2.1,7.4(XEN) [  176.8] burn_budget, ATTENTION"#,
            "(XEN) [  176.9] another message",
            r#",6.6]}"#,
            "  (XEN) [   1.0] xl dmesg, as a script indents it",
            "SMOOTH-XEN-TEST: PASS whole",
        ] {
            out.extend(s.push(text));
        }
        assert_eq!(
            out,
            [
                "(XEN) [  176.8] burn_budget, ATTENTION",
                "(XEN) [  176.9] another message",
                r#"SMOOTH-XEN-BENCH {"rtt_ms":[2.1,7.4,6.6]}"#,
                "  (XEN) [   1.0] xl dmesg, as a script indents it",
                "SMOOTH-XEN-TEST: PASS whole",
            ]
        );
    }

    #[test]
    fn first_json_ignores_what_the_hypervisor_appended() {
        let line = r#"{"kind":"part","rtt_ms":[2.6,3.5]}(XEN) [  133.0] burn_budget, ATTENTION"#;
        let v = first_json(line).unwrap();
        assert_eq!(v["rtt_ms"][1], 3.5);
        assert!(first_json(r#"{"kind":"part","rtt_ms":[2.6,(XEN) [ 1.0] x 3.5]}"#).is_err());
        assert!(first_json("  ").is_err());
    }
}
