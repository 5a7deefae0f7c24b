//! `q_smooth.so`: teaches the stock iproute2 `tc` the `smooth` qdisc.
//!
//! tc loads `$TC_LIB_DIR/q_smooth.so` (default
//! `/usr/lib/x86_64-linux-gnu/tc/`) when it meets the kind `smooth` and looks
//! up `smooth_qdisc_util`. This crate is split in two: the logic here is
//! plain Rust (words to attributes, attributes to text and JSON fields) and
//! is unit-tested; `ffi` is the thin layer that speaks tc's C ABI.

mod ffi;

use smooth_core::options::{self, Kind, WordError, KEYWORDS};
use smooth_core::uapi::{self, Value, XStats};
use smooth_core::{Config, DelayHistogram};

/// Turns tc's argument words into the attributes to send, checked with the
/// same rules as the kernel (as far as userspace can know them).
pub fn parse_args(args: &[&str], create: bool) -> Result<Vec<Value>, String> {
    let mut values = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let key = args[i];
        if key == "help" {
            return Err(String::new());
        }
        let Some(value) = args.get(i + 1) else {
            let known = KEYWORDS.iter().find(|(k, _, _)| *k == key);
            return Err(match known {
                Some((k, _, _)) => WordError::MissingValue(k).to_string(),
                None => WordError::UnknownKeyword(key).to_string(),
            });
        };
        values.push(options::parse_word(key, value).map_err(|e| e.to_string())?);
        i += 2;
    }
    options::precheck(&values, create).map_err(|e| format!("smooth: {e}"))?;
    Ok(values)
}

/// Decodes the attributes nested in `TCA_OPTIONS` (a byte slice).
pub fn decode_options(mut bytes: &[u8]) -> Option<Config> {
    let mut attrs = Vec::new();
    while bytes.len() >= 4 {
        let len = u16::from_ne_bytes([bytes[0], bytes[1]]) as usize;
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x3fff;
        if len < 4 || len > bytes.len() {
            return None;
        }
        attrs.push((kind, &bytes[4..len]));
        bytes = &bytes[((len + 3) & !3).min(bytes.len())..];
    }
    uapi::apply(Config::DEFAULT, attrs, true).ok()
}

/// A field to print: JSON key, text, and the JSON number.
pub struct Field {
    pub key: &'static str,
    pub text: String,
    pub number: Number,
}

/// JSON numbers keep their sign.
pub enum Number {
    U(u64),
    I(i64),
}

/// The options as printed by `tc qdisc show`: text in the words the parser
/// reads; JSON numbers in the UAPI's units (bytes/s, ns, packets, bytes).
pub fn option_fields(cfg: &Config) -> Vec<Field> {
    uapi::to_attrs(cfg)
        .iter()
        .zip(KEYWORDS)
        .map(|(v, (key, _, kind))| {
            let n = match *v {
                Value::U64(_, n) => n,
                Value::U32(_, n) => n.into(),
            };
            Field {
                key,
                text: options::ValueText(kind, n).to_string(),
                number: Number::U(n),
            }
        })
        .collect()
}

/// The xstats lines of `tc -s qdisc show`.
pub fn xstats_fields(x: &XStats) -> Vec<Field> {
    let t = |key: &'static str, ns: u64| Field {
        key,
        text: options::ValueText(Kind::Time, ns).to_string(),
        number: Number::U(ns),
    };
    let u = |key: &'static str, n: u64| Field {
        key,
        text: n.to_string(),
        number: Number::U(n),
    };
    vec![
        t("window_min", x.window_min),
        t("window_max", x.window_max),
        t("credit_owed", x.credit_owed),
        u("raised", x.raised),
        u("lowered", x.lowered),
        u("drops_limit", x.drops_limit),
        u("drops_bytes", x.drops_bytes),
        u("drops_ceiling", x.drops_ceiling),
        u("drops_gso", x.drops_gso),
        u("throttled", x.throttled),
        u("gso_segmented", x.gso_segmented),
        t("sojourn_min", x.sojourn_min),
        t("sojourn_max", x.sojourn_max),
        t("lateness_max", x.lateness_max),
    ]
}

