//! The option words of `tc qdisc … smooth rate 2mbit window 3ms …`, shared
//! by the tc plugin and `tc-smooth`: what each keyword means, how its value
//! parses, and how a configuration prints back in the same words (so what
//! `tc qdisc show` prints can be pasted back).

use super::config::{Config, Field, Max, Param, PARAMS};
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
    /// The value did not parse: its option's range.
    BadValue(Field, &'a str),
    /// The value is finer than the unit it is kept in (named).
    Inexact(&'static str, &'a str, &'static str),
    /// The value has more significant digits than are kept.
    Digits(&'static str, &'a str),
    /// The value is too large to hold at all: its option's range.
    TooLarge(Field, &'a str),
    /// The values parsed but are refused.
    Refused(OptionError),
}

impl fmt::Display for WordError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WordError::UnknownKeyword(w) => write!(f, "smooth: unknown option \"{w}\""),
            WordError::MissingValue(k) => write!(f, "smooth: \"{k}\" needs a value"),
            WordError::BadValue(field, v) => {
                let p = field.param();
                write!(
                    f,
                    "smooth: {} \"{v}\" is not {} (range ",
                    p.name,
                    p.kind.example()
                )?;
                full_range(p).fmt(f)?;
                f.write_str(")")
            }
            WordError::Inexact(k, v, unit) => {
                write!(f, "smooth: {k} \"{v}\" is not a whole number of {unit}")
            }
            WordError::Digits(k, v) => {
                write!(f, "smooth: {k} \"{v}\" has {}", units::UnitError::Digits)
            }
            WordError::TooLarge(field, v) => {
                let p = field.param();
                write!(f, "smooth: {} \"{v}\" out of range ", p.name)?;
                full_range(p).fmt(f)
            }
            WordError::Refused(e) => write!(f, "smooth: {}", Refusal(e)),
        }
    }
}

/// A refusal in the words `tc` reads: `rate 1Kbit out of range
/// 8Kbit..=100Gbit` where the kernel's extack, which speaks the netlink
/// interface, says `rate 125 out of range 1000..=12500000000 bytes/s`.
pub struct Refusal(pub OptionError);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            OptionError::Invalid(e) => {
                let p = e.field.param();
                write!(f, "{} {} out of range ", p.name, ValueText(p.kind, e.value))?;
                Range(p, e.min, e.max).fmt(f)
            }
            // The attribute's name is the netlink interface's; tc's word is
            // the option's.
            OptionError::Duplicate(t) => match Param::by_attr(t) {
                Some(p) => write!(f, "\"{}\" given twice", p.name),
                None => self.0.fmt(f),
            },
            other => other.fmt(f),
        }
    }
}

/// The widest range of an option, whatever bounds it.
fn full_range(p: &Param) -> Range<'_> {
    let max = match p.max {
        Max::Const(m) | Max::AtMost(m, _) => m,
    };
    Range(p, p.min, max)
}

/// `min..=max` of one option in its words; counts and sizes, which print
/// as bare numbers, carry their unit.
struct Range<'a>(&'a Param, u64, u64);

impl fmt::Display for Range<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Range(p, min, max) = *self;
        write!(f, "{}..={}", ValueText(p.kind, min), ValueText(p.kind, max))?;
        match p.kind {
            Kind::Count | Kind::Size => write!(f, " {}", p.unit),
            Kind::Rate | Kind::Time => Ok(()),
        }
    }
}

/// Parses one `keyword value` pair.
pub fn parse_word<'a>(key: &'a str, value: &'a str) -> Result<Value, WordError<'a>> {
    let param = Param::by_name(key).ok_or(WordError::UnknownKeyword(key))?;
    let unit_error = |e| match e {
        units::UnitError::Syntax => WordError::BadValue(param.field, value),
        units::UnitError::Overflow => WordError::TooLarge(param.field, value),
        units::UnitError::Inexact(unit) => WordError::Inexact(param.name, value, unit),
        units::UnitError::Digits => WordError::Digits(param.name, value),
    };
    let n = match param.kind {
        Kind::Rate => units::parse_rate(value).map_err(unit_error)?,
        Kind::Time => units::parse_time(value).map_err(unit_error)?,
        Kind::Count => value.parse::<u64>().map_err(|e| {
            unit_error(match e.kind() {
                core::num::IntErrorKind::PosOverflow => units::UnitError::Overflow,
                _ => units::UnitError::Syntax,
            })
        })?,
        Kind::Size => units::parse_size(value).map_err(unit_error)?,
    };
    // A value wider than its attribute cannot be sent: say so as the
    // range error the kernel would give.
    let mut probe = Config::DEFAULT;
    param
        .set(&mut probe, n)
        .map_err(|e| WordError::Refused(OptionError::Invalid(e)))?;
    Ok(Value::of(param, n))
}

/// tc's option words, `keyword value` pairs in order (what follows the kind
/// `smooth` on a tc line), each parsed by [`parse_word`]; a keyword left
/// without its value is the last item.
pub fn words<S: AsRef<str>>(args: &[S]) -> impl Iterator<Item = Result<Value, WordError<'_>>> + '_ {
    args.chunks(2).map(|pair| match pair {
        [key, value] => parse_word(key.as_ref(), value.as_ref()),
        [key, ..] => Err(match Param::by_name(key.as_ref()) {
            Some(p) => WordError::MissingValue(p.name),
            None => WordError::UnknownKeyword(key.as_ref()),
        }),
        [] => unreachable!("chunks are never empty"),
    })
}

