//! `cargo xtask xen`: the CPU half of smooth. Fetches Debian's Xen 4.17.5
//! source, applies the credit scheduler series in `xen/patches/`, builds a
//! release and a `debug=y` hypervisor and the tools, all cached under
//! `~/.cache/smooth/xen-<key>` (key: source version, patches, recipe); and
//! boots the patched debug hypervisor in QEMU with a Linux PV dom0 that runs
//! `xen/tests/dom0-sched.sh` (the Xen stage of `cargo xtask test`).

use crate::kernel::{self, Kernel, HEAVY_BUILD_LOCK};
use crate::util::{cache_dir, is_root, output, repo_root, run, run_logged, show};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's source package version the series applies to.
pub const XEN_VERSION: &str = "4.17.5+72-g01140da4e8-1";
/// Bump when the recipe below changes in a way the key cannot see.
const RECIPE: &str = "smooth-xen-recipe-1";
/// Written (once) if apt has no deb-src entry for bookworm.
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/smooth-deb-src.sources";
const DEB_SRC: &str = "Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

/// What building Xen and its tools needs, on top of `deps::DEBIAN_PACKAGES`.
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

const CONFIGURE_ARGS: &[&str] = &[
    "--prefix=/usr",
    "--disable-stubdom",
    "--disable-qemu-traditional",
    "--disable-docs",
    "--disable-ocamltools",
    "--disable-golang",
    "--disable-seabios",
    "--disable-rombios",
    "--disable-ipxe",
    "--disable-pvshim",
    "--disable-xsmpolicy",
    "--with-system-qemu=/usr/bin/qemu-system-i386",
];

/// Debian's python3 first, never a pyenv shim (the tools' configure and
/// IDL generators run python).
const CLEAN_PATH: &str = "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";

/// A built Xen: both hypervisors and the installed tools (a DESTDIR tree).
pub struct XenBuild {
    pub dir: PathBuf,
    pub xen_release: PathBuf,
    pub xen_debug: PathBuf,
    pub tools: PathBuf,
}

/// The series, in order: `xen/patches/*.patch`.
pub fn patches() -> Result<Vec<PathBuf>> {
    let dir = repo_root().join("xen/patches");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "patch"))
        .collect();
    v.sort();
    if v.is_empty() {
        bail!("no patches in {}", dir.display());
    }
    Ok(v)
}

fn cache_key() -> Result<String> {
    let mut h = Sha256::new();
    h.update(RECIPE);
    h.update(XEN_VERSION);
    for p in patches()? {
        h.update(p.file_name().unwrap().to_string_lossy().as_bytes());
        h.update(std::fs::read(&p)?);
    }
    for a in CONFIGURE_ARGS {
        h.update(a);
    }
    let hex = format!("{:x}", h.finalize());
    Ok(hex[..16].to_string())
}

fn missing(packages: &[&'static str]) -> Vec<&'static str> {
    packages
        .iter()
        .copied()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output();
            !out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect()
}

fn apt_update() -> Result<()> {
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Installs the Xen build dependencies (idempotent).
pub fn deps() -> Result<()> {
    let need = missing(XEN_PACKAGES);
    if need.is_empty() {
        eprintln!(
            "[xen] build dependencies: all {} present",
            XEN_PACKAGES.len()
        );
        return Ok(());
    }
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "--no-install-recommends"])
        .args(&need)
        .env("DEBIAN_FRONTEND", "noninteractive");
    if !is_root() {
        bail!(
            "missing Debian packages; run as root:\n  apt-get update && {}",
            show(&install)
        );
    }
    eprintln!("[xen] installing {}", need.join(" "));
    apt_update()?;
    run(&mut install)
}

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

/// Downloads Debian's source package once; returns the `.dsc`.
fn download() -> Result<PathBuf> {
    let dir = cache_dir().join("xen-dl");
    let dsc = dir.join(format!("xen_{XEN_VERSION}.dsc"));
    if dsc.is_file() {
        return Ok(dsc);
    }
    if !have_deb_src() {
        if !is_root() {
            bail!(
                "apt has no deb-src entry for bookworm; as root, write {DEB_SRC_FILE}:\n{DEB_SRC}"
            );
        }
        eprintln!("[xen] adding {DEB_SRC_FILE}");
        std::fs::write(DEB_SRC_FILE, DEB_SRC)?;
        apt_update()?;
    }
    std::fs::create_dir_all(&dir)?;
    let get = || {
        run(Command::new("apt-get")
            .current_dir(&dir)
            .args(["source", "--download-only"])
            .arg(format!("xen={XEN_VERSION}")))
    };
    if get().is_err() {
        // A stale package index: refresh once and retry.
        apt_update()?;
        get()?;
    }
    Ok(dsc)
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir).args([
        "-c",
        "user.name=smooth developers",
        "-c",
        "user.email=smooth@localhost",
    ]);
    c
}

