//! The netns test guest (`cargo xtask vm`, `demo`, `bench` and every VM
//! test): boots the test kernel under QEMU (TCG, `qemu.rs`) with a busybox
//! initramfs (`image.rs`) that carries the host's networking tools and the
//! project's artefacts, runs one command inside, streams its output and
//! returns the guest command's exit status.

use crate::artefacts;
use crate::image::Image;
use crate::kernel::{self, Kernel};
use crate::qemu::{Clock, Machine};
use crate::util::{output, repo_root};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Printed by the guest's /init after the command; carries its status.
const EXIT_MARKER: &str = "SMOOTH-GUEST-EXIT:";

/// Host programs copied into the guest with their shared libraries. `ip`
/// and `tc` are the real iproute2 binaries: busybox's applets are never
/// linked under those names.
const HOST_TOOLS: &[&str] = &[
    "bash",
    "ip",
    "tc",
    "iperf3",
    "irtt",
    "ab",
    "sockperf",
    "jq",
    "bridge",
    "netperf",
    "netserver",
];

/// Busybox applets linked into /bin.
const APPLETS: &[&str] = &[
    "sh", "mount", "umount", "mkdir", "cat", "echo", "sleep", "grep", "awk", "sed", "ps", "kill",
    "killall", "dmesg", "poweroff", "reboot", "insmod", "rmmod", "lsmod", "ping", "httpd", "seq",
    "wc", "head", "tail", "cut", "tr", "sort", "date", "ls", "rm", "cp", "mv", "ln", "true",
    "false", "test", "[", "printf", "uname", "env", "timeout", "xargs", "find", "expr", "hostname",
    "nc", "wget", "wait", "pidof", "uniq", "bc", "dd", "stat", "basename", "dirname", "chmod",
    "touch", "sync", "usleep", "mktemp", "tee", "od", "hexdump", "md5sum", "taskset",
];

/// One guest run.
pub struct Guest<'a> {
    pub kernel: &'a Kernel,
    /// Files to place in the guest: (host path, guest path).
    pub files: Vec<(PathBuf, String)>,
    /// Shell command run by bash in /smooth.
    pub command: String,
    pub timeout: Duration,
    pub cpus: u32,
    pub clock: Clock,
    /// Optional extras a test asks for with a `# guest-needs: …` line:
    /// `python3` (the interpreter and its standard library), `flent`
    /// (python3, flent, D-ITG and fping: [`Image::flent`]), `tdc` (the
    /// kernel's tc-testing harness and the project's tdc cases).
    pub needs: Vec<String>,
}

