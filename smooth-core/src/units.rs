//! tc's units, parsed and printed the same way by the tc plugin, `tc-smooth`
//! and the simulator: rates (`2mbit`, `250kbps`, a bare number is bit/s),
//! times (`3ms`, `1s`, `500us`, `100ns`, a bare number is µs as in tc),
//! sizes (`64kb`, `1500b`, a bare number is bytes).
//! Parsing is exact: a value finer than the unit it is kept in (a byte/s,
//! a ns, a byte) is refused, never rounded. Printing is exact and parses
//! back to the same value.

use super::time::{NSEC_PER_MSEC, NSEC_PER_SEC, NSEC_PER_USEC};
use core::fmt;

/// Why a value did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitError {
    /// Not a number with a known unit.
    Syntax,
    /// Does not fit.
    Overflow,
    /// Not a whole number of the unit the value is kept in (named).
    Inexact(&'static str),
    /// More significant digits than are kept (and not all zeros beyond).
    Digits,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitError::Syntax => f.write_str("not a number with a known unit"),
            UnitError::Overflow => f.write_str("too large"),
            UnitError::Inexact(unit) => write!(f, "not a whole number of {unit}"),
            UnitError::Digits => write!(f, "more than {MAX_DIGITS} significant digits"),
        }
    }
}

/// The significant digits a value may have: what a u64 mantissa holds.
const MAX_DIGITS: u32 = 19;

/// A decimal number split at the unit: `value = mantissa / 10^scale`,
/// plus whether nonzero fractional digits did not fit in the mantissa.
struct Decimal<'a> {
    mantissa: u64,
    scale: u32,
    dropped: bool,
    unit: &'a str,
}

fn split_decimal(s: &str) -> Result<Decimal<'_>, UnitError> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut mantissa: u64 = 0;
    let mut scale = 0u32;
    let mut digits = 0;
    let mut dot = false;
    let mut dropped = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            let more = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(c - b'0')));
            match more {
                Some(m) => {
                    mantissa = m;
                    if dot {
                        scale += 1;
                    }
                }
                // A fraction's digits beyond what the mantissa holds
                // (19 or 20 significant ones) can only be zeros: a value
                // is refused for any other. The whole part's cannot be
                // dropped.
                None if dot => dropped |= c != b'0',
                None => return Err(UnitError::Overflow),
            }
            digits += 1;
        } else if c == b'.' && !dot {
            dot = true;
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return Err(UnitError::Syntax);
    }
    Ok(Decimal {
        mantissa,
        scale,
        dropped,
        unit: &s[i..],
    })
}

/// `mantissa / 10^scale * num / den` when it is a whole number of the
/// unit (`unit` names it for the error), else [`UnitError::Inexact`].
fn scale_by(d: &Decimal<'_>, num: u64, den: u64, unit: &'static str) -> Result<u64, UnitError> {
    if d.dropped {
        return Err(UnitError::Digits);
    }
    let inexact = UnitError::Inexact(unit);
    let product = u128::from(d.mantissa) * u128::from(num);
    // Leading fractional zeros make the scale unbounded; a divisor beyond
    // u128 exceeds any product (a u64 times a unit's factor, at most 2^40
    // bits), so only a zero is whole.
    let Some(den) = 10u128
        .checked_pow(d.scale)
        .and_then(|p| p.checked_mul(u128::from(den)))
    else {
        return if product == 0 { Ok(0) } else { Err(inexact) };
    };
    if product % den != 0 {
        return Err(inexact);
    }
    u64::try_from(product / den).map_err(|_| UnitError::Overflow)
}

fn lookup(unit: &str, table: &[(&str, u64, u64)]) -> Option<(u64, u64)> {
    table
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(unit))
        .map(|&(_, num, den)| (num, den))
}

/// Parses a rate into bytes per second. Units as tc: `bit`, `kbit`,
/// `mbit`, `gbit`, `tbit`, IEC `kibit`…, and bytes `bps`, `kbps`, `mbps`,
/// `gbps`, `tbps`, `kibps`…; a bare number is bit/s.
pub fn parse_rate(s: &str) -> Result<u64, UnitError> {
    const K: u64 = 1000;
    const KI: u64 = 1024;
    // (unit, bits per unit numerator, denominator: bits -> bytes is /8)
    const TABLE: &[(&str, u64, u64)] = &[
        ("", 1, 8),
        ("bit", 1, 8),
        ("kbit", K, 8),
        ("mbit", K * K, 8),
        ("gbit", K * K * K, 8),
        ("tbit", K * K * K * K, 8),
        ("kibit", KI, 8),
        ("mibit", KI * KI, 8),
        ("gibit", KI * KI * KI, 8),
        ("tibit", KI * KI * KI * KI, 8),
        ("bps", 1, 1),
        ("kbps", K, 1),
        ("mbps", K * K, 1),
        ("gbps", K * K * K, 1),
        ("tbps", K * K * K * K, 1),
        ("kibps", KI, 1),
        ("mibps", KI * KI, 1),
        ("gibps", KI * KI * KI, 1),
        ("tibps", KI * KI * KI * KI, 1),
    ];
    let d = split_decimal(s)?;
    let (num, den) = lookup(d.unit, TABLE).ok_or(UnitError::Syntax)?;
    scale_by(&d, num, den, "bytes/s (a multiple of 8bit)")
}

