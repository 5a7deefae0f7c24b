//! What the fuzzer sends: a seeded stream of qdisc requests for kind
//! `smooth` on one device.
//!
//! Each request is one of
//!
//! * **change** (`RTM_NEWQDISC`, no create flags): `->change()` of the root
//!   smooth if there is one, else the core refuses;
//! * **replace** (`NLM_F_CREATE | NLM_F_REPLACE`): with handle 0 a change of
//!   an existing smooth root, or `->init()` of a new one when the root is the
//!   default; with a handle other than the root's, `->init()` of a new qdisc
//!   grafted in place of the old one (whose `->destroy()` runs);
//! * **add** (`NLM_F_CREATE | NLM_F_EXCL`), now and then;
//! * **delete** (`RTM_DELQDISC` of the root), now and then, so that init and
//!   destroy keep running.
//!
//! Its `TCA_OPTIONS` is one of
//!
//! * **fuzzed**: random attribute sets — the known types 1–7 (sometimes with
//!   `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER` set, which the kernel strips), 0 and
//!   unknown types; the right payload size with a value at a `Config` bound,
//!   in range, or extreme (0, 1, `u32::MAX`, `u64::MAX`, …), or a random size
//!   of 0–16 bytes and now and then a large one; duplicates; a last
//!   attribute without its padding; an attribute header with `nla_len` below
//!   4 or past the end, 1–3 stray bytes, trailing garbage;
//! * **valid**: a random configuration that passes `Config::validate`, all or
//!   some of its attributes in random order (what makes changes and inits
//!   succeed under traffic);
//! * **mutated**: a valid request with 1–4 bits flipped or cut at a random
//!   byte ([`crate::mutate::mutate`]);
//!
//! nested (`NLA_F_NESTED`) or flat, as libmnl users and stock tc send it; and
//! at the top level now and then without `TCA_KIND`, with the attributes in
//! the other order, with a second `TCA_OPTIONS` (the kernel keeps the last),
//! or with stray bytes after the last attribute.

use crate::mutate::{mutate, Mutation};
use crate::rng::Rng;
use smooth_core::config::{Config, Max, Param, PARAMS};
use smooth_core::uapi::{attr, to_attrs, Value};
use smooth_netlink::tc::{
    self, TcMsg, RTM_DELQDISC, RTM_NEWQDISC, TCA_KIND, TCA_OPTIONS, TC_H_ROOT,
};
use smooth_netlink::{
    Attrs, Builder, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, NLM_F_ACK, NLM_F_CREATE,
    NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};

/// The largest `TCA_OPTIONS` payload built: its `nla_len` is a u16.
const MAX_OPTIONS: usize = u16::MAX as usize - 4;

/// The request's verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Change,
    Replace,
    Add,
    Delete,
}

impl Op {
    /// Netlink flags, as tc sets them for its verbs.
    pub fn flags(self) -> u16 {
        let base = NLM_F_REQUEST | NLM_F_ACK;
        match self {
            Op::Change | Op::Delete => base,
            Op::Replace => base | NLM_F_CREATE | NLM_F_REPLACE,
            Op::Add => base | NLM_F_CREATE | NLM_F_EXCL,
        }
    }

    /// Name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Op::Change => "change",
            Op::Replace => "replace",
            Op::Add => "add",
            Op::Delete => "delete",
        }
    }

    /// Whether the request can reach `->init()` (a change never does).
    pub fn creates(self) -> bool {
        matches!(self, Op::Replace | Op::Add)
    }
}

/// What `TCA_OPTIONS` was made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Random attributes, possibly malformed.
    Fuzzed,
    /// A valid configuration (all or some of its attributes).
    Valid,
    /// A valid request, then damaged.
    Mutated(Mutation),
    /// A delete (options, if any, are not looked at).
    Delete,
}

impl Body {
    /// Name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Body::Fuzzed => "fuzzed",
            Body::Valid => "valid",
            Body::Mutated(Mutation::BitFlips(_)) => "bit_flips",
            Body::Mutated(Mutation::Truncated(_)) => "truncated",
            Body::Delete => "delete",
        }
    }
}

