//! Netlink messages, built without a kernel (and unit-tested byte by byte):
//! the smooth qdisc's requests, the ingress qdisc, the matchall + mirred
//! redirect filter and the IFB link.
//!
//! netlink-packet-route frames the requests; the attribute streams it has no
//! type for — smooth's `TCA_OPTIONS` (values from `smooth_core::uapi`) and
//! the matchall filter's action — are written by smooth-netlink's
//! [`Builder`] and handed over as raw `TCA_OPTIONS`. That attribute is
//! flagged `NLA_F_NESTED`, as libmnl and rtnetlink users send nests (and
//! q_smooth.so does); most of tc's own qdiscs send it without the flag, and
//! sch_smooth accepts both.

use netlink_packet_core::{
    DefaultNla, NetlinkMessage, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE,
    NLM_F_REQUEST,
};
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage};
use netlink_packet_route::RouteNetlinkMessage;
use smooth_core::uapi::Value;
pub use smooth_netlink::tc::{TCA_OPTIONS, TC_H_INGRESS, TC_H_ROOT};
use smooth_netlink::Builder;
pub use smooth_netlink::NLA_F_NESTED;
/// The ingress qdisc's handle `ffff:`.
pub const INGRESS_HANDLE: u32 = 0xFFFF_0000;
/// `ETH_P_ALL`.
pub const ETH_P_ALL: u16 = 0x0003;
/// The preference (priority) of the redirect filter attach installs: a
/// fixed, unusual value so detach finds exactly that filter ("SS").
pub const FILTER_PREF: u16 = 0x5353;
/// The redirect filter's handle.
pub const FILTER_HANDLE: u32 = 1;

// linux/pkt_cls.h, linux/tc_act/tc_mirred.h
const TCA_ACT_KIND: u16 = 1;
const TCA_ACT_OPTIONS: u16 = 2;
const TCA_MATCHALL_ACT: u16 = 2;
const TCA_MIRRED_PARMS: u16 = 2;
const TC_ACT_STOLEN: i32 = 4;
const TCA_EGRESS_REDIR: i32 = 1;

/// What a qdisc request does (tc's verbs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Add,
    Change,
    Replace,
    Del,
}

impl Verb {
    /// Netlink flags of the request, as tc sets them.
    pub fn flags(self) -> u16 {
        let base = NLM_F_REQUEST | NLM_F_ACK;
        match self {
            Verb::Add => base | NLM_F_CREATE | NLM_F_EXCL,
            Verb::Change | Verb::Del => base,
            Verb::Replace => base | NLM_F_CREATE | NLM_F_REPLACE,
        }
    }
}

/// The smooth attributes nested in `TCA_OPTIONS` (their payload).
pub fn smooth_options(values: &[Value]) -> Vec<u8> {
    let mut b = Builder::new();
    for v in values {
        let (payload, len) = v.payload();
        b.attr(v.kind(), &payload[..len]);
    }
    b.finish()
}

fn tc_message(ifindex: u32, parent: u32, handle: u32, info: u32) -> TcMessage {
    let mut msg = TcMessage::default();
    msg.header.index = ifindex as i32;
    msg.header.parent = TcHandle::from(parent);
    msg.header.handle = TcHandle::from(handle);
    msg.header.info = info;
    msg
}

fn request(inner: RouteNetlinkMessage, flags: u16) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = NetlinkMessage::from(inner);
    msg.header.flags = flags;
    msg
}

/// A smooth qdisc request: `TCA_KIND "smooth"` and, when values are given,
/// `TCA_OPTIONS | NLA_F_NESTED` with the raw smooth attributes.
pub fn qdisc_request(
    verb: Verb,
    ifindex: u32,
    parent: u32,
    handle: u32,
    values: &[Value],
) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = tc_message(ifindex, parent, handle, 0);
    msg.attributes.push(TcAttribute::Kind("smooth".into()));
    if !values.is_empty() {
        msg.attributes.push(TcAttribute::Other(DefaultNla::new(
            TCA_OPTIONS | NLA_F_NESTED,
            smooth_options(values),
        )));
    }
    let inner = match verb {
        Verb::Del => RouteNetlinkMessage::DelQueueDiscipline(msg),
        _ => RouteNetlinkMessage::NewQueueDiscipline(msg),
    };
    request(inner, verb.flags())
}

