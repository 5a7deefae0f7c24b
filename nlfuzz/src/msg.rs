//! Raw rtnetlink encoding: the `nlmsghdr` + `struct tcmsg` + attributes of
//! a qdisc request, byte by byte (native-endian, as the kernel reads them),
//! and the two mutations of a finished message. No kernel needed: every
//! function here is pure and unit-tested.
//!
//! tc-smooth has its own encoder, but it is a binary crate built on
//! netlink-packet-route, which cannot emit the malformed bytes a fuzzer
//! needs; this is the few lines it takes by hand.

use crate::rng::Rng;

// linux/netlink.h
/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// `NLMSG_ERROR`: the kernel's answer (an ACK when its error is 0).
pub const NLMSG_ERROR: u16 = 2;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
/// Attribute type flag: the payload is itself attributes.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// Attribute type flag: the payload is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;

// linux/rtnetlink.h
pub const RTM_NEWQDISC: u16 = 36;
pub const RTM_DELQDISC: u16 = 37;
/// Size of `struct tcmsg`.
pub const TCMSG_LEN: usize = 20;
pub const TCA_KIND: u16 = 1;
pub const TCA_OPTIONS: u16 = 2;

// linux/pkt_sched.h
/// `TC_H_ROOT`: the parent of a root qdisc.
pub const TC_H_ROOT: u32 = 0xFFFF_FFFF;

/// `TCA_KIND`'s payload.
pub const KIND: &[u8] = b"smooth\0";

/// Byte offset of `tcm_ifindex` in a request.
pub const IFINDEX_AT: usize = NLMSG_HDRLEN + 4;

/// Appends one attribute: header, payload, padding to 4 bytes.
pub fn put_attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    put_attr_unpadded(out, kind, payload);
    pad4(out);
}

/// Appends one attribute without the trailing padding (legal for the last
/// attribute of a stream; the kernel's walk must cope).
pub fn put_attr_unpadded(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    debug_assert!(len <= usize::from(u16::MAX), "attribute of {len} bytes");
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
}

/// Pads `out` with zeros to a multiple of 4 bytes.
pub fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

/// A request's fixed part: message type, flags, sequence number and the
/// `tcmsg` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub ifindex: u32,
    pub handle: u32,
    pub parent: u32,
}

/// `nlmsghdr` + `tcmsg` followed by `attrs` (already encoded), with
/// `nlmsg_len` set to the whole length.
pub fn message(h: &Header, attrs: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(NLMSG_HDRLEN + TCMSG_LEN + attrs.len());
    out.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, set below
    out.extend_from_slice(&h.kind.to_ne_bytes());
    out.extend_from_slice(&h.flags.to_ne_bytes());
    out.extend_from_slice(&h.seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel
                                                // tcmsg: family (AF_UNSPEC), 3 bytes of padding, ifindex, handle,
                                                // parent, info.
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&h.ifindex.to_ne_bytes());
    out.extend_from_slice(&h.handle.to_ne_bytes());
    out.extend_from_slice(&h.parent.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(attrs);
    set_len(&mut out);
    out
}

/// Sets `nlmsg_len` to the buffer's length.
pub fn set_len(msg: &mut [u8]) {
    let len = msg.len() as u32;
    msg[..4].copy_from_slice(&len.to_ne_bytes());
}

/// How a finished message was damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// This many bits flipped.
    BitFlips(u32),
    /// Cut to this many bytes.
    Truncated(usize),
}

/// Whether byte `at` may be mutated. Two parts are kept intact:
///
/// * the `nlmsghdr`: its length, type, flags and sequence number are
///   netlink's framing, not the qdisc's input. A flipped length makes the
///   kernel drop the datagram or read the rest as further requests, a flipped
///   flag can drop the ACK: one request would no longer get one answer,
///   which is what the counting rests on. (That is af_netlink's parser, not
///   smooth's, and it is fuzzed elsewhere.)
/// * `tcm_ifindex`: a flipped index aims the request at another device of
///   the guest (the bridge, the client's port), where a smooth qdisc would
///   throttle the test's own traffic, or at none (`-ENODEV`).
///
/// Everything else — family, handle, parent, info, every attribute — is fair
/// game.
pub fn mutable_byte(at: usize) -> bool {
    at >= NLMSG_HDRLEN && !(IFINDEX_AT..IFINDEX_AT + 4).contains(&at)
}

