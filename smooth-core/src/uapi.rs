//! The netlink interface of the `smooth` qdisc (`docs/uapi.md`): attribute
//! numbers, how a set of attributes turns into a [`Config`], how a
//! [`Config`] turns back into attributes, and the xstats layout. Shared by
//! the kernel module, the tc plugin and `tc-smooth`, so all three agree.

use super::config::{Config, ConfigError, Field};

use super::shaper::Shaper;
use super::stats::DelayHistogram;
use core::fmt;

/// Attribute types nested in `TCA_OPTIONS`.
pub mod attr {
    use super::Field;

    /// Never valid.
    pub const UNSPEC: u16 = 0;
    /// u64: rate in bytes per second.
    pub const RATE: u16 = 1;
    /// u64: window width in ns.
    pub const WINDOW: u16 = 2;
    /// u64: token-bucket depth as time at the rate, ns.
    pub const BURST: u16 = 3;
    /// u64: delay ceiling in ns.
    pub const MAX_DELAY: u16 = 4;
    /// u32: queue limit in packets.
    pub const LIMIT: u16 = 5;
    /// u32: queue limit in bytes (0: none).
    pub const LIMIT_BYTES: u16 = 6;
    /// Padding for 64-bit alignment; ignored.
    pub const PAD: u16 = 7;
    /// Highest attribute type.
    pub const MAX: u16 = PAD;

    /// Payload size of each attribute (`None`: not a value attribute).
    pub const fn payload_len(kind: u16) -> Option<usize> {
        match kind {
            RATE | WINDOW | BURST | MAX_DELAY => Some(8),
            LIMIT | LIMIT_BYTES => Some(4),
            _ => None,
        }
    }

    /// The attribute that carries `field`.
    pub const fn of(field: Field) -> u16 {
        match field {
            Field::Rate => RATE,
            Field::Window => WINDOW,
            Field::Burst => BURST,
            Field::MaxDelay => MAX_DELAY,
            Field::Limit => LIMIT,
            Field::LimitBytes => LIMIT_BYTES,
        }
    }

    /// The attribute's name in messages.
    pub const fn name(kind: u16) -> &'static str {
        match kind {
            RATE => "TCA_SMOOTH_RATE",
            WINDOW => "TCA_SMOOTH_WINDOW",
            BURST => "TCA_SMOOTH_BURST",
            MAX_DELAY => "TCA_SMOOTH_MAX_DELAY",
            LIMIT => "TCA_SMOOTH_LIMIT",
            LIMIT_BYTES => "TCA_SMOOTH_LIMIT_BYTES",
            PAD => "TCA_SMOOTH_PAD",
            _ => "unknown attribute",
        }
    }
}

/// Why a set of attributes was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// An attribute type this version does not know.
    Unknown(u16),
    /// A known attribute with the wrong payload size.
    BadLength(u16, usize),
    /// The same attribute twice.
    Duplicate(u16),
    /// Creating a qdisc needs a rate.
    MissingRate,
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
            OptionError::MissingRate | OptionError::Malformed => None,
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
            OptionError::MissingRate => write!(f, "rate is required"),
            OptionError::Invalid(e) => write!(f, "{e}"),
            OptionError::Malformed => write!(f, "malformed attributes"),
        }
    }
}

/// Applies attributes `(type, payload)` on top of `base` and validates the
/// result. `create` demands a rate (there is no sensible default rate).
/// Types carry no flags here: callers strip `NLA_F_*` bits.
pub fn apply<'a>(
    base: Config,
    attrs: impl IntoIterator<Item = (u16, &'a [u8])>,
    create: bool,
) -> Result<Config, OptionError> {
    let mut cfg = base;
    let mut seen: u32 = 0;
    for (kind, payload) in attrs {
        if kind == attr::PAD {
            continue;
        }
        let len = attr::payload_len(kind).ok_or(OptionError::Unknown(kind))?;
        if payload.len() != len {
            return Err(OptionError::BadLength(kind, payload.len()));
        }
        if seen & (1 << kind) != 0 {
            return Err(OptionError::Duplicate(kind));
        }
        seen |= 1 << kind;
        let value = if len == 8 {
            u64::from_ne_bytes(payload.try_into().map_err(|_| OptionError::Malformed)?)
        } else {
            u32::from_ne_bytes(payload.try_into().map_err(|_| OptionError::Malformed)?).into()
        };
        // u32 attributes are stored as u32 fields; the cast is lossless.
        let small = value as u32;
        match kind {
            attr::RATE => cfg.rate = value,
            attr::WINDOW => cfg.window = value,
            attr::BURST => cfg.burst = value,
            attr::MAX_DELAY => cfg.max_delay = value,
            attr::LIMIT => cfg.limit = small,
            attr::LIMIT_BYTES => cfg.limit_bytes = small,
            _ => return Err(OptionError::Unknown(kind)),
        }
    }
    if create && seen & (1 << attr::RATE) == 0 {
        return Err(OptionError::MissingRate);
    }
    cfg.validate().map_err(OptionError::Invalid)
}

/// One attribute value to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A u64 attribute.
    U64(u16, u64),
    /// A u32 attribute.
    U32(u16, u32),
}

