//! The kernel's answer to a request: `NLMSG_ERROR` (`struct nlmsgerr`),
//! an ACK when its error is 0, and the extended ACK after it — the
//! message, and the offset into the request of the attribute at fault.
//!
//! Layout of the payload: the error (`int`, negative errno); the request
//! echoed, whole or, with `NETLINK_CAP_ACK` (`NLM_F_CAPPED` on the answer),
//! only its 16-byte header; then, with `NETLINK_EXT_ACK`
//! (`NLM_F_ACK_TLVS`), attributes of type `NLMSGERR_ATTR_*`.

use crate::attr::Attrs;
use crate::msg::{Message, NLMSG_ERROR, NLMSG_HDRLEN};
use crate::{align, ne_u16, ne_u32, Error};

/// Answer flag: only the request's header is echoed.
pub const NLM_F_CAPPED: u16 = 0x100;
/// Answer flag: extended-ACK attributes follow the echo.
pub const NLM_F_ACK_TLVS: u16 = 0x200;
/// The extack message (a NUL-terminated string).
pub const NLMSGERR_ATTR_MSG: u16 = 1;
/// The extack offset: where in the request the attribute at fault starts.
pub const NLMSGERR_ATTR_OFFS: u16 = 2;

/// What an extended ACK says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extack {
    /// `NLMSGERR_ATTR_MSG`.
    pub message: Option<String>,
    /// `NLMSGERR_ATTR_OFFS`: a byte offset into the request.
    pub offset: Option<u32>,
}

impl Extack {
    /// Parses what follows the error code of an `NLMSG_ERROR` whose
    /// `nlmsg_flags` are `flags`: skips the echoed request, reads the TLVs.
    /// Without `NLM_F_ACK_TLVS` there is nothing to read.
    pub fn parse(flags: u16, after_code: &[u8]) -> Result<Extack, Error> {
        let mut ext = Extack::default();
        if flags & NLM_F_ACK_TLVS == 0 {
            return Ok(ext);
        }
        let short = Error::ShortBody {
            kind: NLMSG_ERROR,
            len: after_code.len() + 4,
            want: 4 + NLMSG_HDRLEN,
        };
        // The echoed request's own nlmsg_len says how much of it there is.
        let echoed = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            align(ne_u32(after_code, 0).ok_or(short)? as usize).max(NLMSG_HDRLEN)
        };
        let tlvs = after_code.get(echoed..).ok_or(short)?;
        for a in Attrs::at(tlvs, NLMSG_HDRLEN + 4 + echoed) {
            let a = a?;
            match a.kind {
                NLMSGERR_ATTR_MSG => {
                    let text = a.payload.split(|&b| b == 0).next().unwrap_or_default();
                    ext.message = Some(String::from_utf8_lossy(text).into_owned());
                }
                NLMSGERR_ATTR_OFFS => ext.offset = Some(a.u32()?),
                _ => {}
            }
        }
        Ok(ext)
    }
}

/// One `NLMSG_ERROR`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ack {
    /// Sequence number of the request it answers.
    pub seq: u32,
    /// 0 for an ACK, else a negative errno.
    pub error: i32,
    /// The extack message, if any (an ACK may carry a warning).
    pub message: Option<String>,
    /// The extack offset, if any.
    pub offset: Option<u32>,
}

impl Ack {
    /// Reads `msg` as an `NLMSG_ERROR`.
    pub fn parse(msg: &Message<'_>) -> Result<Ack, Error> {
        if msg.header.kind != NLMSG_ERROR {
            return Err(Error::Type {
                kind: msg.header.kind,
                want: NLMSG_ERROR,
            });
        }
        let code = msg.payload.get(..4).ok_or(Error::ShortBody {
            kind: NLMSG_ERROR,
            len: msg.payload.len(),
            want: 4,
        })?;
        let error = i32::from_ne_bytes(code.try_into().expect("4 bytes"));
        let ext = Extack::parse(msg.header.flags, &msg.payload[4..])?;
        Ok(Ack {
            seq: msg.header.seq,
            error,
            message: ext.message,
            offset: ext.offset,
        })
    }

    /// The type (without flags) of the attribute of `request` the extack
    /// offset points at; None without an offset or when it points outside
    /// the request.
    pub fn pointed_type(&self, request: &[u8]) -> Option<u16> {
        let at = self.offset? as usize;
        if at.checked_add(4)? > request.len() {
            return None;
        }
        Some(ne_u16(request, at + 2)? & crate::NLA_TYPE_MASK)
    }

    /// The errno's name, `EINVAL` (see [`errno_name`]); None for an ACK.
    pub fn errno_name(&self) -> Option<&'static str> {
        errno_name(self.error.checked_neg()?)
    }
}

/// Linux's errno names by number (x86-64 and the generic table: the same),
/// as `linux/errno.h` spells them.
const ERRNO_NAMES: [&str; 134] = [
    "",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];

