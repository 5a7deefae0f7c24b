//! Netlink, written once for smooth's userspace: the tc plugin, tc-smooth,
//! the fuzzer and the VM tests' raw-message tool (`smooth-nl`).
//!
//! Everything is native-endian bytes, as the kernel reads them, and every
//! parser is total: malformed input is an [`Error`] naming where it broke,
//! never a panic and never a silent stop.
//!
//! | module | what | kernel counterpart |
//! |---|---|---|
//! | [`attr`] | `struct nlattr`: [`Attrs`] walks a stream, [`Builder`] writes one (nests included) | `nla_for_each_attr`, `nla_put`, `nla_nest_start`/`_end` |
//! | [`msg`] | `struct nlmsghdr`: [`Header`], [`Messages`] walks a datagram | `nlmsg_for_each_msg` |
//! | [`ack`] | `NLMSG_ERROR`: [`Ack`] with the extended ACK's message and offset, [`errno_name`] | `netlink_ack`, `struct nlmsgerr` |
//! | [`tc`] | `struct tcmsg` and the tc attributes smooth's tools use | `linux/rtnetlink.h`, `linux/pkt_sched.h` |
//! | [`socket`] | a `NETLINK_ROUTE` socket with `NETLINK_EXT_ACK` and `NETLINK_CAP_ACK`, and one request/answer exchange | `af_netlink` |
//!
//! Building a qdisc request and reading the answer:
//!
//! ```no_run
//! use smooth_netlink::{tc, Socket, NLA_F_NESTED, NLM_F_ACK, NLM_F_REQUEST};
//!
//! let ifindex = smooth_netlink::socket::ifindex("vif1.0")?;
//! let tcm = tc::TcMsg { ifindex, parent: tc::TC_H_ROOT, ..tc::TcMsg::default() };
//! let mut b = tc::message(tc::RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_ACK, 1, &tcm);
//! b.str(tc::TCA_KIND, "smooth");
//! let opts = b.begin_nest(tc::TCA_OPTIONS | NLA_F_NESTED);
//! b.u64(1, 250_000); // TCA_SMOOTH_RATE
//! b.end_nest(opts);
//! let request = b.finish();
//! let answer = Socket::route()?.transact(&request)?;
//! if let Some(t) = answer.ack.pointed_type(&request) {
//!     println!("{:?} at attribute type {t}", answer.ack.message);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ack;
pub mod attr;
pub mod msg;
pub mod socket;
pub mod tc;

pub use ack::{errno_name, Ack, Extack};
pub use attr::{Attr, Attrs, Builder, Nest, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK};
pub use msg::{
    Header, Message, Messages, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_CREATE,
    NLM_F_DUMP, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};
pub use socket::Socket;

use std::fmt;

/// Where and how bytes failed to parse. Offsets count from the start of
/// what the walk was given (plus its base, see [`Attrs::at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer than 4 bytes left where an attribute header starts.
    ShortHeader { offset: usize, have: usize },
    /// `nla_len` below the attribute header's own 4 bytes.
    BadLength { offset: usize, len: usize },
    /// `nla_len` reaches past the end of the stream: the attribute is cut.
    PastEnd {
        offset: usize,
        len: usize,
        have: usize,
    },
    /// An attribute's payload is not the size of the value read from it.
    Size {
        kind: u16,
        offset: usize,
        len: usize,
        want: usize,
    },
    /// A string attribute that is not UTF-8.
    NotUtf8 { kind: u16, offset: usize },
    /// A netlink message whose `nlmsg_len` is below its header or past the
    /// end of the datagram (`have` bytes left).
    Message {
        offset: usize,
        len: usize,
        have: usize,
    },
    /// A message's fixed part (after the `nlmsghdr`) is shorter than its
    /// type needs.
    ShortBody { kind: u16, len: usize, want: usize },
    /// A message of type `kind` where another was expected.
    Type { kind: u16, want: u16 },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::ShortHeader { offset, have } => write!(
                f,
                "attribute at byte {offset}: {have} bytes left, less than a header"
            ),
            Error::BadLength { offset, len } => {
                write!(f, "attribute at byte {offset}: nla_len {len} below 4")
            }
            Error::PastEnd { offset, len, have } => write!(
                f,
                "attribute at byte {offset}: nla_len {len} but only {have} bytes left"
            ),
            Error::Size {
                kind,
                offset,
                len,
                want,
            } => write!(
                f,
                "attribute type {kind} at byte {offset}: {len} bytes of payload, expected {want}"
            ),
            Error::NotUtf8 { kind, offset } => {
                write!(f, "attribute type {kind} at byte {offset}: not UTF-8")
            }
            Error::Message { offset, len, have } => write!(
                f,
                "netlink message at byte {offset}: nlmsg_len {len} with {have} bytes left"
            ),
            Error::ShortBody { kind, len, want } => write!(
                f,
                "netlink message type {kind}: {len} bytes after the header, expected at least {want}"
            ),
            Error::Type { kind, want } => {
                write!(f, "netlink message type {kind}, expected {want}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Where a walk over length-prefixed records (attributes, messages) is.
/// [`Walk::take`] hands out the rest and ends the walk; a record that
/// parses resumes it after itself with [`Walk::resume`], so a broken one
/// ends it.
#[derive(Clone, Debug)]
struct Walk<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Walk<'a> {
    fn new(buf: &'a [u8], offset: usize) -> Walk<'a> {
        Walk { rest: buf, offset }
    }

    /// The rest and its offset; None at the end.
    fn take(&mut self) -> Option<(&'a [u8], usize)> {
        if self.rest.is_empty() {
            return None;
        }
        Some((std::mem::take(&mut self.rest), self.offset))
    }

    /// Continues after the record of `len` bytes (its padding included, if
    /// there) at the start of `rest`, which [`Walk::take`] returned with
    /// `offset`.
    fn resume(&mut self, rest: &'a [u8], offset: usize, len: usize) {
        let step = align(len).min(rest.len());
        self.rest = &rest[step..];
        self.offset = offset + step;
    }
}

/// `len` rounded up to netlink's 4-byte alignment (`NLA_ALIGN`,
/// `NLMSG_ALIGN`).
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// The native-endian `u16` at `at`, if the bytes are there.
pub fn ne_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// The native-endian `u32` at `at`, if the bytes are there.
pub fn ne_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The native-endian `u64` at `at`, if the bytes are there.
pub fn ne_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_and_reads() {
        assert_eq!((align(0), align(1), align(4), align(5)), (0, 4, 4, 8));
        let b = [1u8, 0, 0, 0, 2, 0, 0, 0, 3];
        assert_eq!(ne_u32(&b, 0), Some(u32::from_ne_bytes([1, 0, 0, 0])));
        assert_eq!(ne_u16(&b, 7), Some(u16::from_ne_bytes([0, 3])));
        assert_eq!(
            ne_u64(&b, 1),
            Some(u64::from_ne_bytes([0, 0, 0, 2, 0, 0, 0, 3]))
        );
        assert_eq!(ne_u64(&b, 2), None);
        assert_eq!(ne_u16(&b, usize::MAX), None);
    }

    #[test]
    fn errors_say_where() {
        let e = Error::PastEnd {
            offset: 36,
            len: 12,
            have: 8,
        };
        assert_eq!(
            e.to_string(),
            "attribute at byte 36: nla_len 12 but only 8 bytes left"
        );
    }
}
