//! A `NETLINK_ROUTE` socket through libc: the only `unsafe` of the crate.

use crate::ack::Ack;
use crate::msg::{Header, Message, Messages, NLMSG_DONE, NLMSG_ERROR};
use crate::Error;
use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

// linux/netlink.h socket options (libc has them for Android only).
/// Echo only the request's header in an error, not the whole request.
const NETLINK_CAP_ACK: libc::c_int = 10;
/// Add the extended ACK TLVs (message, offset) to errors.
const NETLINK_EXT_ACK: libc::c_int = 11;

/// The largest datagram [`Socket::transact`] reads.
const RECV_BUF: usize = 1 << 16;

/// A `NETLINK_ROUTE` socket talking to the kernel.
pub struct Socket {
    fd: OwnedFd,
    buf: Vec<u8>,
}

/// A message of an answer other than its `NLMSG_ERROR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub header: Header,
    /// What follows the header.
    pub payload: Vec<u8>,
}

impl Reply {
    /// The message, for the parsers (offset 0).
    pub fn message(&self) -> Message<'_> {
        Message {
            header: self.header,
            payload: &self.payload,
            offset: 0,
        }
    }
}

/// Everything the kernel answered to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The messages before the ACK carrying the request's sequence number
    /// (an echo, a dump's parts).
    pub replies: Vec<Reply>,
    /// The ACK or refusal (from `NLMSG_DONE` for a dump without
    /// `NLM_F_ACK`: its error, no extack).
    pub ack: Ack,
    /// Answers to earlier requests (lower sequence numbers), skipped.
    pub late: u32,
}

/// Why [`Socket::transact`] got no answer.
#[derive(Debug)]
pub enum TransactError {
    /// The request did not go out.
    Send(io::Error),
    /// No answer within the socket's timeout.
    Timeout,
    /// `recv` failed.
    Recv(io::Error),
    /// A datagram longer than the buffer (its length).
    Truncated(usize),
    /// An answer that does not parse.
    Malformed(Error),
    /// An answer with a sequence number after the request's.
    UnexpectedSeq(u32),
    /// The request is not a netlink message.
    BadRequest,
}

impl fmt::Display for TransactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransactError::Send(e) => write!(f, "send: {e}"),
            TransactError::Timeout => f.write_str("no answer from the kernel"),
            TransactError::Recv(e) => write!(f, "recv: {e}"),
            TransactError::Truncated(n) => write!(f, "answer of {n} bytes truncated"),
            TransactError::Malformed(e) => write!(f, "malformed answer: {e}"),
            TransactError::UnexpectedSeq(s) => write!(f, "answer with unexpected sequence {s}"),
            TransactError::BadRequest => f.write_str("request shorter than a netlink header"),
        }
    }
}

impl std::error::Error for TransactError {}

