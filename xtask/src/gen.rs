//! `cargo xtask gen`: writes what is generated from smooth-core's options
//! and xstats tables — the C UAPI header and the tables in docs/ (each
//! between `<!-- generated: NAME -->` and `<!-- end generated -->`). The
//! tests below fail when a committed copy is stale, and compile the header
//! to check its layout against the Rust encoding.

use crate::util::repo_root;
use anyhow::{bail, Context, Result};
use smooth_core::generated::{AttributesTable, CHeader, CountersTable, ParamsTable, C_HEADER_PATH};
use std::fs;

/// Every generated docs block: (file under docs/, block name, content).
fn doc_blocks() -> [(&'static str, &'static str, String); 3] {
    [
        ("qdisc.md", "parameters", ParamsTable.to_string()),
        ("qdisc.md", "counters", CountersTable.to_string()),
        ("uapi.md", "attributes", AttributesTable.to_string()),
    ]
}

/// `doc` with block `name`'s content replaced by `body`.
fn splice(doc: &str, name: &str, body: &str) -> Result<String> {
    let begin = format!("<!-- generated: {name} -->\n");
    let end = "<!-- end generated -->";
    let start = doc
        .find(&begin)
        .with_context(|| format!("no `{}` marker", begin.trim()))?;
    let from = start + begin.len();
    let stop = from
        + doc[from..]
            .find(end)
            .with_context(|| format!("block {name} has no end marker"))?;
    Ok(format!("{}{body}{}", &doc[..from], &doc[stop..]))
}

/// Writes the header and the docs blocks.
pub fn gen() -> Result<()> {
    let root = repo_root();
    let header = root.join(C_HEADER_PATH);
    fs::create_dir_all(header.parent().expect("header path has a directory"))?;
    fs::write(&header, CHeader.to_string())?;
    println!("wrote {}", header.display());
    for (file, name, body) in doc_blocks() {
        let path = root.join("docs").join(file);
        let doc = fs::read_to_string(&path)?;
        let new = splice(&doc, name, &body).with_context(|| path.display().to_string())?;
        if new != doc {
            fs::write(&path, new)?;
            println!("updated {} ({name})", path.display());
        }
    }
    Ok(())
}

/// Stale generated files, as messages (empty: all current).
fn stale() -> Result<Vec<String>> {
    let root = repo_root();
    let mut out = Vec::new();
    let header = fs::read_to_string(root.join(C_HEADER_PATH)).unwrap_or_default();
    if header != CHeader.to_string() {
        out.push(C_HEADER_PATH.to_string());
    }
    for (file, name, body) in doc_blocks() {
        let doc = fs::read_to_string(root.join("docs").join(file))?;
        if splice(&doc, name, &body)? != doc {
            out.push(format!("docs/{file} ({name})"));
        }
    }
    Ok(out)
}

/// Fails unless every generated file is current (`gen --check`).
pub fn check() -> Result<()> {
    let stale = stale()?;
    if !stale.is_empty() {
        bail!("stale, run `cargo xtask gen`: {}", stale.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smooth_core::uapi::{attr, XStats, COUNTERS};
    use smooth_core::PARAMS;
    use std::process::Command;

    #[test]
    fn generated_files_are_current() {
        check().unwrap();
    }

    #[test]
    fn splice_replaces_only_the_block() {
        let doc = "a\n<!-- generated: x -->\nold\n<!-- end generated -->\nb\n";
        assert_eq!(
            splice(doc, "x", "new\n").unwrap(),
            "a\n<!-- generated: x -->\nnew\n<!-- end generated -->\nb\n"
        );
        assert!(splice(doc, "y", "").is_err());
    }

    /// A C translation unit asserting, at compile time, that the header
    /// agrees with the Rust side: every attribute number, and every xstats
    /// field at the byte offset where `XStats::encode` writes it.
    fn layout_check() -> String {
        let mut c = String::from("#include <stddef.h>\n#include \"sch_smooth.h\"\n");
        let mut check =
            |cond: String| c.push_str(&format!("_Static_assert({cond}, \"{cond}\");\n"));
        for p in &PARAMS {
            check(format!("{} == {}", p.attr_name, p.attr));
        }
        check(format!("TCA_SMOOTH_PAD == {}", attr::PAD));
        check(format!("TCA_SMOOTH_MAX == {}", attr::MAX));
        check(format!("TC_SMOOTH_XSTATS_VERSION == {}", XStats::VERSION));
        check(format!(
            "sizeof(struct tc_smooth_xstats) == {}",
            XStats::SIZE
        ));
        // Number every word, then find each counter's first one in the
        // encoding: its byte offset as the kernel writes it.
        let mut x = XStats::default();
        let mut next = 1u64;
        for counter in &COUNTERS {
            for w in counter.words_mut(&mut x) {
                *w = next;
                next += 1;
            }
        }
        let encoded: Vec<u64> = x
            .encode()
            .chunks_exact(8)
            .map(|b| u64::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        for counter in &COUNTERS {
            let first = counter.words(&x)[0];
            let at = encoded.iter().position(|&w| w == first).unwrap();
            check(format!(
                "offsetof(struct tc_smooth_xstats, {}) == {}",
                counter.name,
                at * 8
            ));
        }
        c
    }

    #[test]
    fn c_header_matches_the_rust_layout() {
        let dir = std::env::temp_dir().join(format!("smooth-uapi-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::copy(repo_root().join(C_HEADER_PATH), dir.join("sch_smooth.h")).unwrap();
        fs::write(dir.join("check.c"), layout_check()).unwrap();
        let out = Command::new("clang")
            .args(["-std=c11", "-fsyntax-only", "-Wall", "-Werror", "check.c"])
            .current_dir(&dir)
            .output()
            .expect("clang (installed by `cargo xtask deps`) runs");
        let _ = fs::remove_dir_all(&dir);
        assert!(
            out.status.success(),
            "the C header disagrees with the Rust layout:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
