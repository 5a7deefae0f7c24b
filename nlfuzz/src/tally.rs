//! Sorting the kernel's answers and counting them.

use crate::gen::Request;
use serde_json::{json, Value};
use smooth_core::config::{Max, PARAMS};
use smooth_core::uapi::attr;
use smooth_netlink::{ne_u16, ne_u32, ne_u64, Ack};
use std::collections::BTreeMap;

/// What the netlink attribute parser puts into the extack of a message it
/// accepts with stray bytes after the last attribute (`__nla_validate_parse`,
/// liberal mode): a warning, not the reason for a refusal. A refusal that
/// carries only this text was refused without a message of its own.
pub const LEFTOVER_WARNING: &str = "bytes leftover after parsing attributes";

/// Prefix of every extack message of sch_smooth.
pub const SMOOTH_PREFIX: &str = "smooth: ";

/// Message-less refusals that come from the core, never from smooth, and
/// are not failures:
///
/// * `ENODEV`: `tc_modify_qdisc`/`tc_get_qdisc` look the device up before
///   anything else and return it bare (cannot happen here: the fuzzer never
///   damages `tcm_ifindex`);
/// * `ENOMEM`, `ENOBUFS`: allocation failures in the core (`qdisc_alloc`,
///   `qdisc_get_stab`), bare by convention;
/// * `EPERM`: rtnetlink's `CAP_NET_ADMIN` check, bare (run as root).
///
/// smooth refuses only with `EINVAL`, always with a message; every other
/// refusal the core makes on these requests (6.12's `sch_api.c`, the
/// attribute parser) sets one too. So any other message-less refusal counts
/// against smooth and fails the run.
pub const CORE_SILENT: [i32; 4] = [libc::ENODEV, libc::ENOMEM, libc::ENOBUFS, libc::EPERM];

/// The verdict on one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Refused with an extack message; `smooth`: the message is sch_smooth's.
    RefusedWithMessage {
        smooth: bool,
    },
    /// Refused without a message; `core`: an errno of [`CORE_SILENT`].
    RefusedWithoutMessage {
        core: bool,
    },
    /// An error offset outside the request (the kernel checks this too, with
    /// a warning).
    BadOffset,
    /// A refusal by smooth whose extack offset is missing where one
    /// attribute of the request is at fault, or points at another attribute.
    WrongOffset,
}

/// Where smooth's refusal `message` must point (docs/uapi.md, "Refusals"):
/// at an attribute of one of these types, carrying the value given beside
/// it, if any. Empty: no requirement. A malformed stream has none: its
/// offset, when the bad attribute's header is whole, is checked by the
/// kernel (inside the request) and by `test_smooth_uapi.sh` (on the
/// attribute).
fn required_offset(message: &str) -> Vec<(u16, Option<u64>)> {
    let Some(m) = message.strip_prefix(SMOOTH_PREFIX) else {
        return Vec::new();
    };
    if let Some(t) = m.strip_prefix("unknown attribute type ") {
        return t.parse().into_iter().map(|t| (t, None)).collect();
    }
    if m.ends_with(" given twice") || m.contains(" has ") {
        let name = m.split(' ').next().unwrap_or_default();
        return (1..=attr::MAX)
            .filter(|&k| attr::name(k) == name)
            .map(|k| (k, None))
            .collect();
    }
    let Some(param) = PARAMS
        .iter()
        .find(|p| m.starts_with(p.name) && m[p.name.len()..].starts_with(' '))
    else {
        return Vec::new();
    };
    // "window 3000000 out of range 0..=2000000 ns"
    let Some((value, range)) = m[param.name.len() + 1..].split_once(" out of range ") else {
        return Vec::new();
    };
    let value = value.parse().ok();
    let upper = range
        .split_once("..=")
        .and_then(|(_, r)| r.split(' ').next()?.parse().ok());
    match param.max {
        // A value bounded by another field (the window by max_delay) is
        // out of range as given (the offset on it), or in force because the
        // request moved its bound (on that field, whose value is the bound).
        Max::AtMost(_, bound) => vec![(param.attr, value), (bound.param().attr, upper)],
        Max::Const(_) => vec![(param.attr, value)],
    }
}