/// The name of a (positive) errno, `EINVAL` for 22; the kernel-internal
/// `ENOTSUPP` (524), which leaks to userspace now and then, included.
/// None for a number without one.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    if errno == 524 {
        return Some("ENOTSUPP");
    }
    let name = *ERRNO_NAMES.get(usize::try_from(errno).ok()?)?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builder, Messages};

    /// An NLMSG_ERROR as the kernel builds it: header, error, the echoed
    /// request (`echo`: its header only when capped), then TLVs.
    fn error_msg(seq: u32, error: i32, flags: u16, echo: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut b = Builder::message(NLMSG_ERROR, flags, seq);
        b.bytes(&error.to_ne_bytes()).bytes(echo).bytes(tlvs);
        b.finish()
    }

    fn request_header(len: u32) -> Vec<u8> {
        let mut h = len.to_ne_bytes().to_vec();
        h.extend_from_slice(&[0; 12]);
        h
    }

    fn parse(b: &[u8]) -> Result<Ack, Error> {
        Ack::parse(&Messages::new(b).next().unwrap()?)
    }

    #[test]
    fn ack() {
        let b = error_msg(5, 0, NLM_F_CAPPED, &request_header(48), &[]);
        assert_eq!(
            parse(&b),
            Ok(Ack {
                seq: 5,
                ..Ack::default()
            })
        );
    }

    #[test]
    fn refusal_with_message_and_offset() {
        let mut tlvs = Builder::new();
        tlvs.attr(NLMSGERR_ATTR_MSG, b"smooth: TCA_SMOOTH_LIMIT given twice\0")
            .u32(NLMSGERR_ATTR_OFFS, 60)
            .u32(5, 1); // NLMSGERR_ATTR_MISS_TYPE: not read
        let flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
        let b = error_msg(9, -22, flags, &request_header(72), &tlvs.finish());
        let r = parse(&b).unwrap();
        assert_eq!((r.seq, r.error, r.errno_name()), (9, -22, Some("EINVAL")));
        assert_eq!(
            r.message.as_deref(),
            Some("smooth: TCA_SMOOTH_LIMIT given twice")
        );
        assert_eq!(r.offset, Some(60));
    }

    #[test]
    fn uncapped_echo_is_skipped() {
        // The whole 22-byte request echoed (padded to 24), then the TLVs.
        let mut echo = request_header(22);
        echo.extend_from_slice(&[0xEE; 8]);
        let mut tlvs = Builder::new();
        tlvs.attr(NLMSGERR_ATTR_MSG, b"Invalid qdisc name\0");
        let b = error_msg(1, -22, NLM_F_ACK_TLVS, &echo, &tlvs.finish());
        assert_eq!(
            parse(&b).unwrap().message.as_deref(),
            Some("Invalid qdisc name")
        );
        // The same TLVs after the error code, as rtnetlink crates hand them.
        let after_code = &b[NLMSG_HDRLEN + 4..];
        let ext = Extack::parse(NLM_F_ACK_TLVS, after_code).unwrap();
        assert_eq!(ext.message.as_deref(), Some("Invalid qdisc name"));
        // Without NLM_F_ACK_TLVS nothing is read.
        assert_eq!(Extack::parse(0, after_code), Ok(Extack::default()));
    }

    #[test]
    fn the_offset_names_the_request_attribute() {
        let mut req = Builder::message(36, 5, 1);
        req.bytes(&[0; 20]).str(1, "smooth");
        let opts = req.begin_nest(2 | crate::NLA_F_NESTED);
        req.u64(1, 250_000).u32(5 | crate::NLA_F_NET_BYTEORDER, 0);
        req.end_nest(opts);
        let req = req.finish();
        let ack = |offset| Ack {
            error: -22,
            offset: Some(offset),
            ..Ack::default()
        };
        assert_eq!(ack(48).pointed_type(&req), Some(2));
        assert_eq!(ack(52).pointed_type(&req), Some(1));
        assert_eq!(ack(64).pointed_type(&req), Some(5));
        assert_eq!(ack(req.len() as u32 - 3).pointed_type(&req), None);
        assert_eq!(ack(u32::MAX).pointed_type(&req), None);
        assert_eq!(Ack::default().pointed_type(&req), None);
    }

    #[test]
    fn garbage_is_refused() {
        let b = error_msg(1, 0, NLM_F_CAPPED, &request_header(36), &[]);
        let mut done = b.clone();
        done[4] = 3;
        assert_eq!(parse(&done), Err(Error::Type { kind: 3, want: 2 }));
        // No room for the error code.
        let short = Builder::message(NLMSG_ERROR, 0, 1).finish();
        assert!(matches!(parse(&short), Err(Error::ShortBody { .. })));
        // TLVs announced, echo missing.
        let b = error_msg(1, -22, NLM_F_CAPPED | NLM_F_ACK_TLVS, &[0; 8], &[]);
        assert!(matches!(parse(&b), Err(Error::ShortBody { .. })));
        // A TLV cut short.
        let b = error_msg(
            1,
            -22,
            NLM_F_CAPPED | NLM_F_ACK_TLVS,
            &request_header(36),
            &[9, 0, 1, 0],
        );
        assert!(matches!(parse(&b), Err(Error::PastEnd { offset: 36, .. })));
        // An offset of the wrong size.
        let mut tlvs = Builder::new();
        tlvs.u16(NLMSGERR_ATTR_OFFS, 60);
        let b = error_msg(
            1,
            -22,
            NLM_F_CAPPED | NLM_F_ACK_TLVS,
            &request_header(36),
            &tlvs.finish(),
        );
        assert!(matches!(parse(&b), Err(Error::Size { kind: 2, .. })));
    }

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(22), Some("EINVAL"));
        assert_eq!(errno_name(95), Some("EOPNOTSUPP"));
        assert_eq!(errno_name(133), Some("EHWPOISON"));
        assert_eq!(errno_name(524), Some("ENOTSUPP"));
        for n in [0, 41, 58, 134, 4242, -1] {
            assert_eq!(errno_name(n), None, "{n}");
        }
        assert_eq!(Ack::default().errno_name(), None);
    }
}
