//! The option words of `tc qdisc … smooth rate 2mbit window 3ms …`, shared
//! by the tc plugin and `tc-smooth`: what each keyword means, how its value
//! parses, and how a configuration prints back in the same words (so what
//! `tc qdisc show` prints can be pasted back).

use super::config::Config;
use super::uapi::{self, attr, OptionError, Value};
use super::units::{self, Rate, Time};
use core::fmt;

/// How a keyword's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A tc rate (`2mbit`).
    Rate,
    /// A tc time (`3ms`).
    Time,
    /// A plain count.
    Count,
    /// A tc size (`64kb`).
    Size,
}

impl Kind {
    /// What a value of this kind looks like, for messages.
    pub const fn example(self) -> &'static str {
        match self {
            Kind::Rate => "a rate like 2mbit",
            Kind::Time => "a time like 3ms",
            Kind::Count => "a whole number",
            Kind::Size => "a size like 64kb",
        }
    }
}

/// Every keyword, its attribute and its kind, in print order.
pub const KEYWORDS: [(&str, u16, Kind); 6] = [
    ("rate", attr::RATE, Kind::Rate),
    ("window", attr::WINDOW, Kind::Time),
    ("burst", attr::BURST, Kind::Time),
    ("max_delay", attr::MAX_DELAY, Kind::Time),
    ("limit", attr::LIMIT, Kind::Count),
    ("limit_bytes", attr::LIMIT_BYTES, Kind::Size),
];

/// The one-line usage.
pub const USAGE: &str =
    "Usage: ... smooth rate RATE [ window TIME ] [ burst TIME ] [ max_delay TIME ] \
[ limit PACKETS ] [ limit_bytes BYTES ]";

/// A word that could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordError<'a> {
    /// Not one of [`KEYWORDS`].
    UnknownKeyword(&'a str),
    /// The keyword came last, without its value.
    MissingValue(&'static str),
    /// The value did not parse.
    BadValue(&'static str, &'a str, Kind),
    /// The values parsed but are refused.
    Refused(OptionError),
}

impl fmt::Display for WordError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WordError::UnknownKeyword(w) => write!(f, "smooth: unknown option \"{w}\""),
            WordError::MissingValue(k) => write!(f, "smooth: \"{k}\" needs a value"),
            WordError::BadValue(k, v, kind) => {
                write!(f, "smooth: {k} \"{v}\" is not {}", kind.example())
            }
            WordError::Refused(e) => write!(f, "smooth: {e}"),
        }
    }
}

/// Parses one `keyword value` pair.
pub fn parse_word<'a>(key: &'a str, value: &'a str) -> Result<Value, WordError<'a>> {
    let &(name, kind_attr, kind) = KEYWORDS
        .iter()
        .find(|(k, _, _)| *k == key)
        .ok_or(WordError::UnknownKeyword(key))?;
    let bad = |_| WordError::BadValue(name, value, kind);
    Ok(match kind {
        Kind::Rate => Value::U64(kind_attr, units::parse_rate(value).map_err(bad)?),
        Kind::Time => Value::U64(kind_attr, units::parse_time(value).map_err(bad)?),
        Kind::Count => {
            let n = value
                .parse::<u32>()
                .map_err(|_| WordError::BadValue(name, value, kind))?;
            Value::U32(kind_attr, n)
        }
        Kind::Size => {
            let n = units::parse_size(value).map_err(bad)?;
            let n = u32::try_from(n).map_err(|_| WordError::BadValue(name, value, kind))?;
            Value::U32(kind_attr, n)
        }
    })
}

impl Value {
    /// The attribute type.
    pub fn kind(&self) -> u16 {
        match *self {
            Value::U64(k, _) | Value::U32(k, _) => k,
        }
    }

    /// Native-endian payload and its length.
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

/// Checks a set of given values as far as userspace can without knowing
/// the qdisc's current parameters: each value's own range, and the window
/// against `max_delay` when both are given. `create` requires the rate.
/// The kernel checks again against the parameters in force.
pub fn precheck(values: &[Value], create: bool) -> Result<Config, OptionError> {
    let given = |k: u16| values.iter().any(|v| v.kind() == k);
    let mut base = Config::DEFAULT;
    if !given(attr::MAX_DELAY) {
        // Unknown here: let the window's own range decide.
        base.max_delay = Config::MAX_MAX_DELAY;
    }
    let payloads: [([u8; 8], usize, u16); KEYWORDS.len()] = core::array::from_fn(|i| {
        values.get(i).map_or(([0; 8], 0, attr::PAD), |v| {
            let (p, n) = v.payload();
            (p, n, v.kind())
        })
    });
    if values.len() > payloads.len() {
        // More values than keywords: some keyword repeats.
        let k = values[payloads.len()].kind();
        return Err(OptionError::Duplicate(k));
    }
    uapi::apply(
        base,
        payloads.iter().map(|(p, n, k)| (*k, &p[..*n])),
        create,
    )
}

/// Prints a configuration in the words [`parse_word`] reads.
pub struct Words<'a>(pub &'a Config);

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        write!(
            f,
            "rate {} window {} burst {} max_delay {} limit {} limit_bytes {}",
            Rate(c.rate),
            Time(c.window),
            Time(c.burst),
            Time(c.max_delay),
            c.limit,
            c.limit_bytes,
        )
    }
}

/// Formats one value as its keyword would print it.
pub struct ValueText(pub Kind, pub u64);

impl fmt::Display for ValueText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Rate => Rate(self.1).fmt(f),
            Kind::Time => Time(self.1).fmt(f),
            Kind::Count | Kind::Size => self.1.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(line: &str) -> Result<Config, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut values = Vec::new();
        for pair in words.chunks(2) {
            let v = match pair {
                [k, v] => parse_word(k, v).map_err(|e| e.to_string())?,
                [k] => return Err(format!("{k} needs a value")),
                _ => unreachable!(),
            };
            values.push(v);
        }
        precheck(&values, true).map_err(|e| e.to_string())
    }

    #[test]
    fn the_design_card_sentence() {
        let cfg = parse_all("rate 2mbit window 3ms").unwrap();
        assert_eq!(cfg.rate, 250_000);
        assert_eq!(cfg.window, 3_000_000);
    }

    #[test]
    fn printed_words_parse_back() {
        let cfg = parse_all(
            "rate 1500kbit window 2500us burst 7ms max_delay 50ms limit 77 limit_bytes 64kb",
        )
        .unwrap();
        let printed = Words(&cfg).to_string();
        assert_eq!(
            printed,
            "rate 1500Kbit window 2500us burst 7ms max_delay 50ms limit 77 limit_bytes 65536"
        );
        assert_eq!(parse_all(&printed), Ok(cfg));
    }

    #[test]
    fn bad_words_are_named() {
        assert_eq!(
            parse_word("speed", "1"),
            Err(WordError::UnknownKeyword("speed"))
        );
        assert_eq!(
            parse_word("window", "3 ms").unwrap_err().to_string(),
            "smooth: window \"3 ms\" is not a time like 3ms"
        );
        assert_eq!(parse_all("window 3ms").unwrap_err(), "rate is required");
        assert_eq!(
            parse_all("rate 2mbit limit 0").unwrap_err(),
            "limit 0 out of range 1..=1000000 packets"
        );
        assert!(parse_all("rate 2mbit window 50ms max_delay 10ms").is_err());
        assert!(parse_all("rate 2mbit burst 11s").is_err());
        // Without max_delay the window may be as wide as its own range.
        assert!(precheck(&[Value::U64(attr::WINDOW, 500_000_000)], false).is_ok());
    }
}