/// The type (without flags) and the u32 or u64 payload of the attribute
/// of `request` that `reply`'s offset points at.
fn pointed(reply: &Ack, request: &[u8]) -> Option<(u16, Option<u64>)> {
    let kind = reply.pointed_type(request)?;
    let at = reply.offset? as usize;
    let len = usize::from(ne_u16(request, at)?);
    let value = match len.checked_sub(4)? {
        4 => ne_u32(request, at + 4).map(u64::from),
        8 => ne_u64(request, at + 4),
        _ => None,
    };
    Some((kind, value))
}

/// Whether the offset of smooth's refusal is where docs/uapi.md says.
fn offset_agrees(reply: &Ack, request: &[u8]) -> bool {
    let Some(message) = reply.message.as_deref() else {
        return true;
    };
    let want = required_offset(message);
    want.is_empty()
        || pointed(reply, request).is_some_and(|(kind, value)| {
            want.iter()
                .any(|&(k, v)| k == kind && v.is_none_or(|v| Some(v) == value))
        })
}

/// Sorts `reply`, the answer to `request`.
pub fn classify(reply: &Ack, request: &[u8]) -> Verdict {
    if let Some(off) = reply.offset {
        if off as usize + 4 > request.len() {
            return Verdict::BadOffset;
        }
    }
    if reply.error == 0 {
        return Verdict::Accepted;
    }
    if !offset_agrees(reply, request) {
        return Verdict::WrongOffset;
    }
    match reply.message.as_deref() {
        Some(m) if !m.is_empty() && m != LEFTOVER_WARNING => Verdict::RefusedWithMessage {
            smooth: m.starts_with(SMOOTH_PREFIX),
        },
        _ => Verdict::RefusedWithoutMessage {
            core: CORE_SILENT.contains(&-reply.error),
        },
    }
}

/// The errno's name (`EINVAL`), or `E<n>` for one without.
pub fn errno_name(errno: i32) -> String {
    smooth_netlink::errno_name(errno).map_or_else(|| format!("E{errno}"), str::to_string)
}

/// The counts of a run.
#[derive(Default)]
pub struct Tally {
    pub messages: u64,
    pub accepted: u64,
    pub refused_with_message: u64,
    pub refused_by_smooth: u64,
    pub refused_without_message: u64,
    /// Message-less refusals not in [`CORE_SILENT`]: failures.
    pub smooth_without_message: u64,
    pub core_without_message: u64,
    /// Anything else: no answer, an answer that does not parse, a bad
    /// offset, a send error. Failures too.
    pub other: u64,
    pub by_errno: BTreeMap<String, u64>,
    pub without_message_by_errno: BTreeMap<String, u64>,
    pub other_by_kind: BTreeMap<String, u64>,
    pub ops: BTreeMap<&'static str, u64>,
    pub bodies: BTreeMap<&'static str, u64>,
}

impl Tally {
    /// Counts a request as sent.
    pub fn sent(&mut self, req: &Request) {
        self.messages += 1;
        *self.ops.entry(req.op.name()).or_default() += 1;
        *self.bodies.entry(req.body.name()).or_default() += 1;
    }

    /// Counts an answer to `request`; returns the verdict.
    pub fn answer(&mut self, reply: &Ack, request: &[u8]) -> Verdict {
        let v = classify(reply, request);
        if reply.error != 0 {
            *self.by_errno.entry(errno_name(-reply.error)).or_default() += 1;
        }
        match v {
            Verdict::Accepted => self.accepted += 1,
            Verdict::RefusedWithMessage { smooth } => {
                self.refused_with_message += 1;
                self.refused_by_smooth += u64::from(smooth);
            }
            Verdict::RefusedWithoutMessage { core } => {
                self.refused_without_message += 1;
                *self
                    .without_message_by_errno
                    .entry(errno_name(-reply.error))
                    .or_default() += 1;
                if core {
                    self.core_without_message += 1;
                } else {
                    self.smooth_without_message += 1;
                }
            }
            Verdict::BadOffset => self.other("offset_outside_request"),
            Verdict::WrongOffset => self.other("smooth_offset_not_on_the_attribute"),
        }
        v
    }

