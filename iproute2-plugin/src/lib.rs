//! `q_smooth.so`: teaches the stock iproute2 `tc` the `smooth` qdisc.
//!
//! tc loads `$TC_LIB_DIR/q_smooth.so` (default
//! `/usr/lib/x86_64-linux-gnu/tc/`) when it meets the kind `smooth` and looks
//! up `smooth_qdisc_util`. This crate is split in two: the logic here is
//! plain Rust (tc's words to attributes, the dump's attributes walked with
//! smooth-netlink; what they print as comes from `smooth_core::report`) and
//! is unit-tested; `ffi` is the thin layer that speaks tc's C ABI.

mod ffi;

use smooth_core::options;
use smooth_core::uapi::Value;
use smooth_netlink::Attrs;

/// Turns tc's argument words into the attributes to send, checked with the
/// same rules as the kernel (as far as userspace can know them).
pub fn parse_args(args: &[&str], create: bool) -> Result<Vec<Value>, String> {
    let mut values = Vec::new();
    for (pair, value) in args.chunks(2).zip(options::words(args)) {
        if pair[0] == "help" {
            return Err(String::new());
        }
        values.push(value.map_err(|e| e.to_string())?);
    }
    options::precheck(&values, create).map_err(|e| format!("smooth: {}", options::Refusal(e)))?;
    Ok(values)
}

/// The attributes nested in a `TCA_OPTIONS` payload, `(type, payload)`
/// with `NLA_F_*` flags stripped, up to a malformed one.
pub fn nested(bytes: &[u8]) -> Vec<(u16, &[u8])> {
    Attrs::new(bytes)
        .map_while(Result::ok)
        .map(|a| (a.kind, a.payload))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(values: &[Value]) -> Vec<u8> {
        let mut b = smooth_netlink::Builder::new();
        for v in values {
            let (p, n) = v.payload();
            b.attr(v.kind(), &p[..n]);
        }
        b.finish()
    }

    #[test]
    fn design_card_words_round_trip_through_the_wire() {
        use smooth_core::report;
        let values = parse_args(&["rate", "2mbit", "window", "3ms"], true).unwrap();
        let bytes = encode(&values);
        let cfg = report::config(nested(&bytes)).unwrap();
        assert_eq!((cfg.rate, cfg.window), (250_000, 3_000_000));
        let all = encode(&smooth_core::uapi::to_attrs(&cfg));
        let text: Vec<String> = report::options(nested(&all))
            .flat_map(|i| [i.key.to_string(), i.value.to_string()])
            .collect();
        let words: Vec<&str> = text.iter().map(String::as_str).collect();
        let again = parse_args(&words, true).unwrap();
        assert_eq!(report::config(nested(&encode(&again))), Some(cfg));
    }

    #[test]
    fn bad_input_is_one_line_naming_the_field() {
        assert_eq!(
            parse_args(&["window", "3ms"], true).unwrap_err(),
            "smooth: rate is required"
        );
        assert_eq!(
            parse_args(&["rate", "fast"], true).unwrap_err(),
            "smooth: rate \"fast\" is not a rate like 2mbit (range 8Kbit..=100Gbit)"
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
            "smooth: rate \"1bit\" is not a whole number of bytes/s (a multiple of 8bit)"
        );
        assert_eq!(
            parse_args(&["rate", "7992bit"], true).unwrap_err(),
            "smooth: rate 7992bit out of range 8Kbit..=100Gbit"
        );
        assert_eq!(
            parse_args(&["rate", "2mbit", "limit_bytes", "0.4"], true).unwrap_err(),
            "smooth: limit_bytes \"0.4\" is not a whole number of bytes"
        );
        assert_eq!(
            parse_args(&["rate", "2mbit", "rate", "4mbit"], true).unwrap_err(),
            "smooth: \"rate\" given twice"
        );
        assert_eq!(
            parse_args(&["rate", "2mbit", "burst", "11s"], true).unwrap_err(),
            "smooth: burst 11s out of range 0us..=10s"
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
}