/// `tc qdisc add dev DEV handle ffff: ingress` (or its deletion).
pub fn ingress_request(verb: Verb, ifindex: u32) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = tc_message(ifindex, TC_H_INGRESS, INGRESS_HANDLE, 0);
    msg.attributes.push(TcAttribute::Kind("ingress".into()));
    let inner = match verb {
        Verb::Del => RouteNetlinkMessage::DelQueueDiscipline(msg),
        _ => RouteNetlinkMessage::NewQueueDiscipline(msg),
    };
    request(inner, verb.flags())
}

/// `struct tc_mirred` for "redirect to the egress of `ifindex`, then stop".
pub fn tc_mirred_redirect(ifindex: u32) -> [u8; 28] {
    let mut out = [0u8; 28];
    let fields: [u32; 7] = [
        0,                       // index: a new action
        0,                       // capab
        TC_ACT_STOLEN as u32,    // action: the packet is consumed
        0,                       // refcnt
        0,                       // bindcnt
        TCA_EGRESS_REDIR as u32, // eaction
        ifindex,
    ];
    for (chunk, f) in out.chunks_exact_mut(4).zip(fields) {
        chunk.copy_from_slice(&f.to_ne_bytes());
    }
    out
}

/// `TCA_OPTIONS` payload of matchall: one action, mirred egress redirect.
pub fn matchall_redirect_options(target: u32) -> Vec<u8> {
    let mut b = Builder::new();
    b.nest(TCA_MATCHALL_ACT | NLA_F_NESTED, |b| {
        // The first action.
        b.nest(1 | NLA_F_NESTED, |b| {
            b.str(TCA_ACT_KIND, "mirred");
            b.nest(TCA_ACT_OPTIONS | NLA_F_NESTED, |b| {
                b.attr(TCA_MIRRED_PARMS, &tc_mirred_redirect(target));
            });
        });
    });
    b.finish()
}

/// `tcm_info` of a filter: preference and protocol (network order).
fn filter_info(pref: u16, protocol: u16) -> u32 {
    (u32::from(pref) << 16) | u32::from(protocol.to_be())
}

/// `tc filter add dev DEV parent ffff: pref FILTER_PREF handle 1 protocol
/// all matchall action mirred egress redirect dev TARGET`.
pub fn redirect_filter_add(ifindex: u32, target: u32) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = tc_message(
        ifindex,
        INGRESS_HANDLE,
        FILTER_HANDLE,
        filter_info(FILTER_PREF, ETH_P_ALL),
    );
    msg.attributes.push(TcAttribute::Kind("matchall".into()));
    msg.attributes.push(TcAttribute::Other(DefaultNla::new(
        TCA_OPTIONS | NLA_F_NESTED,
        matchall_redirect_options(target),
    )));
    request(
        RouteNetlinkMessage::NewTrafficFilter(msg),
        Verb::Add.flags(),
    )
}

/// Deletes every filter at `FILTER_PREF` under `ffff:` (attach's one).
pub fn redirect_filter_del(ifindex: u32) -> NetlinkMessage<RouteNetlinkMessage> {
    let msg = tc_message(
        ifindex,
        INGRESS_HANDLE,
        0,
        filter_info(FILTER_PREF, ETH_P_ALL),
    );
    request(
        RouteNetlinkMessage::DelTrafficFilter(msg),
        Verb::Del.flags(),
    )
}

/// Dumps the qdiscs of every device (the kernel does not filter).
pub fn qdisc_dump() -> NetlinkMessage<RouteNetlinkMessage> {
    request(
        RouteNetlinkMessage::GetQueueDiscipline(TcMessage::default()),
        NLM_F_REQUEST | NLM_F_DUMP,
    )
}

/// Dumps the filters under `parent` of one device.
pub fn filter_dump(ifindex: u32, parent: u32) -> NetlinkMessage<RouteNetlinkMessage> {
    request(
        RouteNetlinkMessage::GetTrafficFilter(tc_message(ifindex, parent, 0, 0)),
        NLM_F_REQUEST | NLM_F_DUMP,
    )
}

/// Looks a link up by name.
pub fn link_get(name: &str) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.into()));
    request(RouteNetlinkMessage::GetLink(msg), NLM_F_REQUEST)
}

/// Creates an IFB named `name`, up (`ip link add NAME up type ifb`).
pub fn ifb_add(name: &str) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = LinkMessage::default();
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    msg.attributes.push(LinkAttribute::IfName(name.into()));
    msg.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Ifb)]));
    request(RouteNetlinkMessage::NewLink(msg), Verb::Add.flags())
}

