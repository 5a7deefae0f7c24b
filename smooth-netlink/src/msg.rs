//! Messages (`struct nlmsghdr`): the 16-byte header, and the walk over the
//! messages of one datagram.

use crate::{ne_u16, ne_u32, Error, Walk};

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// `NLMSG_NOOP`.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: the kernel's answer to a request (an ACK when its error
/// is 0).
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
pub const NLMSG_DONE: u16 = 3;

// linux/netlink.h: request flags.
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_ECHO: u16 = 0x8;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;

/// `struct nlmsghdr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `nlmsg_len`: the whole message, header included.
    pub len: u32,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    /// Port id of the sender (0: the kernel).
    pub pid: u32,
}

impl Header {
    /// The header at the start of `b`, if 16 bytes are there (its length
    /// is not checked against them: see [`Messages`]).
    pub fn parse(b: &[u8]) -> Option<Header> {
        Some(Header {
            len: ne_u32(b, 0)?,
            kind: ne_u16(b, 4)?,
            flags: ne_u16(b, 6)?,
            seq: ne_u32(b, 8)?,
            pid: ne_u32(b, 12)?,
        })
    }

    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; NLMSG_HDRLEN] {
        let mut out = [0; NLMSG_HDRLEN];
        out[0..4].copy_from_slice(&self.len.to_ne_bytes());
        out[4..6].copy_from_slice(&self.kind.to_ne_bytes());
        out[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        out[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        out[12..16].copy_from_slice(&self.pid.to_ne_bytes());
        out
    }
}

/// Sets `nlmsg_len` to the length of `msg` (after a cut, say).
///
/// # Panics
///
/// If `msg` is shorter than `nlmsg_len` itself or longer than 4 GiB.
pub fn set_len(msg: &mut [u8]) {
    let len = u32::try_from(msg.len()).expect("message under 4 GiB");
    msg[..4].copy_from_slice(&len.to_ne_bytes());
}

/// One message of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub header: Header,
    /// The `nlmsg_len - 16` bytes after the header.
    pub payload: &'a [u8],
    /// Where the message starts in the datagram.
    pub offset: usize,
}

/// Walks the messages of a datagram; a message whose `nlmsg_len` is below
/// 16 or past the end is an [`Error::Message`], after which it ends.
#[derive(Clone, Debug)]
pub struct Messages<'a> {
    walk: Walk<'a>,
}

impl<'a> Messages<'a> {
    pub fn new(datagram: &'a [u8]) -> Messages<'a> {
        Messages {
            walk: Walk::new(datagram, 0),
        }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let (rest, offset) = self.walk.take()?;
        let bad = |len| {
            Some(Err(Error::Message {
                offset,
                len,
                have: rest.len(),
            }))
        };
        let Some(header) = Header::parse(rest) else {
            return bad(0);
        };
        let len = header.len as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return bad(len);
        }
        self.walk.resume(rest, offset, len);
        Some(Ok(Message {
            header,
            payload: &rest[NLMSG_HDRLEN..len],
            offset,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Builder;

    #[test]
    fn header_round_trip() {
        let h = Header {
            len: 48,
            kind: 36,
            flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            seq: 42,
            pid: 7,
        };
        assert_eq!(Header::parse(&h.to_bytes()), Some(h));
        assert_eq!(Header::parse(&[0; 15]), None);
    }

    #[test]
    fn datagram_of_messages() {
        let mut a = Builder::message(36, NLM_F_MULTI, 1);
        a.bytes(&[1, 2, 3]); // 19 bytes, padded to 20 in the datagram
        let mut d = a.finish();
        d.push(0);
        let mut b = Builder::message(NLMSG_DONE, NLM_F_MULTI, 1);
        b.bytes(&0i32.to_ne_bytes());
        d.extend(b.finish());
        let all: Vec<_> = Messages::new(&d).map(Result::unwrap).collect();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].header.len, all[0].payload), (19, &[1, 2, 3][..]));
        assert_eq!((all[1].offset, all[1].header.kind), (20, NLMSG_DONE));
    }

    #[test]
    fn bad_lengths_end_the_walk() {
        let mut m = Builder::message(2, 0, 1).finish();
        m[0] = 15;
        assert_eq!(
            Messages::new(&m).collect::<Vec<_>>(),
            [Err(Error::Message {
                offset: 0,
                len: 15,
                have: 16
            })]
        );
        set_len(&mut m);
        m.extend([0; 5]);
        let mut it = Messages::new(&m);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(
            it.next(),
            Some(Err(Error::Message {
                offset: 16,
                len: 0,
                have: 5
            }))
        );
        assert_eq!(it.next(), None);
    }
}