/// Checks a set of given values as far as userspace can. On `create`
/// every value not given is its default, so the check is the kernel's:
/// the rate is required, and e.g. a `max_delay` below the default window
/// is refused. On a change the parameters in force are unknown here: each
/// value is checked against its own range, and the window against
/// `max_delay` only when both are given; the kernel checks again against
/// the parameters in force.
pub fn precheck(values: &[Value], create: bool) -> Result<Config, OptionError> {
    if create {
        return apply(Config::DEFAULT, values, true);
    }
    let given = |p: &Param| values.iter().any(|v| v.kind() == p.attr);
    let mut base = Config::DEFAULT;
    // Of a field that bounds another (max_delay bounds the window), only
    // what is given is known: the one not given takes the value that
    // leaves the other's own range to decide (the bound at its largest,
    // the bounded field at its least).
    for bounded in &PARAMS {
        if let Max::AtMost(_, by) = bounded.max {
            let by = by.param();
            if !given(by) {
                let top = by.max_in(&base);
                by.set(&mut base, top).map_err(OptionError::Invalid)?;
            } else if !given(bounded) {
                bounded
                    .set(&mut base, bounded.min)
                    .map_err(OptionError::Invalid)?;
            }
        }
    }
    apply(base, values, false)
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
        let args: Vec<&str> = line.split_whitespace().collect();
        let values = words(&args)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        precheck(&values, true).map_err(|e| Refusal(e).to_string())
    }

    #[test]
    fn words_are_read_in_pairs() {
        let args = ["rate", "2mbit", "window"];
        let got: Vec<_> = words(&args).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], parse_word("rate", "2mbit"));
        assert_eq!(got[1], Err(WordError::MissingValue("window")));
        assert_eq!(
            words(&["speed"]).next(),
            Some(Err(WordError::UnknownKeyword("speed")))
        );
        assert_eq!(
            parse_all("rate 2mbit window").unwrap_err(),
            "smooth: \"window\" needs a value"
        );
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
            "smooth: window \"3 ms\" is not a time like 3ms (range 0us..=1s)"
        );
        assert_eq!(
            parse_word("limit", "-1").unwrap_err().to_string(),
            "smooth: limit \"-1\" is not a whole number (range 1..=65536 packets)"
        );
        assert_eq!(
            parse_word("rate", "1.00000095367431640625mibps")
                .unwrap_err()
                .to_string(),
            "smooth: rate \"1.00000095367431640625mibps\" has more than 19 significant digits"
        );
        assert_eq!(parse_all("window 3ms").unwrap_err(), "rate is required");
        assert_eq!(
            parse_all("rate 2mbit limit 0").unwrap_err(),
            "limit 0 out of range 1..=65536 packets"
        );
        assert!(parse_all("rate 2mbit window 50ms max_delay 10ms").is_err());
        // Too large to hold: the range, not "not a rate".
        assert_eq!(
            parse_word("rate", "99999999999999tbit")
                .unwrap_err()
                .to_string(),
            "smooth: rate \"99999999999999tbit\" out of range 8Kbit..=100Gbit"
        );
        assert_eq!(
            parse_word("limit", "99999999999999999999")
                .unwrap_err()
                .to_string(),
            "smooth: limit \"99999999999999999999\" out of range 1..=65536 packets"
        );
        assert_eq!(
            parse_word("window", "1e30s").unwrap_err().to_string(),
            "smooth: window \"1e30s\" is not a time like 3ms (range 0us..=1s)"
        );
        assert!(parse_all("rate 2mbit burst 11s").is_err());
        // A change without max_delay: the window may be as wide as its own
        // range; without the window, max_delay may be as short as its own.
        let window = |ns| Value::U64(crate::uapi::attr::WINDOW, ns);
        let max_delay = |ns| Value::U64(crate::uapi::attr::MAX_DELAY, ns);
        assert!(precheck(&[window(500_000_000)], false).is_ok());
        assert!(precheck(&[max_delay(2_000_000)], false).is_ok());
        assert_eq!(
            precheck(&[window(3_000_000), max_delay(2_000_000)], false)
                .unwrap_err()
                .to_string(),
            "window 3000000 out of range 0..=2000000 ns"
        );
        // The command lines word it as tc does; the extack keeps the wire's.
        assert_eq!(
            Refusal(precheck(&[window(3_000_000), max_delay(2_000_000)], false).unwrap_err())
                .to_string(),
            "window 3ms out of range 0us..=2ms"
        );
        assert_eq!(
            parse_all("rate 2mbit limit_bytes 8gb").unwrap_err(),
            "smooth: limit_bytes 8589934592 out of range 0..=4294967295 bytes"
        );
        // Creating one, every value not given is its default.
        assert_eq!(
            parse_all("rate 2mbit max_delay 2ms").unwrap_err(),
            "window 3ms out of range 0us..=2ms"
        );
        assert!(parse_all("rate 2mbit window 500ms").is_err());
        assert!(parse_all("rate 2mbit window 500ms max_delay 1s").is_ok());
    }
}
