//! `cargo xtask kernel`: builds the Rust-enabled Linux 6.12 the VM tests
//! boot, from Debian's linux-source-6.12, cached outside the repo under a
//! key that hashes everything that went into it.

use crate::deps::{bindgen_path, BINDGEN_VERSION};
use crate::qemu::Clock;
use crate::util::{cache_dir, output, repo_root, run, run_logged};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the build recipe below changes in a way the key cannot see.
const RECIPE: &str = "smooth-kernel-recipe-1";
const SOURCE_TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// Held (flock) for the duration of any kernel or Xen build.
pub const HEAVY_BUILD_LOCK: &str = "/tmp/smooth-heavy-build.lock";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// The configuration every CI run uses: the VM tests boot it under
    /// QEMU, and the Xen tests as PV dom0 and PV guests (one image, one
    /// build, one module build).
    Base,
    /// Base plus KASAN, lockdep and kmemleak.
    Debug,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Base => "base",
            Variant::Debug => "debug",
        }
    }

    fn fragments(self) -> Vec<PathBuf> {
        let dir = repo_root().join("xtask/kernel");
        let mut v = vec![
            dir.join("base.config"),
            dir.join("faults.config"),
            dir.join("xen.config"),
        ];
        if self == Variant::Debug {
            v.push(dir.join("debug.config"));
        }
        v
    }
}

/// A built kernel: the `O=` build directory (what modules build against)
/// and the bootable image.
pub struct Kernel {
    pub build_dir: PathBuf,
    pub source_dir: PathBuf,
    pub bzimage: PathBuf,
    pub variant: Variant,
}

impl Kernel {
    /// The uncompressed ELF image beside the bzImage.
    pub fn vmlinux(&self) -> PathBuf {
        self.build_dir.join("vmlinux")
    }

    /// `make` arguments shared by every invocation against this tree.
    pub fn make(&self) -> Command {
        make_cmd(&self.source_dir, &self.build_dir)
    }

    /// Where a run of `command` against this kernel came from: the command,
    /// the commit, the kernel, the machine and the date, one line.
    pub fn provenance(&self, command: &str, clock: Clock) -> String {
        let commit = output(
            Command::new("git")
                .current_dir(repo_root())
                .args(["describe", "--always", "--dirty"]),
        )
        .unwrap_or_else(|_| "unknown".into());
        format!(
            "`{command}` at {commit}; Linux {} ({} variant) under {}, 2 vCPUs, on an {} host with {} CPUs; {}",
            output(self.make().args(["-s", "kernelrelease"])).unwrap_or_else(|_| "?".into()),
            self.variant.name(),
            clock.describe(),
            output(Command::new("uname").arg("-m")).unwrap_or_default(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default(),
        )
    }
}

fn make_cmd(source: &Path, build: &Path) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(source)
        .arg(format!("O={}", build.display()))
        .args(["ARCH=x86_64", "LLVM=1"])
        .arg(format!("BINDGEN={}", bindgen_path().display()))
        .arg(format!("-j{}", jobs()));
    cmd
}

fn jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn source_version() -> Result<String> {
    output(Command::new("dpkg-query").args(["-W", "-f=${Version}", "linux-source-6.12"]))
        .context("linux-source-6.12 is not installed: run `cargo xtask deps`")
}

/// The cache key: everything that decides what the build produces.
fn cache_key(variant: Variant) -> Result<String> {
    let mut h = Sha256::new();
    h.update(RECIPE);
    h.update(source_version()?);
    for f in variant.fragments() {
        h.update(std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?);
    }
    h.update(output(Command::new("rustc").arg("--version"))?);
    h.update(BINDGEN_VERSION);
    h.update(output(Command::new("clang").arg("--version"))?);
    let hex = format!("{:x}", h.finalize());
    Ok(hex[..16].to_string())
}