    /// Counts a failure that is not an answer.
    pub fn other(&mut self, kind: &str) {
        self.other += 1;
        *self.other_by_kind.entry(kind.to_string()).or_default() += 1;
    }

    /// Whether the run found nothing wrong (the final replace aside).
    pub fn clean(&self) -> bool {
        self.smooth_without_message == 0 && self.other == 0
    }

    /// The summary line's fields.
    pub fn json(&self) -> Value {
        json!({
            "messages": self.messages,
            "accepted": self.accepted,
            "refused_with_message": self.refused_with_message,
            "refused_by_smooth": self.refused_by_smooth,
            "refused_without_message": self.refused_without_message,
            "smooth_without_message": self.smooth_without_message,
            "core_without_message": self.core_without_message,
            "other": self.other,
            "by_errno": self.by_errno,
            "without_message_by_errno": self.without_message_by_errno,
            "other_by_kind": self.other_by_kind,
            "ops": self.ops,
            "bodies": self.bodies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-byte request whose bytes 60.. are an attribute of type 1.
    const REQ: [u8; 64] = {
        let mut r = [0u8; 64];
        r[60] = 4;
        r[62] = 1;
        r
    };

    fn reply(error: i32, message: Option<&str>, offset: Option<u32>) -> Ack {
        Ack {
            seq: 1,
            error,
            message: message.map(str::to_string),
            offset,
        }
    }

    #[test]
    fn verdicts() {
        let einval = -libc::EINVAL;
        assert_eq!(classify(&reply(0, None, None), &REQ), Verdict::Accepted);
        // An ACK may carry a warning.
        assert_eq!(
            classify(&reply(0, Some(LEFTOVER_WARNING), None), &REQ),
            Verdict::Accepted
        );
        assert_eq!(
            classify(&reply(einval, Some("smooth: rate is required"), None), &REQ),
            Verdict::RefusedWithMessage { smooth: true }
        );
        assert_eq!(
            classify(&reply(einval, Some("Invalid qdisc name"), None), &REQ),
            Verdict::RefusedWithMessage { smooth: false }
        );
        // EINVAL without a message could be smooth's: a failure.
        assert_eq!(
            classify(&reply(einval, None, None), &REQ),
            Verdict::RefusedWithoutMessage { core: false }
        );
        // The parser's warning is not a reason.
        assert_eq!(
            classify(&reply(einval, Some(LEFTOVER_WARNING), None), &REQ),
            Verdict::RefusedWithoutMessage { core: false }
        );
        assert_eq!(
            classify(&reply(einval, Some(""), None), &REQ),
            Verdict::RefusedWithoutMessage { core: false }
        );
        assert_eq!(
            classify(&reply(-libc::ENODEV, None, None), &REQ),
            Verdict::RefusedWithoutMessage { core: true }
        );
        assert_eq!(
            classify(&reply(einval, Some("smooth: x"), Some(61)), &REQ),
            Verdict::BadOffset
        );
        assert_eq!(
            classify(&reply(einval, Some("smooth: x"), Some(60)), &REQ),
            Verdict::RefusedWithMessage { smooth: true }
        );
    }

    #[test]
    fn tally_counts_and_judges() {
        let mut t = Tally::default();
        t.answer(&reply(0, None, None), &REQ);
        t.answer(&reply(-libc::EINVAL, Some("smooth: x"), None), &REQ);
        t.answer(
            &reply(-libc::ENOENT, Some("Specified qdisc not found"), None),
            &REQ,
        );
        t.answer(&reply(-libc::ENODEV, None, None), &REQ);
        assert!(t.clean());
        assert_eq!(
            (t.accepted, t.refused_with_message, t.refused_by_smooth),
            (1, 2, 1)
        );
        assert_eq!((t.refused_without_message, t.core_without_message), (1, 1));
        let j = t.json();
        assert_eq!(j["by_errno"]["EINVAL"], 1);
        assert_eq!(j["by_errno"]["ENOENT"], 1);
        assert_eq!(j["without_message_by_errno"]["ENODEV"], 1);
        t.answer(&reply(-libc::EINVAL, None, None), &REQ);
        assert!(!t.clean());
        assert_eq!(t.json()["smooth_without_message"], 1);
        let mut u = Tally::default();
        u.other("no_reply");
        assert!(!u.clean());
        assert_eq!(u.json()["other_by_kind"]["no_reply"], 1);
        assert_eq!(errno_name(22), "EINVAL");
        assert_eq!(errno_name(4242), "E4242");
    }

    #[test]
    fn smooth_offsets_are_checked() {
        let einval = -libc::EINVAL;
        let refusal = |m: &str, off| classify(&reply(einval, Some(m), off), &REQ);
        let ok = Verdict::RefusedWithMessage { smooth: true };
        // A request whose attribute at 60 is of type `kind` with `value`
        // as its u64 payload.
        let on = |kind: u16, value: u64, m: &str| {
            let mut req = REQ.to_vec();
            req[60] = 12;
            req[62] = kind as u8;
            req.extend_from_slice(&value.to_ne_bytes());
            classify(&reply(einval, Some(m), Some(60)), &req)
        };
        // REQ's attribute at 60 is type 1 (TCA_SMOOTH_RATE), no payload.
        let slow = "smooth: rate 10 out of range 1000..=12500000000 bytes/s";
        assert_eq!(on(attr::RATE, 10, slow), ok);
        // On the attribute, but not the one carrying the value named.
        assert_eq!(on(attr::RATE, 11, slow), Verdict::WrongOffset);
        assert_eq!(refusal(slow, Some(60)), Verdict::WrongOffset);
        assert_eq!(
            refusal("smooth: TCA_SMOOTH_RATE has 4 bytes, expected 8", Some(60)),
            ok
        );
        assert_eq!(refusal("smooth: unknown attribute type 1", Some(60)), ok);
        assert_eq!(refusal("smooth: malformed attributes", Some(60)), ok);
        assert_eq!(refusal("smooth: rate is required", None), ok);
        // The window out of range: on the window it names, or on the
        // max_delay that moved its bound there.
        let window = "smooth: window 3000000 out of range 0..=2000000 ns";
        assert_eq!(on(attr::WINDOW, 3_000_000, window), ok);
        assert_eq!(on(attr::MAX_DELAY, 2_000_000, window), ok);
        assert_eq!(on(attr::MAX_DELAY, 3_000_000, window), Verdict::WrongOffset);
        assert_eq!(on(attr::RATE, 2_000_000, window), Verdict::WrongOffset);
        assert_eq!(refusal(window, None), Verdict::WrongOffset);
        // A u32 payload.
        let mut limit = REQ.to_vec();
        limit[60] = 8;
        limit[62] = attr::LIMIT as u8;
        limit.extend_from_slice(&0u32.to_ne_bytes());
        let zero = "smooth: limit 0 out of range 1..=65536 packets";
        assert_eq!(classify(&reply(einval, Some(zero), Some(60)), &limit), ok);
        // Missing where an attribute is at fault, or on another attribute.
        assert_eq!(refusal(slow, None), Verdict::WrongOffset);
        assert_eq!(refusal("smooth: malformed attributes", None), ok);
        assert_eq!(
            refusal("smooth: TCA_SMOOTH_LIMIT given twice", Some(60)),
            Verdict::WrongOffset
        );
        assert_eq!(
            refusal("smooth: limit_bytes 5 out of range 6..=7 bytes", Some(60)),
            Verdict::WrongOffset
        );
        assert_eq!(
            refusal("smooth: unknown attribute type 9", Some(60)),
            Verdict::WrongOffset
        );
        // Not smooth's: no requirement.
        assert_eq!(
            refusal("Invalid qdisc name", None),
            Verdict::RefusedWithMessage { smooth: false }
        );
    }
}
