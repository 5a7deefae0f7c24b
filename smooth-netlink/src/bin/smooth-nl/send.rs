//! `smooth-nl send DEV add|change|replace [--flat] [--raw-options HEX] ATTR...`
//!
//! tc and tc-smooth only send what smooth-core's option parser accepts, so
//! they cannot show what the kernel does with an attribute they would never
//! build: an unknown type, a wrong payload size, a duplicate, a truncated
//! stream. This builds `TCA_OPTIONS` byte by byte to ask exactly that.
//!
//! ATTR is `TYPE:u32:VALUE`, `TYPE:u64:VALUE` or `TYPE:hex:BYTES` (TYPE a
//! number, flags allowed, so that unknown types can be sent; numbers in
//! decimal or `0x` hex). `TCA_OPTIONS` carries `NLA_F_NESTED` unless
//! `--flat` (stock tc's way). `--raw-options HEX` replaces the whole
//! `TCA_OPTIONS` payload. Prints `ok`, or `error ERRNO: MESSAGE (attribute
//! type T)` where T is the type of the attribute of the request the extack
//! offset points at (no parenthesis without an offset); exits 0 on ok, 1 on
//! a refusal.

use crate::Failure;
use smooth_netlink::tc::{self, TcMsg, TCA_KIND, TCA_OPTIONS, TC_H_ROOT};
use smooth_netlink::{
    Ack, Builder, Socket, NLA_F_NESTED, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE,
    NLM_F_REQUEST,
};

/// What to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub dev: String,
    /// The verb's `NLM_F_*` flags (besides `REQUEST | ACK`).
    pub verb_flags: u16,
    pub flat: bool,
    /// The `TCA_OPTIONS` payload.
    pub options: Vec<u8>,
}

fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let pairs = digits.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(format!("\"{s}\": an odd number of hex digits"));
    }
    pairs
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("\"{s}\" is not hex"))
        })
        .collect()
}

/// Appends the attribute `spec` (`TYPE:FORMAT:VALUE`) to `b`.
fn put_spec(b: &mut Builder, spec: &str) -> Result<(), String> {
    let bad = |why: &str| format!("attribute \"{spec}\": {why}");
    let mut parts = spec.splitn(3, ':');
    let (Some(kind), Some(format), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("expected TYPE:u32|u64|hex:VALUE"));
    };
    let kind = number(kind)
        .and_then(|k| u16::try_from(k).ok())
        .ok_or_else(|| bad("type is not a number of 0..=65535"))?;
    let payload = match format {
        "u32" => number(value)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad("not a u32"))?
            .to_ne_bytes()
            .to_vec(),
        "u64" => number(value)
            .ok_or_else(|| bad("not a u64"))?
            .to_ne_bytes()
            .to_vec(),
        "hex" => hex(value).map_err(|e| bad(&e))?,
        _ => return Err(bad("format is not u32, u64 or hex")),
    };
    if payload.len() > usize::from(u16::MAX) - 8 {
        return Err(bad("too long for an attribute"));
    }
    b.attr(kind, &payload);
    Ok(())
}

/// Parses the command line after `send`.
pub fn parse(args: &[&str]) -> Result<Request, String> {
    let mut flat = false;
    let mut raw = None;
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        match a {
            "--flat" => flat = true,
            "--raw-options" => {
                let h = it.next().ok_or("--raw-options needs HEX")?;
                raw = Some(hex(h)?);
            }
            _ => words.push(a),
        }
    }
    let [dev, verb, specs @ ..] = words.as_slice() else {
        return Err("DEV and a verb are required".into());
    };
    let verb_flags = match *verb {
        "add" => NLM_F_CREATE | NLM_F_EXCL,
        "change" => 0,
        "replace" => NLM_F_CREATE | NLM_F_REPLACE,
        v => return Err(format!("\"{v}\" is not add, change or replace")),
    };
    let options = match raw {
        Some(bytes) if specs.is_empty() => bytes,
        Some(_) => return Err("--raw-options and ATTR exclude each other".into()),
        None => {
            let mut b = Builder::new();
            for s in specs {
                put_spec(&mut b, s)?;
            }
            b.finish()
        }
    };
    if options.len() > usize::from(u16::MAX) - 4 {
        return Err("TCA_OPTIONS too long for an attribute".into());
    }
    Ok(Request {
        dev: dev.to_string(),
        verb_flags,
        flat,
        options,
    })
}

/// The message: `tcmsg` for the root of `ifindex`, `TCA_KIND "smooth"`,
/// `TCA_OPTIONS` (nested unless flat).
pub fn message(req: &Request, ifindex: u32) -> Vec<u8> {
    let tcm = TcMsg {
        ifindex,
        parent: TC_H_ROOT,
        ..TcMsg::default()
    };
    let flags = NLM_F_REQUEST | NLM_F_ACK | req.verb_flags;
    let mut b = tc::message(tc::RTM_NEWQDISC, flags, 1, &tcm);
    b.str(TCA_KIND, "smooth");
    let kind = if req.flat {
        TCA_OPTIONS
    } else {
        TCA_OPTIONS | NLA_F_NESTED
    };
    b.attr(kind, &req.options);
    b.finish()
}

/// The line printed for the kernel's answer `ack` to `request`.
pub fn verdict(ack: &Ack, request: &[u8]) -> String {
    if ack.error == 0 {
        return "ok".into();
    }
    let errno = ack
        .errno_name()
        .map_or_else(|| (-ack.error).to_string(), str::to_string);
    let text = ack.message.as_deref().unwrap_or("");
    match ack.pointed_type(request) {
        Some(t) => format!("error {errno}: {text} (attribute type {t})"),
        None => format!("error {errno}: {text}"),
    }
}

