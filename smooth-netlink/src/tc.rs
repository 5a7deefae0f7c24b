//! Traffic control over rtnetlink: `struct tcmsg` and the attributes
//! smooth's tools read and write (`linux/rtnetlink.h`,
//! `linux/pkt_sched.h`, `linux/gen_stats.h`). smooth's own attributes,
//! nested in `TCA_OPTIONS`, are smooth-core's (`uapi::attr`).

use crate::attr::{Attrs, Builder};
use crate::msg::{Message, NLMSG_HDRLEN};
use crate::{ne_u32, Error};

pub const RTM_NEWQDISC: u16 = 36;
pub const RTM_DELQDISC: u16 = 37;
pub const RTM_GETQDISC: u16 = 38;

/// Size of `struct tcmsg`.
pub const TCMSG_LEN: usize = 20;

// enum tca_attrs
pub const TCA_KIND: u16 = 1;
pub const TCA_OPTIONS: u16 = 2;
pub const TCA_STATS: u16 = 3;
pub const TCA_XSTATS: u16 = 4;
pub const TCA_STATS2: u16 = 7;

/// In `TCA_STATS2`: `struct gnet_stats_basic` (bytes: u64, packets: u32).
pub const TCA_STATS_BASIC: u16 = 1;

/// `TC_H_ROOT`: the parent of a root qdisc.
pub const TC_H_ROOT: u32 = 0xFFFF_FFFF;
/// `TC_H_INGRESS`: the parent of an ingress qdisc.
pub const TC_H_INGRESS: u32 = 0xFFFF_FFF1;

/// `struct tcmsg`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcMsg {
    /// `tcm_family` (`AF_UNSPEC`).
    pub family: u8,
    pub ifindex: u32,
    pub handle: u32,
    pub parent: u32,
    /// `tcm_info` (a filter's preference and protocol).
    pub info: u32,
}

impl TcMsg {
    /// The `tcmsg` at the start of `b`.
    pub fn parse(b: &[u8]) -> Option<TcMsg> {
        Some(TcMsg {
            family: *b.first()?,
            ifindex: ne_u32(b, 4)?,
            handle: ne_u32(b, 8)?,
            parent: ne_u32(b, 12)?,
            info: ne_u32(b, 16)?,
        })
    }

    pub fn to_bytes(&self) -> [u8; TCMSG_LEN] {
        let mut out = [0; TCMSG_LEN];
        out[0] = self.family;
        for (at, v) in [
            (4, self.ifindex),
            (8, self.handle),
            (12, self.parent),
            (16, self.info),
        ] {
            out[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        }
        out
    }
}

/// A tc message: `nlmsghdr` and `tcm`; add its attributes, then
/// [`Builder::finish`].
pub fn message(kind: u16, flags: u16, seq: u32, tcm: &TcMsg) -> Builder {
    let mut b = Builder::message(kind, flags, seq);
    b.bytes(&tcm.to_bytes());
    b
}

/// A tc message's `tcmsg` and its attributes, offsets counted from the
/// start of the message (as extack counts them).
pub fn parse<'a>(msg: &Message<'a>) -> Result<(TcMsg, Attrs<'a>), Error> {
    let short = Error::ShortBody {
        kind: msg.header.kind,
        len: msg.payload.len(),
        want: TCMSG_LEN,
    };
    let tcm = TcMsg::parse(msg.payload).ok_or(short)?;
    let attrs = Attrs::at(&msg.payload[TCMSG_LEN..], NLMSG_HDRLEN + TCMSG_LEN);
    Ok((tcm, attrs))
}

/// The byte counter of a qdisc or class message's basic statistics
/// (`TCA_STATS2` / `TCA_STATS_BASIC`: what it dequeued, as `qdisc_pkt_len`
/// counts), None when the message carries none.
pub fn basic_bytes(attrs: Attrs<'_>) -> Result<Option<u64>, Error> {
    let Some(stats) = attrs.get(TCA_STATS2)? else {
        return Ok(None);
    };
    let Some(basic) = stats.nested().get(TCA_STATS_BASIC)? else {
        return Ok(None);
    };
    crate::ne_u64(basic.payload, 0)
        .map(Some)
        .ok_or(Error::Size {
            kind: TCA_STATS_BASIC,
            offset: basic.offset,
            len: basic.payload.len(),
            want: 8,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Messages, NLA_F_NESTED, NLM_F_ACK, NLM_F_REQUEST};

    #[test]
    fn qdisc_request_layout() {
        let tcm = TcMsg {
            ifindex: 7,
            handle: 0x0001_0000,
            parent: TC_H_ROOT,
            ..TcMsg::default()
        };
        let mut b = message(RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_ACK, 42, &tcm);
        b.str(TCA_KIND, "smooth");
        let b = b.finish();
        assert_eq!(b.len(), 16 + 20 + 12);
        assert_eq!(ne_u32(&b, 0), Some(48));
        assert_eq!(b[16], 0);
        assert_eq!(ne_u32(&b, 20), Some(7));
        assert_eq!(ne_u32(&b, 24), Some(0x0001_0000));
        assert_eq!(ne_u32(&b, 28), Some(TC_H_ROOT));
        assert_eq!(&b[40..47], b"smooth\0");
        let m = Messages::new(&b).next().unwrap().unwrap();
        let (t, attrs) = parse(&m).unwrap();
        assert_eq!(t, tcm);
        let kind = attrs.get(TCA_KIND).unwrap().unwrap();
        assert_eq!((kind.offset, kind.str()), (36, Ok("smooth")));
    }

    #[test]
    fn byte_counter_from_stats2() {
        let mut b = message(RTM_NEWQDISC, 0, 1, &TcMsg::default());
        b.str(TCA_KIND, "tbf");
        b.nest(TCA_STATS2 | NLA_F_NESTED, |b| {
            let mut basic = 123_456u64.to_ne_bytes().to_vec();
            basic.extend_from_slice(&[7, 0, 0, 0, 0, 0, 0, 0]);
            b.attr(TCA_STATS_BASIC, &basic);
        });
        let b = b.finish();
        let m = Messages::new(&b).next().unwrap().unwrap();
        assert_eq!(basic_bytes(parse(&m).unwrap().1), Ok(Some(123_456)));
        // No statistics, or a stream cut inside them.
        let bare = message(RTM_NEWQDISC, 0, 1, &TcMsg::default()).finish();
        let m = Messages::new(&bare).next().unwrap().unwrap();
        assert_eq!(basic_bytes(parse(&m).unwrap().1), Ok(None));
        let mut cut = b.clone();
        cut.truncate(b.len() - 4);
        crate::msg::set_len(&mut cut);
        let m = Messages::new(&cut).next().unwrap().unwrap();
        assert!(basic_bytes(parse(&m).unwrap().1).is_err());
        // A message too short for its tcmsg.
        let short = crate::Builder::message(RTM_NEWQDISC, 0, 1).finish();
        let m = Messages::new(&short).next().unwrap().unwrap();
        assert!(matches!(parse(&m), Err(Error::ShortBody { want: 20, .. })));
    }
}