/// One request, ready to send.
#[derive(Clone, Debug)]
pub struct Request {
    pub op: Op,
    pub body: Body,
    pub bytes: Vec<u8>,
}

/// The seeded request stream for one device.
pub struct Generator {
    rng: Rng,
    ifindex: u32,
}

/// The values at and around every bound of `kind` in the options table,
/// and its default: where off-by-one errors live. For a field bounded by
/// another (the window by `max_delay`) also that field's default and
/// minimum; for a field that bounds another, that one's constant bound.
pub fn boundaries(kind: u16) -> Vec<u64> {
    let Some(p) = Param::by_attr(kind) else {
        return vec![0];
    };
    let around = |v: u64| [v.saturating_sub(1), v, v.saturating_add(1)];
    let mut out = around(p.min).to_vec();
    match p.max {
        Max::Const(m) => out.extend(around(m)),
        Max::AtMost(m, other) => {
            let other = other.param();
            out.extend(around(m));
            out.extend(around(other.default_value()));
            out.extend(around(other.min));
        }
    }
    for q in &PARAMS {
        if let Max::AtMost(m, bounded_by) = q.max {
            if bounded_by == p.field {
                out.extend(around(m));
            }
        }
    }
    out.push(p.default_value());
    out.sort_unstable();
    out.dedup();
    out
}

/// Values that break careless arithmetic whatever the field.
const EXTREMES: [u64; 8] = [
    0,
    1,
    u32::MAX as u64,
    u32::MAX as u64 + 1,
    i64::MAX as u64,
    i64::MAX as u64 + 1,
    u64::MAX - 1,
    u64::MAX,
];

/// The valid range of `kind` on its own (a field bounded by another is
/// also bounded by that one's value).
fn valid_range(kind: u16) -> (u64, u64) {
    match Param::by_attr(kind) {
        Some(p) => match p.max {
            Max::Const(m) | Max::AtMost(m, _) => (p.min, m),
        },
        None => (0, u32::MAX.into()),
    }
}

/// The payload of a value attribute of `len` bytes (8: u64, else u32, the
/// value's low half), native-endian.
fn encode(value: u64, len: usize) -> Vec<u8> {
    if len == 8 {
        value.to_ne_bytes().to_vec()
    } else {
        (value as u32).to_ne_bytes().to_vec()
    }
}

/// Appends `v` as an attribute.
fn put_value(b: &mut Builder, v: &Value) {
    let (payload, len) = v.payload();
    b.attr(v.kind(), &payload[..len]);
}

/// The `nlmsghdr` and `tcmsg` of a request for the root of `ifindex`.
fn request(kind: u16, op: Op, seq: u32, ifindex: u32, handle: u32) -> Builder {
    let tcm = TcMsg {
        ifindex,
        handle,
        parent: TC_H_ROOT,
        ..TcMsg::default()
    };
    tc::message(kind, op.flags(), seq, &tcm)
}

/// A replace of the root with every parameter of `cfg`: what must still be
/// accepted after the run.
pub fn valid_replace(ifindex: u32, seq: u32, cfg: &Config) -> Vec<u8> {
    let mut b = request(RTM_NEWQDISC, Op::Replace, seq, ifindex, 0);
    b.str(TCA_KIND, "smooth");
    b.nest(TCA_OPTIONS | NLA_F_NESTED, |b| {
        to_attrs(cfg).iter().for_each(|v| put_value(b, v));
    });
    b.finish()
}

impl Generator {
    pub fn new(seed: u64, ifindex: u32) -> Generator {
        Generator {
            rng: Rng::new(seed),
            ifindex,
        }
    }