/// Histogram bucket labels: `<128us`, `<256us`, …, `>=2097152us`.
pub fn histogram_label(k: usize) -> String {
    match DelayHistogram::upper_edge_us(k) {
        Some(edge) => format!("<{edge}us"),
        None => format!(">={}us", DelayHistogram::FIRST_EDGE_US << (k - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(values: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in values {
            let (p, n) = v.payload();
            out.extend_from_slice(&((4 + n) as u16).to_ne_bytes());
            out.extend_from_slice(&v.kind().to_ne_bytes());
            out.extend_from_slice(&p[..n]);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        }
        out
    }

    #[test]
    fn design_card_words_round_trip_through_the_wire() {
        let values = parse_args(&["rate", "2mbit", "window", "3ms"], true).unwrap();
        let cfg = decode_options(&encode(&values)).unwrap();
        assert_eq!((cfg.rate, cfg.window), (250_000, 3_000_000));
        let text: Vec<String> = option_fields(&cfg)
            .into_iter()
            .flat_map(|f| [f.key.to_string(), f.text])
            .collect();
        let words: Vec<&str> = text.iter().map(String::as_str).collect();
        let again = parse_args(&words, true).unwrap();
        assert_eq!(decode_options(&encode(&again)), Some(cfg));
    }

    #[test]
    fn bad_input_is_one_line_naming_the_field() {
        assert_eq!(
            parse_args(&["window", "3ms"], true).unwrap_err(),
            "smooth: rate is required"
        );
        assert_eq!(
            parse_args(&["rate", "fast"], true).unwrap_err(),
            "smooth: rate \"fast\" is not a rate like 2mbit"
        );
        assert_eq!(
            parse_args(&["rate"], true).unwrap_err(),
            "smooth: \"rate\" needs a value"
        );
        assert_eq!(
            parse_args(&["bogus"], true).unwrap_err(),
            "smooth: unknown option \"bogus\""
        );
        assert_eq!(
            parse_args(&["rate", "1bit"], true).unwrap_err(),
            "smooth: rate 0 out of range 1000..=12500000000 bytes/s"
        );
        assert_eq!(
            parse_args(&["rate", "2mbit", "burst", "11s"], true).unwrap_err(),
            "smooth: burst 11000000000 out of range 0..=10000000000 ns"
        );
        // The bucket depth is not bounded by max_delay.
        assert!(parse_args(
            &["rate", "2mbit", "burst", "1s", "max_delay", "100ms"],
            true
        )
        .is_ok());
        // The PID controller's words are gone.
        for word in ["interval", "kp", "ki", "kd"] {
            assert_eq!(
                parse_args(&["rate", "2mbit", word, "1"], true).unwrap_err(),
                format!("smooth: unknown option \"{word}\"")
            );
        }
        assert!(parse_args(&["window", "3ms"], false).is_ok());
        assert_eq!(parse_args(&["help"], true).unwrap_err(), "");
    }

    #[test]
    fn defaults_print_in_tc_words() {
        let text: Vec<String> = option_fields(&Config::DEFAULT)
            .into_iter()
            .map(|f| format!("{} {}", f.key, f.text))
            .collect();
        assert_eq!(
            text.join(" "),
            "rate 2Mbit window 3ms burst 50ms max_delay 200ms limit 1000 limit_bytes 0"
        );
    }

    #[test]
    fn xstats_fields_follow_the_layout() {
        let x = XStats {
            version: XStats::VERSION,
            window_max: 3_000_000,
            credit_owed: 1_500_000,
            raised: 2,
            lowered: 1,
            ..XStats::default()
        };
        let fields = xstats_fields(&x);
        let keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            [
                "window_min",
                "window_max",
                "credit_owed",
                "raised",
                "lowered",
                "drops_limit",
                "drops_bytes",
                "drops_ceiling",
                "drops_gso",
                "throttled",
                "gso_segmented",
                "sojourn_min",
                "sojourn_max",
                "lateness_max",
            ]
        );
        let text: Vec<String> = fields
            .iter()
            .take(5)
            .map(|f| format!("{} {}", f.key, f.text))
            .collect();
        assert_eq!(
            text.join(" "),
            "window_min 0us window_max 3ms credit_owed 1500us raised 2 lowered 1"
        );
    }

    #[test]
    fn histogram_labels() {
        assert_eq!(histogram_label(0), "<128us");
        assert_eq!(histogram_label(15), ">=2097152us");
    }
}
