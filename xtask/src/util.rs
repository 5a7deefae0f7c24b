//! Small helpers shared by the subcommands: running programs, the cache
//! directory, and progress reporting for long steps.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The workspace root (the parent of `xtask/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Where expensive artefacts (kernel trees, bindgen) live: outside the repo,
/// so a fresh clone reuses them, keyed by content so a change rebuilds.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SMOOTH_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("smooth")
}

/// Formats a command line for messages.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command, inheriting stdio; fails with the command line on error.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{}`", show(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", show(cmd));
    }
    Ok(())
}

/// Runs a command and returns its trimmed stdout.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start `{}`", show(cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", show(cmd), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs a long command with its output going to `log`, printing a progress
/// line (phase, elapsed time, latest log line) every 30 s instead of silence.
pub fn run_logged(phase: &str, cmd: &mut Command, log: &Path) -> Result<()> {
    let start = Instant::now();
    eprintln!("[{phase}] started; full log: {}", log.display());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{}`", show(cmd)))?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let t1 = forward_lines(child.stdout.take().expect("piped"), tx.clone());
    let t2 = forward_lines(child.stderr.take().expect("piped"), tx);
    let mut file = std::fs::File::create(log)?;
    let mut last = String::new();
    let mut next_report = 30;
    let mut tail: std::collections::VecDeque<String> = Default::default();
    loop {
        match rx.recv_timeout(std::time::Duration::from_secs(1)) {
            Ok(line) => {
                use std::io::Write;
                writeln!(file, "{line}")?;
                if tail.len() == 40 {
                    tail.pop_front();
                }
                tail.push_back(line.clone());
                last = line;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let secs = start.elapsed().as_secs();
        if secs >= next_report {
            eprintln!("[{phase}] {secs} s: {}", last.trim());
            next_report = secs + 30;
        }
    }
    t1.join().ok();
    t2.join().ok();
    let status = child.wait()?;
    let secs = start.elapsed().as_secs();
    if !status.success() {
        for line in &tail {
            eprintln!("  | {line}");
        }
        bail!(
            "[{phase}] failed after {secs} s ({status}); see {}",
            log.display()
        );
    }
    eprintln!("[{phase}] done in {secs} s");
    Ok(())
}

/// Reads `from` line by line on a thread and sends each line to `to` (a
/// trailing `\r` dropped — QEMU's console writes `\r\n` — and bytes that are
/// not UTF-8 replaced), until the end of the stream or until nobody listens.
pub fn forward_lines(
    from: impl Read + Send + 'static,
    to: std::sync::mpsc::Sender<String>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(from).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if to.send(line).is_err() {
                break;
            }
        }
    })
}

/// Whether we run as root (needed for apt-get and for nothing else).
pub fn is_root() -> bool {
    output(Command::new("id").arg("-u"))
        .map(|u| u == "0")
        .unwrap_or(false)
}