/// Unpacks the source (Debian's patches applied), commits it pristine in a
/// git repository, then applies the series with `git am`.
fn source_tree(dir: &Path) -> Result<PathBuf> {
    let src = dir.join("src");
    let done = dir.join(".source-ready");
    if done.exists() {
        return Ok(src);
    }
    let dsc = download()?;
    if src.exists() {
        std::fs::remove_dir_all(&src)?;
    }
    std::fs::create_dir_all(dir)?;
    run_logged(
        "xen: unpack",
        Command::new("dpkg-source").arg("-x").arg(&dsc).arg(&src),
        &dir.join("unpack.log"),
    )?;
    // dpkg-source leaves a copy of the upstream tarball next to the tree.
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.to_string_lossy().ends_with(".orig.tar.xz") {
            std::fs::remove_file(p)?;
        }
    }
    run(git(&src).args(["init", "-q"]))?;
    run(git(&src)
        .args(["add", "-A", "-f", "."])
        .stdout(Stdio::null()))?;
    run(git(&src).args([
        "commit",
        "-q",
        "-m",
        &format!("Debian xen {XEN_VERSION} (pristine, Debian patches applied)"),
    ]))?;
    let mut am = git(&src);
    am.args(["am", "-q"]).args(patches()?);
    run(&mut am).context("applying xen/patches")?;
    // Debian deletes these; autoconf ships them.
    for f in ["config.guess", "config.sub"] {
        std::fs::copy(
            Path::new("/usr/share/autoconf/build-aux").join(f),
            src.join(f),
        )?;
    }
    std::fs::write(&done, "")?;
    Ok(src)
}

fn heavy(cmd: &str, cwd: &Path) -> Command {
    let mut c = Command::new("flock");
    c.arg(HEAVY_BUILD_LOCK)
        .args(["sh", "-c", cmd])
        .current_dir(cwd)
        .env("PATH", CLEAN_PATH);
    c
}

fn build_hypervisor(src: &Path, out: &Path, debug: bool) -> Result<PathBuf> {
    let image = out.join("xen");
    let done = out.join(".smooth-complete");
    if done.exists() && image.exists() {
        return Ok(image);
    }
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    let kind = if debug { "debug" } else { "release" };
    let o = out.display();
    let debug_line = if debug {
        format!("echo CONFIG_DEBUG=y >> {o}/.config && ")
    } else {
        String::new()
    };
    let cmd = format!(
        "set -e; make -C xen O={o} defconfig; {debug_line}make -C xen O={o} olddefconfig; make -C xen O={o} -j2"
    );
    run_logged(
        &format!("xen: hypervisor ({kind})"),
        &mut heavy(&cmd, src),
        &out.join("build.log"),
    )?;
    let config = std::fs::read_to_string(out.join(".config"))?;
    if debug != config.lines().any(|l| l == "CONFIG_DEBUG=y") {
        bail!("{}: CONFIG_DEBUG is not as requested", out.display());
    }
    std::fs::write(&done, "")?;
    Ok(image)
}

fn configure_tools(src: &Path, log: &Path) -> Result<()> {
    run_logged(
        "xen: tools configure",
        Command::new("sh")
            .args([
                "-c",
                &format!(
                    "./autogen.sh && PYTHON=/usr/bin/python3 ./configure {}",
                    CONFIGURE_ARGS.join(" ")
                ),
            ])
            .current_dir(src)
            .env("PATH", CLEAN_PATH),
        log,
    )
}

fn build_tools(src: &Path, dir: &Path) -> Result<PathBuf> {
    let dist = dir.join("tools-dist");
    let done = dir.join(".tools-complete");
    if done.exists() && dist.join("usr/sbin/xl").exists() {
        return Ok(dist);
    }
    configure_tools(src, &dir.join("configure.log"))?;
    run_logged(
        "xen: tools build",
        &mut heavy("make -j2 build-tools", src),
        &dir.join("tools.log"),
    )?;
    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    run_logged(
        "xen: tools install",
        &mut heavy(
            &format!("make install-tools DESTDIR={}", dist.display()),
            src,
        ),
        &dir.join("install.log"),
    )?;
    std::fs::write(&done, "")?;
    Ok(dist)
}

