//! The two mutations of a finished request: bit flips and a cut, sparing
//! netlink's framing and the target device. Pure and unit-tested.

use crate::rng::Rng;
use smooth_netlink::msg::set_len;
use smooth_netlink::NLMSG_HDRLEN;

/// Byte offset of `tcm_ifindex` in a request.
pub const IFINDEX_AT: usize = NLMSG_HDRLEN + 4;

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
    use smooth_netlink::tc::{self, TcMsg, TCA_KIND, TCA_OPTIONS};
    use smooth_netlink::{ne_u32, NLM_F_ACK, NLM_F_REQUEST};

    #[test]
    fn mutations_spare_the_framing_and_the_device() {
        let tcm = TcMsg {
            ifindex: 3,
            parent: tc::TC_H_ROOT,
            ..TcMsg::default()
        };
        let mut b = tc::message(tc::RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_ACK, 9, &tcm);
        b.str(TCA_KIND, "smooth").attr(TCA_OPTIONS, &[0xAA; 24]);
        let orig = b.finish();
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
                    assert_eq!(ne_u32(&m, 0), Some(at as u32));
                    assert_eq!(&m[4..16], &orig[4..16]);
                    assert_eq!(&m[4..], &orig[4..at]);
                    continue;
                }
            }
            assert_eq!(ne_u32(&m, IFINDEX_AT), Some(3));
        }
        assert!(flips > 0 && cuts > 0);
        assert!(!mutable_byte(0) && !mutable_byte(15) && mutable_byte(16));
        assert!(!mutable_byte(20) && !mutable_byte(23) && mutable_byte(24));
    }
}