    /// The next request, with sequence number `seq`.
    pub fn next(&mut self, seq: u32) -> Request {
        let op = match self.rng.below(100) {
            0..=2 => Op::Delete,
            3..=6 => Op::Add,
            7..=44 => Op::Replace,
            _ => Op::Change,
        };
        let kind = if op == Op::Delete {
            RTM_DELQDISC
        } else {
            RTM_NEWQDISC
        };
        let handle = self.handle(op);
        let mut msg = request(kind, op, seq, self.ifindex, handle);
        if op == Op::Delete {
            if self.rng.percent(80) {
                msg.str(TCA_KIND, "smooth");
            }
            return Request {
                op,
                body: Body::Delete,
                bytes: msg.finish(),
            };
        }
        let roll = self.rng.below(100);
        if roll < 12 {
            let opts = self.valid_options(op);
            msg.bytes(&self.top_level(Some(&opts), false));
            let mut bytes = msg.finish();
            let m = mutate(&mut bytes, &mut self.rng);
            return Request {
                op,
                body: Body::Mutated(m),
                bytes,
            };
        }
        let (body, opts) = if roll < 35 {
            (Body::Valid, Some(self.valid_options(op)))
        } else if self.rng.percent(4) {
            (Body::Fuzzed, None)
        } else {
            (Body::Fuzzed, Some(self.fuzzed_options()))
        };
        let oddities = body == Body::Fuzzed;
        msg.bytes(&self.top_level(opts.as_deref(), oddities));
        Request {
            op,
            body,
            bytes: msg.finish(),
        }
    }

    /// `tcm_handle`: mostly 0 (the root, whatever its handle), else a small
    /// major that may or may not be the root's (a different one makes a
    /// replace create and graft a new qdisc).
    fn handle(&mut self, op: Op) -> u32 {
        let explicit = match op {
            Op::Replace => 50,
            Op::Change | Op::Add | Op::Delete => 12,
        };
        if self.rng.percent(explicit) {
            (self.rng.range(1, 16) as u32) << 16
        } else {
            0
        }
    }

    /// The top-level attributes: `TCA_KIND` and `TCA_OPTIONS`, nested or
    /// flat; with `oddities`, now and then no kind, the other order, a
    /// second `TCA_OPTIONS` or stray bytes at the end.
    fn top_level(&mut self, opts: Option<&[u8]>, oddities: bool) -> Vec<u8> {
        let r = &mut self.rng;
        let odd = |r: &mut Rng, pct| oddities && r.percent(pct);
        let with_kind = !odd(r, 3);
        let kind_last = odd(r, 3);
        let second = odd(r, 3);
        let unpadded = r.percent(10);
        let stray = odd(r, 3);
        let opt_type = |r: &mut Rng| {
            if r.percent(50) {
                TCA_OPTIONS | NLA_F_NESTED
            } else {
                TCA_OPTIONS
            }
        };
        let mut b = Builder::new();
        if with_kind && !kind_last {
            b.str(TCA_KIND, "smooth");
        }
        if let Some(o) = opts {
            b.attr(opt_type(r), o);
        }
        if second {
            let o = self.fuzzed_options();
            b.attr(opt_type(&mut self.rng), &o);
        }
        if with_kind && kind_last {
            b.str(TCA_KIND, "smooth");
        }
        let mut out = b.finish();
        if unpadded && !stray {
            // Without the last attribute's padding: legal at the end.
            out.truncate(out.len() - pad_of_last(&out));
        }
        if stray {
            let n = self.rng.size(1, 8);
            out.extend(self.rng.bytes(n));
        }
        out
    }

    /// A random valid configuration's attributes: for a create mostly all of
    /// them or the rate and some, for a change any subset; in random order,
    /// sometimes with `TCA_SMOOTH_PAD`s between.
    fn valid_options(&mut self, op: Op) -> Vec<u8> {
        let cfg = self.valid_config();
        let all = to_attrs(&cfg);
        let every = self.rng.percent(30);
        let mut chosen: Vec<Value> = all
            .iter()
            .copied()
            .filter(|_| every || self.rng.percent(50))
            .collect();
        let has_rate = chosen.iter().any(|v| v.kind() == attr::RATE);
        if op.creates() && !has_rate && self.rng.percent(90) {
            chosen.push(all[0]);
        }
        // Fisher–Yates.
        for i in (1..chosen.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            chosen.swap(i, j);
        }
        let mut b = Builder::new();
        for v in chosen {
            if self.rng.percent(10) {
                let n = self.rng.pick(&[0, 4]);
                b.attr(attr::PAD, &vec![0; n]);
            }
            put_value(&mut b, &v);
        }
        b.finish()
    }

