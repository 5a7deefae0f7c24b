//! The option words of `tc qdisc … smooth rate 2mbit window 3ms …`, shared
//! by the tc plugin and `tc-smooth`: what each keyword means, how its value
//! parses, and how a configuration prints back in the same words (so what
//! `tc qdisc show` prints can be pasted back).

use super::config::{Config, Max, Param, PARAMS};
use super::uapi::{Change, OptionError, Value};
use super::units::{self, Rate, Time};
use core::fmt;

pub use super::config::Kind;

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

    /// The placeholder in usage lines.
    pub const fn placeholder(self) -> &'static str {
        match self {
            Kind::Rate => "RATE",
            Kind::Time => "TIME",
            Kind::Count => "PACKETS",
            Kind::Size => "BYTES",
        }
    }
}

/// The one-line usage, from the table: required options first.
pub struct Usage;

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Usage: ... smooth")?;
        for p in PARAMS.iter().filter(|p| p.required) {
            write!(f, " {} {}", p.name, p.kind.placeholder())?;
        }
        for p in PARAMS.iter().filter(|p| !p.required) {
            write!(f, " [ {} {} ]", p.name, p.kind.placeholder())?;
        }
        Ok(())
    }
}

/// A word that could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordError<'a> {
    /// Not an option's name.
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
    let param = Param::by_name(key).ok_or(WordError::UnknownKeyword(key))?;
    let bad = WordError::BadValue(param.name, value, param.kind);
    let n = match param.kind {
        Kind::Rate => units::parse_rate(value).map_err(|_| bad)?,
        Kind::Time => units::parse_time(value).map_err(|_| bad)?,
        Kind::Count => value.parse::<u64>().map_err(|_| bad)?,
        Kind::Size => units::parse_size(value).map_err(|_| bad)?,
    };
    // A value wider than its attribute cannot be sent: say so as the
    // range error the kernel would give.
    let mut probe = Config::DEFAULT;
    param
        .set(&mut probe, n)
        .map_err(|e| WordError::Refused(OptionError::Invalid(e)))?;
    Ok(Value::of(param, n))
}

/// Checks a set of given values as far as userspace can without knowing
/// the qdisc's current parameters: each value's own range, and the window
/// against `max_delay` when both are given. `create` requires the rate.
/// The kernel checks again against the parameters in force.
pub fn precheck(values: &[Value], create: bool) -> Result<Config, OptionError> {
    let given = |p: &Param| values.iter().any(|v| v.kind() == p.attr);
    let mut base = Config::DEFAULT;
    // A field that bounds another (max_delay bounds the window) is unknown
    // here unless given: assume its largest value, so only the bounded
    // field's own range decides.
    for bounded in &PARAMS {
        if let Max::AtMost(_, by) = bounded.max {
            let by = by.param();
            if !given(by) {
                let top = by.max_in(&base);
                by.set(&mut base, top).map_err(OptionError::Invalid)?;
            }
        }
    }
    apply(base, values, create)
}

/// Applies parsed values on top of `base`, as the kernel applies their
/// attributes, and validates the result.
pub fn apply(base: Config, values: &[Value], create: bool) -> Result<Config, OptionError> {
    let mut change = Change::new(base);
    for v in values {
        let param = Param::by_attr(v.kind()).ok_or(OptionError::Unknown(v.kind()))?;
        change.set(param, v.value())?;
    }
    change.finish(create)
}

/// Prints a configuration in the words [`parse_word`] reads.
pub struct Words<'a>(pub &'a Config);

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in PARAMS.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{} {}", p.name, ValueText(p.kind, p.get(self.0)))?;
        }
        Ok(())
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
        assert!(precheck(&[Value::U64(crate::uapi::attr::WINDOW, 500_000_000)], false).is_ok());
    }
}
