//! The netlink interface of the `smooth` qdisc (`docs/uapi.md`): attribute
//! numbers, how a set of attributes turns into a [`Config`], how a
//! [`Config`] turns back into attributes, and the xstats layout. Shared by
//! the kernel module, the tc plugin and `tc-smooth`, so all three agree.

use super::config::{Config, ConfigError, Field, Max, Param, Width, PARAMS};

use super::shaper::Shaper;
use super::stats::DelayHistogram;
use core::fmt;

pub use super::config::attr;

/// Why a set of attributes was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// An attribute type this version does not know.
    Unknown(u16),
    /// A known attribute with the wrong payload size.
    BadLength(u16, usize),
    /// The same attribute twice.
    Duplicate(u16),
    /// Creating a qdisc needs this option (the rate: it has no sensible
    /// default).
    Missing(Field),
    /// A value out of range.
    Invalid(ConfigError),
    /// The attribute stream itself is malformed.
    Malformed,
}

impl OptionError {
    /// The type of the attribute at fault — where extack points — or
    /// `None` when no single attribute is (a missing rate; a malformed
    /// stream, which the walker locates itself).
    pub fn attribute(&self) -> Option<u16> {
        match *self {
            OptionError::Unknown(t) | OptionError::BadLength(t, _) | OptionError::Duplicate(t) => {
                Some(t)
            }
            OptionError::Invalid(e) => Some(attr::of(e.field)),
            OptionError::Missing(_) | OptionError::Malformed => None,
        }
    }

    /// For a value out of a range that another option bounds (the window,
    /// at most `max_delay`), that option's attribute: where extack points
    /// when the request moved the bound but left the value in force.
    pub fn bounding_attribute(&self) -> Option<u16> {
        match *self {
            OptionError::Invalid(e) => match e.field.param().max {
                Max::AtMost(_, bound) => Some(attr::of(bound)),
                Max::Const(_) => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OptionError::Unknown(t) => write!(f, "unknown attribute type {t}"),
            OptionError::BadLength(t, n) => write!(
                f,
                "{} has {n} bytes, expected {}",
                attr::name(t),
                attr::payload_len(t).unwrap_or(0)
            ),
            OptionError::Duplicate(t) => write!(f, "{} given twice", attr::name(t)),
            OptionError::Missing(field) => write!(f, "{} is required", field.name()),
            OptionError::Invalid(e) => write!(f, "{e}"),
            OptionError::Malformed => write!(f, "malformed attributes"),
        }
    }
}

/// Applies attributes `(type, payload)` on top of `base` and validates the
/// result. `create` demands the required options (the rate). Types carry
/// no flags here: callers strip `NLA_F_*` bits.
pub fn apply<'a>(
    base: Config,
    attrs: impl IntoIterator<Item = (u16, &'a [u8])>,
    create: bool,
) -> Result<Config, OptionError> {
    let mut change = Change::new(base);
    for (kind, payload) in attrs {
        change.attr(kind, payload)?;
    }
    change.finish(create)
}

/// A configuration being changed attribute by attribute (what [`apply`]
/// does, for callers that produce the payloads one at a time).
pub struct Change {
    cfg: Config,
    seen: [bool; PARAMS.len()],
}

impl Change {
    /// Starts from `base`.
    pub fn new(base: Config) -> Change {
        Change {
            cfg: base,
            seen: [false; PARAMS.len()],
        }
    }

    /// Applies one attribute: refuses an unknown type, a wrong size and a
    /// repeat; the range is checked by [`Change::finish`].
    pub fn attr(&mut self, kind: u16, payload: &[u8]) -> Result<(), OptionError> {
        if kind == attr::PAD {
            return Ok(());
        }
        let param = Param::by_attr(kind).ok_or(OptionError::Unknown(kind))?;
        let value = match (param.width, payload) {
            (Width::U64, &[a, b, c, d, e, f, g, h]) => u64::from_ne_bytes([a, b, c, d, e, f, g, h]),
            (Width::U32, &[a, b, c, d]) => u32::from_ne_bytes([a, b, c, d]).into(),
            (_, p) => return Err(OptionError::BadLength(kind, p.len())),
        };
        self.set(param, value)
    }