/// Every parameter of `cfg` as attributes: what `dump` reports and what a
/// front end sends. `apply(_, to_attrs(c), true) == Ok(c)`.
pub fn to_attrs(cfg: &Config) -> [Value; 6] {
    [
        Value::U64(attr::RATE, cfg.rate),
        Value::U64(attr::WINDOW, cfg.window),
        Value::U64(attr::BURST, cfg.burst),
        Value::U64(attr::MAX_DELAY, cfg.max_delay),
        Value::U32(attr::LIMIT, cfg.limit),
        Value::U32(attr::LIMIT_BYTES, cfg.limit_bytes),
    ]
}

/// `struct tc_smooth_xstats`: native-endian u64 fields in this order —
/// the scalars, the sojourn and lateness histograms, then the fields added
/// since (appended, never inserted: a reader decodes the prefix it knows and
/// ignores the rest, so an older `tc` still reads a newer module).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XStats {
    /// Layout version of the writer (this is 4; 3 lacks the appended
    /// fields).
    pub version: u64,
    /// Window lower edge, ns.
    pub window_min: u64,
    /// Window upper edge, ns.
    pub window_max: u64,
    /// How long until the token bucket is full again, ns.
    pub credit_owed: u64,
    /// Times the window rose (credit ran short).
    pub raised: u64,
    /// Times the window slid down (credit would have overflowed).
    pub lowered: u64,
    /// Drops at the packet limit.
    pub drops_limit: u64,
    /// Drops at the byte limit.
    pub drops_bytes: u64,
    /// Drops at the delay ceiling.
    pub drops_ceiling: u64,
    /// Admitted packets that waited.
    pub throttled: u64,
    /// GSO packets split into segments.
    pub gso_segmented: u64,
    /// Smallest sojourn, ns (0 if none).
    pub sojourn_min: u64,
    /// Largest sojourn, ns.
    pub sojourn_max: u64,
    /// Largest lateness (release to actual dequeue), ns.
    pub lateness_max: u64,
    /// Sojourn histogram (see [`DelayHistogram`]).
    pub sojourn_hist: [u64; DelayHistogram::BUCKETS],
    /// Lateness histogram.
    pub lateness_hist: [u64; DelayHistogram::BUCKETS],
    /// Drops: a GSO packet could not be segmented (version 4; 0 from a
    /// version 3 writer).
    pub drops_gso: u64,
}

impl XStats {
    /// Current layout version.
    pub const VERSION: u64 = 4;
    /// The oldest layout this reader decodes.
    const OLDEST: u64 = 3;
    /// Number of scalar fields before the histograms.
    const SCALARS: usize = 14;
    /// Words of the oldest layout (version 3).
    const V3_WORDS: usize = Self::SCALARS + 2 * DelayHistogram::BUCKETS;
    /// Words appended since version 3: `drops_gso`.
    const APPENDED: usize = 1;
    const WORDS: usize = Self::V3_WORDS + Self::APPENDED;
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

    fn scalars(&self) -> [u64; Self::SCALARS] {
        [
            self.version,
            self.window_min,
            self.window_max,
            self.credit_owed,
            self.raised,
            self.lowered,
            self.drops_limit,
            self.drops_bytes,
            self.drops_ceiling,
            self.throttled,
            self.gso_segmented,
            self.sojourn_min,
            self.sojourn_max,
            self.lateness_max,
        ]
    }

    /// Native-endian encoding (what `gnet_stats_copy_app` carries).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        let words = self
            .scalars()
            .into_iter()
            .chain(self.sojourn_hist)
            .chain(self.lateness_hist)
            .chain([self.drops_gso]);
        for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_ne_bytes());
        }
        out
    }

    /// Decodes what [`XStats::encode`] of this or another version
    /// produced: `None` for a buffer shorter than version 3's or a version
    /// older than 3. Fields a version 3 writer lacks read 0; words a newer
    /// writer appended are ignored.
    pub fn decode(bytes: &[u8]) -> Option<XStats> {
        if bytes.len() < Self::V3_WORDS * 8 {
            return None;
        }
        let mut w = [0u64; Self::WORDS];
        for (slot, chunk) in w.iter_mut().zip(bytes.chunks_exact(8)) {
            *slot = u64::from_ne_bytes(chunk.try_into().ok()?);
        }
        if w[0] < Self::OLDEST {
            return None;
        }
        const B: usize = DelayHistogram::BUCKETS;
        let mut hist = [0u64; B];
        hist.copy_from_slice(&w[Self::SCALARS..Self::SCALARS + B]);
        let mut late = [0u64; B];
        late.copy_from_slice(&w[Self::SCALARS + B..Self::V3_WORDS]);
        Some(XStats {
            version: w[0],
            window_min: w[1],
            window_max: w[2],
            credit_owed: w[3],
            raised: w[4],
            lowered: w[5],
            drops_limit: w[6],
            drops_bytes: w[7],
            drops_ceiling: w[8],
            throttled: w[9],
            gso_segmented: w[10],
            sojourn_min: w[11],
            sojourn_max: w[12],
            lateness_max: w[13],
            sojourn_hist: hist,
            lateness_hist: late,
            drops_gso: w[Self::V3_WORDS],
        })
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
        assert_eq!(apply_owned(d, &[], true), Err(OptionError::MissingRate));
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
        let mut v3 = bytes[..XStats::V3_WORDS * 8].to_vec();
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
