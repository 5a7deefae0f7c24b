//! `cargo xtask vm`: boots the test kernel under QEMU (TCG) with a busybox
//! initramfs that carries the host's networking tools and the project's
//! artefacts, runs one command inside, streams its output and returns the
//! guest command's exit status.

use crate::kernel::Kernel;
use crate::util::{output, repo_root, run};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    "touch", "sync", "usleep", "mktemp", "tee", "od", "hexdump", "md5sum",
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
    /// Optional extras a test asks for with a `# guest-needs: …` line:
    /// `python3` (the interpreter and its standard library), `tdc` (the
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

/// Python's standard library without what no test uses (25 MB less).
fn add_python(root: &Path, libs: &mut BTreeSet<PathBuf>) -> Result<()> {
    let python = std::fs::canonicalize("/usr/bin/python3")?;
    shared_libraries(&python, libs)?;
    copy_into(root, &python, &python.to_string_lossy())?;
    std::os::unix::fs::symlink(
        python.file_name().expect("a file"),
        root.join("usr/bin/python3"),
    )?;
    let stdlib = Path::new("/usr/lib").join(python.file_name().expect("a file"));
    run(Command::new("cp")
        .arg("-a")
        .arg(&stdlib)
        .arg(root.join("usr/lib")))?;
    let copied = root
        .join("usr/lib")
        .join(stdlib.file_name().expect("a dir"));
    for entry in std::fs::read_dir(&copied)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with("config-")
            || [
                "test",
                "lib2to3",
                "pydoc_data",
                "ensurepip",
                "idlelib",
                "tkinter",
            ]
            .contains(&name.as_str())
        {
            std::fs::remove_dir_all(&path)?;
        }
    }
    for entry in std::fs::read_dir(copied.join("lib-dynload"))? {
        shared_libraries(&entry?.path(), libs)?;
    }
    Ok(())
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

fn shared_libraries(binary: &Path, into: &mut BTreeSet<PathBuf>) -> Result<()> {
    libraries_with(binary, into, "")
}

/// Adds the `ldd` closure of `binary` to `into`, with `extra_path` as
/// `LD_LIBRARY_PATH` (for binaries from a staged tree, like Xen's tools).
pub fn libraries_with(binary: &Path, into: &mut BTreeSet<PathBuf>, extra_path: &str) -> Result<()> {
    let out = Command::new("ldd")
        .arg(binary)
        .env("LD_LIBRARY_PATH", extra_path)
        .output()?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x…)"; static binaries print nothing.
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            into.insert(PathBuf::from(p));
        }
    }
    Ok(())
}

/// Reads a guest's serial console line by line on a thread (QEMU writes
/// `\r\n`); the receiver yields lines until QEMU exits.
pub fn console_lines(
    stdout: std::process::ChildStdout,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (rx, reader)
}

/// Copies `host` to `guest` (an absolute path) below `root`.
pub fn copy_into(root: &Path, host: &Path, guest: &str) -> Result<()> {
    let dest = root.join(guest.trim_start_matches('/'));
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(host, &dest)
        .with_context(|| format!("copying {} into the guest", host.display()))?;
    Ok(())
}

fn resolve_tool(name: &str) -> Result<PathBuf> {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("{name} not found on the host: run `cargo xtask deps`")
}

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