    /// Sets one option's value (already decoded); refuses a repeat and a
    /// value wider than the field.
    pub fn set(&mut self, param: &Param, value: u64) -> Result<(), OptionError> {
        let kind = param.attr;
        let seen = &mut self.seen[param.field as usize];
        if *seen {
            return Err(OptionError::Duplicate(kind));
        }
        *seen = true;
        param
            .set(&mut self.cfg, value)
            .map_err(OptionError::Invalid)
    }

    /// The validated result; `create` demands the required options.
    pub fn finish(self, create: bool) -> Result<Config, OptionError> {
        if create {
            let missing = PARAMS
                .iter()
                .find(|p| p.required && !self.seen[p.field as usize]);
            if let Some(p) = missing {
                return Err(OptionError::Missing(p.field));
            }
        }
        self.cfg.validate().map_err(OptionError::Invalid)
    }
}

/// One attribute value to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A u64 attribute.
    U64(u16, u64),
    /// A u32 attribute.
    U32(u16, u32),
}

impl Value {
    /// `param`'s attribute carrying `value`, which must fit its width (a
    /// validated [`Config`]'s values do).
    pub fn of(param: &Param, value: u64) -> Value {
        match param.width {
            Width::U64 => Value::U64(param.attr, value),
            // The table's u32 fields have ranges within u32.
            Width::U32 => Value::U32(param.attr, value as u32),
        }
    }

    /// The attribute type.
    #[cfg(not(MODULE))]
    pub fn kind(&self) -> u16 {
        match *self {
            Value::U64(k, _) | Value::U32(k, _) => k,
        }
    }

    /// The value, widened.
    #[cfg(not(MODULE))]
    pub fn value(&self) -> u64 {
        match *self {
            Value::U64(_, v) => v,
            Value::U32(_, v) => v.into(),
        }
    }

    /// Native-endian payload and its length.
    #[cfg(not(MODULE))]
    pub fn payload(&self) -> ([u8; 8], usize) {
        let mut out = [0u8; 8];
        match *self {
            Value::U64(_, v) => {
                out.copy_from_slice(&v.to_ne_bytes());
                (out, 8)
            }
            Value::U32(_, v) => {
                out[..4].copy_from_slice(&v.to_ne_bytes());
                (out, 4)
            }
        }
    }
}

/// Every parameter of `cfg` as attributes, in table order: what `dump`
/// reports and what a front end sends. `apply(_, to_attrs(c), true) ==
/// Ok(c)`.
pub fn to_attrs(cfg: &Config) -> [Value; PARAMS.len()] {
    core::array::from_fn(|i| Value::of(&PARAMS[i], PARAMS[i].get(cfg)))
}

/// How a counter reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterKind {
    /// The layout version (not printed).
    Version,
    /// A time in ns.
    Time,
    /// An event count.
    Count,
    /// A [`DelayHistogram`]'s buckets.
    Histogram,
}

/// One row of the xstats table. The module only encodes: the fields
/// other than `get` are read by the front ends and the generators.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(MODULE, allow(dead_code))]
pub struct Counter {
    /// Field name and JSON key.
    pub name: &'static str,
    /// How it reads.
    pub kind: CounterKind,
    /// The layout version that added it.
    pub since: u64,
    /// What it counts, for the docs and the C header.
    pub meaning: &'static str,
    get: fn(&XStats) -> &[u64],
    get_mut: fn(&mut XStats) -> &mut [u64],
}

impl Counter {
    /// The counter's words in `x` (one, or a histogram's buckets).
    pub fn words<'a>(&self, x: &'a XStats) -> &'a [u64] {
        (self.get)(x)
    }

    /// The counter's words in `x`, to set.
    #[cfg(not(MODULE))]
    pub fn words_mut<'a>(&self, x: &'a mut XStats) -> &'a mut [u64] {
        (self.get_mut)(x)
    }
}

/// A field of [`XStats`] as u64 words.
trait Words {
    const LEN: usize;
    fn words(&self) -> &[u64];
    fn words_mut(&mut self) -> &mut [u64];
}

impl Words for u64 {
    const LEN: usize = 1;
    fn words(&self) -> &[u64] {
        core::slice::from_ref(self)
    }
    fn words_mut(&mut self) -> &mut [u64] {
        core::slice::from_mut(self)
    }
}

impl<const N: usize> Words for [u64; N] {
    const LEN: usize = N;
    fn words(&self) -> &[u64] {
        self
    }
    fn words_mut(&mut self) -> &mut [u64] {
        self
    }
}