    /// A configuration that passes `Config::validate`, every field spread
    /// over its whole range (log-uniform).
    fn valid_config(&mut self) -> Config {
        let r = &mut self.rng;
        let max_delay = r.log_range(Config::MIN_MAX_DELAY, Config::MAX_MAX_DELAY);
        let cfg = Config {
            rate: r.log_range(Config::MIN_RATE, Config::MAX_RATE),
            window: r.log_range(0, Config::MAX_WINDOW.min(max_delay)),
            burst: r.log_range(0, Config::MAX_MAX_DELAY),
            max_delay,
            limit: r.log_range(1, Config::MAX_LIMIT.into()) as u32,
            limit_bytes: if r.percent(50) {
                0
            } else {
                r.log_range(1, u32::MAX.into()) as u32
            },
        };
        debug_assert_eq!(cfg.validate(), Ok(cfg));
        cfg
    }

    /// A value for attribute `kind`: a bound, a valid value, an extreme or
    /// anything.
    fn value(&mut self, kind: u16) -> u64 {
        match self.rng.below(100) {
            0..=39 => {
                let b = boundaries(kind);
                self.rng.pick(&b)
            }
            40..=74 => {
                let (lo, hi) = valid_range(kind);
                self.rng.log_range(lo, hi)
            }
            75..=89 => self.rng.pick(&EXTREMES),
            _ => self.rng.next_u64(),
        }
    }

    /// A payload of a random size: 0–16 bytes, now and then a large one.
    fn random_payload(&mut self) -> Vec<u8> {
        let n = if self.rng.percent(4) {
            if self.rng.percent(5) {
                self.rng.size(16 * 1024, 32 * 1024)
            } else {
                self.rng.size(17, 4096)
            }
        } else {
            self.rng.size(0, 16)
        };
        self.rng.bytes(n)
    }

    /// One attribute (type with flags, payload).
    fn fuzzed_attr(&mut self) -> (u16, Vec<u8>) {
        let mut kind = match self.rng.below(100) {
            0..=84 => self.rng.range(1, u64::from(attr::MAX)) as u16,
            85..=89 => attr::UNSPEC,
            90..=96 => self.rng.range(u64::from(attr::MAX) + 1, 32) as u16,
            _ => self.rng.next_u64() as u16,
        };
        if self.rng.percent(10) {
            kind |= self.rng.pick(&[
                NLA_F_NESTED,
                NLA_F_NET_BYTEORDER,
                NLA_F_NESTED | NLA_F_NET_BYTEORDER,
            ]);
        }
        let base = kind & NLA_TYPE_MASK;
        let payload = match attr::payload_len(base) {
            Some(len) if self.rng.percent(85) => {
                let v = self.value(base);
                encode(v, len)
            }
            _ => self.random_payload(),
        };
        (kind, payload)
    }