/// Sets link `index`'s alias (`IFLA_IFALIAS`).
pub fn link_alias(index: u32, alias: &str) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes.push(LinkAttribute::IfAlias(alias.into()));
    request(RouteNetlinkMessage::SetLink(msg), NLM_F_REQUEST | NLM_F_ACK)
}

/// Sets link `index` up.
pub fn link_up(index: u32) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    request(RouteNetlinkMessage::SetLink(msg), NLM_F_REQUEST | NLM_F_ACK)
}

/// Deletes link `index`.
pub fn link_del(index: u32) -> NetlinkMessage<RouteNetlinkMessage> {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    request(RouteNetlinkMessage::DelLink(msg), NLM_F_REQUEST | NLM_F_ACK)
}

/// Parses a class id as tc's `get_tc_classid` does: `root`, `none`,
/// `maj:min` in hex with either part empty for 0 (`1:10`, `ffff:`, `:5`),
/// or a bare hex number for the whole id (`10` is `:10`); `ingress` too.
pub fn parse_tc_id(s: &str) -> Result<u32, String> {
    let bad = || format!("\"{s}\" is not a tc class id like 1:10 (hex), root or none");
    match s {
        "root" => return Ok(TC_H_ROOT),
        "none" => return Ok(0),
        "ingress" => return Ok(TC_H_INGRESS),
        _ => {}
    }
    let hex = |p: &str| u32::from_str_radix(p, 16).map_err(|_| bad());
    let half = |p: &str| match p {
        "" => Ok(0),
        _ => hex(p).and_then(|v| if v <= 0xffff { Ok(v) } else { Err(bad()) }),
    };
    match s.split_once(':') {
        Some((maj, min)) => Ok((half(maj)? << 16) | half(min)?),
        None => hex(s),
    }
}

/// Parses a qdisc handle as tc's `get_qdisc_handle` does, a major number
/// in hex (`1:` or `1`), except that a minor other than 0 is refused
/// rather than ignored.
pub fn parse_qdisc_handle(s: &str) -> Result<u32, String> {
    let bad = || format!("\"{s}\" is not a qdisc handle like 1: (hex 1..=ffff)");
    let (maj, min) = s.split_once(':').unwrap_or((s, ""));
    if !(min.is_empty() || u16::from_str_radix(min, 16) == Ok(0)) {
        return Err(bad());
    }
    match u16::from_str_radix(maj, 16) {
        Ok(maj) if maj != 0 => Ok(u32::from(maj) << 16),
        _ => Err(bad()),
    }
}

