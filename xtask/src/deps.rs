//! `cargo xtask deps`: installs what the build and the VM tests need,
//! idempotently, saying what it installs. Every apt call of the harness is
//! here: the packages of `deps`, of `cargo xtask corpus` and of the Xen build,
//! Debian's non-free component (netperf) and the deb-src entry and source
//! download Xen's build starts from.

use crate::util::{cache_dir, is_root, output, run, show};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
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
    // E1b's flent runs (`voip`, `rrul`): flent itself (Python, run in the
    // guest), D-ITG (ITGSend/ITGRecv, flent's VoIP stream) and fping (the
    // latency probes of rrul; busybox's ping lacks the timestamps flent
    // parses). Plots are drawn in Rust, so not python3-matplotlib.
    "flent",
    "d-itg",
    "fping",
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

/// What building Xen and its tools needs, on top of [`DEBIAN_PACKAGES`];
/// installed by [`xen_deps`] when `cargo xtask xen` (or the Xen stage of the
/// suite) runs.
pub const XEN_PACKAGES: &[&str] = &[
    "dpkg-dev",
    "git",
    "autoconf",
    "automake",
    "acpica-tools",
    "libyajl-dev",
    "libzstd-dev",
    "gcc-multilib",
    "python3-dev",
    "uuid-dev",
    "libncurses-dev",
    "zlib1g-dev",
    "liblzma-dev",
    "pkg-config",
    "libglib2.0-dev",
    "libpixman-1-dev",
    "util-linux",
];

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

fn apt_update() -> Result<()> {
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Installs whichever of `packages` (`what`, for messages) are missing (as
/// root; otherwise fails with the `apt-get` line to run).
fn install_packages(what: &str, packages: &[&'static str]) -> Result<()> {
    let missing = missing_packages(packages)?;
    if missing.is_empty() {
        eprintln!("[deps] {what}: all {} present", packages.len());
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
        eprintln!("[deps] installing {what}: {}", missing.join(" "));
        apt_update()?;
        run(&mut install)?;
    }
    Ok(())
}

/// What `cargo xtask corpus` needs: ffmpeg and tcpdump (idempotent).
pub fn corpus_deps() -> Result<()> {
    install_packages("corpus packages", CORPUS_PACKAGES)
}

/// What `cargo xtask xen` needs to build Xen (idempotent).
pub fn xen_deps() -> Result<()> {
    install_packages("Xen build dependencies", XEN_PACKAGES)
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
    apt_update()
}

/// Written (once) if apt has no deb-src entry for bookworm.
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/smooth-deb-src.sources";
const DEB_SRC: &str = "Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

/// Whether apt knows a deb-src entry for bookworm's main archive.
fn have_deb_src() -> bool {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(rd) = std::fs::read_dir("/etc/apt/sources.list.d") {
        files.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
    }
    files.iter().any(|f| {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let one_line = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("deb-src ") && l.contains(" bookworm ")
        });
        // deb822: a stanza with Types: deb-src and Suites: … bookworm …
        let deb822 = text.split("\n\n").any(|stanza| {
            stanza
                .lines()
                .any(|l| l.starts_with("Types:") && l.contains("deb-src"))
                && stanza.lines().any(|l| {
                    l.starts_with("Suites:") && l.split_whitespace().any(|w| w == "bookworm")
                })
        });
        one_line || deb822
    })
}

/// Downloads the Debian source package `spec` (`name=version`) into `dir`
/// with `apt-get source --download-only`, first adding a deb-src entry if
/// apt has none (as root; otherwise fails saying what to write).
pub fn apt_source(dir: &Path, spec: &str) -> Result<()> {
    if !have_deb_src() {
        if !is_root() {
            bail!(
                "apt has no deb-src entry for bookworm; as root, write {DEB_SRC_FILE}:\n{DEB_SRC}"
            );
        }
        eprintln!("[deps] adding {DEB_SRC_FILE}");
        std::fs::write(DEB_SRC_FILE, DEB_SRC)?;
        apt_update()?;
    }
    std::fs::create_dir_all(dir)?;
    let get = || {
        run(Command::new("apt-get")
            .current_dir(dir)
            .args(["source", "--download-only", spec]))
    };
    if get().is_err() {
        // A stale package index: refresh once and retry.
        apt_update()?;
        get()?;
    }
    Ok(())
}

pub fn deps() -> Result<()> {
    if !missing_packages(&["netperf"])?.is_empty() {
        enable_non_free()?;
    }
    install_packages("Debian packages", DEBIAN_PACKAGES)?;

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