macro_rules! xstats {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident: $ty:ty = $kind:ident since $since:literal;
    )*) => {
        /// `struct tc_smooth_xstats`: native-endian u64 words, the rows of
        /// [`COUNTERS`] in order. A counter added later is appended, never
        /// inserted: a reader decodes the prefix it knows and ignores the
        /// rest, so an older `tc` still reads a newer module.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct XStats {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        /// The xstats table, in layout order.
        pub const COUNTERS: [Counter; [$(stringify!($field)),*].len()] = [
            $(
                Counter {
                    name: stringify!($field),
                    kind: CounterKind::$kind,
                    since: $since,
                    meaning: concat!($($doc),*),
                    get: |x: &XStats| x.$field.words(),
                    get_mut: |x: &mut XStats| x.$field.words_mut(),
                },
            )*
        ];

        impl XStats {
            /// Encoded size in words.
            const WORDS: usize = 0 $(+ <$ty as Words>::LEN)*;
            /// Words of the oldest layout this reader decodes.
            #[cfg(not(MODULE))]
            const OLDEST_WORDS: usize = 0 $(+ if $since <= Self::OLDEST { <$ty as Words>::LEN } else { 0 })*;
            /// Current layout version: the newest row's.
            pub const VERSION: u64 = super::config::max_of(&[$($since),*]);
        }
    };
}

xstats! {
    /// Layout version of the writer.
    version: u64 = Version since 3;
    /// The window's floor now: the delay the next packet gets unless the
    /// bucket forces more or credit would overflow, ns.
    window_min: u64 = Time since 3;
    /// The window's top (floor + `window`), ns.
    window_max: u64 = Time since 3;
    /// How long until the token bucket is full again (0: full), ns.
    credit_owed: u64 = Time since 3;
    /// Times the window rose: credit ran short and a packet had to be held
    /// more than `window` above the floor.
    raised: u64 = Count since 3;
    /// Times the window slid down: holding a packet at the floor would have
    /// let the full bucket overflow.
    lowered: u64 = Count since 3;
    /// Drops at the packet limit.
    drops_limit: u64 = Count since 3;
    /// Drops at the byte limit.
    drops_bytes: u64 = Count since 3;
    /// Drops at the delay ceiling (`max_delay`).
    drops_ceiling: u64 = Count since 3;
    /// Admitted packets that had to wait (counted like `overlimits`).
    throttled: u64 = Count since 3;
    /// GSO packets split into segments because they were larger than the
    /// bucket.
    gso_segmented: u64 = Count since 3;
    /// Smallest time from enqueue to dequeue (0 if none yet), ns.
    sojourn_min: u64 = Time since 3;
    /// Largest time from enqueue to dequeue, ns.
    sojourn_max: u64 = Time since 3;
    /// Largest lateness: dequeue time minus the release time the algorithm
    /// chose (timer slack, softirq and scheduling delay), ns.
    lateness_max: u64 = Time since 3;
    /// Packets per sojourn bucket: `<128us`, `<256us`, … `>=2097152us`.
    sojourn_hist: [u64; DelayHistogram::BUCKETS] = Histogram since 3;
    /// Packets per lateness bucket, the same buckets.
    lateness_hist: [u64; DelayHistogram::BUCKETS] = Histogram since 3;
    /// Drops of GSO packets that could not be segmented; with the other
    /// drops they add up to the qdisc's `drops`.
    drops_gso: u64 = Count since 4;
}

impl XStats {
    /// The oldest layout this reader decodes.
    #[cfg(not(MODULE))]
    const OLDEST: u64 = 3;
    /// Encoded size in bytes.
    pub const SIZE: usize = Self::WORDS * 8;

    /// Snapshot of a shaper at `now`.
    pub fn snapshot(shaper: &Shaper, now: u64) -> XStats {
        let w = shaper.window();
        let s = shaper.stats();
        XStats {
            version: Self::VERSION,
            window_min: w.min,
            window_max: w.max,
            credit_owed: shaper.credit_owed(now),
            raised: s.raised,
            lowered: s.lowered,
            drops_limit: s.drops_limit,
            drops_bytes: s.drops_bytes,
            drops_ceiling: s.drops_ceiling,
            throttled: s.throttled,
            gso_segmented: s.gso_segmented,
            sojourn_min: if s.sojourn_min == u64::MAX {
                0
            } else {
                s.sojourn_min
            },
            sojourn_max: s.sojourn_max,
            lateness_max: s.lateness_max,
            sojourn_hist: s.sojourn.buckets,
            lateness_hist: s.lateness.buckets,
            drops_gso: s.drops_gso,
        }
    }

