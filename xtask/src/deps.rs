//! `cargo xtask deps`: installs what the build and the VM tests need,
//! idempotently, saying what it installs.

use crate::util::{cache_dir, is_root, output, run, show};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

/// Debian packages: the kernel source and its LLVM toolchain, QEMU, and the
/// tools the guest runs (copied from the host into the initramfs).
pub const DEBIAN_PACKAGES: &[&str] = &[
    "linux-source-6.12",
    "build-essential",
    "flex",
    "bison",
    "bc",
    "libelf-dev",
    "libssl-dev",
    "cpio",
    "xz-utils",
    "clang",
    "lld",
    "llvm",
    "libclang-dev",
    "qemu-system-x86",
    "busybox-static",
    "iproute2",
    "iperf3",
    "irtt",
    "apache2-utils",
    "sockperf",
    "kmod",
    "jq",
    // E4 of `cargo xtask bench` (the paper's Fig 11): in Debian's non-free
    // component, which `deps` enables first (see [`NON_FREE_SOURCE`]).
    "netperf",
    // The kernel's tc-testing harness (tdc) runs in the guest on this python3.
    "python3",
    // smooth-sim's --plot renders text with DejaVu Sans.
    "fonts-dejavu-core",
];

/// The bindgen the kernel build uses; cached as a binary outside the repo.
pub const BINDGEN_VERSION: &str = "0.73.2";

pub fn bindgen_path() -> PathBuf {
    cache_dir()
        .join(format!("bindgen-{BINDGEN_VERSION}"))
        .join("bin/bindgen")
}

/// Debian packages only `cargo xtask corpus` needs (it encodes video with
/// ffmpeg and captures it with tcpdump); installed by [`corpus_deps`], not by
/// `deps`, so the main harness does not pull in ffmpeg's closure.
pub const CORPUS_PACKAGES: &[&str] = &["ffmpeg", "tcpdump"];

fn missing_packages(packages: &[&'static str]) -> Result<Vec<&'static str>> {
    let mut missing = Vec::new();
    for pkg in packages {
        let status = Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", pkg])
            .output()
            .context("dpkg-query not found: smooth's harness needs a Debian machine")?;
        let text = String::from_utf8_lossy(&status.stdout);
        if !text.contains("install ok installed") {
            missing.push(*pkg);
        }
    }
    Ok(missing)
}

/// Installs whichever of `packages` are missing (as root; otherwise fails
/// with the `apt-get` line to run).
fn install_packages(packages: &[&'static str]) -> Result<()> {
    let missing = missing_packages(packages)?;
    if missing.is_empty() {
        eprintln!("[deps] Debian packages: all {} present", packages.len());
    } else {
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive");
        if !is_root() {
            bail!(
                "missing Debian packages; run as root:\n  apt-get update && {}",
                show(&install)
            );
        }
        eprintln!("[deps] installing Debian packages: {}", missing.join(" "));
        run(Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        run(&mut install)?;
    }
    Ok(())
}

/// What `cargo xtask corpus` needs: ffmpeg and tcpdump (idempotent).
pub fn corpus_deps() -> Result<()> {
    install_packages(CORPUS_PACKAGES)
}

/// The apt source `deps` adds so netperf (Debian non-free) can be installed.
const NON_FREE_SOURCE: &str = "/etc/apt/sources.list.d/smooth-non-free.sources";
const NON_FREE_STANZA: &str = "Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

/// Makes Debian's non-free component known to apt (idempotent): nothing to
/// do when some source already offers netperf.
fn enable_non_free() -> Result<()> {
    let policy = output(Command::new("apt-cache").args(["policy", "netperf"])).unwrap_or_default();
    let has_candidate = policy
        .lines()
        .any(|l| l.trim_start().starts_with("Candidate:") && !l.contains("(none)"));
    if has_candidate {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "netperf is in Debian's non-free component; as root, write {NON_FREE_SOURCE} with:\n{NON_FREE_STANZA}and run `apt-get update`"
        );
    }
    eprintln!("[deps] enabling Debian's non-free component for netperf: {NON_FREE_SOURCE}");
    std::fs::write(NON_FREE_SOURCE, NON_FREE_STANZA)
        .with_context(|| format!("writing {NON_FREE_SOURCE}"))?;
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

pub fn deps() -> Result<()> {
    if !missing_packages(&["netperf"])?.is_empty() {
        enable_non_free()?;
    }
    install_packages(DEBIAN_PACKAGES)?;

    let components = output(Command::new("rustup").args(["component", "list", "--installed"]))
        .context("rustup is needed for the kernel's rust-src")?;
    if components.lines().any(|l| l.starts_with("rust-src")) {
        eprintln!("[deps] rustup component rust-src: present");
    } else {
        eprintln!("[deps] installing rustup component rust-src");
        run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }

    let bindgen = bindgen_path();
    if bindgen.is_file() {
        eprintln!("[deps] bindgen {BINDGEN_VERSION}: {}", bindgen.display());
    } else {
        eprintln!("[deps] building bindgen-cli {BINDGEN_VERSION} (≈2.5 min, once)");
        let root = bindgen
            .parent()
            .and_then(|p| p.parent())
            .expect("two levels");
        run(Command::new("cargo")
            .args([
                "install",
                "bindgen-cli",
                "--locked",
                "--version",
                BINDGEN_VERSION,
            ])
            .arg("--root")
            .arg(root))?;
    }
    Ok(())
}