impl From<TransactError> for io::Error {
    fn from(e: TransactError) -> io::Error {
        match e {
            TransactError::Send(e) | TransactError::Recv(e) => e,
            TransactError::Timeout => io::Error::new(io::ErrorKind::TimedOut, e.to_string()),
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

impl Socket {
    /// Opens a `NETLINK_ROUTE` socket with extended ACKs and capped echoes
    /// on, and a receive timeout of 10 s so that a missing answer is
    /// reported, not waited for ([`Socket::set_timeout`] changes it).
    pub fn route() -> io::Result<Socket> {
        // SAFETY: plain socket(2) call; the result is checked below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let sock = Socket {
            // SAFETY: `fd` is a fresh descriptor nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            buf: vec![0; RECV_BUF],
        };
        let on: libc::c_int = 1;
        sock.setsockopt(libc::SOL_NETLINK, NETLINK_EXT_ACK, &on)?;
        sock.setsockopt(libc::SOL_NETLINK, NETLINK_CAP_ACK, &on)?;
        sock.set_timeout(Duration::from_secs(10))?;
        Ok(sock)
    }

    /// How long [`Socket::recv`] waits (at least 1 µs: 0 would mean
    /// forever).
    pub fn set_timeout(&self, timeout: Duration) -> io::Result<()> {
        let timeout = timeout.max(Duration::from_micros(1));
        let tv = libc::timeval {
            tv_sec: timeout.as_secs().try_into().unwrap_or(libc::time_t::MAX),
            tv_usec: timeout.subsec_micros() as libc::suseconds_t,
        };
        self.setsockopt(libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
    }

    fn setsockopt<T>(&self, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` points at a live `T` of the size passed.
        let r = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (value as *const T).cast(),
                size_of::<T>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends one datagram to the kernel (port id 0).
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: sockaddr_nl is plain data; all zeros is a valid value.
        let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        retry(|| {
            // SAFETY: `msg` and `to` are valid for the lengths passed.
            unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    (&to as *const libc::sockaddr_nl).cast(),
                    size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            }
        })
        .map(drop)
    }

    /// Receives one datagram into `buf`; returns its full length, which
    /// exceeds `buf` when it did not fit (`MSG_TRUNC`). A timeout is
    /// `ErrorKind::WouldBlock`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        retry(|| {
            // SAFETY: `buf` is valid for writes of its length.
            unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            }
        })
    }

    /// Sends `request` (which should ask for an ACK, `NLM_F_ACK`) and reads
    /// the answers carrying its sequence number up to the `NLMSG_ERROR`
    /// (or `NLMSG_DONE`). Answers to earlier requests, which a timeout left
    /// unread, are skipped and counted.
    pub fn transact(&mut self, request: &[u8]) -> Result<Exchange, TransactError> {
        let seq = Header::parse(request).ok_or(TransactError::BadRequest)?.seq;
        self.send(request).map_err(TransactError::Send)?;
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.answers(seq, &mut buf);
        self.buf = buf;
        r
    }

    fn answers(&self, seq: u32, buf: &mut [u8]) -> Result<Exchange, TransactError> {
        let mut replies = Vec::new();
        let mut late = 0;
        loop {
            let n = match self.recv(buf) {
                Ok(n) if n > buf.len() => return Err(TransactError::Truncated(n)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(TransactError::Timeout)
                }
                Err(e) => return Err(TransactError::Recv(e)),
            };
            for m in Messages::new(&buf[..n]) {
                let m = m.map_err(TransactError::Malformed)?;
                if m.header.seq < seq {
                    late += 1;
                    continue;
                }
                if m.header.seq > seq {
                    return Err(TransactError::UnexpectedSeq(m.header.seq));
                }
                let ack = match m.header.kind {
                    NLMSG_ERROR => Ack::parse(&m).map_err(TransactError::Malformed)?,
                    NLMSG_DONE => Ack {
                        seq,
                        error: crate::ne_u32(m.payload, 0).map_or(0, |e| e as i32),
                        ..Ack::default()
                    },
                    _ => {
                        replies.push(Reply {
                            header: m.header,
                            payload: m.payload.to_vec(),
                        });
                        continue;
                    }
                };
                return Ok(Exchange { replies, ack, late });
            }
        }
    }
}

/// Runs a system call until it is not interrupted.
fn retry(mut call: impl FnMut() -> isize) -> io::Result<usize> {
    loop {
        let n = call();
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The interface index of `dev`.
pub fn ifindex(dev: &str) -> io::Result<u32> {
    let name = CString::new(dev).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tc::{self, TcMsg};
    use crate::{NLM_F_ACK, NLM_F_REQUEST};

    #[test]
    fn loopback_exists() {
        assert!(ifindex("lo").unwrap() >= 1);
        assert!(ifindex("no-such-device0").is_err());
        assert!(ifindex("a\0b").is_err());
    }

    /// An unprivileged request the kernel answers anywhere: a get of the
    /// loopback's root qdisc (noqueue has none: ENOENT, or the answer).
    #[test]
    fn a_request_gets_its_answer() {
        let mut sock = Socket::route().expect("a NETLINK_ROUTE socket (Linux always has one)");
        let tcm = TcMsg {
            ifindex: ifindex("lo").unwrap(),
            parent: tc::TC_H_ROOT,
            ..TcMsg::default()
        };
        let req = tc::message(tc::RTM_GETQDISC, NLM_F_REQUEST | NLM_F_ACK, 77, &tcm).finish();
        let x = sock.transact(&req).unwrap();
        assert_eq!(x.ack.seq, 77);
        assert!(x.ack.error <= 0);
        assert!(matches!(
            sock.transact(&[0; 3]),
            Err(TransactError::BadRequest)
        ));
    }
}
