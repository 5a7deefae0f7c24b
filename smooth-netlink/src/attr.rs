//! Attributes (`struct nlattr`): a 4-byte header — `nla_len` (header
//! plus payload, without padding) and `nla_type` (the type and two flag
//! bits) — then the payload, padded to 4 bytes. The padding of the last
//! attribute of a stream may be missing.
//!
//! [`Attrs`] walks a stream the way the kernel's `nla_ok`/`nla_next` do and
//! as sch_smooth parses `TCA_OPTIONS`, except that what they stop at in
//! silence — a header cut short, `nla_len` below 4 or past the end — is
//! reported here as an [`Error`]. [`Builder`] writes streams and whole
//! messages, nests included.

use crate::{align, msg, ne_u16, Error, Walk, NLMSG_HDRLEN};

/// Size of `struct nlattr`.
pub const NLA_HDRLEN: usize = 4;
/// Type flag: the payload is itself attributes.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// Type flag: the payload is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// The type without its flags (`NLA_TYPE_MASK`).
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// One attribute of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    /// `nla_type` without the flags.
    pub kind: u16,
    /// The flag bits of `nla_type` as sent ([`NLA_F_NESTED`],
    /// [`NLA_F_NET_BYTEORDER`]).
    pub flags: u16,
    /// `nla_len - 4` bytes.
    pub payload: &'a [u8],
    /// Where the attribute's header starts (see [`Attrs::at`]): what an
    /// extended ACK's offset points at.
    pub offset: usize,
}

impl<'a> Attr<'a> {
    /// Whether [`NLA_F_NESTED`] is set (not required for a nest: stock tc
    /// sends `TCA_OPTIONS` without it).
    pub fn is_nested(&self) -> bool {
        self.flags & NLA_F_NESTED != 0
    }

    /// The attributes nested in the payload, their offsets counted like
    /// this one's.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::at(self.payload, self.offset + NLA_HDRLEN)
    }

    fn exact<const N: usize>(&self) -> Result<[u8; N], Error> {
        self.payload.try_into().map_err(|_| Error::Size {
            kind: self.kind,
            offset: self.offset,
            len: self.payload.len(),
            want: N,
        })
    }

    /// The payload as a `u8` (exactly 1 byte).
    pub fn u8(&self) -> Result<u8, Error> {
        self.exact::<1>().map(|b| b[0])
    }

    /// The payload as a native-endian `u16` (exactly 2 bytes).
    pub fn u16(&self) -> Result<u16, Error> {
        self.exact().map(u16::from_ne_bytes)
    }

    /// The payload as a native-endian `u32` (exactly 4 bytes).
    pub fn u32(&self) -> Result<u32, Error> {
        self.exact().map(u32::from_ne_bytes)
    }

    /// The payload as a native-endian `u64` (exactly 8 bytes).
    pub fn u64(&self) -> Result<u64, Error> {
        self.exact().map(u64::from_ne_bytes)
    }

    /// The payload as a string: up to its first NUL (`NLA_NUL_STRING`) or
    /// all of it (`NLA_STRING`).
    pub fn str(&self) -> Result<&'a str, Error> {
        let text = self.payload.split(|&b| b == 0).next().unwrap_or_default();
        std::str::from_utf8(text).map_err(|_| Error::NotUtf8 {
            kind: self.kind,
            offset: self.offset,
        })
    }
}

/// Walks an attribute stream: yields each [`Attr`], or one [`Error`] where
/// the stream breaks, after which it ends.
///
/// Decoding `TCA_OPTIONS` into `(type, payload)` pairs, as a table-driven
/// decoder takes them, with a broken stream refused as a whole:
///
/// ```
/// use smooth_netlink::{Attrs, Builder};
///
/// let mut b = Builder::new();
/// b.u64(1, 250_000).u64(2, 3_000_000);
/// let opts = b.finish();
/// let pairs: Result<Vec<(u16, &[u8])>, _> = Attrs::new(&opts)
///     .map(|a| a.map(|a| (a.kind, a.payload)))
///     .collect();
/// assert_eq!(pairs.unwrap()[1], (2, &3_000_000u64.to_ne_bytes()[..]));
/// assert!(Attrs::new(&opts[..10]).collect_all().is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    walk: Walk<'a>,
}