    /// A random `TCA_OPTIONS` payload (see the module comment).
    fn fuzzed_options(&mut self) -> Vec<u8> {
        #[derive(PartialEq)]
        enum Damage {
            None,
            ShortLen,
            PastEnd,
            ShortTail,
            Garbage,
        }
        let damage = match self.rng.below(100) {
            0..=7 => Damage::ShortLen,
            8..=15 => Damage::PastEnd,
            16..=20 => Damage::ShortTail,
            21..=26 => Damage::Garbage,
            _ => Damage::None,
        };
        let n = self.rng.size(0, 7);
        let short_at = self.rng.size(0, n);
        let mut b = Builder::new();
        let mut given: Vec<(u16, Vec<u8>)> = Vec::new();
        for i in 0..n {
            if damage == Damage::ShortLen && i == short_at {
                self.short_header(&mut b);
            }
            let (kind, payload) = match given.len() {
                0 => self.fuzzed_attr(),
                len if self.rng.percent(12) => {
                    // A duplicate: the same type again, same or new value.
                    let (kind, old) = given[self.rng.below(len as u64) as usize].clone();
                    let base = kind & NLA_TYPE_MASK;
                    match attr::payload_len(base) {
                        Some(l) if self.rng.percent(50) => {
                            let v = self.value(base);
                            (kind, encode(v, l))
                        }
                        _ => (kind, old),
                    }
                }
                _ => self.fuzzed_attr(),
            };
            if b.len() + 4 + payload.len() + 128 > MAX_OPTIONS {
                break;
            }
            if i + 1 == n && damage == Damage::None && self.rng.percent(10) {
                b.attr_unpadded(kind, &payload);
            } else {
                b.attr(kind, &payload);
            }
            given.push((kind, payload));
        }
        match damage {
            Damage::ShortLen if short_at == n => self.short_header(&mut b),
            Damage::PastEnd => {
                // nla_len claims 1–64 bytes more than follow.
                let have = self.rng.size(0, 12);
                let len = 4 + have + self.rng.size(1, 64);
                let kind = self.rng.range(0, u64::from(attr::MAX) + 1) as u16;
                b.bytes(&(len as u16).to_ne_bytes())
                    .bytes(&kind.to_ne_bytes())
                    .bytes(&self.rng.bytes(have));
            }
            Damage::ShortTail => {
                let n = self.rng.size(1, 3);
                b.bytes(&self.rng.bytes(n));
            }
            Damage::Garbage => {
                let n = self.rng.size(1, 16);
                b.bytes(&self.rng.bytes(n));
            }
            _ => {}
        }
        b.finish()
    }

    /// An attribute header whose `nla_len` (0–3) is below its own size,
    /// followed by 0–8 bytes.
    fn short_header(&mut self, b: &mut Builder) {
        let len = self.rng.range(0, 3) as u16;
        let kind = self.rng.range(0, u64::from(attr::MAX) + 1) as u16;
        let n = self.rng.size(0, 8);
        b.bytes(&len.to_ne_bytes())
            .bytes(&kind.to_ne_bytes())
            .bytes(&self.rng.bytes(n))
            .pad();
    }
}