    /// Native-endian encoding (what `gnet_stats_copy_app` carries).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        let words = COUNTERS.iter().flat_map(|c| c.words(self));
        for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_ne_bytes());
        }
        out
    }

    /// Decodes what [`XStats::encode`] of this or another version
    /// produced: `None` for a buffer shorter than the oldest layout or a
    /// version older than it. Counters an older writer lacks read 0; words
    /// a newer writer appended are ignored.
    #[cfg(not(MODULE))]
    pub fn decode(bytes: &[u8]) -> Option<XStats> {
        if bytes.len() < Self::OLDEST_WORDS * 8 {
            return None;
        }
        let mut x = XStats::default();
        let mut words = bytes
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        for c in &COUNTERS {
            for slot in c.words_mut(&mut x) {
                *slot = words.next().unwrap_or(0);
            }
        }
        (x.version >= Self::OLDEST).then_some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(values: &[Value]) -> Vec<(u16, Vec<u8>)> {
        values
            .iter()
            .map(|v| match *v {
                Value::U64(t, x) => (t, x.to_ne_bytes().to_vec()),
                Value::U32(t, x) => (t, x.to_ne_bytes().to_vec()),
            })
            .collect()
    }

    fn apply_owned(
        base: Config,
        a: &[(u16, Vec<u8>)],
        create: bool,
    ) -> Result<Config, OptionError> {
        apply(base, a.iter().map(|(t, p)| (*t, p.as_slice())), create)
    }

    #[test]
    fn dump_is_the_inverse_of_change() {
        let cfg = Config {
            rate: 1_234_567,
            window: 7_000_000,
            limit_bytes: 99_999,
            ..Config::DEFAULT
        };
        let attrs = encode(&to_attrs(&cfg));
        assert_eq!(apply_owned(Config::DEFAULT, &attrs, true), Ok(cfg));
    }

    #[test]
    fn refusals_name_the_attribute() {
        let d = Config::DEFAULT;
        assert_eq!(
            apply_owned(d, &[], true),
            Err(OptionError::Missing(Field::Rate))
        );
        assert_eq!(apply_owned(d, &[], false), Ok(d));
        assert_eq!(
            apply_owned(d, &[(42, vec![0; 4])], false),
            Err(OptionError::Unknown(42))
        );
        assert_eq!(
            apply_owned(d, &[(0, vec![])], false),
            Err(OptionError::Unknown(0))
        );
        let short = [(attr::RATE, vec![0; 4])];
        let e = apply_owned(d, &short, false).unwrap_err();
        assert_eq!(e, OptionError::BadLength(attr::RATE, 4));
        assert_eq!(e.to_string(), "TCA_SMOOTH_RATE has 4 bytes, expected 8");
        let twice = encode(&[Value::U32(attr::LIMIT, 5), Value::U32(attr::LIMIT, 6)]);
        assert_eq!(
            apply_owned(d, &twice, false),
            Err(OptionError::Duplicate(attr::LIMIT))
        );
        let slow = encode(&[Value::U64(attr::RATE, 10)]);
        assert_eq!(
            apply_owned(d, &slow, true).unwrap_err().to_string(),
            "rate 10 out of range 1000..=12500000000 bytes/s"
        );
        let pad = [(attr::PAD, vec![])];
        assert_eq!(apply_owned(d, &pad, false), Ok(d));
    }

    #[test]
    fn refusals_point_at_the_attribute_at_fault() {
        let d = Config::DEFAULT;
        let fault =
            |a: &[(u16, Vec<u8>)], create| apply_owned(d, a, create).unwrap_err().attribute();
        assert_eq!(fault(&[(42, vec![0; 4])], false), Some(42));
        assert_eq!(fault(&[(attr::RATE, vec![0; 4])], false), Some(attr::RATE));
        let twice = encode(&[Value::U32(attr::LIMIT, 5), Value::U32(attr::LIMIT, 6)]);
        assert_eq!(fault(&twice, false), Some(attr::LIMIT));
        // Out of range: every field's own attribute.
        for (kind, bad) in [
            (attr::RATE, Value::U64(attr::RATE, 10)),
            (attr::WINDOW, Value::U64(attr::WINDOW, u64::MAX)),
            (attr::BURST, Value::U64(attr::BURST, u64::MAX)),
            (attr::MAX_DELAY, Value::U64(attr::MAX_DELAY, 1)),
            (attr::LIMIT, Value::U32(attr::LIMIT, 0)),
        ] {
            let a = encode(&[Value::U64(attr::WINDOW, 1_000_000), bad]);
            let a = if kind == attr::WINDOW {
                encode(&[bad])
            } else {
                a
            };
            assert_eq!(fault(&a, false), Some(kind), "{bad:?}");
        }
        assert_eq!(fault(&[], true), None);
        assert_eq!(OptionError::Malformed.attribute(), None);
        // The window in force (3 ms), out of range for a new max_delay: the
        // window is at fault, the max_delay moved its bound.
        let lower = encode(&[Value::U64(attr::MAX_DELAY, 2_000_000)]);
        let e = apply_owned(d, &lower, false).unwrap_err();
        assert_eq!(e.attribute(), Some(attr::WINDOW));
        assert_eq!(e.bounding_attribute(), Some(attr::MAX_DELAY));
        let slow = encode(&[Value::U64(attr::RATE, 10)]);
        let e = apply_owned(d, &slow, false).unwrap_err();
        assert_eq!(e.bounding_attribute(), None);
    }

    #[test]
    fn messages_fit_the_kernel_extack_buffer() {
        // NETLINK_MAX_FMTMSG_LEN is 80 including the NUL; the kernel prefixes
        // "smooth: ".
        for kind in [attr::RATE, attr::WINDOW, attr::BURST, attr::MAX_DELAY] {
            let huge = [(kind, u64::MAX.to_ne_bytes().to_vec())];
            let e = apply_owned(Config::DEFAULT, &huge, false).unwrap_err();
            assert!(e.to_string().len() < 72, "{e}");
        }
        let huge = [(attr::LIMIT, u32::MAX.to_ne_bytes().to_vec())];
        let e = apply_owned(Config::DEFAULT, &huge, false).unwrap_err();
        assert!(e.to_string().len() < 72, "{e}");
        assert!(
            OptionError::BadLength(attr::LIMIT_BYTES, 65535)
                .to_string()
                .len()
                < 72
        );
    }

    #[test]
    fn xstats_round_trip() {
        let mut x = XStats {
            version: XStats::VERSION,
            raised: 5,
            drops_ceiling: 7,
            sojourn_max: 9,
            ..XStats::default()
        };
        x.sojourn_hist[15] = 3;
        x.lateness_hist[0] = 4;
        x.lateness_max = 11;
        x.lowered = 13;
        x.drops_gso = 17;
        assert_eq!(XStats::decode(&x.encode()), Some(x));
        assert_eq!(XStats::decode(&[0; 8]), None);
    }

    #[test]
    fn xstats_older_and_newer_layouts() {
        let x = XStats {
            version: XStats::VERSION,
            drops_limit: 2,
            drops_gso: 17,
            ..XStats::default()
        };
        let bytes = x.encode();
        // Version 3: the same prefix without the appended words.
        let mut v3 = bytes[..XStats::OLDEST_WORDS * 8].to_vec();
        v3[..8].copy_from_slice(&3u64.to_ne_bytes());
        let old = XStats::decode(&v3).unwrap();
        assert_eq!((old.version, old.drops_limit, old.drops_gso), (3, 2, 0));
        // A newer writer's extra words are ignored.
        let mut v5 = bytes.to_vec();
        v5[..8].copy_from_slice(&5u64.to_ne_bytes());
        v5.extend_from_slice(&99u64.to_ne_bytes());
        let new = XStats::decode(&v5).unwrap();
        assert_eq!((new.version, new.drops_gso), (5, 17));
        // Too short for version 3, or older than 3: refused.
        assert_eq!(XStats::decode(&v3[..v3.len() - 8]), None);
        let mut v2 = v3.clone();
        v2[..8].copy_from_slice(&2u64.to_ne_bytes());
        assert_eq!(XStats::decode(&v2), None);
    }
}