/// Extracts the Debian source once per source version.
fn source_tree() -> Result<PathBuf> {
    let version = source_version()?;
    let dir = cache_dir().join(format!("linux-source-{version}"));
    let tree = dir.join("linux-source-6.12");
    let done = dir.join(".extracted");
    if !done.exists() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let log = dir.join("extract.log");
        run_logged(
            "kernel: extract",
            Command::new("tar")
                .arg("-C")
                .arg(&dir)
                .arg("-xf")
                .arg(SOURCE_TARBALL),
            &log,
        )?;
        std::fs::write(&done, "")?;
    }
    Ok(tree)
}

/// Checks that every `CONFIG_X=v` of the fragments really is in `.config`:
/// Kconfig silently drops options whose dependencies are missing.
fn verify_config(config: &Path, fragments: &[PathBuf]) -> Result<()> {
    let have = std::fs::read_to_string(config)?;
    let have: std::collections::HashSet<&str> = have.lines().collect();
    let mut missing = Vec::new();
    for f in fragments {
        for line in std::fs::read_to_string(f)?.lines() {
            let line = line.trim();
            if line.starts_with("CONFIG_") && !have.contains(line) {
                missing.push(line.to_string());
            }
        }
    }
    if !missing.is_empty() {
        bail!(
            "kernel config dropped requested options (missing dependencies?): {}",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Returns the cached kernel for `variant`, building it first if needed.
pub fn ensure(variant: Variant) -> Result<Kernel> {
    let key = cache_key(variant)?;
    let build_dir = cache_dir().join(format!("kernel-{}-{key}", variant.name()));
    let source_dir = source_tree()?;
    let kernel = Kernel {
        bzimage: build_dir.join("arch/x86/boot/bzImage"),
        build_dir: build_dir.clone(),
        source_dir: source_dir.clone(),
        variant,
    };
    let done = build_dir.join(".smooth-complete");
    let cached = || done.exists() && kernel.bzimage.exists();
    if !cached() {
        // One heavy build at a time on this machine (kernel, Xen), and never
        // two configure/build runs in the same tree: hold the machine-wide
        // lock (flock, shared with the Xen builds) from here to the end, and
        // look again once we have it — another run may have built it.
        let lock = std::fs::File::create(HEAVY_BUILD_LOCK)?;
        eprintln!("[kernel] waiting for {HEAVY_BUILD_LOCK}");
        lock.lock()?;
        let built = build(&kernel, variant, &key, &done);
        drop(lock);
        built?;
    }
    eprintln!(
        "[kernel] {} cached: {}",
        variant.name(),
        build_dir.display()
    );
    Ok(kernel)
}

fn build(kernel: &Kernel, variant: Variant, key: &str, done: &Path) -> Result<()> {
    let (build_dir, source_dir) = (&kernel.build_dir, &kernel.source_dir);
    if done.exists() && kernel.bzimage.exists() {
        return Ok(());
    }
    if !bindgen_path().is_file() {
        bail!("bindgen missing: run `cargo xtask deps`");
    }
    eprintln!(
        "[kernel] building {} (key {key}) in {}",
        variant.name(),
        build_dir.display()
    );
    std::fs::create_dir_all(build_dir)?;
    let fragments = variant.fragments();
    run_logged(
        "kernel: tinyconfig",
        make_cmd(source_dir, build_dir).arg("tinyconfig"),
        &build_dir.join("config.log"),
    )?;
    let config = build_dir.join(".config");
    run(
        Command::new(source_dir.join("scripts/kconfig/merge_config.sh"))
            .current_dir(build_dir)
            .arg("-m")
            .arg("-O")
            .arg(build_dir)
            .arg(&config)
            .args(&fragments)
            .stdout(std::process::Stdio::null()),
    )?;
    run_logged(
        "kernel: olddefconfig",
        make_cmd(source_dir, build_dir).arg("olddefconfig"),
        &build_dir.join("olddefconfig.log"),
    )?;
    verify_config(&config, &fragments)?;
    run_logged(
        "kernel: build",
        &mut make_cmd(source_dir, build_dir),
        &build_dir.join("build.log"),
    )?;
    std::fs::write(done, key)?;
    eprintln!("[kernel] ready: {}", kernel.bzimage.display());
    Ok(())
}
