//! Xen's source and build: Debian's Xen 4.17.5 source (downloaded once),
//! the credit scheduler series in `xen/patches/` applied with `git am`, a
//! release and a `debug=y` hypervisor and the tools, all cached under
//! `~/.cache/smooth/xen-<key>` (key: recipe, source version, patches,
//! configure arguments); `--check-series`, every patch building and
//! booting on its own; and the stock Xen the benchmark compares against
//! (`ensure_stock`): the same source without the series, a release
//! hypervisor with RTDS and stock tools, cached apart under
//! `~/.cache/smooth/xen-stock-<key>`.

use crate::deps;
use crate::kernel::HEAVY_BUILD_LOCK;
use crate::util::{cache_dir, output, repo_root, run, run_logged};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Debian's source package version the series applies to.
pub const XEN_VERSION: &str = "4.17.5+72-g01140da4e8-1";
/// Bump when the recipe below changes in a way the key cannot see.
const RECIPE: &str = "smooth-xen-recipe-1";
/// The same for the stock build (its own key: the patched cache is left
/// alone).
const STOCK_RECIPE: &str = "smooth-xen-stock-recipe-1";
/// The stock hypervisor's configuration beyond Xen's defaults: RTDS, an
/// `(UNSUPPORTED)` option in 4.17 that only a debug build has by default
/// (its menu is visible only with `EXPERT`, which changes no default), for
/// the benchmark's RTDS runs. Credit and credit2 are unchanged by it.
const STOCK_HV_CONFIG: &[&str] = &[
    "CONFIG_EXPERT=y",
    "CONFIG_UNSUPPORTED=y",
    "CONFIG_SCHED_RTDS=y",
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

fn stock_cache_key() -> String {
    let mut h = Sha256::new();
    h.update(STOCK_RECIPE);
    h.update(XEN_VERSION);
    for a in CONFIGURE_ARGS.iter().chain(STOCK_HV_CONFIG) {
        h.update(a);
    }
    let hex = format!("{:x}", h.finalize());
    hex[..16].to_string()
}

/// Downloads Debian's source package once; returns the `.dsc`.
fn download() -> Result<PathBuf> {
    let dir = cache_dir().join("xen-dl");
    let dsc = dir.join(format!("xen_{XEN_VERSION}.dsc"));
    if dsc.is_file() {
        return Ok(dsc);
    }
    deps::apt_source(&dir, &format!("xen={XEN_VERSION}"))?;
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
/// git repository, then applies `series` (the patches, or none for the
/// stock build) with `git am`.
fn source_tree(dir: &Path, series: &[PathBuf]) -> Result<PathBuf> {
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
    if !series.is_empty() {
        let mut am = git(&src);
        am.args(["am", "-q"]).args(series);
        run(&mut am).context("applying xen/patches")?;
    }
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

thread_local! {
    /// Set in [`Prebuild`]'s thread: its make commands run at idle CPU
    /// priority.
    static AT_IDLE_PRIORITY: Cell<bool> = const { Cell::new(false) };
}

fn heavy(cmd: &str, cwd: &Path) -> Command {
    let mut c = Command::new("flock");
    c.arg(HEAVY_BUILD_LOCK);
    if AT_IDLE_PRIORITY.get() {
        c.args(["chrt", "--idle", "0"]);
    }
    c.args(["sh", "-c", cmd])
        .current_dir(cwd)
        .env("PATH", CLEAN_PATH);
    c
}

fn kind(debug: bool) -> &'static str {
    if debug {
        "debug"
    } else {
        "release"
    }
}

/// The shell commands that configure a hypervisor build in `out`: Xen's
/// defaults, plus `CONFIG_DEBUG=y` for the debug one and the `extra` lines.
fn hypervisor_config(out: &Path, debug: bool, extra: &[&str]) -> String {
    let o = out.display();
    let mut lines = String::new();
    for l in extra
        .iter()
        .copied()
        .chain(debug.then_some("CONFIG_DEBUG=y"))
    {
        lines.push_str(&format!("echo {l} >> {o}/.config && "));
    }
    format!("make -C xen O={o} defconfig && {lines}make -C xen O={o} olddefconfig")
}

fn build_hypervisor(src: &Path, out: &Path, debug: bool, extra: &[&str]) -> Result<PathBuf> {
    let image = out.join("xen");
    let done = out.join(".smooth-complete");
    if done.exists() && image.exists() {
        return Ok(image);
    }
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    let kind = kind(debug);
    let cmd = format!(
        "set -e; {}; make -C xen O={} -j2",
        hypervisor_config(out, debug, extra),
        out.display()
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
    for l in extra {
        if !config.lines().any(|c| c == *l) {
            bail!("{}: {l} did not take", out.display());
        }
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
    deps::xen_deps()?;
    let key = cache_key()?;
    let dir = cache_dir().join(format!("xen-{key}"));
    eprintln!(
        "[xen] {XEN_VERSION} + {} patches, key {key}: {}",
        patches()?.len(),
        dir.display()
    );
    let src = source_tree(&dir, &patches()?)?;
    // The hypervisors build out of tree, before the tools touch the tree.
    let xen_release = build_hypervisor(&src, &dir.join("hv-release"), false, &[])?;
    let xen_debug = build_hypervisor(&src, &dir.join("hv-debug"), true, &[])?;
    let tools = build_tools(&src, &dir)?;
    Ok(XenBuild {
        dir,
        xen_release,
        xen_debug,
        tools,
    })
}

/// Whether `dir` holds a complete build: the hypervisors `ensure` or
/// `ensure_stock` leave there and the installed tools.
fn built(dir: &Path, hypervisors: &[&str]) -> bool {
    dir.join(".tools-complete").exists()
        && hypervisors
            .iter()
            .all(|hv| dir.join(hv).join(".smooth-complete").exists())
}

/// The patched and the stock Xen that `cargo xtask test`'s Xen stages
/// boot, built in a thread when either is not cached, every make command
/// at idle CPU priority (`chrt --idle 0`, SCHED_IDLE). On a cold machine
/// they build while the quick benchmark streams (at 2 Mbit/s its guest
/// leaves the host's CPUs mostly idle) and the Xen stage's one-pCPU boots
/// run; those stages' QEMU keeps the CPU first (its boots still run slower
/// beside a build: caches and memory are shared). The Xen stage waits for
/// the patched build, the bench-xen stage for both. A build that fails
/// here is reported and tried again in the foreground by the stage that
/// needs it, whose error is counted.
pub struct Prebuild {
    patched: Option<mpsc::Receiver<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Prebuild {
    /// Starts the builds that are not cached (none when both are).
    pub fn start() -> Prebuild {
        let patched_built = std::env::var_os("SMOOTH_XEN_PREBUILT").is_some()
            || cache_key().is_ok_and(|key| {
                built(
                    &cache_dir().join(format!("xen-{key}")),
                    &["hv-release", "hv-debug"],
                )
            });
        let stock_built = built(
            &cache_dir().join(format!("xen-stock-{}", stock_cache_key())),
            &["hv-release"],
        );
        if patched_built && stock_built {
            return Prebuild {
                patched: None,
                thread: None,
            };
        }
        eprintln!("[xen] building what is not cached in the background, at idle CPU priority");
        let (done, patched) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            AT_IDLE_PRIORITY.set(true);
            if !patched_built {
                if let Err(e) = ensure() {
                    eprintln!("[xen] the background build of the patched Xen failed: {e:#}");
                }
            }
            let _ = done.send(());
            if !stock_built {
                if let Err(e) = ensure_stock() {
                    eprintln!("[xen] the background build of the stock Xen failed: {e:#}");
                }
            }
        });
        Prebuild {
            patched: Some(patched),
            thread: Some(thread),
        }
    }

    /// Waits until the patched build is done (or has failed).
    pub fn wait_patched(&mut self) {
        if let Some(patched) = self.patched.take() {
            // An error means the thread is gone: nothing more to wait for.
            let _ = patched.recv();
        }
    }

    /// Waits until both builds are done (or have failed).
    pub fn wait_all(&mut self) {
        self.wait_patched();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                eprintln!("[xen] the background build panicked");
            }
        }
    }
}

impl Drop for Prebuild {
    /// A run that ends early still leaves no make running behind it.
    fn drop(&mut self) {
        self.wait_all();
    }
}

/// Stock Xen 4.17.5, what the benchmark compares the series against: the
/// same Debian source without `xen/patches/`, a release hypervisor with
/// RTDS (`STOCK_HV_CONFIG`), and the tools built from that source with the
/// patched build's configure arguments (same layout, so dom0's initramfs is
/// put together the same way). The patched tools cannot drive it: their
/// domctl interface version is 0x80000015, stock 4.17's 0x15. Cached under
/// `~/.cache/smooth/xen-stock-<key>`, apart from the patched build. No
/// debug hypervisor: `xen_debug` is the release one.
pub fn ensure_stock() -> Result<XenBuild> {
    deps::xen_deps()?;
    let key = stock_cache_key();
    let dir = cache_dir().join(format!("xen-stock-{key}"));
    eprintln!(
        "[xen] stock {XEN_VERSION} (no patches), key {key}: {}",
        dir.display()
    );
    let src = source_tree(&dir, &[])?;
    let xen_release = build_hypervisor(&src, &dir.join("hv-release"), false, STOCK_HV_CONFIG)?;
    let tools = build_tools(&src, &dir)?;
    Ok(XenBuild {
        dir,
        xen_debug: xen_release.clone(),
        xen_release,
        tools,
    })
}

/// `cargo xtask xen [--stock]`.
pub fn xen(stock: bool) -> Result<()> {
    let b = if stock { ensure_stock()? } else { ensure()? };
    println!("cache:              {}", b.dir.display());
    println!("release hypervisor: {}", b.xen_release.display());
    if !stock {
        println!("debug hypervisor:   {}", b.xen_debug.display());
    }
    println!("tools (DESTDIR):    {}", b.tools.display());
    Ok(())
}

/// `cargo xtask xen --check-series`: every patch building and booting on
/// its own. In a separate tree (`~/.cache/smooth/xen-series-<key>/`),
/// checks out the series one patch at a time and builds the release and
/// the debug hypervisor at each (incrementally, `-Werror`), then the tools
/// (`make build-tools`, installed) at each patch that touches `tools/` or
/// the public headers they are built against; then boots each patch's debug
/// hypervisor in QEMU with the tools of the last such patch (stock tools
/// before the first: `ensure_stock`) and runs `xen/tests/dom0-smoke.sh`.
/// Cached: a series that passed, with the same smoke test, is not checked
/// again.
pub fn check_series() -> Result<()> {
    deps::xen_deps()?;
    let key = cache_key()?;
    let dir = cache_dir().join(format!("xen-series-{key}"));
    let done = dir.join(format!(".series-ok-{}", smoke_key()?));
    let n = patches()?.len();
    if done.exists() {
        print!("{}", std::fs::read_to_string(&done)?);
        println!("(cached: {})", dir.display());
        return Ok(());
    }
    let src = source_tree(&dir, &patches()?)?;
    let top = output(git(&src).args(["rev-parse", "HEAD"]))?
        .trim()
        .to_string();
    let commits: Vec<String> =
        output(git(&src).args(["rev-list", "--reverse", &format!("HEAD~{n}..HEAD")]))?
            .lines()
            .map(str::to_string)
            .collect();
    let mut series = Series {
        src: &src,
        dir: &dir,
        report: String::new(),
        tools_at: vec![None; n],
    };
    // The hypervisors first: they build out of tree and want the tree clean
    // of the tools' in-tree build.
    let result = series
        .hypervisors(&commits)
        .and_then(|()| series.tools(&commits));
    run(git(&src).args(["checkout", "-q", &top]))?;
    result?;
    series.boots(&commits)?;
    std::fs::write(&done, &series.report)?;
    println!(
        "series OK: each of the {n} patches builds and boots on its own ({})",
        dir.display()
    );
    Ok(())
}

/// The boot `--check-series` runs at every patch, and what its verdict
/// depends on beyond the series.
const SMOKE_SCRIPT: &str = "dom0-smoke.sh";

fn smoke_key() -> Result<String> {
    let mut h = Sha256::new();
    for f in [SMOKE_SCRIPT, "lib.sh"] {
        h.update(std::fs::read(repo_root().join("xen/tests").join(f))?);
    }
    Ok(format!("{:x}", h.finalize())[..16].to_string())
}

/// A `--check-series` run: the tree it checks out patch by patch, its
/// directory, the report (one line per patch and step, printed and kept
/// for the cached report), and the tools installed at each patch that
/// built them.
struct Series<'a> {
    src: &'a Path,
    dir: &'a Path,
    report: String,
    tools_at: Vec<Option<PathBuf>>,
}