/// Parses a time into ns: `s`/`sec`/`secs`, `ms`/`msec`/`msecs`,
/// `us`/`usec`/`usecs`, `ns`/`nsec`/`nsecs`; a bare number is µs (as tc).
pub fn parse_time(s: &str) -> Result<u64, UnitError> {
    const TABLE: &[(&str, u64, u64)] = &[
        ("", NSEC_PER_USEC, 1),
        ("s", NSEC_PER_SEC, 1),
        ("sec", NSEC_PER_SEC, 1),
        ("secs", NSEC_PER_SEC, 1),
        ("ms", NSEC_PER_MSEC, 1),
        ("msec", NSEC_PER_MSEC, 1),
        ("msecs", NSEC_PER_MSEC, 1),
        ("us", NSEC_PER_USEC, 1),
        ("usec", NSEC_PER_USEC, 1),
        ("usecs", NSEC_PER_USEC, 1),
        ("ns", 1, 1),
        ("nsec", 1, 1),
        ("nsecs", 1, 1),
    ];
    let d = split_decimal(s)?;
    let (num, den) = lookup(d.unit, TABLE).ok_or(UnitError::Syntax)?;
    scale_by(&d, num, den, "ns")
}

/// Parses a size into bytes: `b`, `k`/`kb`, `m`/`mb`, `g`/`gb` (powers of
/// 1024, as tc), `kbit`, `mbit`, `gbit`; a bare number is bytes.
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    const TABLE: &[(&str, u64, u64)] = &[
        ("", 1, 1),
        ("b", 1, 1),
        ("k", 1 << 10, 1),
        ("kb", 1 << 10, 1),
        ("m", 1 << 20, 1),
        ("mb", 1 << 20, 1),
        ("g", 1 << 30, 1),
        ("gb", 1 << 30, 1),
        ("kbit", 1 << 10, 8),
        ("mbit", 1 << 20, 8),
        ("gbit", 1 << 30, 8),
    ];
    let d = split_decimal(s)?;
    let (num, den) = lookup(d.unit, TABLE).ok_or(UnitError::Syntax)?;
    scale_by(&d, num, den, "bytes")
}

/// Displays bytes/s as tc does (`2Mbit`, `1500Kbit`, `8bit`).
pub struct Rate(pub u64);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["", "K", "M", "G", "T"];
        let mut bits = u128::from(self.0) * 8;
        let mut i = 0;
        while i < UNITS.len() - 1 && bits >= 1000 && bits % 1000 == 0 {
            bits /= 1000;
            i += 1;
        }
        write!(f, "{bits}{}bit", UNITS[i])
    }
}

