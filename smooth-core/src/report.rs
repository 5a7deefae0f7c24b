//! How a smooth qdisc prints, the same in `tc` (q_smooth.so) and
//! `tc-smooth`: its options in the words the parser reads, its xstats
//! counters and histograms, all driven by the options and xstats tables.
//! A front end prints what this version does not know (an attribute a
//! newer module added) by its type rather than failing, and reads xstats
//! by length (`XStats::decode`).

use super::config::{Config, Kind, Param};
use super::options::ValueText;
use super::stats::DelayHistogram;
use super::uapi::{attr, CounterKind, XStats, COUNTERS};
use core::fmt;

/// A printed field's key: an option's or counter's name, or `attrN` for
/// an attribute this version does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A name from the tables.
    Name(&'static str),
    /// An unknown (or unexpectedly sized) attribute's type.
    Attr(u16),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Key::Name(n) => f.write_str(n),
            Key::Attr(t) => write!(f, "attr{t}"),
        }
    }
}

/// A printed field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown<'a> {
    /// A number, written as its kind is (`2Mbit`, `3ms`, `1000`).
    Value(Kind, u64),
    /// An unknown attribute's payload, written in hex.
    Raw(&'a [u8]),
}

impl Shown<'_> {
    /// The JSON number (in the UAPI's units), or `None` for a raw payload
    /// (printed as a hex string).
    pub fn number(&self) -> Option<u64> {
        match *self {
            Shown::Value(_, n) => Some(n),
            Shown::Raw(_) => None,
        }
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Shown::Value(kind, n) => ValueText(kind, n).fmt(f),
            Shown::Raw(bytes) => {
                f.write_str("0x")?;
                bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// One printed field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item<'a> {
    /// Its key (tc word, JSON key).
    pub key: Key,
    /// Its value.
    pub value: Shown<'a>,
}

fn known(kind: u16, payload: &[u8]) -> Option<(&'static Param, u64)> {
    let p = Param::by_attr(kind)?;
    let value = match *payload {
        [a, b, c, d] if p.width.bytes() == 4 => u32::from_ne_bytes([a, b, c, d]).into(),
        [a, b, c, d, e, f, g, h] if p.width.bytes() == 8 => {
            u64::from_ne_bytes([a, b, c, d, e, f, g, h])
        }
        _ => return None,
    };
    Some((p, value))
}

/// The options of a dump, attribute by attribute (`(type, payload)`, flags
/// stripped), in the kernel's order; padding skipped.
pub fn options<'a>(
    attrs: impl IntoIterator<Item = (u16, &'a [u8])>,
) -> impl Iterator<Item = Item<'a>> {
    attrs
        .into_iter()
        .filter(|&(kind, _)| kind != attr::PAD)
        .map(|(kind, payload)| match known(kind, payload) {
            Some((p, n)) => Item {
                key: Key::Name(p.name),
                value: Shown::Value(p.kind, n),
            },
            None => Item {
                key: Key::Attr(kind),
                value: Shown::Raw(payload),
            },
        })
}

/// The configuration a dump reports: the options this version knows, on
/// top of the defaults; `None` without a rate (not a smooth dump).
pub fn config<'a>(attrs: impl IntoIterator<Item = (u16, &'a [u8])>) -> Option<Config> {
    let mut cfg = Config::DEFAULT;
    let mut rate = false;
    for (p, value) in attrs.into_iter().filter_map(|(k, b)| known(k, b)) {
        p.set(&mut cfg, value).ok()?;
        rate |= p.attr == attr::RATE;
    }
    rate.then_some(cfg)
}

/// The scalar counters of xstats, in layout order (the version and the
/// histograms are not among them: see [`histograms`]).
pub fn counters(x: &XStats) -> impl Iterator<Item = Item<'static>> + '_ {
    COUNTERS.iter().filter_map(move |c| {
        let kind = match c.kind {
            CounterKind::Time => Kind::Time,
            CounterKind::Count => Kind::Count,
            CounterKind::Version | CounterKind::Histogram => return None,
        };
        Some(Item {
            key: Key::Name(c.name),
            value: Shown::Value(kind, c.words(x)[0]),
        })
    })
}

/// The histograms of xstats: name and buckets (labelled by
/// [`BucketLabel`]).
pub fn histograms(x: &XStats) -> impl Iterator<Item = (&'static str, &[u64])> + '_ {
    COUNTERS
        .iter()
        .filter(|c| c.kind == CounterKind::Histogram)
        .map(move |c| (c.name, c.words(x)))
}

/// A histogram bucket's label: `<128us`, `<256us`, …, `>=2097152us`.
#[derive(Clone, Copy, Debug)]
pub struct BucketLabel(pub usize);

impl fmt::Display for BucketLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DelayHistogram::upper_edge_us(self.0) {
            Some(edge) => write!(f, "<{edge}us"),
            None => write!(f, ">={}us", DelayHistogram::FIRST_EDGE_US << (self.0 - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uapi::to_attrs;

    fn wire(cfg: &Config) -> Vec<(u16, Vec<u8>)> {
        to_attrs(cfg)
            .iter()
            .map(|v| {
                let (p, n) = v.payload();
                (v.kind(), p[..n].to_vec())
            })
            .collect()
    }

    fn text(items: impl Iterator<Item = Item<'static>>) -> String {
        items
            .map(|i| format!("{} {}", i.key, i.value))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn defaults_print_in_tc_words() {
        let attrs = wire(&Config::DEFAULT);
        let items: Vec<String> = options(attrs.iter().map(|(k, p)| (*k, p.as_slice())))
            .map(|i| format!("{} {}", i.key, i.value))
            .collect();
        assert_eq!(
            items.join(" "),
            "rate 2Mbit window 3ms burst 50ms max_delay 200ms limit 1000 limit_bytes 0"
        );
    }

    #[test]
    fn unknown_attributes_print_by_type() {
        let mut attrs = wire(&Config::DEFAULT);
        attrs.push((attr::PAD, vec![]));
        attrs.push((42, vec![1, 2, 0xab]));
        // A known type with a size this version does not expect.
        attrs.push((attr::LIMIT, vec![0; 8]));
        let view = || attrs.iter().map(|(k, p)| (*k, p.as_slice()));
        let items: Vec<Item<'_>> = options(view()).collect();
        assert_eq!(items.len(), 8);
        assert_eq!(items[6].key.to_string(), "attr42");
        assert_eq!(items[6].value.to_string(), "0x0102ab");
        assert_eq!(items[6].value.number(), None);
        assert_eq!(items[7].key, Key::Attr(attr::LIMIT));
        assert_eq!(config(view()), Some(Config::DEFAULT));
        assert_eq!(config(core::iter::empty()), None);
    }

    #[test]
    fn counters_follow_the_table() {
        let x = XStats {
            version: XStats::VERSION,
            window_max: 3_000_000,
            credit_owed: 1_500_000,
            raised: 2,
            lowered: 1,
            ..XStats::default()
        };
        let all = text(counters(&x));
        assert!(
            all.starts_with("window_min 0us window_max 3ms credit_owed 1500us raised 2 lowered 1"),
            "{all}"
        );
        assert!(all.ends_with("drops_gso 0"), "{all}");
        let names: Vec<&str> = histograms(&x).map(|(n, _)| n).collect();
        assert_eq!(names, ["sojourn_hist", "lateness_hist"]);
    }

    #[test]
    fn bucket_labels() {
        assert_eq!(BucketLabel(0).to_string(), "<128us");
        assert_eq!(BucketLabel(15).to_string(), ">=2097152us");
    }
}