/// Prints a handle or class id as tc does (`8001:`, `1:10`, `:5`).
pub fn format_tc_id(id: u32) -> String {
    match id {
        TC_H_ROOT => "root".into(),
        0 => "none".into(),
        _ if id >> 16 == 0 => format!(":{:x}", id & 0xffff),
        _ if id & 0xffff == 0 => format!("{:x}:", id >> 16),
        _ => format!("{:x}:{:x}", id >> 16, id & 0xffff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smooth_core::uapi::attr;

    fn bytes(msg: &mut NetlinkMessage<RouteNetlinkMessage>) -> Vec<u8> {
        msg.finalize();
        let mut out = vec![0; msg.buffer_len()];
        msg.serialize(&mut out);
        out
    }

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn add_smooth_is_kind_and_nested_options() {
        let values = [
            Value::U64(attr::RATE, 250_000),
            Value::U64(attr::WINDOW, 3_000_000),
        ];
        let b = bytes(&mut qdisc_request(Verb::Add, 7, TC_H_ROOT, 0, &values));
        // nlmsghdr: RTM_NEWQDISC (36), REQUEST|ACK|EXCL|CREATE.
        assert_eq!(u32_at(&b, 0) as usize, b.len());
        assert_eq!(u16_at(&b, 4), 36);
        assert_eq!(u16_at(&b, 6), 0x1 | 0x4 | 0x200 | 0x400);
        // tcmsg: family, pad, ifindex 7, handle 0, parent root, info 0.
        let tc = &b[16..36];
        assert_eq!(tc[0], 0);
        assert_eq!(u32_at(tc, 4), 7);
        assert_eq!(u32_at(tc, 8), 0);
        assert_eq!(u32_at(tc, 12), TC_H_ROOT);
        // TCA_KIND "smooth\0" (len 11, padded to 12).
        assert_eq!(u16_at(&b, 36), 11);
        assert_eq!(u16_at(&b, 38), 1);
        assert_eq!(&b[40..47], b"smooth\0");
        // TCA_OPTIONS | NLA_F_NESTED with two u64 attributes of 12 bytes.
        assert_eq!(u16_at(&b, 48), 4 + 24);
        assert_eq!(u16_at(&b, 50), TCA_OPTIONS | NLA_F_NESTED);
        assert_eq!(u16_at(&b, 52), 12);
        assert_eq!(u16_at(&b, 54), attr::RATE);
        assert_eq!(&b[56..64], &250_000u64.to_ne_bytes());
        assert_eq!(u16_at(&b, 66), attr::WINDOW);
        assert_eq!(&b[68..76], &3_000_000u64.to_ne_bytes());
        assert_eq!(b.len(), 76);
    }

    #[test]
    fn verbs_set_tc_flags() {
        assert_eq!(Verb::Change.flags(), 0x5);
        assert_eq!(Verb::Replace.flags(), 0x5 | 0x400 | 0x100);
        let b = bytes(&mut qdisc_request(Verb::Del, 3, TC_H_ROOT, 0, &[]));
        assert_eq!(u16_at(&b, 4), 37); // RTM_DELQDISC
        assert_eq!(b.len(), 16 + 20 + 12); // only TCA_KIND
    }

    #[test]
    fn mirred_redirect_layout() {
        let m = tc_mirred_redirect(9);
        assert_eq!(u32_at(&m, 8), 4); // TC_ACT_STOLEN
        assert_eq!(u32_at(&m, 20), 1); // TCA_EGRESS_REDIR
        assert_eq!(u32_at(&m, 24), 9);
        let o = matchall_redirect_options(9);
        // MATCHALL_ACT { 1 { KIND "mirred", OPTIONS { PARMS tc_mirred } } }
        assert_eq!(u16_at(&o, 2), TCA_MATCHALL_ACT | NLA_F_NESTED);
        assert_eq!(u16_at(&o, 6), 1 | NLA_F_NESTED);
        assert_eq!(u16_at(&o, 8), 11);
        assert_eq!(u16_at(&o, 10), TCA_ACT_KIND);
        assert_eq!(&o[12..19], b"mirred\0");
        assert_eq!(u16_at(&o, 22), TCA_ACT_OPTIONS | NLA_F_NESTED);
        assert_eq!(u16_at(&o, 24), 32);
        assert_eq!(u16_at(&o, 26), TCA_MIRRED_PARMS);
        assert_eq!(&o[28..56], &m);
        assert_eq!(u16_at(&o, 0) as usize, o.len());
        let b = bytes(&mut redirect_filter_add(4, 9));
        assert_eq!(u16_at(&b, 4), 44); // RTM_NEWTFILTER
        let tc = &b[16..36];
        assert_eq!(u32_at(tc, 8), FILTER_HANDLE);
        assert_eq!(u32_at(tc, 12), INGRESS_HANDLE);
        // info: pref in the high half, ETH_P_ALL in network order below.
        assert_eq!(u32_at(tc, 16), 0x5353_0300);
    }

    #[test]
    fn tc_ids() {
        assert_eq!(parse_tc_id("root"), Ok(TC_H_ROOT));
        assert_eq!(parse_tc_id("ffff:"), Ok(0xffff_0000));
        assert_eq!(parse_tc_id("1:10"), Ok(0x0001_0010));
        assert!(parse_tc_id("x:1").is_err());
        assert!(parse_tc_id("10000:1").is_err());
        // As tc's get_tc_classid: an empty major is 0, a bare number the
        // whole id.
        assert_eq!(parse_tc_id(":1"), Ok(1));
        assert_eq!(parse_tc_id("10"), Ok(0x10));
        assert_eq!(format_tc_id(5), ":5");
        assert!(parse_qdisc_handle("0:").is_err());
        assert!(parse_qdisc_handle("zz:").is_err());
        assert_eq!(parse_qdisc_handle("1:0"), Ok(0x0001_0000));
        assert_eq!(parse_qdisc_handle("8001:"), Ok(0x8001_0000));
        assert_eq!(parse_qdisc_handle("10"), Ok(0x0010_0000));
        assert!(parse_qdisc_handle("1:1").is_err());
        assert_eq!(format_tc_id(0x8001_0000), "8001:");
        assert_eq!(format_tc_id(0x0001_0010), "1:10");
    }
}