/// Displays ns in the largest unit that is exact (`3ms`, `1s`, `1500us`).
pub struct Time(pub u64);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns != 0 && ns % NSEC_PER_SEC == 0 {
            write!(f, "{}s", ns / NSEC_PER_SEC)
        } else if ns != 0 && ns % NSEC_PER_MSEC == 0 {
            write!(f, "{}ms", ns / NSEC_PER_MSEC)
        } else if ns % NSEC_PER_USEC == 0 {
            write!(f, "{}us", ns / NSEC_PER_USEC)
        } else {
            write!(f, "{ns}ns")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_as_tc_reads_them() {
        assert_eq!(parse_rate("2mbit"), Ok(250_000));
        assert_eq!(parse_rate("2Mbit"), Ok(250_000));
        assert_eq!(parse_rate("8000"), Ok(1000));
        assert_eq!(parse_rate("1.5mbit"), Ok(187_500));
        assert_eq!(parse_rate("250kbps"), Ok(250_000));
        assert_eq!(parse_rate("100gbit"), Ok(12_500_000_000));
        assert_eq!(parse_rate("1kibit"), Ok(128));
        assert_eq!(parse_rate("2mbits"), Err(UnitError::Syntax));
        assert_eq!(parse_rate("mbit"), Err(UnitError::Syntax));
        assert_eq!(parse_rate("99999999999999999999"), Err(UnitError::Overflow));
    }

    #[test]
    fn finer_than_the_unit_is_refused() {
        const RATE: UnitError = UnitError::Inexact("bytes/s (a multiple of 8bit)");
        const NS: UnitError = UnitError::Inexact("ns");
        const BYTES: UnitError = UnitError::Inexact("bytes");
        // Neither rounded into range nor onto a neighbour.
        assert_eq!(parse_rate("7999bit"), Err(RATE));
        assert_eq!(parse_rate("8001bit"), Err(RATE));
        assert_eq!(parse_rate("100000000003bit"), Err(RATE));
        assert_eq!(parse_rate("1bit"), Err(RATE));
        assert_eq!(parse_rate("0.5bps"), Err(RATE));
        assert_eq!(parse_time("1.5ns"), Err(NS));
        assert_eq!(parse_time("0.0001us"), Err(NS));
        assert_eq!(parse_size("0.4"), Err(BYTES));
        assert_eq!(parse_size("1.5"), Err(BYTES));
        assert_eq!(parse_size("1kbit"), Ok(128));
        // Trailing zeros are exact whatever their number.
        assert_eq!(parse_rate("8000.000bit"), Ok(1000));
        assert_eq!(parse_time("2.50ms"), Ok(2_500_000));
        assert_eq!(
            UnitError::Inexact("ns").to_string(),
            "not a whole number of ns"
        );
    }

    #[test]
    fn long_fractions_and_huge_values() {
        // More fractional digits than a u64 holds: exact only if the
        // excess is zeros.
        assert_eq!(
            parse_time("0.0000000000000000000001s"),
            Err(UnitError::Inexact("ns"))
        );
        assert_eq!(
            parse_time("1.00000000000000000000001s"),
            Err(UnitError::Digits)
        );
        // Exact (1 048 577 B/s), but beyond the digits kept: said so.
        assert_eq!(
            parse_rate("1.00000095367431640625mibps"),
            Err(UnitError::Digits)
        );
        assert_eq!(
            UnitError::Digits.to_string(),
            "more than 19 significant digits"
        );
        assert_eq!(parse_time("1.00000000000000000000000s"), Ok(NSEC_PER_SEC));
        // Leading zeros do not count against the digits a u64 holds.
        let zeros = "0".repeat(200);
        assert_eq!(
            parse_time(&format!("0.{zeros}9999999999999999999s")),
            Err(UnitError::Inexact("ns"))
        );
        assert_eq!(
            parse_time(&format!("0.{zeros}99999999999999999999s")),
            Err(UnitError::Digits)
        );
        assert_eq!(parse_time(&format!("0.{zeros}s")), Ok(0));
        assert_eq!(
            parse_time(&format!("0.{}1s", "0".repeat(37))),
            Err(UnitError::Inexact("ns"))
        );
        // A whole part too large to hold is an overflow.
        assert_eq!(
            parse_rate("99999999999999999999999bit"),
            Err(UnitError::Overflow)
        );
        assert_eq!(parse_rate("99999999999999tbit"), Err(UnitError::Overflow));
    }

    #[test]
    fn times_and_sizes() {
        assert_eq!(parse_time("3ms"), Ok(3_000_000));
        assert_eq!(parse_time("1s"), Ok(NSEC_PER_SEC));
        assert_eq!(parse_time("2.5ms"), Ok(2_500_000));
        assert_eq!(parse_time("500"), Ok(500_000));
        assert_eq!(parse_time("10ns"), Ok(10));
        assert_eq!(parse_time("3 ms"), Err(UnitError::Syntax));
        assert_eq!(parse_size("64kb"), Ok(65536));
        assert_eq!(parse_size("1500"), Ok(1500));
    }

    #[test]
    fn printing_round_trips() {
        for rate in [1000u64, 250_000, 187_500, 12_500_000_000, 123_457] {
            assert_eq!(
                parse_rate(&Rate(rate).to_string()),
                Ok(rate),
                "{}",
                Rate(rate)
            );
        }
        assert_eq!(Rate(250_000).to_string(), "2Mbit");
        assert_eq!(Rate(187_500).to_string(), "1500Kbit");
        for ns in [
            0u64,
            1,
            999,
            3_000_000,
            NSEC_PER_SEC,
            1_500_000_000,
            123_456,
        ] {
            assert_eq!(parse_time(&Time(ns).to_string()), Ok(ns), "{}", Time(ns));
        }
        assert_eq!(Time(3_000_000).to_string(), "3ms");
    }
}