impl Guest<'_> {
    /// Builds the initramfs under `work` and returns its path.
    fn initramfs(&self, work: &Path) -> Result<PathBuf> {
        let root = work.join("root");
        if root.exists() {
            std::fs::remove_dir_all(&root)?;
        }
        // A merged /usr, like the host: /bin/bash and /usr/bin/bash agree.
        for d in [
            "usr/bin",
            "usr/sbin",
            "usr/lib",
            "usr/lib64",
            "etc",
            "proc",
            "sys",
            "dev",
            "smooth",
        ] {
            std::fs::create_dir_all(root.join(d))?;
        }
        for d in ["bin", "sbin", "lib", "lib64"] {
            std::os::unix::fs::symlink(format!("usr/{d}"), root.join(d))?;
        }
        copy_into(&root, Path::new("/bin/busybox"), "/bin/busybox")?;
        for applet in APPLETS {
            std::os::unix::fs::symlink("busybox", root.join("usr/bin").join(applet))?;
        }
        let mut libs = BTreeSet::new();
        for tool in HOST_TOOLS {
            let host = resolve_tool(tool)?;
            shared_libraries(&host, &mut libs)?;
            copy_into(&root, &host, &host.to_string_lossy())?;
        }
        if self.needs.iter().any(|n| n == "python3") {
            add_python(&root, &mut libs)?;
        }
        for (host, guest) in &self.files {
            // Plugins and the project's own binaries bring their libraries.
            if host.extension().is_some_and(|e| e == "so") || guest.starts_with("/usr/sbin/") {
                shared_libraries(host, &mut libs)?;
            }
        }
        for lib in &libs {
            copy_into(&root, &std::fs::canonicalize(lib)?, &lib.to_string_lossy())?;
        }
        for etc in [
            "/etc/iproute2",
            "/etc/protocols",
            "/etc/services",
            "/etc/ethertypes",
        ] {
            if Path::new(etc).is_dir() {
                run(Command::new("cp").arg("-a").arg(etc).arg(root.join("etc")))?;
            } else if Path::new(etc).is_file() {
                copy_into(&root, Path::new(etc), etc)?;
            }
        }
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )?;
        std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")?;
        std::fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n")?;
        for (host, guest) in &self.files {
            copy_into(&root, host, guest)?;
        }
        std::fs::write(
            root.join("smooth/command.sh"),
            format!("{}\n", self.command),
        )?;
        let init = root.join("init");
        std::fs::write(&init, INIT)?;
        run(Command::new("chmod").arg("+x").arg(&init))?;
        let cpio = work.join("initramfs.cpio");
        run(Command::new("sh").current_dir(&root).arg("-c").arg(format!(
            "find . | cpio -o -H newc -R 0:0 --quiet > '{}'",
            cpio.display()
        )))?;
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
        let mut qemu = Command::new("qemu-system-x86_64");
        qemu.args([
            "-accel",
            "tcg",
            "-cpu",
            "max",
            "-m",
            "1024",
            "-nographic",
            "-no-reboot",
        ])
        .args(["-nic", "none", "-smp", &self.cpus.to_string()])
        .arg("-kernel")
        .arg(&self.kernel.bzimage)
        .arg("-initrd")
        .arg(&cpio)
        // The variant is on the command line so tests can tell a debug
        // kernel (KASAN slows the emulated guest several times) apart.
        .arg("-append")
        .arg(format!(
            "console=ttyS0 panic=-1 oops=panic loglevel=4 tsc=reliable smooth.variant={}",
            self.kernel.variant.name()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        let start = Instant::now();
        let mut child = qemu.spawn().context("cannot start qemu-system-x86_64")?;
        let (rx, reader) = console_lines(child.stdout.take().expect("piped"));
        let mut status = None;
        let mut data = Vec::new();
        loop {
            let left = self.timeout.saturating_sub(start.elapsed());
            match rx.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(line) => {
                    if let Some(payload) = line.trim_start().strip_prefix(DATA_MARKER) {
                        println!("  [{} bytes of data]", payload.len());
                        data.push(payload.to_string());
                        continue;
                    }
                    println!("  {line}");
                    if let Some(rc) = line.trim().strip_prefix(EXIT_MARKER) {
                        status = rc.trim().parse::<i32>().ok();
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if start.elapsed() >= self.timeout {
                        let _ = child.kill();
                        let _ = child.wait();
                        bail!(
                            "guest `{name}` timed out after {} s and was killed (no exit marker)",
                            self.timeout.as_secs()
                        );
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        reader.join().ok();
        child.wait()?;
        match status {
            Some(status) => Ok(Outcome { status, data }),
            None => {
                bail!("guest `{name}` stopped without reporting an exit status (kernel panic?)")
            }
        }
    }
}

/// `uname -r` of the host, to show that tests ran in the guest kernel.
pub fn host_release() -> String {
    output(Command::new("uname").arg("-r")).unwrap_or_default()
}
