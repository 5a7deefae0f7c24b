//! What is generated from the options and xstats tables for readers
//! outside Rust: the C UAPI header and the docs' parameter, attribute and
//! counter tables. `cargo xtask gen` writes them; a test fails when a
//! committed copy differs (and compiles the header against this layout).

use super::config::{Kind, Max, Param, PARAMS};
use super::options::ValueText;
use super::stats::DelayHistogram;
use super::uapi::{attr, CounterKind, XStats, COUNTERS};
use core::fmt::{self, Display, Formatter};

/// The header's path in the repository.
pub const C_HEADER_PATH: &str = "sch_smooth/include/uapi/linux/sch_smooth.h";

/// A meaning as one line (doc comments arrive with a space per line).
struct Line(&'static str);

impl Display for Line {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut words = self.0.split_whitespace();
        if let Some(w) = words.next() {
            f.write_str(w)?;
        }
        words.try_for_each(|w| write!(f, " {w}"))
    }
}

/// A value as the docs write it: tc's words, and the wire number where
/// tc's word is a different unit.
struct DocValue(Kind, u64);

impl Display for DocValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", ValueText(self.0, self.1))
    }
}

struct Range<'a>(&'a Param);

impl Display for Range<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let p = self.0;
        write!(f, "{} … ", DocValue(p.kind, p.min))?;
        match p.max {
            Max::Const(m) => DocValue(p.kind, m).fmt(f),
            Max::AtMost(m, other) => write!(f, "min({}, `{}`)", DocValue(p.kind, m), other.name()),
        }
    }
}

/// docs/qdisc.md's parameter table.
pub struct ParamsTable;

impl Display for ParamsTable {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| keyword | `tc-smooth` flag | default | range | meaning |"
        )?;
        writeln!(f, "|---|---|---|---|---|")?;
        for p in &PARAMS {
            write!(f, "| `{}` | `--{}` | ", p.name, p.flag())?;
            if p.required {
                f.write_str("required")?;
            } else {
                DocValue(p.kind, p.default_value()).fmt(f)?;
            }
            writeln!(f, " | {} | {} |", Range(p), Line(p.help))?;
        }
        Ok(())
    }
}

/// docs/uapi.md's attribute table.
pub struct AttributesTable;

impl Display for AttributesTable {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "| # | name | type | unit | range | meaning |")?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        writeln!(
            f,
            "| {} | `TCA_SMOOTH_UNSPEC` | — | — | — | never valid (refused as unknown) |",
            attr::UNSPEC
        )?;
        for kind in 1..=attr::MAX {
            match Param::by_attr(kind) {
                Some(p) => {
                    let required = if p.required {
                        "; **required** when creating"
                    } else {
                        ""
                    };
                    write!(
                        f,
                        "| {kind} | `{}` | {} | {} | ",
                        p.attr_name,
                        p.width.c_type(),
                        p.unit
                    )?;
                    match p.max {
                        Max::Const(m) => write!(f, "{}..={m}", p.min)?,
                        Max::AtMost(m, other) => {
                            write!(f, "{}..={m}, ≤ `{}`", p.min, other.name())?
                        }
                    }
                    writeln!(f, " | {}{required} |", Line(p.help))?;
                }
                None if kind == attr::PAD => writeln!(
                    f,
                    "| {kind} | `{}` | — | — | — | alignment padding for u64 attributes; ignored |",
                    attr::name(kind)
                )?,
                None => writeln!(
                    f,
                    "| {kind} | — | — | — | — | unassigned (refused as unknown) |"
                )?,
            }
        }
        Ok(())
    }
}

/// docs/qdisc.md's xstats table, in layout order.
pub struct CountersTable;

impl Display for CountersTable {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "| field | reads | since | meaning |")?;
        writeln!(f, "|---|---|---|---|")?;
        for c in &COUNTERS {
            let reads = match c.kind {
                CounterKind::Version => "layout version",
                CounterKind::Time => "time (ns)",
                CounterKind::Count => "count",
                CounterKind::Histogram => "histogram",
            };
            writeln!(
                f,
                "| `{}` | {reads} | {} | {} |",
                c.name,
                c.since,
                Line(c.meaning)
            )?;
        }
        Ok(())
    }
}

/// The C UAPI header (`sch_smooth/include/uapi/linux/sch_smooth.h`).
pub struct CHeader;

impl Display for CHeader {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */"
        )?;
        writeln!(f, "/*")?;
        writeln!(
            f,
            " * The netlink interface of the smooth qdisc (TCA_KIND \"smooth\")."
        )?;
        writeln!(
            f,
            " * Generated from smooth-core's options and xstats tables by"
        )?;
        writeln!(
            f,
            " * `cargo xtask gen`: do not edit. Values are native-endian."
        )?;
        writeln!(f, " */")?;
        writeln!(f, "#ifndef _UAPI_LINUX_SCH_SMOOTH_H")?;
        writeln!(f, "#define _UAPI_LINUX_SCH_SMOOTH_H")?;
        writeln!(f)?;
        writeln!(f, "#include <linux/types.h>")?;
        writeln!(f)?;
        writeln!(f, "/* Attributes nested in TCA_OPTIONS. */")?;
        writeln!(f, "enum {{")?;
        writeln!(f, "\tTCA_SMOOTH_UNSPEC = {},", attr::UNSPEC)?;
        for kind in 1..=attr::MAX {
            match Param::by_attr(kind) {
                Some(p) => writeln!(
                    f,
                    "\t{} = {kind},\t/* {}, {}: {} */",
                    p.attr_name,
                    p.width.c_type(),
                    p.unit,
                    Line(p.help)
                )?,
                None => writeln!(f, "\t{} = {kind},", attr::name(kind))?,
            }
        }
        writeln!(f, "\t__TCA_SMOOTH_MAX")?;
        writeln!(f, "}};")?;
        writeln!(f)?;
        writeln!(f, "#define TCA_SMOOTH_MAX (__TCA_SMOOTH_MAX - 1)")?;
        writeln!(f)?;
        writeln!(f, "#define TC_SMOOTH_XSTATS_VERSION {}", XStats::VERSION)?;
        writeln!(
            f,
            "#define TC_SMOOTH_HIST_BUCKETS {}",
            DelayHistogram::BUCKETS
        )?;
        writeln!(f)?;
        writeln!(f, "/*")?;
        writeln!(
            f,
            " * TCA_STATS_APP. Fields are only ever appended: a reader decodes the"
        )?;
        writeln!(
            f,
            " * prefix it knows (version 3 and later) and ignores the rest."
        )?;
        writeln!(f, " */")?;
        writeln!(f, "struct tc_smooth_xstats {{")?;
        let mut since = 0;
        for c in &COUNTERS {
            if since != 0 && c.since != since {
                writeln!(f, "\t/* version {} */", c.since)?;
            }
            since = c.since;
            writeln!(f, "\t/* {} */", Line(c.meaning))?;
            match c.kind {
                CounterKind::Histogram => {
                    writeln!(f, "\t__u64 {}[TC_SMOOTH_HIST_BUCKETS];", c.name)?
                }
                _ => writeln!(f, "\t__u64 {};", c.name)?,
            }
        }
        writeln!(f, "}};")?;
        writeln!(f)?;
        writeln!(f, "#endif /* _UAPI_LINUX_SCH_SMOOTH_H */")
    }
}