/// How many padding bytes follow the last attribute of a well-formed
/// stream `attrs` (0 for a malformed one).
fn pad_of_last(attrs: &[u8]) -> usize {
    match Attrs::new(attrs).collect_all().as_deref() {
        Ok([.., last]) => attrs.len() - (last.offset + 4 + last.payload.len()),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutate::IFINDEX_AT;
    use smooth_core::config::Field;
    use smooth_core::uapi::{apply, OptionError};
    use smooth_netlink::tc::TCMSG_LEN;
    use smooth_netlink::{ne_u32, NLMSG_HDRLEN};
    use std::collections::BTreeMap;

    /// What sch_smooth answers to `opts` on top of the defaults (its
    /// `parse()`, whose walk of `TCA_OPTIONS` breaks where
    /// smooth-netlink's does).
    fn verdict(opts: &[u8], create: bool) -> Result<Config, OptionError> {
        let mut malformed = false;
        let mut it = Attrs::new(opts);
        let r = apply(
            Config::DEFAULT,
            std::iter::from_fn(|| match it.next()? {
                Ok(a) => Some((a.kind, a.payload)),
                Err(_) => {
                    malformed = true;
                    None
                }
            }),
            create,
        );
        if malformed {
            Err(OptionError::Malformed)
        } else {
            r
        }
    }

    /// The top-level attributes as the core's liberal parse keeps them (the
    /// last of each type).
    struct Top<'a> {
        kind: Option<&'a [u8]>,
        /// Type (with flags) and payload of `TCA_OPTIONS`.
        options: Option<(u16, &'a [u8])>,
        /// Bytes left over after the last attribute.
        leftover: bool,
    }

    fn top(msg: &[u8]) -> Top<'_> {
        let mut t = Top {
            kind: None,
            options: None,
            leftover: false,
        };
        for a in Attrs::new(&msg[NLMSG_HDRLEN + TCMSG_LEN..]) {
            match a {
                Ok(a) if a.kind == TCA_KIND => t.kind = Some(a.payload),
                Ok(a) if a.kind == TCA_OPTIONS => t.options = Some((a.kind | a.flags, a.payload)),
                Ok(_) => {}
                Err(_) => t.leftover = true,
            }
        }
        t
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        ne_u32(b, at).unwrap()
    }

    fn label(v: &Result<Config, OptionError>) -> String {
        match v {
            Ok(_) => "ok".into(),
            Err(OptionError::Unknown(_)) => "unknown".into(),
            Err(OptionError::BadLength(..)) => "bad_length".into(),
            Err(OptionError::Duplicate(_)) => "duplicate".into(),
            Err(OptionError::Missing(f)) => format!("missing:{}", f.name()),
            Err(OptionError::Malformed) => "malformed".into(),
            Err(OptionError::Invalid(e)) => format!("invalid:{}", e.field.name()),
        }
    }

    /// The stream's framing is always intact, and over 20000 requests it
    /// reaches every outcome of sch_smooth's parser and every shape the
    /// brief asks for.
    #[test]
    fn the_stream_covers_every_outcome() {
        let mut g = Generator::new(1, 7);
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        let mut see = |s: String| *seen.entry(s).or_default() += 1;
        for seq in 1..=20_000 {
            let r = g.next(seq);
            let b = &r.bytes;
            assert_eq!(u32_at(b, 0) as usize, b.len(), "nlmsg_len");
            let want_type = if r.op == Op::Delete {
                RTM_DELQDISC
            } else {
                RTM_NEWQDISC
            };
            assert_eq!(u16::from_ne_bytes([b[4], b[5]]), want_type);
            assert_eq!(u16::from_ne_bytes([b[6], b[7]]), r.op.flags());
            assert_eq!(u32_at(b, 8), seq);
            see(format!("op:{}", r.op.name()));
            see(format!("body:{}", r.body.name()));
            if matches!(r.body, Body::Mutated(_) | Body::Delete) {
                continue;
            }
            assert_eq!(u32_at(b, IFINDEX_AT), 7);
            assert_eq!(u32_at(b, IFINDEX_AT + 8), TC_H_ROOT);
            let Top {
                kind,
                options: opts,
                leftover,
            } = top(b);
            if kind.is_none() {
                see("top:no_kind".into());
            }
            if leftover {
                see("top:leftover".into());
            }
            let Some((t, opts)) = opts else {
                see("no_options".into());
                continue;
            };
            see(if t & NLA_F_NESTED != 0 {
                "nested"
            } else {
                "flat"
            }
            .into());
            let v = verdict(opts, r.op.creates());
            if r.body == Body::Valid {
                see(format!("valid:{}", label(&v)));
            }
            see(label(&v));
            for a in Attrs::new(opts).map_while(Result::ok) {
                see(match a.kind {
                    0..=7 => format!("type:{}", a.kind),
                    _ => "type:unknown".into(),
                });
                see(match a.payload.len() {
                    n @ 0..=16 => format!("size:{n}"),
                    _ => "size:large".into(),
                });
            }
            if opts.len() % 4 != 0 {
                see("options:unaligned".into());
            }
        }
        let mut want: Vec<String> = [
            "op:change",
            "op:replace",
            "op:add",
            "op:delete",
            "body:fuzzed",
            "body:valid",
            "body:bit_flips",
            "body:truncated",
            "top:no_kind",
            "top:leftover",
            "no_options",
            "nested",
            "flat",
            "ok",
            "valid:ok",
            "unknown",
            "bad_length",
            "duplicate",
            "missing:rate",
            "malformed",
            "type:unknown",
            "size:large",
            "options:unaligned",
        ]
        .map(String::from)
        .to_vec();
        for f in [
            Field::Rate,
            Field::Window,
            Field::Burst,
            Field::MaxDelay,
            Field::Limit,
        ] {
            want.push(format!("invalid:{}", f.name()));
        }
        want.extend((0..=7).map(|t| format!("type:{t}")));
        want.extend((0..=16).map(|n| format!("size:{n}")));
        let missing: Vec<&String> = want.iter().filter(|w| !seen.contains_key(*w)).collect();
        assert!(
            missing.is_empty(),
            "never generated: {missing:?}\nseen: {seen:?}"
        );
        // Valid bodies mostly go in (the rest combine with a default they
        // do not fit, or leave the rate out of a create).
        assert!(seen["valid:ok"] * 2 > seen["body:valid"], "{seen:?}");
    }

    #[test]
    fn same_seed_same_stream() {
        let mut a = Generator::new(5, 3);
        let mut b = Generator::new(5, 3);
        for seq in 1..200 {
            assert_eq!(a.next(seq).bytes, b.next(seq).bytes);
        }
    }

    /// Every bound of `Config` is sent, and on both sides of it.
    #[test]
    fn boundaries_come_from_config() {
        let rate = boundaries(attr::RATE);
        for v in [
            Config::MIN_RATE - 1,
            Config::MIN_RATE,
            Config::MAX_RATE,
            Config::MAX_RATE + 1,
        ] {
            assert!(rate.contains(&v), "{v}");
        }
        let delay = boundaries(attr::MAX_DELAY);
        for v in [
            Config::MIN_MAX_DELAY - 1,
            Config::MIN_MAX_DELAY,
            Config::MAX_MAX_DELAY,
            Config::MAX_MAX_DELAY + 1,
        ] {
            assert!(delay.contains(&v), "{v}");
        }
        assert!(boundaries(attr::WINDOW).contains(&(Config::MAX_WINDOW + 1)));
        assert!(boundaries(attr::BURST).contains(&(Config::MAX_MAX_DELAY + 1)));
        assert!(boundaries(attr::LIMIT).contains(&(u64::from(Config::MAX_LIMIT) + 1)));
        assert!(boundaries(attr::LIMIT).contains(&0));
        for kind in [
            attr::RATE,
            attr::WINDOW,
            attr::BURST,
            attr::MAX_DELAY,
            attr::LIMIT,
        ] {
            let len = attr::payload_len(kind).unwrap();
            let mut outcomes = (0, 0);
            for v in boundaries(kind) {
                let mut opts = Builder::new();
                if kind != attr::RATE {
                    opts.u64(attr::RATE, 250_000);
                }
                opts.attr(kind, &encode(v, len));
                match verdict(&opts.finish(), true) {
                    Ok(_) => outcomes.0 += 1,
                    Err(OptionError::Invalid(_)) => outcomes.1 += 1,
                    Err(e) => panic!("{kind} {v}: {e}"),
                }
            }
            assert!(outcomes.0 > 0 && outcomes.1 > 0, "{kind}: {outcomes:?}");
        }
    }

    #[test]
    fn the_final_replace_is_valid() {
        let b = valid_replace(9, 77, &Config::DEFAULT);
        assert_eq!(u32_at(&b, 0) as usize, b.len());
        assert_eq!(u16::from_ne_bytes([b[6], b[7]]), Op::Replace.flags());
        assert_eq!(u32_at(&b, 8), 77);
        assert_eq!(u32_at(&b, IFINDEX_AT), 9);
        let Top {
            kind,
            options: opts,
            leftover,
        } = top(&b);
        assert_eq!(kind, Some(&b"smooth\0"[..]));
        assert!(!leftover);
        let (t, opts) = opts.unwrap();
        assert_eq!(t, TCA_OPTIONS | NLA_F_NESTED);
        assert_eq!(verdict(opts, true), Ok(Config::DEFAULT));
    }

    #[test]
    fn padding_of_the_last_attribute() {
        let mut a = Builder::new();
        a.attr(1, &[0; 8]).attr(2, &[0; 5]);
        let mut a = a.finish();
        assert_eq!(pad_of_last(&a), 3);
        a.truncate(a.len() - 3);
        assert_eq!(pad_of_last(&a), 0);
    }
}