/// Reads the `# guest-needs: a b` line of a test script.
pub fn script_needs(script: &Path) -> Vec<String> {
    std::fs::read_to_string(script)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("# guest-needs:"))
        .map(|rest| rest.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// How a guest run ended: the guest command's exit status, and the
/// payloads of the lines it marked as data ([`DATA_MARKER`]).
pub struct Outcome {
    pub status: i32,
    pub data: Vec<String>,
}

/// A console line starting with this carries data for the host (a
/// benchmark run as JSON); it is collected, not echoed.
pub const DATA_MARKER: &str = "SMOOTH-BENCH ";

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mkdir -p /dev/pts /dev/shm /tmp /run /var/run /var/tmp /root
/bin/busybox mount -t devpts devpts /dev/pts
/bin/busybox mount -t tmpfs tmp /tmp
/bin/busybox mount -t tmpfs run /run
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
ip link set lo up
echo "smooth-guest: kernel $(uname -r), $(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo) cpus"
cd /smooth
/bin/bash /smooth/command.sh
rc=$?
# A kernel warning, oops or sanitizer report fails the run whatever the
# command said.
if [ -e /sys/kernel/debug/kmemleak ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null; then
    if [ -e /sys/kernel/debug/kmemleak ]; then
        echo scan > /sys/kernel/debug/kmemleak; sleep 1; echo scan > /sys/kernel/debug/kmemleak
        if [ -s /sys/kernel/debug/kmemleak ]; then cat /sys/kernel/debug/kmemleak; echo "smooth-guest: kmemleak reports leaks"; rc=98; fi
    fi
fi
if dmesg | grep -E 'WARNING:|BUG:|Oops|KASAN|UBSAN|possible recursive locking|circular locking|rust_panic|panicked at'; then
    echo "smooth-guest: kernel log shows a warning (above)"
    [ "$rc" = 0 ] && rc=99
fi
echo "SMOOTH-GUEST-EXIT: $rc"
poweroff -f
"#;

/// Host configuration files the guest's tools read.
const HOST_ETC: &[&str] = &[
    "/etc/iproute2",
    "/etc/protocols",
    "/etc/services",
    "/etc/ethertypes",
];

impl Guest<'_> {
    /// Builds the initramfs under `work` and returns its path.
    fn initramfs(&self, work: &Path) -> Result<PathBuf> {
        let mut image = Image::new(work.join("root"), &[], APPLETS)?;
        image.host_tools(HOST_TOOLS)?;
        if self.needs.iter().any(|n| n == "python3") {
            image.python3()?;
        }
        if self.needs.iter().any(|n| n == "flent") {
            image.flent()?;
        }
        for (host, guest) in &self.files {
            // Plugins and the project's own binaries bring their libraries.
            if host.extension().is_some_and(|e| e == "so") || guest.starts_with("/usr/sbin/") {
                image.libraries_of(host)?;
            }
        }
        image.install_libraries(None)?;
        for etc in HOST_ETC {
            if Path::new(etc).is_dir() {
                image.copy_tree(etc, "/etc")?;
            } else if Path::new(etc).is_file() {
                image.copy(Path::new(etc), etc)?;
            }
        }
        image.write(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )?;
        image.write("/etc/group", "root:x:0:\nnogroup:x:65534:\n")?;
        image.write("/etc/hosts", "127.0.0.1 localhost\n")?;
        for (host, guest) in &self.files {
            image.copy(host, guest)?;
        }
        image.write("/smooth/command.sh", &format!("{}\n", self.command))?;
        image.init(INIT)?;
        let cpio = work.join("initramfs.cpio");
        image.cpio(&cpio)?;
        Ok(cpio)
    }

    /// Boots, runs the command, and returns its status and output. Fails
    /// (rather than returning a status) if the guest hangs or dies before
    /// reporting.
    pub fn run(&self, name: &str) -> Result<Outcome> {
        // Per process: two runs from one tree (a developer's and a helper's)
        // must not build their initramfs in the same directory.
        let work = repo_root()
            .join("target/vm")
            .join(format!("{name}.{}", std::process::id()));
        std::fs::create_dir_all(&work)?;
        let result = self.boot(name, &work);
        let _ = std::fs::remove_dir_all(&work);
        result
    }

    fn boot(&self, name: &str, work: &Path) -> Result<Outcome> {
        let cpio = self.initramfs(work)?;
        let machine = Machine {
            cpu: "max",
            memory_mb: 1024,
            cpus: self.cpus,
            clock: self.clock,
            kernel: &self.kernel.bzimage,
            initrd: cpio.to_string_lossy().into_owned(),
            // The variant is on the command line so tests can tell a debug
            // kernel (KASAN slows the emulated guest several times) apart.
            append: format!(
                "console=ttyS0 panic=-1 oops=panic loglevel=4 tsc=reliable smooth.variant={}",
                self.kernel.variant.name()
            ),
            extra: &[],
            exit_marker: EXIT_MARKER,
            halt_marker: None,
            timeout: self.timeout,
            dump_keys: &[],
            log: None,
        };
        let mut data = Vec::new();
        let ended = machine.boot(|line| match line.trim_start().strip_prefix(DATA_MARKER) {
            Some(payload) => {
                println!("  [{} bytes of data]", payload.len());
                data.push(payload.to_string());
                false
            }
            None => true,
        })?;
        if ended.timed_out {
            bail!(
                "guest `{name}` timed out after {} s and was killed (no exit marker)",
                self.timeout.as_secs()
            );
        }
        match ended.exit {
            Some(status) => Ok(Outcome { status, data }),
            None => {
                bail!("guest `{name}` stopped without reporting an exit status (kernel panic?)")
            }
        }
    }
}

/// `cargo xtask vm` and `cargo xtask demo`: boots the `variant` kernel with
/// the project's artefacts, runs `command` (with python3 at hand) and exits
/// with its status.
pub fn run_command(
    variant: kernel::Variant,
    name: &str,
    command: String,
    timeout: Duration,
) -> Result<()> {
    let kernel = kernel::ensure(variant)?;
    let guest = Guest {
        kernel: &kernel,
        files: artefacts::build(&kernel)?,
        command,
        timeout,
        cpus: 2,
        clock: Clock::Host,
        needs: vec!["python3".into()],
    };
    let outcome = guest.run(name)?;
    std::process::exit(outcome.status);
}

/// `uname -r` of the host, to show that tests ran in the guest kernel.
pub fn host_release() -> String {
    output(Command::new("uname").arg("-r")).unwrap_or_default()
}
