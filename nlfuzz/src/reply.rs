//! The kernel's answers: `NLMSG_ERROR` messages (an ACK when the error is
//! 0), their extended-ack message and offset.

use crate::msg::{NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLMSG_ERROR, NLMSG_HDRLEN};

// linux/netlink.h: flags of an NLMSG_ERROR and its TLVs.
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;

/// One `NLMSG_ERROR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Sequence number of the request it answers.
    pub seq: u32,
    /// 0 for an ACK, else a negative errno.
    pub error: i32,
    /// `NLMSGERR_ATTR_MSG`, if any.
    pub message: Option<String>,
    /// `NLMSGERR_ATTR_OFFS`: where in the request the offending attribute
    /// starts.
    pub offset: Option<u32>,
}

/// A datagram that is not a well-formed `NLMSG_ERROR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadReply {
    /// Shorter than a header, or its length disagrees with the datagram.
    Short(usize),
    /// Another message type (the fuzzer asks for no dumps or events).
    Type(u16),
    /// The TLVs after the error do not parse.
    Tlvs,
}

/// Parses the first netlink message of a datagram as an `NLMSG_ERROR`.
/// The socket sets `NETLINK_CAP_ACK`, but an uncapped echo (the request
/// after the error code) is understood too.
pub fn parse(buf: &[u8]) -> Result<Reply, BadReply> {
    if buf.len() < NLMSG_HDRLEN + 4 + NLMSG_HDRLEN {
        return Err(BadReply::Short(buf.len()));
    }
    let len = u32_at(buf, 0) as usize;
    let kind = u16::from_ne_bytes([buf[4], buf[5]]);
    let flags = u16::from_ne_bytes([buf[6], buf[7]]);
    let seq = u32_at(buf, 8);
    if len < NLMSG_HDRLEN + 4 + NLMSG_HDRLEN || len > buf.len() {
        return Err(BadReply::Short(len));
    }
    if kind != NLMSG_ERROR {
        return Err(BadReply::Type(kind));
    }
    let body = &buf[NLMSG_HDRLEN..len];
    let error = i32::from_ne_bytes(body[..4].try_into().expect("4 bytes"));
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        // The whole request: its own nlmsg_len, padded.
        (u32_at(body, 4) as usize).next_multiple_of(4)
    };
    let mut reply = Reply {
        seq,
        error,
        message: None,
        offset: None,
    };
    if flags & NLM_F_ACK_TLVS == 0 {
        return Ok(reply);
    }
    let mut tlvs = body.get(4 + echoed..).ok_or(BadReply::Tlvs)?;
    while !tlvs.is_empty() {
        if tlvs.len() < 4 {
            return Err(BadReply::Tlvs);
        }
        let tlv_len = usize::from(u16::from_ne_bytes([tlvs[0], tlvs[1]]));
        let tlv_kind =
            u16::from_ne_bytes([tlvs[2], tlvs[3]]) & !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
        if tlv_len < 4 || tlv_len > tlvs.len() {
            return Err(BadReply::Tlvs);
        }
        let payload = &tlvs[4..tlv_len];
        match tlv_kind {
            NLMSGERR_ATTR_MSG => {
                let text = payload.split(|&b| b == 0).next().unwrap_or(payload);
                reply.message = Some(String::from_utf8_lossy(text).into_owned());
            }
            NLMSGERR_ATTR_OFFS if payload.len() == 4 => reply.offset = Some(u32_at(payload, 0)),
            _ => {}
        }
        tlvs = &tlvs[tlv_len.next_multiple_of(4).min(tlvs.len())..];
    }
    Ok(reply)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::put_attr;

    /// An NLMSG_ERROR as the kernel builds it: header, error, the echoed
    /// request (`echo`: its header only when capped), then TLVs.
    fn error_msg(seq: u32, error: i32, flags: u16, echo: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let len = NLMSG_HDRLEN + 4 + echo.len() + tlvs.len();
        out.extend_from_slice(&(len as u32).to_ne_bytes());
        out.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&seq.to_ne_bytes());
        out.extend_from_slice(&1234u32.to_ne_bytes());
        out.extend_from_slice(&error.to_ne_bytes());
        out.extend_from_slice(echo);
        out.extend_from_slice(tlvs);
        out
    }

    fn request_header(len: u32) -> Vec<u8> {
        let mut h = len.to_ne_bytes().to_vec();
        h.extend_from_slice(&[0; 12]);
        h
    }

    #[test]
    fn ack() {
        let b = error_msg(5, 0, NLM_F_CAPPED, &request_header(48), &[]);
        assert_eq!(
            parse(&b),
            Ok(Reply {
                seq: 5,
                error: 0,
                message: None,
                offset: None
            })
        );
    }

    #[test]
    fn refusal_with_message_and_offset() {
        let mut tlvs = Vec::new();
        put_attr(
            &mut tlvs,
            NLMSGERR_ATTR_MSG,
            b"smooth: TCA_SMOOTH_LIMIT given twice\0",
        );
        put_attr(&mut tlvs, NLMSGERR_ATTR_OFFS, &60u32.to_ne_bytes());
        let flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
        let b = error_msg(9, -22, flags, &request_header(72), &tlvs);
        let r = parse(&b).unwrap();
        assert_eq!(r.seq, 9);
        assert_eq!(r.error, -22);
        assert_eq!(
            r.message.as_deref(),
            Some("smooth: TCA_SMOOTH_LIMIT given twice")
        );
        assert_eq!(r.offset, Some(60));
    }

    #[test]
    fn refusal_without_message() {
        let b = error_msg(3, -19, NLM_F_CAPPED, &request_header(40), &[]);
        let r = parse(&b).unwrap();
        assert_eq!((r.error, r.message, r.offset), (-19, None, None));
    }

    #[test]
    fn uncapped_echo_is_skipped() {
        // The whole 22-byte request echoed (padded to 24), then the TLVs.
        let mut echo = request_header(22);
        echo.extend_from_slice(&[0xEE; 8]);
        let mut tlvs = Vec::new();
        put_attr(&mut tlvs, NLMSGERR_ATTR_MSG, b"Invalid qdisc name\0");
        let b = error_msg(1, -22, NLM_F_ACK_TLVS, &echo, &tlvs);
        assert_eq!(
            parse(&b).unwrap().message.as_deref(),
            Some("Invalid qdisc name")
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(parse(&[0; 8]), Err(BadReply::Short(8)));
        let mut b = error_msg(1, 0, NLM_F_CAPPED, &request_header(36), &[]);
        b[4] = 3; // NLMSG_DONE
        assert_eq!(parse(&b), Err(BadReply::Type(3)));
        let mut b = error_msg(
            1,
            -22,
            NLM_F_CAPPED | NLM_F_ACK_TLVS,
            &request_header(36),
            &[9, 0, 1, 0],
        );
        assert_eq!(parse(&b), Err(BadReply::Tlvs));
        // nlmsg_len beyond the datagram.
        b[0] = 200;
        assert_eq!(parse(&b), Err(BadReply::Short(200)));
    }
}