/// Returns the cached build for the current series, building what is missing.
pub fn ensure() -> Result<XenBuild> {
    deps()?;
    let key = cache_key()?;
    let dir = cache_dir().join(format!("xen-{key}"));
    eprintln!(
        "[xen] {XEN_VERSION} + {} patches, key {key}: {}",
        patches()?.len(),
        dir.display()
    );
    let src = source_tree(&dir)?;
    // The hypervisors build out of tree, before the tools touch the tree.
    let xen_release = build_hypervisor(&src, &dir.join("hv-release"), false)?;
    let xen_debug = build_hypervisor(&src, &dir.join("hv-debug"), true)?;
    let tools = build_tools(&src, &dir)?;
    Ok(XenBuild {
        dir,
        xen_release,
        xen_debug,
        tools,
    })
}

/// `cargo xtask xen`.
pub fn xen() -> Result<()> {
    let b = ensure()?;
    println!("cache:              {}", b.dir.display());
    println!("release hypervisor: {}", b.xen_release.display());
    println!("debug hypervisor:   {}", b.xen_debug.display());
    println!("tools (DESTDIR):    {}", b.tools.display());
    Ok(())
}

/// `cargo xtask xen --check-series`: every patch building on its own. In a
/// separate tree (`~/.cache/smooth/xen-series-<key>/`), checks out the series
/// one patch at a time and builds the release and the debug hypervisor at
/// each (incrementally, `-Werror`), then the tools (`make build-tools`) at
/// each patch that touches `tools/`. Cached: a series that passed is not
/// built again.
pub fn check_series() -> Result<()> {
    deps()?;
    let key = cache_key()?;
    let dir = cache_dir().join(format!("xen-series-{key}"));
    let done = dir.join(".series-ok");
    let n = patches()?.len();
    if done.exists() {
        print!("{}", std::fs::read_to_string(&done)?);
        println!("(cached: {})", dir.display());
        return Ok(());
    }
    let src = source_tree(&dir)?;
    let top = output(git(&src).args(["rev-parse", "HEAD"]))?
        .trim()
        .to_string();
    let commits: Vec<String> =
        output(git(&src).args(["rev-list", "--reverse", &format!("HEAD~{n}..HEAD")]))?
            .lines()
            .map(str::to_string)
            .collect();
    // One line per patch and step, printed and kept for the cached report.
    let passed = |report: &mut String, i: usize, what: &str, c: &str| -> Result<()> {
        let subject = output(git(&src).args(["log", "-1", "--format=%s", c]))?;
        let line = format!("patch {}: {what}  ({})\n", i + 1, subject.trim());
        print!("{line}");
        report.push_str(&line);
        Ok(())
    };
    let mut report = String::new();
    let result = (|| -> Result<()> {
        // The hypervisors first: they build out of tree and want the tree
        // clean of the tools' in-tree build.
        for (i, c) in commits.iter().enumerate() {
            run(git(&src).args(["checkout", "-q", c]))?;
            for debug in [false, true] {
                let kind = if debug { "debug" } else { "release" };
                let out = dir.join(format!("hv-{kind}"));
                let o = out.display();
                let config = if out.join(".config").exists() {
                    String::new()
                } else {
                    let debug_line = if debug {
                        format!("echo CONFIG_DEBUG=y >> {o}/.config && ")
                    } else {
                        String::new()
                    };
                    format!("make -C xen O={o} defconfig && {debug_line}make -C xen O={o} olddefconfig && ")
                };
                std::fs::create_dir_all(&out)?;
                run_logged(
                    &format!("xen: patch {} {kind} hypervisor", i + 1),
                    &mut heavy(&format!("set -e; {config}make -C xen O={o} -j2"), &src),
                    &dir.join(format!("hv-{kind}-{}.log", i + 1)),
                )?;
            }
            passed(&mut report, i, "release and debug hypervisor build", c)?;
        }
        let mut configured = false;
        for (i, c) in commits.iter().enumerate() {
            let touched = output(git(&src).args(["diff", "--name-only", &format!("{c}~1"), c]))?;
            if !touched.lines().any(|f| f.starts_with("tools/")) {
                continue;
            }
            run(git(&src).args(["checkout", "-q", c]))?;
            if !configured {
                configure_tools(&src, &dir.join("configure.log"))?;
                configured = true;
            }
            run_logged(
                &format!("xen: patch {} tools", i + 1),
                &mut heavy("make -j2 build-tools", &src),
                &dir.join(format!("tools-{}.log", i + 1)),
            )?;
            passed(&mut report, i, "tools build (make build-tools)", c)?;
        }
        Ok(())
    })();
    run(git(&src).args(["checkout", "-q", &top]))?;
    result?;
    std::fs::write(&done, &report)?;
    println!(
        "series OK: each of the {n} patches builds on its own ({})",
        dir.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Booting it: Xen (debug) + PV dom0 under QEMU, running xen/tests/*.sh.

/// Busybox applets in dom0 and the guests. No `brctl`: the hotplug scripts
/// then use `ip`.
const APPLETS: &[&str] = &[
    "sh", "mount", "umount", "mkdir", "cat", "echo", "sleep", "grep", "awk", "sed", "ps", "kill",
    "dmesg", "poweroff", "seq", "wc", "head", "tail", "cut", "tr", "sort", "date", "ls", "rm",
    "cp", "mv", "ln", "true", "false", "test", "[", "printf", "uname", "env", "timeout", "xargs",
    "find", "expr", "hostname", "ping", "wait", "pidof", "uniq", "stat", "basename", "dirname",
    "chmod", "touch", "sync", "usleep", "mktemp", "tee", "which", "logger", "readlink", "id",
    "mknod", "nproc",
];
/// Host programs for dom0 (with their libraries).
const DOM0_HOST_TOOLS: &[&str] = &["bash", "ip", "flock"];

fn resolve(name: &str) -> Result<PathBuf> {
    for d in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("{name} not found on the host")
}

fn busybox_root(root: &Path) -> Result<()> {
    if root.exists() {
        std::fs::remove_dir_all(root)?;
    }
    for d in [
        "usr/bin",
        "usr/sbin",
        "usr/lib",
        "usr/lib64",
        "etc",
        "proc",
        "sys",
        "dev",
        "tmp",
        "run",
        "var",
        "smooth",
    ] {
        std::fs::create_dir_all(root.join(d))?;
    }
    for d in ["bin", "sbin", "lib", "lib64"] {
        std::os::unix::fs::symlink(format!("usr/{d}"), root.join(d))?;
    }
    crate::vm::copy_into(root, Path::new("/bin/busybox"), "/usr/bin/busybox")?;
    for a in APPLETS {
        let link = root.join("usr/bin").join(a);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", link)?;
        }
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    std::fs::write(root.join("etc/group"), "root:x:0:\n")?;
    Ok(())
}

fn cpio(root: &Path, out: &Path) -> Result<()> {
    run(Command::new("sh").current_dir(root).arg("-c").arg(format!(
        "find . | cpio -o -H newc -R 0:0 --quiet > '{}'",
        out.display()
    )))
}

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
# Blocks and wakes all the time: spins 200 us by the clock, sleeps 3 ms.
if [ "$role" = waker ]; then exec udpclock wake 200 3000; fi
while :; do sleep 3600; done
"#;

const DOM0_INIT: &str = r#"#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /var/run/xen /var/run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen /var/lock /run/lock /root
mount -t devpts devpts /dev/pts; mount -t tmpfs tmp /tmp
mount -t xenfs xenfs /proc/xen
ip link set lo up
/usr/sbin/xenstored --pid-file /var/run/xenstored.pid
/usr/lib/xen/bin/xen-init-dom0
/usr/sbin/xenconsoled --pid-file=/var/run/xenconsoled.pid
ip link add name xenbr0 type bridge stp_state 0 forward_delay 0
ip addr add 10.0.0.1/24 dev xenbr0; ip link set xenbr0 up
echo "smooth-dom0: toolstack ready"
cd /smooth
script=$(sed -n 's/.*smooth_script=\([^ ]*\).*/\1/p' /proc/cmdline)
/bin/bash "/smooth/tests/${script:-dom0-sched.sh}"
echo "SMOOTH-XEN-EXIT: $?"
poweroff -f
"#;

/// Builds dom0's initramfs (tools, tests, the guest kernel and initrd).
fn dom0_initramfs(work: &Path, xen: &XenBuild, kernel: &Kernel) -> Result<PathBuf> {
    // The periodic sender/receiver, static: the guests have no libc.
    let udpclock = work.join("udpclock");
    run(Command::new("gcc")
        .args(["-O2", "-Wall", "-Werror", "-static", "-o"])
        .arg(&udpclock)
        .arg(repo_root().join("xen/tests/udpclock.c")))?;

    // The guests' initrd.
    let domu = work.join("domu-root");
    busybox_root(&domu)?;
    crate::vm::copy_into(&domu, &udpclock, "/usr/bin/udpclock")?;
    std::fs::write(domu.join("init"), DOMU_INIT)?;
    run(Command::new("chmod").arg("+x").arg(domu.join("init")))?;
    let domu_cpio = work.join("domu.cpio");
    cpio(&domu, &domu_cpio)?;

    let root = work.join("dom0-root");
    busybox_root(&root)?;
    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", xen.tools.display()))
        .arg(&root))?;
    let lib_path = format!("{0}/usr/lib:{0}/usr/lib64", xen.tools.display());
    let mut libs = BTreeSet::new();
    for tool in DOM0_HOST_TOOLS {
        let host = resolve(tool)?;
        crate::vm::libraries_with(&host, &mut libs, &lib_path)?;
        crate::vm::copy_into(&root, &host, &host.to_string_lossy())?;
    }
    // Every ELF file of the tools, for their libraries.
    let elves = output(Command::new("sh").arg("-c").arg(format!(
        "find '{}' -type f -perm -u+x -o -type f -name '*.so*' | while read f; do head -c4 \"$f\" | grep -q ELF && echo \"$f\"; done",
        xen.tools.display()
    )))?;
    for f in elves.lines() {
        crate::vm::libraries_with(Path::new(f), &mut libs, &lib_path)?;
    }
    libs.insert(PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"));
    for lib in &libs {
        if lib.starts_with(&xen.tools) {
            continue; // already in the tree
        }
        crate::vm::copy_into(&root, &std::fs::canonicalize(lib)?, &lib.to_string_lossy())?;
    }
    // The direct domctl check, built against the tools just installed.
    let tools = xen.tools.display();
    let rtcheck = work.join("rtcheck");
    run(Command::new("gcc")
        .args(["-O2", "-Wall", "-Werror"])
        .arg(format!("-I{tools}/usr/include"))
        .arg("-o")
        .arg(&rtcheck)
        .arg(repo_root().join("xen/tests/rtcheck.c"))
        .arg(format!("-L{tools}/usr/lib"))
        .arg(format!("-Wl,-rpath-link,{tools}/usr/lib"))
        .args(["-lxenctrl", "-lxencall"]))?;
    crate::vm::copy_into(&root, &rtcheck, "/smooth/rtcheck")?;
    crate::vm::copy_into(&root, &udpclock, "/smooth/udpclock")?;
    crate::vm::copy_into(&root, &kernel.bzimage, "/smooth/bzImage")?;
    crate::vm::copy_into(&root, &domu_cpio, "/smooth/domu.cpio")?;
    for entry in std::fs::read_dir(repo_root().join("xen/tests"))? {
        let p = entry?.path();
        if p.is_file() {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            crate::vm::copy_into(&root, &p, &format!("/smooth/tests/{name}"))?;
        }
    }
    std::fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n")?;
    std::fs::write(root.join("init"), DOM0_INIT)?;
    run(Command::new("chmod").arg("+x").arg(root.join("init")))?;
    let out = work.join("dom0.cpio");
    cpio(&root, &out)?;
    Ok(out)
}

/// One test's outcome, as the dom0 script and the console report it.
pub struct XenTest {
    pub name: String,
    pub ok: bool,
}

/// Lines of the Xen console that mean the hypervisor is unwell.
const XEN_TROUBLE: &[&str] = &[
    "Assertion '",
    "Xen BUG at",
    "FATAL TRAP",
    "Panic on CPU",
    "Xen WARN at",
];

/// Boots the patched debug Xen with a PV dom0 and runs the scheduler tests.
/// Every test the dom0 script reports is returned; a hypervisor assertion,
/// BUG, WARN or panic anywhere in the run is one more (failing) test.
pub fn run_tests(timeout: Duration) -> Result<Vec<XenTest>> {
    // A development tree can stand in for the cached build:
    // SMOOTH_XEN_PREBUILT=DIR with DIR/hv-debug/xen and DIR/tools-dist.
    let xen = match std::env::var_os("SMOOTH_XEN_PREBUILT") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            XenBuild {
                xen_release: dir.join("hv-release/xen"),
                xen_debug: dir.join("hv-debug/xen"),
                tools: dir.join("tools-dist"),
                dir,
            }
        }
        None => ensure()?,
    };
    let kernel = kernel::ensure(kernel::Variant::Xen)?;
    let work = repo_root().join("target/xen");
    std::fs::create_dir_all(&work)?;
    let initrd = dom0_initramfs(&work, &xen, &kernel)?;
    // The main run and the safety run on one pCPU; placement needs a second
    // pCPU. SMOOTH_XEN_ONLY=SCRIPT[,SCRIPT…] boots those alone (development).
    let only = std::env::var("SMOOTH_XEN_ONLY").ok();
    let mut tests = Vec::new();
    for (cpus, script) in BOOTS {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|s| s == *script))
        {
            continue;
        }
        tests.extend(boot(&xen, &kernel, &initrd, &work, *cpus, script, timeout)?);
    }
    if tests.is_empty() {
        bail!("SMOOTH_XEN_ONLY names none of the boots' scripts");
    }
    Ok(tests)
}