pub fn main(args: &[&str]) -> Result<(), Failure> {
    let req = parse(args).map_err(Failure::Usage)?;
    let ifindex = crate::ifindex(&req.dev)?;
    let msg = message(&req, ifindex);
    let failed = |e: &dyn std::fmt::Display| Failure::Failed(e.to_string());
    let answer = Socket::route()
        .map_err(|e| failed(&e))?
        .transact(&msg)
        .map_err(|e| failed(&e))?;
    if let Some(r) = answer.replies.first() {
        return Err(Failure::Usage(format!(
            "unexpected reply type {}",
            r.header.kind
        )));
    }
    println!("{}", verdict(&answer.ack, &msg));
    if answer.ack.error == 0 {
        Ok(())
    } else {
        Err(Failure::Failed(String::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smooth_netlink::{ne_u16, Attrs, Messages};

    #[test]
    fn attributes_as_specified() {
        let r = parse(&[
            "vif1.0",
            "add",
            "1:u64:250000",
            "2:u64:0x10",
            "7:hex:",
            "9:u32:7",
        ])
        .unwrap();
        assert_eq!((r.dev.as_str(), r.flat), ("vif1.0", false));
        assert_eq!(r.verb_flags, NLM_F_CREATE | NLM_F_EXCL);
        let a = Attrs::new(&r.options).collect_all().unwrap();
        let got: Vec<(u16, &[u8])> = a.iter().map(|a| (a.kind, a.payload)).collect();
        assert_eq!(
            got,
            [
                (1, &250_000u64.to_ne_bytes()[..]),
                (2, &16u64.to_ne_bytes()[..]),
                (7, &[][..]),
                (9, &7u32.to_ne_bytes()[..]),
            ]
        );
        // Flags anywhere, raw options verbatim.
        let r = parse(&[
            "vif1.0",
            "change",
            "--flat",
            "--raw-options",
            "0c000100e8030000",
        ])
        .unwrap();
        assert!(r.flat);
        assert_eq!(r.verb_flags, 0);
        assert_eq!(r.options, [0x0c, 0, 1, 0, 0xe8, 3, 0, 0]);
        let r = parse(&["d", "replace", "0x8001:hex:aa bb"]).unwrap();
        assert_eq!(r.verb_flags, NLM_F_CREATE | NLM_F_REPLACE);
        assert_eq!(ne_u16(&r.options, 2), Some(0x8001));
        assert_eq!(&r.options[4..6], &[0xaa, 0xbb]);
    }

    #[test]
    fn bad_usage_is_refused() {
        for args in [
            &["vif1.0"][..],
            &["vif1.0", "delete"],
            &["vif1.0", "add", "1:u16:3"],
            &["vif1.0", "add", "1:u32:4294967296"],
            &["vif1.0", "add", "65536:u32:1"],
            &["vif1.0", "add", "x:u32:1"],
            &["vif1.0", "add", "1:u64"],
            &["vif1.0", "add", "1:hex:abc"],
            &["vif1.0", "add", "1:hex:zz"],
            &["vif1.0", "add", "--raw-options"],
            &["vif1.0", "add", "--raw-options", "00", "1:u32:1"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn message_layout() {
        let r = parse(&["vif1.0", "add", "1:u64:250000"]).unwrap();
        let m = message(&r, 7);
        let msg = Messages::new(&m).next().unwrap().unwrap();
        assert_eq!(msg.header.kind, tc::RTM_NEWQDISC);
        assert_eq!(msg.header.flags, 0x1 | 0x4 | 0x200 | 0x400);
        let (tcm, attrs) = tc::parse(&msg).unwrap();
        assert_eq!((tcm.ifindex, tcm.parent, tcm.handle), (7, TC_H_ROOT, 0));
        let a = attrs.collect_all().unwrap();
        assert_eq!(a[0].str(), Ok("smooth"));
        assert_eq!(
            (a[1].kind, a[1].is_nested(), a[1].offset),
            (TCA_OPTIONS, true, 48)
        );
        let rate = a[1].nested().next().unwrap().unwrap();
        assert_eq!((rate.kind, rate.offset, rate.u64()), (1, 52, Ok(250_000)));
        let flat = message(&parse(&["d", "add", "--flat"]).unwrap(), 7);
        assert_eq!(ne_u16(&flat, 50), Some(TCA_OPTIONS));
        assert_eq!(flat.len(), 16 + 20 + 12 + 4);
    }

    #[test]
    fn verdict_lines() {
        let r = parse(&["d", "add", "1:u64:250000", "8:u32:1"]).unwrap();
        let m = message(&r, 3);
        assert_eq!(verdict(&Ack::default(), &m), "ok");
        let refusal = |offset| Ack {
            error: -22,
            message: Some("smooth: unknown attribute type 8".into()),
            offset,
            ..Ack::default()
        };
        assert_eq!(
            verdict(&refusal(Some(64)), &m),
            "error EINVAL: smooth: unknown attribute type 8 (attribute type 8)"
        );
        assert_eq!(
            verdict(&refusal(None), &m),
            "error EINVAL: smooth: unknown attribute type 8"
        );
        let odd = Ack {
            error: -4242,
            ..Ack::default()
        };
        assert_eq!(verdict(&odd, &m), "error 4242: ");
    }
}