/// Damages `msg` in place: 1–4 bit flips, or a cut at a random byte after
/// the `nlmsghdr` (with `nlmsg_len` following the cut). At least one byte of
/// the `tcmsg` stays: rtnetlink ACKs a bare header without looking at it,
/// which would count as "accepted" and test nothing. `msg` must be longer
/// than the protected header and ifindex.
pub fn mutate(msg: &mut Vec<u8>, rng: &mut Rng) -> Mutation {
    debug_assert!(msg.len() > IFINDEX_AT + 4);
    if rng.percent(60) {
        let flips = rng.range(1, 4) as u32;
        for _ in 0..flips {
            let at = loop {
                let at = rng.size(NLMSG_HDRLEN, msg.len() - 1);
                if mutable_byte(at) {
                    break at;
                }
            };
            msg[at] ^= 1 << rng.below(8);
        }
        Mutation::BitFlips(flips)
    } else {
        let at = rng.size(NLMSG_HDRLEN + 1, msg.len() - 1);
        msg.truncate(at);
        set_len(msg);
        Mutation::Truncated(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn attributes_are_padded_to_four_bytes() {
        let mut out = Vec::new();
        put_attr(&mut out, 5, &[1, 2, 3, 4, 5]);
        assert_eq!(out.len(), 12);
        assert_eq!(u16_at(&out, 0), 9);
        assert_eq!(u16_at(&out, 2), 5);
        assert_eq!(&out[4..9], &[1, 2, 3, 4, 5]);
        assert_eq!(&out[9..], &[0, 0, 0]);
        put_attr(&mut out, 7, &[]);
        assert_eq!(out.len(), 16);
        assert_eq!(u16_at(&out, 12), 4);
        let mut bare = Vec::new();
        put_attr_unpadded(&mut bare, TCA_OPTIONS | NLA_F_NESTED, &[9]);
        assert_eq!(bare.len(), 5);
        assert_eq!(u16_at(&bare, 0), 5);
        assert_eq!(u16_at(&bare, 2), 0x8002);
        assert_eq!(bare[4], 9);
    }

    #[test]
    fn message_layout_is_nlmsghdr_tcmsg_attrs() {
        let mut attrs = Vec::new();
        put_attr(&mut attrs, TCA_KIND, KIND);
        let h = Header {
            kind: RTM_NEWQDISC,
            flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            seq: 42,
            ifindex: 7,
            handle: 0x0001_0000,
            parent: TC_H_ROOT,
        };
        let b = message(&h, &attrs);
        assert_eq!(u32_at(&b, 0) as usize, b.len());
        assert_eq!(b.len(), 16 + 20 + 12);
        assert_eq!(u16_at(&b, 4), 36);
        assert_eq!(u16_at(&b, 6), 0x1 | 0x4 | 0x100 | 0x400);
        assert_eq!(u32_at(&b, 8), 42);
        assert_eq!(u32_at(&b, 12), 0);
        assert_eq!(b[16], 0); // AF_UNSPEC
        assert_eq!(u32_at(&b, IFINDEX_AT), 7);
        assert_eq!(u32_at(&b, 24), 0x0001_0000);
        assert_eq!(u32_at(&b, 28), TC_H_ROOT);
        assert_eq!(u32_at(&b, 32), 0);
        assert_eq!(u16_at(&b, 36), 11);
        assert_eq!(u16_at(&b, 38), TCA_KIND);
        assert_eq!(&b[40..47], b"smooth\0");
    }

    #[test]
    fn mutations_spare_the_framing_and_the_device() {
        let mut attrs = Vec::new();
        put_attr(&mut attrs, TCA_KIND, KIND);
        put_attr(&mut attrs, TCA_OPTIONS, &[0xAA; 24]);
        let h = Header {
            kind: RTM_NEWQDISC,
            flags: NLM_F_REQUEST | NLM_F_ACK,
            seq: 9,
            ifindex: 3,
            handle: 0,
            parent: TC_H_ROOT,
        };
        let orig = message(&h, &attrs);
        let mut rng = Rng::new(3);
        let (mut flips, mut cuts) = (0, 0);
        for _ in 0..2000 {
            let mut m = orig.clone();
            match mutate(&mut m, &mut rng) {
                Mutation::BitFlips(n) => {
                    flips += 1;
                    assert!((1..=4).contains(&n));
                    assert_eq!(m.len(), orig.len());
                    assert_eq!(&m[..16], &orig[..16]);
                    let changed = (0..m.len()).filter(|&i| m[i] != orig[i]).count();
                    assert!(changed <= n as usize);
                }
                Mutation::Truncated(at) => {
                    cuts += 1;
                    assert!((17..orig.len()).contains(&at));
                    assert_eq!(m.len(), at);
                    assert_eq!(u32_at(&m, 0) as usize, at);
                    assert_eq!(&m[4..16], &orig[4..16]);
                    assert_eq!(&m[4..], &orig[4..at]);
                    continue;
                }
            }
            assert_eq!(u32_at(&m, IFINDEX_AT), 3);
        }
        assert!(flips > 0 && cuts > 0);
        assert!(!mutable_byte(0) && !mutable_byte(15) && mutable_byte(16));
        assert!(!mutable_byte(20) && !mutable_byte(23) && mutable_byte(24));
    }
}
