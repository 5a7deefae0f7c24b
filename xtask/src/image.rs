//! The initramfs builder every guest uses — the netns test guest (`vm.rs`)
//! and Xen's dom0 and domU images (`xen/boot.rs`): a busybox root with a
//! merged `/usr` like the host's, host programs copied in with their `ldd`
//! closure, python3 and flent on request, files placed at guest paths, an `/init`, and the `cpio` archive.
//!
//! What goes in (which applets, which programs, which init) is the caller's;
//! how it goes in is here, once.

use crate::util::run;
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Directories of every root; callers add their own (`tmp`, `run`, …).
const DIRS: &[&str] = &[
    "usr/bin",
    "usr/sbin",
    "usr/lib",
    "usr/lib64",
    "etc",
    "proc",
    "sys",
    "dev",
    "smooth",
];

/// A root file system being assembled on the host.
pub struct Image {
    root: PathBuf,
    /// Shared libraries the programs placed so far need (host paths).
    libs: BTreeSet<PathBuf>,
    /// `LD_LIBRARY_PATH` for `ldd` (a staged tree's own libraries).
    library_path: String,
}

impl Image {
    /// Starts a fresh root in `root` (removing what was there): the
    /// directories of [`DIRS`] and `extra_dirs`, `/bin`, `/sbin`, `/lib` and
    /// `/lib64` as links into `/usr` (so `/bin/bash` and `/usr/bin/bash`
    /// agree), and busybox with `applets` linked to it in `/usr/bin`.
    pub fn new(root: PathBuf, extra_dirs: &[&str], applets: &[&str]) -> Result<Image> {
        if root.exists() {
            std::fs::remove_dir_all(&root)?;
        }
        for d in DIRS.iter().chain(extra_dirs) {
            std::fs::create_dir_all(root.join(d))?;
        }
        for d in ["bin", "sbin", "lib", "lib64"] {
            std::os::unix::fs::symlink(format!("usr/{d}"), root.join(d))?;
        }
        let image = Image {
            root,
            libs: BTreeSet::new(),
            library_path: String::new(),
        };
        image.copy(Path::new("/bin/busybox"), "/usr/bin/busybox")?;
        for a in applets {
            let link = image.root.join("usr/bin").join(a);
            if !link.exists() {
                std::os::unix::fs::symlink("busybox", link)?;
            }
        }
        Ok(image)
    }

    /// Where `guest` (an absolute guest path) lies on the host.
    fn host_path(&self, guest: &str) -> PathBuf {
        self.root.join(guest.trim_start_matches('/'))
    }

    /// Sets `LD_LIBRARY_PATH` for the `ldd` runs that follow.
    pub fn library_path(&mut self, path: String) {
        self.library_path = path;
    }

    /// Copies `host` to `guest` (an absolute path).
    pub fn copy(&self, host: &Path, guest: &str) -> Result<()> {
        let dest = self.host_path(guest);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(host, &dest)
            .with_context(|| format!("copying {} into the guest", host.display()))?;
        Ok(())
    }

    /// `cp -a host` into the guest directory `guest_dir`.
    pub fn copy_tree(&self, host: impl AsRef<OsStr>, guest_dir: &str) -> Result<()> {
        run(Command::new("cp")
            .arg("-a")
            .arg(host)
            .arg(self.host_path(guest_dir)))
    }

