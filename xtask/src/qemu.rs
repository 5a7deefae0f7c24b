//! The QEMU runner every guest uses — the netns test guest (`vm.rs`) and Xen
//! with its dom0 (`xen/boot.rs`): one command line (TCG, serial console on
//! stdout, no network, no reboot) and one console reader that echoes and logs
//! the console, hands each line to the caller, reads the guest's exit marker
//! and kills a guest that has not finished within its timeout (after asking
//! it, if the caller says how, to dump its state on the console).

use crate::util::forward_lines;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a timed-out guest is given to answer each of `dump_keys`.
const DUMP_PACE: Duration = Duration::from_secs(5);

/// Where the guest's time comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Clock {
    /// TCG's default: the guest reads the host's clock, so every pause the
    /// host's scheduler or the translator puts into the emulation passes in
    /// the guest too, as noise on whatever the guest times.
    Host,
    /// `-icount shift=0,sleep=off`: time counts the instructions executed,
    /// one nanosecond each (a 1 GIPS CPU, slower than a current host core),
    /// and when every vCPU idles it jumps to the next timer. The guest's
    /// kernel and programs run unchanged, but their timings no longer
    /// carry the emulator's pauses, and a run is repeatable; the vCPUs take
    /// turns on one host thread, so the guest runs as fast as the host
    /// emulates one of them, and idle time costs nothing.
    Instructions,
}

impl Clock {
    fn args(self) -> &'static [&'static str] {
        match self {
            Clock::Host => &[],
            Clock::Instructions => &["-icount", "shift=0,sleep=off"],
        }
    }

    /// How a results page names the platform.
    pub fn describe(self) -> &'static str {
        match self {
            Clock::Host => "QEMU TCG",
            Clock::Instructions => {
                "QEMU TCG with an instruction-counting clock (`-icount shift=0,sleep=off`: 1 ns an instruction)"
            }
        }
    }
}

/// One QEMU boot.
pub struct Machine<'a> {
    /// `-cpu` model.
    pub cpu: &'a str,
    /// Memory, MiB.
    pub memory_mb: u32,
    pub cpus: u32,
    pub clock: Clock,
    /// What `-kernel` loads (a bzImage, or Xen with its multiboot modules).
    pub kernel: &'a Path,
    /// `-initrd`: the initramfs (for Xen: the modules, `image args,initrd`).
    pub initrd: String,
    /// `-append`.
    pub append: String,
    /// More QEMU arguments.
    pub extra: &'a [&'a str],
    /// The line the guest prints last, followed by its status:
    /// `<marker> <status>`, anywhere in a console line.
    pub exit_marker: &'a str,
    /// A line after which nothing more will come (the machine halted for
    /// good, e.g. Xen's panic under `noreboot`): QEMU is stopped at once
    /// instead of waiting out the timeout.
    pub halt_marker: Option<&'a str>,
    /// After this the guest is killed.
    pub timeout: Duration,
    /// Typed on the console when the timeout strikes, one every
    /// `DUMP_PACE` (e.g. Xen's debug keys: one queued while the last is
    /// handled would be lost), so that a hung guest leaves its own account
    /// of where it hangs in the log; QEMU is killed `DUMP_PACE` after the
    /// last.
    pub dump_keys: &'a [&'a [u8]],
    /// Where the console is written, if anywhere.
    pub log: Option<PathBuf>,
}

/// How a boot ended.
pub struct Ended {
    /// The status after the exit marker; `None` if the guest printed none.
    pub exit: Option<i32>,
    /// The guest was killed at its timeout.
    pub timed_out: bool,
    /// When the last console line before the timeout came (from the start).
    pub last_line_at: Duration,
    /// The console lines read before the timeout (all of them if none):
    /// what follows answers `dump_keys`.
    pub lines_before_timeout: usize,
    pub elapsed: Duration,
}

impl Machine<'_> {
    fn command(&self) -> Command {
        let mut qemu = Command::new("qemu-system-x86_64");
        qemu.args(["-accel", "tcg", "-cpu", self.cpu])
            .args(["-m", &self.memory_mb.to_string()])
            .args(["-smp", &self.cpus.to_string()])
            .args(["-nographic", "-no-reboot", "-nic", "none"])
            .args(self.clock.args())
            .args(self.extra)
            .arg("-kernel")
            .arg(self.kernel)
            .args(["-initrd", &self.initrd])
            .args(["-append", &self.append])
            .stdin(if !self.dump_keys.is_empty() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        qemu
    }

    /// Boots and reads the console until QEMU exits or the timeout kills it.
    /// Every line goes to the log and to `line`, and is echoed (indented)
    /// unless `line` returns false.
    pub fn boot(&self, mut line: impl FnMut(&str) -> bool) -> Result<Ended> {
        let start = Instant::now();
        let mut child = self
            .command()
            .spawn()
            .context("cannot start qemu-system-x86_64")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = forward_lines(child.stdout.take().expect("piped"), tx);
        let mut log = match &self.log {
            Some(path) => Some(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            ),
            None => None,
        };
        // Kept open (if piped) for the dump keys: QEMU must not see EOF.
        let mut keys_in = child.stdin.take();
        let mut ended = Ended {
            exit: None,
            timed_out: false,
            last_line_at: Duration::ZERO,
            lines_before_timeout: 0,
            elapsed: Duration::ZERO,
        };
        let mut deadline = self.timeout;
        let mut keys = self.dump_keys.iter();
        loop {
            let left = deadline.saturating_sub(start.elapsed());
            match rx.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(text) => {
                    if !ended.timed_out {
                        ended.last_line_at = start.elapsed();
                        ended.lines_before_timeout += 1;
                    }
                    if let Some(log) = &mut log {
                        writeln!(log, "{text}")?;
                    }
                    if line(&text) {
                        println!("  {text}");
                    }
                    if let Some(rc) = text.split(self.exit_marker).nth(1) {
                        ended.exit = rc.trim().parse::<i32>().ok();
                    }
                    if self.halt_marker.is_some_and(|m| text.contains(m)) {
                        let _ = child.kill();
                        break;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if start.elapsed() >= deadline {
                ended.timed_out = true;
                match (keys_in.as_mut(), keys.next()) {
                    (Some(input), Some(key)) => {
                        let _ = input.write_all(key).and_then(|()| input.flush());
                        deadline += DUMP_PACE;
                    }
                    _ => {
                        let _ = child.kill();
                        break;
                    }
                }
            }
        }
        drop(keys_in);
        let _ = child.wait();
        reader.join().ok();
        ended.elapsed = start.elapsed();
        Ok(ended)
    }
}