/// The boots of the Xen stage: pCPUs and the `xen/tests/` script dom0 runs.
const BOOTS: &[(u32, &str)] = &[
    (1, "dom0-sched.sh"),
    (1, "dom0-safety.sh"),
    (2, "dom0-placement.sh"),
];

/// One boot: Xen (debug) on `cpus` pCPUs, dom0 running `xen/tests/<script>`.
fn boot(
    xen: &XenBuild,
    kernel: &Kernel,
    initrd: &Path,
    work: &Path,
    cpus: u32,
    script: &str,
    timeout: Duration,
) -> Result<Vec<XenTest>> {
    let append = "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot \
                  console_timestamps=boot dom0_mem=512M,max:512M dom0_max_vcpus=1 \
                  dom0_vcpus_pin sched=credit";
    let modules = format!(
        "{} console=hvc0 earlyprintk=xen rdinit=/init smooth_script={script},{}",
        kernel.bzimage.display(),
        initrd.display()
    );
    let mut qemu = Command::new("qemu-system-x86_64");
    qemu.args(["-accel", "tcg", "-cpu", "qemu64", "-m", "2048"])
        .args(["-smp", &cpus.to_string()])
        .args([
            "-nographic",
            "-no-reboot",
            "-nic",
            "none",
            "-serial",
            "stdio",
            "-monitor",
            "none",
        ])
        .arg("-kernel")
        .arg(&xen.xen_debug)
        .args(["-append", append])
        .arg("-initrd")
        .arg(&modules)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    eprintln!("[xen] booting {}", xen.xen_debug.display());
    let start = Instant::now();
    let mut child = qemu.spawn().context("cannot start qemu-system-x86_64")?;
    let (rx, reader) = crate::vm::console_lines(child.stdout.take().expect("piped"));
    let log_path = work.join(format!("console-{}.log", script.trim_end_matches(".sh")));
    let mut log = std::fs::File::create(&log_path)?;
    let mut tests = Vec::new();
    let mut trouble = Vec::new();
    let mut exit = None;
    let mut timed_out = false;
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                use std::io::Write;
                writeln!(log, "{line}")?;
                println!("  {line}");
                if let Some(rest) = line.split("SMOOTH-XEN-TEST: ").nth(1) {
                    if let Some((verdict, name)) = rest.trim().split_once(' ') {
                        tests.push(XenTest {
                            name: format!("xen: {name}"),
                            ok: verdict == "PASS",
                        });
                    }
                }
                if let Some(rc) = line.split("SMOOTH-XEN-EXIT: ").nth(1) {
                    exit = rc.trim().parse::<i32>().ok();
                }
                if XEN_TROUBLE.iter().any(|t| line.contains(t)) {
                    trouble.push(line.clone());
                }
                // Xen has panicked and halts (`noreboot`): nothing more will
                // come, so do not wait for the timeout.
                if line.contains("Manual reset required") {
                    let _ = child.kill();
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break;
        }
    }
    let _ = child.wait();
    reader.join().ok();
    eprintln!(
        "[xen] run took {:.0} s; console: {}",
        start.elapsed().as_secs_f64(),
        log_path.display()
    );
    tests.push(XenTest {
        name: format!("xen: {script} ran to its end"),
        ok: exit.is_some() && !timed_out,
    });
    for t in &trouble {
        println!("  hypervisor trouble: {t}");
    }
    tests.push(XenTest {
        name: format!("xen: {script}: no assertion, BUG, WARN or panic in the debug hypervisor"),
        ok: trouble.is_empty() && exit.is_some(),
    });
    Ok(tests)
}