impl<'a> Attrs<'a> {
    /// The stream `buf`, offsets counted from its start.
    pub fn new(buf: &'a [u8]) -> Attrs<'a> {
        Attrs::at(buf, 0)
    }

    /// The stream `buf` that starts at byte `base` of something larger
    /// (a message): offsets are then that thing's, as extack counts them.
    pub fn at(buf: &'a [u8], base: usize) -> Attrs<'a> {
        Attrs {
            walk: Walk::new(buf, base),
        }
    }

    /// The last attribute of type `kind` (the one the kernel's `nla_parse`
    /// keeps), after checking the whole stream.
    pub fn get(self, kind: u16) -> Result<Option<Attr<'a>>, Error> {
        let mut found = None;
        for a in self {
            let a = a?;
            if a.kind == kind {
                found = Some(a);
            }
        }
        Ok(found)
    }

    /// Every attribute, or the first error.
    pub fn collect_all(self) -> Result<Vec<Attr<'a>>, Error> {
        self.collect()
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let (rest, offset) = self.walk.take()?;
        if rest.len() < NLA_HDRLEN {
            return Some(Err(Error::ShortHeader {
                offset,
                have: rest.len(),
            }));
        }
        let len = usize::from(ne_u16(rest, 0)?);
        let raw = ne_u16(rest, 2)?;
        if len < NLA_HDRLEN {
            return Some(Err(Error::BadLength { offset, len }));
        }
        if len > rest.len() {
            return Some(Err(Error::PastEnd {
                offset,
                len,
                have: rest.len(),
            }));
        }
        self.walk.resume(rest, offset, len);
        Some(Ok(Attr {
            kind: raw & NLA_TYPE_MASK,
            flags: raw & !NLA_TYPE_MASK,
            payload: &rest[NLA_HDRLEN..len],
            offset,
        }))
    }
}

/// An open nest of a [`Builder`]: close it with [`Builder::end_nest`].
#[must_use = "a nest's length is written by Builder::end_nest"]
#[derive(Debug)]
pub struct Nest {
    at: usize,
}

/// Writes an attribute stream, or a whole message ([`Builder::message`]).
///
/// Attributes are padded to 4 bytes; [`Builder::bytes`] and
/// [`Builder::attr_unpadded`] write what a well-formed stream would not,
/// for the fuzzer.
///
/// # Panics
///
/// An attribute (nest included) longer than `nla_len` can say (65535
/// bytes) panics: the caller's bug, never the input's.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    buf: Vec<u8>,
    message: bool,
}

impl Builder {
    /// An empty attribute stream.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// A message: its `nlmsghdr` (`nlmsg_len` set by [`Builder::finish`],
    /// port id 0: the kernel), then whatever is added.
    pub fn message(kind: u16, flags: u16, seq: u32) -> Builder {
        let header = msg::Header {
            len: 0,
            kind,
            flags,
            seq,
            pid: 0,
        };
        Builder {
            buf: header.to_bytes().to_vec(),
            message: true,
        }
    }