    /// Writes `contents` to `guest`.
    pub fn write(&self, guest: &str, contents: &str) -> Result<()> {
        let dest = self.host_path(guest);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&dest, contents).with_context(|| format!("writing {}", dest.display()))
    }

    /// Makes `guest` a symbolic link to `target`.
    pub fn symlink(&self, target: &str, guest: &str) -> Result<()> {
        let dest = self.host_path(guest);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(target, &dest)
            .with_context(|| format!("linking {}", dest.display()))
    }

    /// Writes the executable `/init`.
    pub fn init(&self, script: &str) -> Result<()> {
        self.write("/init", script)?;
        run(Command::new("chmod").arg("+x").arg(self.host_path("/init")))
    }

    /// Adds the `ldd` closure of `binary` to the libraries to install.
    pub fn libraries_of(&mut self, binary: &Path) -> Result<()> {
        let out = Command::new("ldd")
            .arg(binary)
            .env("LD_LIBRARY_PATH", &self.library_path)
            .output()?;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or
            // "/lib64/ld-linux-x86-64.so.2 (0x…)"; static binaries print nothing.
            let path = match line.split_once("=>") {
                Some((_, rest)) => rest.split_whitespace().next(),
                None => line.split_whitespace().next(),
            };
            if let Some(p) = path.filter(|p| p.starts_with('/')) {
                self.libs.insert(PathBuf::from(p));
            }
        }
        Ok(())
    }

    /// Adds one library `ldd` cannot see (one loaded with `dlopen`).
    pub fn library(&mut self, path: &str) {
        self.libs.insert(PathBuf::from(path));
    }

    /// Copies host programs, found on the host's `PATH` directories, to the
    /// same paths in the guest, and notes their libraries.
    pub fn host_tools(&mut self, names: &[&str]) -> Result<()> {
        for name in names {
            let host = resolve_tool(name)?;
            self.libraries_of(&host)?;
            self.copy(&host, &host.to_string_lossy())?;
        }
        Ok(())
    }

    /// Python 3: the interpreter and its standard library, without what no
    /// test uses (25 MB less).
    pub fn python3(&mut self) -> Result<()> {
        let python = std::fs::canonicalize("/usr/bin/python3")?;
        let name = python.file_name().expect("a file").to_owned();
        self.libraries_of(&python)?;
        self.copy(&python, &python.to_string_lossy())?;
        std::os::unix::fs::symlink(&name, self.host_path("/usr/bin/python3"))?;
        let stdlib = Path::new("/usr/lib").join(&name);
        self.copy_tree(&stdlib, "/usr/lib")?;
        let copied = self.host_path("/usr/lib").join(&name);
        const UNUSED: &[&str] = &[
            "test",
            "lib2to3",
            "pydoc_data",
            "ensurepip",
            "idlelib",
            "tkinter",
        ];
        for entry in std::fs::read_dir(&copied)? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with("config-") || UNUSED.contains(&name.as_ref()) {
                std::fs::remove_dir_all(&path)?;
            }
        }
        for entry in std::fs::read_dir(copied.join("lib-dynload"))? {
            self.libraries_of(&entry?.path())?;
        }
        Ok(())
    }

    /// flent (E1b of `cargo xtask bench`): Debian's flent, a pure-Python
    /// program in `/usr/share/flent` run by python3 (which this adds if
    /// missing; flent needs nothing beyond the standard library when it does
    /// not plot), D-ITG's sender, receiver and decoder, fping (the latency
    /// probes of `rrul`) and flent's D-ITG control server, which Debian ships
    /// as documentation (`/usr/share/doc/flent/misc`).
    pub fn flent(&mut self) -> Result<()> {
        if !self.host_path("/usr/bin/python3").exists() {
            self.python3()?;
        }
        std::fs::create_dir_all(self.host_path("/usr/share"))?;
        self.copy_tree("/usr/share/flent", "/usr/share")?;
        std::os::unix::fs::symlink("../share/flent/run", self.host_path("/usr/bin/flent"))?;
        self.host_tools(&["ITGSend", "ITGRecv", "ITGDec", "fping"])?;
        const CONTROL: &str = "/usr/share/doc/flent/misc/ditg-control-server.py.gz";
        self.copy(Path::new(CONTROL), CONTROL)
    }

    /// Copies every library noted so far, except those below `except` (a
    /// staged tree already copied whole).
    pub fn install_libraries(&self, except: Option<&Path>) -> Result<()> {
        for lib in &self.libs {
            if except.is_some_and(|e| lib.starts_with(e)) {
                continue;
            }
            self.copy(&std::fs::canonicalize(lib)?, &lib.to_string_lossy())?;
        }
        Ok(())
    }

    /// Archives the root as a `newc` cpio (owned by root) at `out`.
    pub fn cpio(&self, out: &Path) -> Result<()> {
        run(Command::new("sh")
            .current_dir(&self.root)
            .arg("-c")
            .arg(format!(
                "find . | cpio -o -H newc -R 0:0 --quiet > '{}'",
                out.display()
            )))
    }
}

/// A host program by name, from the directories the guest's `PATH` has.
fn resolve_tool(name: &str) -> Result<PathBuf> {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("{name} not found on the host: run `cargo xtask deps`")
}
