//! What the project puts into a guest: the netns test scripts, the kernel
//! module built against the test kernel, and the userspace front ends as
//! they land.

use crate::kernel::Kernel;
use crate::util::{repo_root, run, run_logged};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `sch_smooth.ko` against `kernel` (a few seconds when only the
/// module changed) and returns its path.
///
/// Kbuild builds an external module in its source directory, so each kernel
/// variant gets its own copy of the module's sources (and of smooth-core's,
/// which it includes by relative path) under `target/`: runs against
/// different kernels never overwrite each other's objects. `cp -p` keeps
/// the timestamps, so rebuilds stay incremental.
pub fn module(kernel: &Kernel) -> Result<PathBuf> {
    let root = repo_root()
        .join("target/kbuild")
        .join(kernel.variant.name());
    let dir = root.join("sch_smooth");
    let core = root.join("smooth-core/src");
    std::fs::create_dir_all(&dir)?;
    std::fs::create_dir_all(&core)?;
    let copy = |from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool| -> Result<()> {
        let mut cp = Command::new("cp");
        cp.arg("-p");
        for entry in std::fs::read_dir(from)? {
            let path = entry?.path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_file() && keep(&name) {
                cp.arg(path);
            }
        }
        run(cp.arg(to))
    };
    copy(&repo_root().join("sch_smooth"), &dir, &|n| {
        n == "Kbuild"
            || n == "Makefile"
            || [".rs", ".c", ".h"].iter().any(|e| n.ends_with(e))
                && n != "qdisc_bindings.rs"
                && !n.ends_with(".mod.c")
    })?;
    copy(&repo_root().join("smooth-core/src"), &core, &|n| {
        n.ends_with(".rs")
    })?;
    let log = root.join("build.log");
    // Warnings fail the build: rustc's and clang's by flag, objtool's
    // (which only warns) from the log.
    run_logged(
        "module",
        kernel
            .make()
            .args(["KRUSTFLAGS=-Dwarnings", "KCFLAGS=-Werror"])
            .arg(format!("M={}", dir.display()))
            .arg("modules"),
        &log,
    )?;
    let output = std::fs::read_to_string(&log)?;
    if let Some(line) = output.lines().find(|l| l.contains("warning: objtool")) {
        anyhow::bail!("sch_smooth: {line}");
    }
    Ok(dir.join("sch_smooth.ko"))
}

/// Where the stock tc looks for plugins.
pub const TC_LIB_DIR: &str = "/usr/lib/x86_64-linux-gnu/tc";

/// Builds the userspace parts (release) and returns the target directory.
pub fn userspace() -> Result<PathBuf> {
    run(Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "q_smooth",
            "-p",
            "tc-smooth",
            "-p",
            "smooth-sim",
            "-p",
            "nlfuzz",
            "-p",
            "smooth-netlink",
        ])
        .current_dir(repo_root()))?;
    Ok(repo_root().join("target/release"))
}

/// Lists every file below `host` as placed below `guest`.
fn tree(host: &Path, guest: &str, files: &mut Vec<(PathBuf, String)>) -> Result<()> {
    for entry in std::fs::read_dir(host)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            tree(&path, &format!("{guest}/{name}"), files)?;
        } else if path.is_file() {
            files.push((path, format!("{guest}/{name}")));
        }
    }
    Ok(())
}

/// Builds the artefacts against `kernel` and lists them as
/// (host path, guest path).
pub fn build(kernel: &Kernel) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    tree(
        &repo_root().join("tests/netns"),
        "/smooth/tests/netns",
        &mut files,
    )?;
    tree(
        &repo_root().join("tests/tdc"),
        "/smooth/tests/tdc",
        &mut files,
    )?;
    // The kernel's own tc-testing harness (tdc), from the same source tree.
    let tdc = kernel.source_dir.join("tools/testing/selftests/tc-testing");
    tree(&tdc, "/smooth/tc-testing", &mut files)?;
    files.push((module(kernel)?, "/smooth/sch_smooth.ko".into()));
    let release = userspace()?;
    files.push((
        release.join("libq_smooth.so"),
        format!("{TC_LIB_DIR}/q_smooth.so"),
    ));
    files.push((release.join("tc-smooth"), "/usr/sbin/tc-smooth".into()));
    // The benchmark's trace replayer (`smooth-sim replay-send|replay-recv`).
    files.push((release.join("smooth-sim"), "/usr/sbin/smooth-sim".into()));
    // The netlink fuzzer (tests/netns/test_netlink_fuzz.sh).
    files.push((
        release.join("smooth-nlfuzz"),
        "/usr/sbin/smooth-nlfuzz".into(),
    ));
    // The raw netlink tool (`smooth-nl send`: test_smooth_uapi.sh; `smooth-nl
    // rate`: lib.sh's steady_rate, the robustness test, bench, demo).
    files.push((release.join("smooth-nl"), "/usr/sbin/smooth-nl".into()));
    files.push((
        repo_root().join("xen/scripts/vif-smooth"),
        "/smooth/xen/vif-smooth".into(),
    ));
    Ok(files)
}