    /// Appends raw bytes (a fixed header such as `struct tcmsg`, or
    /// deliberate garbage), unpadded.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Builder {
        self.buf.extend_from_slice(b);
        self
    }

    /// Pads with zeros to 4 bytes.
    pub fn pad(&mut self) -> &mut Builder {
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    fn header(&mut self, kind: u16, len: usize) {
        let len = u16::try_from(len).unwrap_or_else(|_| panic!("attribute of {len} bytes"));
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
    }

    /// Appends one attribute: header, payload, padding. `kind` is written
    /// as given, flags included.
    pub fn attr(&mut self, kind: u16, payload: &[u8]) -> &mut Builder {
        self.attr_unpadded(kind, payload).pad()
    }

    /// Appends one attribute without its trailing padding (legal for the
    /// last attribute of a stream; the kernel's walk must cope).
    pub fn attr_unpadded(&mut self, kind: u16, payload: &[u8]) -> &mut Builder {
        self.header(kind, NLA_HDRLEN + payload.len());
        self.bytes(payload)
    }

    /// A `u8` attribute.
    pub fn u8(&mut self, kind: u16, v: u8) -> &mut Builder {
        self.attr(kind, &[v])
    }

    /// A native-endian `u16` attribute.
    pub fn u16(&mut self, kind: u16, v: u16) -> &mut Builder {
        self.attr(kind, &v.to_ne_bytes())
    }

    /// A native-endian `u32` attribute.
    pub fn u32(&mut self, kind: u16, v: u32) -> &mut Builder {
        self.attr(kind, &v.to_ne_bytes())
    }

    /// A native-endian `u64` attribute.
    pub fn u64(&mut self, kind: u16, v: u64) -> &mut Builder {
        self.attr(kind, &v.to_ne_bytes())
    }

    /// A NUL-terminated string attribute (`TCA_KIND`, `IFLA_IFNAME`).
    pub fn str(&mut self, kind: u16, s: &str) -> &mut Builder {
        self.header(kind, NLA_HDRLEN + s.len() + 1);
        self.bytes(s.as_bytes()).bytes(&[0]).pad()
    }

    /// Opens a nest of type `kind` (with [`NLA_F_NESTED`] or not, as the
    /// caller says): what is added until [`Builder::end_nest`] is its
    /// payload.
    pub fn begin_nest(&mut self, kind: u16) -> Nest {
        self.pad();
        let at = self.buf.len();
        self.header(kind, NLA_HDRLEN);
        Nest { at }
    }

    /// Closes `nest`: its `nla_len` becomes everything added since it
    /// opened, padding of the inner attributes included.
    pub fn end_nest(&mut self, nest: Nest) -> &mut Builder {
        let len = self.buf.len() - nest.at;
        let len = u16::try_from(len).unwrap_or_else(|_| panic!("nest of {len} bytes"));
        self.buf[nest.at..nest.at + 2].copy_from_slice(&len.to_ne_bytes());
        self.pad()
    }

    /// A nest whose content `fill` adds.
    pub fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut Builder)) -> &mut Builder {
        let n = self.begin_nest(kind);
        fill(self);
        self.end_nest(n)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is written (never true of a message).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes so far (a message's `nlmsg_len` not yet set).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The stream, or the message with `nlmsg_len` set to its length.
    pub fn finish(mut self) -> Vec<u8> {
        if self.message {
            msg::set_len(&mut self.buf);
        }
        debug_assert!(!self.message || self.buf.len() >= NLMSG_HDRLEN);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        ne_u16(b, at).unwrap()
    }

    #[test]
    fn attributes_are_padded_to_four_bytes() {
        let mut b = Builder::new();
        b.attr(5, &[1, 2, 3, 4, 5]);
        assert_eq!(b.len(), 12);
        b.attr(7, &[]);
        b.attr_unpadded(2 | NLA_F_NESTED, &[9]);
        let out = b.finish();
        assert_eq!(out.len(), 21);
        assert_eq!((u16_at(&out, 0), u16_at(&out, 2)), (9, 5));
        assert_eq!(&out[4..12], &[1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!((u16_at(&out, 12), u16_at(&out, 14)), (4, 7));
        assert_eq!((u16_at(&out, 16), u16_at(&out, 18)), (5, 0x8002));
    }

    #[test]
    fn walk_yields_type_flags_payload_offset() {
        let mut b = Builder::new();
        b.u64(1, 250_000)
            .u32(5 | NLA_F_NET_BYTEORDER, 7)
            .str(1 | NLA_F_NESTED, "smooth");
        let bytes = b.finish();
        let attrs = Attrs::at(&bytes, 36).collect_all().unwrap();
        assert_eq!(attrs.len(), 3);
        assert_eq!((attrs[0].kind, attrs[0].flags, attrs[0].offset), (1, 0, 36));
        assert_eq!(attrs[0].u64(), Ok(250_000));
        assert_eq!(attrs[1].kind, 5);
        assert_eq!(attrs[1].flags, NLA_F_NET_BYTEORDER);
        assert_eq!((attrs[1].offset, attrs[1].u32()), (48, Ok(7)));
        assert!(attrs[2].is_nested());
        assert_eq!((attrs[2].offset, attrs[2].str()), (56, Ok("smooth")));
        assert_eq!(
            attrs[1].u64(),
            Err(Error::Size {
                kind: 5,
                offset: 48,
                len: 4,
                want: 8
            })
        );
        // The last of a type is the one the kernel keeps.
        assert_eq!(
            Attrs::new(&bytes).get(1).unwrap().unwrap().str(),
            Ok("smooth")
        );
        assert_eq!(Attrs::new(&bytes).get(9), Ok(None));
    }

    #[test]
    fn nests_fix_their_lengths() {
        // MATCHALL_ACT { 1 { KIND "mirred", OPTIONS { PARMS [28 bytes] } } }
        let mut b = Builder::new();
        b.nest(2 | NLA_F_NESTED, |b| {
            b.nest(1 | NLA_F_NESTED, |b| {
                b.str(1, "mirred");
                let o = b.begin_nest(2);
                b.attr(2, &[0xAB; 28]);
                b.end_nest(o);
            });
        });
        let o = b.finish();
        assert_eq!(u16_at(&o, 0) as usize, o.len());
        assert_eq!(o.len(), 4 + 4 + 12 + 4 + 32);
        let outer = Attrs::new(&o).get(2).unwrap().unwrap();
        assert!(outer.is_nested());
        let action = outer.nested().get(1).unwrap().unwrap();
        assert_eq!(action.offset, 4);
        let mut inner = action.nested();
        assert_eq!(inner.next().unwrap().unwrap().str(), Ok("mirred"));
        let opts = inner.next().unwrap().unwrap();
        assert!(!opts.is_nested());
        let parms = opts.nested().next().unwrap().unwrap();
        assert_eq!((parms.kind, parms.offset), (2, 24));
        assert_eq!(parms.payload, &[0xAB; 28]);
        assert!(inner.next().is_none());
        // An empty nest is a bare header.
        let mut e = Builder::new();
        let n = e.begin_nest(3);
        e.end_nest(n);
        assert_eq!(
            e.finish(),
            [4u16.to_ne_bytes(), 3u16.to_ne_bytes()].concat()
        );
    }

    #[test]
    fn unpadded_last_attribute_is_whole() {
        let mut b = Builder::new();
        b.attr(1, &[0; 8]).attr_unpadded(2, &[1, 2, 3, 4, 5]);
        let bytes = b.finish();
        assert_eq!(bytes.len(), 12 + 9);
        let attrs = Attrs::new(&bytes).collect_all().unwrap();
        assert_eq!(attrs[1].payload, &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn malformed_streams_are_errors_not_silence() {
        // nla_len 12 with only 8 bytes left (test_smooth_uapi.sh's case).
        let mut cut = Builder::new();
        cut.bytes(&12u16.to_ne_bytes())
            .bytes(&1u16.to_ne_bytes())
            .bytes(&1000u32.to_ne_bytes());
        let cut = cut.finish();
        assert_eq!(
            Attrs::new(&cut).collect_all(),
            Err(Error::PastEnd {
                offset: 0,
                len: 12,
                have: 8
            })
        );
        // A good attribute, then 1-3 stray bytes.
        for stray in 1..4 {
            let mut b = Builder::new();
            b.u32(1, 9).bytes(&vec![0xEE; stray]);
            let bytes = b.finish();
            let mut it = Attrs::at(&bytes, 100);
            assert_eq!(it.next().unwrap().unwrap().u32(), Ok(9));
            assert_eq!(
                it.next(),
                Some(Err(Error::ShortHeader {
                    offset: 108,
                    have: stray
                }))
            );
            assert_eq!(it.next(), None);
            assert!(Attrs::new(&bytes).get(1).is_err());
        }
        // nla_len 0..=3: below the header; the walk stops (no endless loop).
        for len in 0u16..4 {
            let mut bytes = len.to_ne_bytes().to_vec();
            bytes.extend_from_slice(&1u16.to_ne_bytes());
            bytes.extend_from_slice(&[0; 8]);
            let all: Vec<_> = Attrs::new(&bytes).collect();
            assert_eq!(
                all,
                [Err(Error::BadLength {
                    offset: 0,
                    len: len.into()
                })]
            );
        }
        // A nest whose inner stream is cut reports the inner offset.
        let mut b = Builder::new();
        b.nest(7, |b| {
            b.u32(1, 1).bytes(&[1, 0]);
        });
        let bytes = b.finish();
        let nest = Attrs::new(&bytes).next().unwrap().unwrap();
        assert_eq!(
            nest.nested().collect_all(),
            Err(Error::ShortHeader {
                offset: 12,
                have: 2
            })
        );
        assert_eq!(Attrs::new(&[]).next(), None);
    }

    #[test]
    fn strings_and_sizes() {
        let mut b = Builder::new();
        b.attr(1, b"smooth")
            .attr(2, &[0xff, 0xfe, 0])
            .u8(3, 7)
            .u16(4, 513);
        let bytes = b.finish();
        let a = Attrs::new(&bytes).collect_all().unwrap();
        assert_eq!(a[0].str(), Ok("smooth"));
        assert_eq!(
            a[1].str(),
            Err(Error::NotUtf8 {
                kind: 2,
                offset: 12
            })
        );
        assert_eq!((a[2].u8(), a[3].u16()), (Ok(7), Ok(513)));
    }

    #[test]
    #[should_panic(expected = "attribute of 65540 bytes")]
    fn oversized_attribute_panics() {
        Builder::new().attr(1, &vec![0; 65536]);
    }
}