impl Series<'_> {
    fn passed(&mut self, i: usize, what: &str, commit: &str) -> Result<()> {
        let subject = output(git(self.src).args(["log", "-1", "--format=%s", commit]))?;
        let line = format!("patch {}: {what}  ({})\n", i + 1, subject.trim());
        print!("{line}");
        self.report.push_str(&line);
        Ok(())
    }

    /// The release and the debug hypervisor at every patch, incrementally.
    fn hypervisors(&mut self, commits: &[String]) -> Result<()> {
        for (i, c) in commits.iter().enumerate() {
            run(git(self.src).args(["checkout", "-q", c]))?;
            for debug in [false, true] {
                let kind = kind(debug);
                let out = self.dir.join(format!("hv-{kind}"));
                let config = if out.join(".config").exists() {
                    String::new()
                } else {
                    format!("{} && ", hypervisor_config(&out, debug, &[]))
                };
                std::fs::create_dir_all(&out)?;
                run_logged(
                    &format!("xen: patch {} {kind} hypervisor", i + 1),
                    &mut heavy(
                        &format!("set -e; {config}make -C xen O={} -j2", out.display()),
                        self.src,
                    ),
                    &self.dir.join(format!("hv-{kind}-{}.log", i + 1)),
                )?;
                if debug {
                    std::fs::copy(out.join("xen"), self.debug_hypervisor(i))?;
                }
            }
            self.passed(i, "release and debug hypervisor build", c)?;
        }
        Ok(())
    }

    /// Patch `i`'s debug hypervisor, kept for its boot.
    fn debug_hypervisor(&self, i: usize) -> PathBuf {
        self.dir.join(format!("xen-debug-{}", i + 1))
    }

    /// The tools at every patch that touches `tools/` or the public headers
    /// (libxc carries the domctl layout), installed for the boots. Each
    /// from clean: built incrementally across libxl's IDL change (0006),
    /// `xl create` failed ("Illegal pool specified"), as if xl kept objects
    /// of the old layout; built from clean, the same patch boots and passes.
    fn tools(&mut self, commits: &[String]) -> Result<()> {
        let mut configured = false;
        for (i, c) in commits.iter().enumerate() {
            let touched =
                output(git(self.src).args(["diff", "--name-only", &format!("{c}~1"), c]))?;
            if !touched
                .lines()
                .any(|f| f.starts_with("tools/") || f.starts_with("xen/include/public/"))
            {
                continue;
            }
            run(git(self.src).args(["checkout", "-q", c]))?;
            if !configured {
                configure_tools(self.src, &self.dir.join("configure.log"))?;
                configured = true;
            }
            let dist = self.dir.join(format!("tools-dist-{}", i + 1));
            if dist.exists() {
                std::fs::remove_dir_all(&dist)?;
            }
            run_logged(
                &format!("xen: patch {} tools", i + 1),
                &mut heavy(
                    &format!(
                        "set -e; make -C tools clean; make -j2 build-tools; \
                         make install-tools DESTDIR={}",
                        dist.display()
                    ),
                    self.src,
                ),
                &self.dir.join(format!("tools-{}.log", i + 1)),
            )?;
            self.tools_at[i] = Some(dist);
            self.passed(i, "tools build (make build-tools)", c)?;
        }
        Ok(())
    }

    /// Every patch's debug hypervisor booted with the tools of the last
    /// patch that built them (stock before the first), running
    /// `dom0-smoke.sh` on one pCPU.
    fn boots(&mut self, commits: &[String]) -> Result<()> {
        let kernel = crate::kernel::ensure(crate::kernel::Variant::Base)?;
        let mut tools = (ensure_stock()?.tools, "stock".to_string());
        let mut initrd = None;
        for (i, c) in commits.iter().enumerate() {
            if let Some(dist) = &self.tools_at[i] {
                tools = (dist.clone(), format!("patch {}", i + 1));
                initrd = None;
            }
            let initrd = match &initrd {
                Some(path) => path,
                None => initrd.insert(super::boot::dom0_initramfs(
                    &self.dir.join(format!("boot-{}", i + 1)),
                    &tools.0,
                    &kernel,
                    false,
                )?),
            };
            let log = self.dir.join(format!("boot-{}.log", i + 1));
            let tests = super::boot::Boot {
                hypervisor: &self.debug_hypervisor(i),
                kernel: &kernel,
                initrd,
                cpus: 1,
                sched: "credit",
                script: SMOKE_SCRIPT,
                args: String::new(),
                log: log.clone(),
                timeout: std::time::Duration::from_secs(900),
            }
            .run(|_| ())?;
            let failed = super::boot::failed(&tests);
            if !failed.is_empty() {
                bail!(
                    "patch {}: the boot failed ({}); console: {}",
                    i + 1,
                    failed.join("; "),
                    log.display()
                );
            }
            self.passed(
                i,
                &format!(
                    "boots ({SMOKE_SCRIPT} with the {} tools: {} checks)",
                    tools.1,
                    tests.len()
                ),
                c,
            )?;
        }
        Ok(())
    }
}
