// SPDX-License-Identifier: GPL-2.0

//! A small, safe Rust abstraction over the Linux qdisc API (6.12 has none).
//!
//! All `unsafe` of sch_smooth lives in this file. How the C types map:
//!
//! * `struct Qdisc_ops` is built from a type implementing [`QdiscOps`]
//!   (like `block::mq::Operations` builds `blk_mq_ops`) and registered by a
//!   [`Registration`], which unregisters it on drop.
//! * The qdisc's private area (`qdisc_priv`) holds a [`Private`]: the
//!   watchdog plus the implementation's state `T`. `init` creates `T`,
//!   `destroy` drops it; in between the callbacks borrow it.
//! * `struct sk_buff` is an owned [`Skb`]: it is queued, dropped or handed
//!   back to the stack exactly once (dropping an `Skb` frees it).
//! * [`Queue`] is the qdisc's own FIFO (`sch->q`) with its counters, the
//!   watchdog and the `to_free` list of the current call.
//! * Netlink: [`Attrs`] walks the attributes nested in `TCA_OPTIONS` as a
//!   byte slice, [`AttrWriter`] puts them back in `dump`, [`ExtAck`] sets the
//!   extended-ack message.
//!
//! Locking (from the qdisc core's contract): enqueue, dequeue, peek and
//! reset run under the qdisc root lock (reset also from destroy, under
//! RTNL alone); init and destroy under RTNL while the qdisc is not
//! reachable by the data path; change, dump and dump_stats
//! run under RTNL and take the root lock here (`sch_tree_lock`) before
//! touching `T`. So every `&mut T` handed out is exclusive, and it ends
//! before the lock is released. `change` reads the options under the lock,
//! parses and validates the request without it ([`QdiscOps::parse`] sees no
//! `T`) and commits under it again, as net/sched qdiscs parse before
//! `sch_tree_lock`.
//!
//! The private area as a whole is never borrowed: control and data path
//! reach it at once (each holding only what guards the field it touches),
//! and its watchdog belongs to the hrtimer core, which changes it from
//! another CPU. So callbacks hold a raw pointer to it, pass the watchdog to
//! C by address ([`Opaque`]) and borrow only `T`, only under its lock.

use core::ffi::{c_int, c_void};
use core::marker::PhantomData;
use core::mem::{offset_of, size_of, ManuallyDrop, MaybeUninit};
use core::ptr::{self, NonNull};
use kernel::prelude::*;
use kernel::types::Opaque;

#[allow(
    dead_code,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    unsafe_op_in_unsafe_fn,
    improper_ctypes
)]
mod bindings {
    include!("qdisc_bindings.rs");
}
use bindings as b;

/// `NET_XMIT_SUCCESS`.
const NET_XMIT_SUCCESS: c_int = 0;
/// `NET_XMIT_DROP`.
const NET_XMIT_DROP: c_int = 1;

/// An owned packet.
pub(crate) struct Skb(NonNull<b::sk_buff>);

impl Skb {
    /// # Safety
    ///
    /// `p` must be null or a valid sk_buff the caller owns (not on any
    /// list).
    unsafe fn from_raw(p: *mut b::sk_buff) -> Option<Skb> {
        NonNull::new(p).map(Skb)
    }

    /// # Safety
    ///
    /// `p` must be a valid (so non-null) sk_buff the caller owns (not on
    /// any list).
    unsafe fn from_owned(p: *mut b::sk_buff) -> Skb {
        // SAFETY: non-null by the contract above.
        Skb(unsafe { NonNull::new_unchecked(p) })
    }

    fn into_raw(self) -> *mut b::sk_buff {
        ManuallyDrop::new(self).0.as_ptr()
    }

    /// Software-segments a GSO packet (as `tbf_segment` does). The original
    /// stays owned by the caller, which passes it with the segments to
    /// [`Queue::enqueue_segments`].
    pub(crate) fn segment(&self) -> Option<SkbList> {
        // SAFETY: `self.0` is valid; the returned list is new and ours.
        let head = unsafe { b::rsch_gso_segment(self.0.as_ptr()) };
        (!head.is_null()).then_some(SkbList(head))
    }
}

impl Drop for Skb {
    fn drop(&mut self) {
        // SAFETY: we own the skb and never use it again.
        unsafe { b::rsch_kfree_skb(self.0.as_ptr()) }
    }
}

/// A singly linked list of segments produced by [`Skb::segment`].
pub(crate) struct SkbList(*mut b::sk_buff);

impl Iterator for SkbList {
    type Item = Skb;
    fn next(&mut self) -> Option<Skb> {
        // SAFETY: `self.0` is null or the head of a list we own; pop
        // unlinks the head and hands its ownership to us.
        unsafe { Skb::from_raw(b::rsch_skb_list_pop(&mut self.0)) }
    }
}

impl Drop for SkbList {
    fn drop(&mut self) {
        for skb in self.by_ref() {
            drop(skb);
        }
    }
}

/// The verdict of an enqueue, produced only by [`Queue`] methods so the
/// packet's ownership is settled.
pub(crate) struct Enqueued(c_int);

/// The qdisc's FIFO, counters and watchdog, as seen from one callback,
/// which has them to itself while it holds a `Queue` ([`queue`]).
pub(crate) struct Queue<'a> {
    sch: *mut b::Qdisc,
    watchdog: *mut b::qdisc_watchdog,
    to_free: *mut *mut b::sk_buff,
    _borrow: PhantomData<&'a mut b::Qdisc>,
}

/// A packet as enqueue sees it, read in one call.
#[derive(Clone, Copy)]
pub(crate) struct Arrival {
    /// Monotonic time in ns (the watchdog's clock).
    pub(crate) now: u64,
    /// Length as the qdisc layer counts it (`qdisc_pkt_len`).
    pub(crate) len: u32,
    /// Whether it is a GSO super-packet.
    pub(crate) gso: bool,
    /// Packets queued before it.
    pub(crate) packets: u32,
    /// Bytes queued before it.
    pub(crate) bytes: u32,
}

/// The head of the FIFO, as dequeue finds it.
pub(crate) enum Head {
    /// Nothing is queued.
    Empty,
    /// The head must wait until `release` (ns, monotonic).
    Waiting {
        /// Its release time.
        release: u64,
    },
    /// The head's time has come: it is dequeued.
    Due {
        /// The packet, now ours.
        skb: Skb,
        /// The time it was judged at.
        now: u64,
        /// Its release time.
        release: u64,
        /// When it arrived.
        arrival: u64,
    },
}

impl Queue<'_> {
    /// Monotonic time in ns (the watchdog's clock).
    pub(crate) fn now(&self) -> u64 {
        // SAFETY: no preconditions.
        unsafe { b::rsch_now_ns() }
    }

    /// The time, `skb`'s length and GSO flag, and the queue's length and
    /// backlog.
    pub(crate) fn arrival(&self, skb: &Skb) -> Arrival {
        let mut a = MaybeUninit::<b::rsch_arrival>::uninit();
        // SAFETY: `sch` is valid and the queue ours ([`queue`]); `skb` is a
        // valid skb we own; the helper writes every field of `a`.
        let a = unsafe {
            b::rsch_arrival(self.sch, skb.0.as_ptr(), a.as_mut_ptr());
            a.assume_init()
        };
        Arrival {
            now: a.now,
            len: a.len,
            gso: a.gso,
            packets: a.qlen,
            bytes: a.backlog,
        }
    }

    /// Appends `skb` to the FIFO with its release and arrival times
    /// (read back by [`Queue::dequeue_due`]), counting an overlimit if it
    /// has to wait.
    pub(crate) fn push_stamped(
        &mut self,
        skb: Skb,
        release: u64,
        arrival: u64,
        overlimit: bool,
    ) -> Enqueued {
        // SAFETY: the queue is ours ([`queue`]) and takes ownership of the
        // skb, whose cb is ours until it leaves the qdisc.
        Enqueued(unsafe {
            b::rsch_enqueue_stamped(skb.into_raw(), self.sch, release, arrival, overlimit)
        })
    }

    /// Drops a packet the qdisc refuses: counted in `drops` when called
    /// from enqueue (the only caller); elsewhere just freed.
    pub(crate) fn drop_packet(&mut self, skb: Skb) -> Enqueued {
        if self.to_free.is_null() {
            drop(skb);
            return Enqueued(NET_XMIT_DROP);
        }
        // SAFETY: the queue is ours ([`queue`]); `to_free` is the list of
        // this enqueue call, which takes ownership of the skb.
        Enqueued(unsafe { b::rsch_drop(skb.into_raw(), self.sch, self.to_free) })
    }

    /// Queues `segments`, what [`Skb::segment`] made of `orig`, passing each
    /// to `each` (which queues or drops it), then tells the ancestors what
    /// the queue holds in place of `orig` and frees it. Returns the verdict
    /// for `orig`.
    ///
    /// The ancestors' counters are corrected by what the queue itself
    /// gained, read before and after, never by a count the caller keeps: a
    /// wrong one would make `qdisc_tree_reduce_backlog` notify a parent
    /// class of a queue that is not empty, or miss one that is.
    pub(crate) fn enqueue_segments(
        &mut self,
        orig: Skb,
        segments: SkbList,
        mut each: impl FnMut(&mut Self, Skb) -> Enqueued,
    ) -> Enqueued {
        let before = self.counts();
        for seg in segments {
            each(self, seg);
        }
        let after = self.counts();
        // Enqueue only adds to the queue; a drop leaves it as it was. The
        // backlog is a u32 that may wrap (no byte limit), its difference
        // is still exact.
        let queued = after.qlen.saturating_sub(before.qlen);
        let bytes = after.backlog.wrapping_sub(before.backlog);
        if queued == 0 {
            // Every segment was dropped (and counted) already: free the
            // original without counting it again (as tbf_segment does).
            drop(orig);
            return Enqueued(NET_XMIT_DROP);
        }
        // SAFETY: the queue is ours ([`queue`]); consumes `orig`, which we
        // own. `queued` ≤ the limit, far below `c_int::MAX`.
        unsafe { b::rsch_segmented(self.sch, orig.into_raw(), queued as c_int, bytes) };
        Enqueued(NET_XMIT_SUCCESS)
    }

    /// The queue's length and backlog.
    fn counts(&self) -> b::rsch_counts {
        let mut c = MaybeUninit::<b::rsch_counts>::uninit();
        // SAFETY: the queue is ours ([`queue`]); the helper writes every
        // field of `c`.
        unsafe {
            b::rsch_counts(self.sch, c.as_mut_ptr());
            c.assume_init()
        }
    }

    /// Takes the head if its release time has come; one call, and the
    /// clock is read only when a packet is queued.
    pub(crate) fn dequeue_due(&mut self) -> Head {
        let mut h = MaybeUninit::<b::rsch_head>::uninit();
        // SAFETY: the queue is ours ([`queue`]); the helper writes every
        // field of `h`; a dequeued skb becomes ours.
        let (skb, h) = unsafe {
            let skb = b::rsch_dequeue_due(self.sch, h.as_mut_ptr());
            (Skb::from_raw(skb), h.assume_init())
        };
        if !h.queued {
            return Head::Empty;
        }
        match skb {
            Some(skb) => Head::Due {
                skb,
                now: h.now,
                release: h.release,
                arrival: h.arrival,
            },
            None => Head::Waiting { release: h.release },
        }
    }

    /// Rewrites the release time of every queued packet, head to tail, as
    /// `f` maps it. `f` must be non-decreasing, which keeps the FIFO the
    /// order packets leave in, and keep a time already due (a packet a
    /// parent peeked is off the queue, and not re-timed). Returns the
    /// head's new release time, if a packet is queued.
    pub(crate) fn retime(&mut self, mut f: impl FnMut(u64) -> u64) -> Option<u64> {
        let mut head = None;
        // SAFETY: the queue is ours ([`queue`]), so nothing else touches
        // `sch->q` during the walk. It visits at most `qlen` skbs from the
        // head and stops at a NULL `next`: `qlen` also counts a packet a
        // parent peeked (`sch->gso_skb`, not on the list), and the list
        // ends in NULL, as `__qdisc_enqueue_tail` links each skb behind the
        // tail with `next` cleared and the first into an empty queue comes
        // off no list (the core's skb, or a GSO segment `rsch_skb_list_pop`
        // unlinked). Every skb on it is ours, and its cb holds the stamps
        // `push_stamped` wrote. The peeked packet was due when dequeued,
        // and `f` keeps a due time.
        unsafe {
            let mut skb = b::rsch_queue_head(self.sch);
            for _ in 0..self.counts().qlen {
                if skb.is_null() {
                    break;
                }
                let release = b::rsch_release_stamp(skb);
                *release = f(*release);
                head.get_or_insert(*release);
                skb = b::rsch_queue_next(skb);
            }
        }
        head
    }

    /// Arms the watchdog to run dequeue again at `at` (ns, monotonic).
    pub(crate) fn wake_at(&mut self, at: u64, slack: u64) {
        // SAFETY: the watchdog was initialised in `init` for this qdisc.
        unsafe { b::qdisc_watchdog_schedule_range_ns(self.watchdog, at, slack) }
    }
}

/// Attributes nested in `TCA_OPTIONS`, walked as bytes: the walk is the
/// same whether or not the sender set `NLA_F_NESTED` (most of tc's own
/// qdiscs do not).
pub(crate) struct Attrs<'a> {
    bytes: &'a [u8],
    base: *const b::nlattr,
}

/// One attribute: its type (flags stripped) and payload.
pub(crate) struct Attr<'a> {
    /// `nla_type` without `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER`.
    pub(crate) kind: u16,
    /// The payload.
    pub(crate) payload: &'a [u8],
    /// Where it starts.
    pub(crate) at: AttrPos<'a>,
}

/// Where an attribute (or what should have been one) starts in the
/// request: what [`ExtAck::set`] reports as the offending attribute.
#[derive(Clone, Copy)]
pub(crate) struct AttrPos<'a>(*const b::nlattr, PhantomData<&'a [u8]>);

impl<'a> Attrs<'a> {
    /// # Safety
    ///
    /// `nla` is null or a valid attribute that outlives `'a`.
    unsafe fn new(nla: *const b::nlattr) -> Option<Attrs<'a>> {
        if nla.is_null() {
            return None;
        }
        // SAFETY: `nla` is valid: data and len describe its payload.
        let (data, len) = unsafe { (b::rsch_nla_data(nla), b::rsch_nla_len(nla)) };
        // SAFETY: netlink validated that the payload lies within the
        // message, which outlives this call.
        let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len.max(0) as usize) };
        Some(Attrs {
            bytes,
            base: data.cast(),
        })
    }

    /// Iterates; on a malformed stream yields, once, `Err` with where the
    /// bad attribute's header starts (`None` if fewer than its 4 bytes are
    /// left: no attribute to point at).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Result<Attr<'a>, Option<AttrPos<'a>>>> + 'a {
        let mut rest = self.bytes;
        let mut offset = 0usize;
        let base = self.base.cast::<u8>();
        core::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            // Inside the request: `offset` < the payload's length.
            let at = AttrPos(base.wrapping_add(offset).cast(), PhantomData);
            if rest.len() < 4 {
                rest = &[];
                return Some(Err(None));
            }
            let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
            let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
            if len < 4 || len > rest.len() {
                rest = &[];
                return Some(Err(Some(at)));
            }
            let attr = Attr {
                kind,
                payload: &rest[4..len],
                at,
            };
            let advance = ((len + 3) & !3).min(rest.len());
            rest = &rest[advance..];
            offset += advance;
            Some(Ok(attr))
        })
    }
}

/// The extended ack of the current request.
pub(crate) struct ExtAck(*mut b::netlink_ext_ack);

impl ExtAck {
    /// Sets the message (prefixed "smooth: ") and the offending attribute.
    pub(crate) fn set(&mut self, msg: core::fmt::Arguments<'_>, bad: Option<AttrPos<'_>>) {
        let mut buf = MsgBuf([0; 80], 0);
        let _ = core::fmt::write(&mut buf, msg);
        let end = buf.1.min(buf.0.len() - 1);
        buf.0[end] = 0;
        let bad = bad.map_or(ptr::null(), |a| a.0);
        // SAFETY: extack may be null (the helper checks); `buf` is a NUL
        // terminated string copied by the helper before returning.
        unsafe { b::rsch_set_err(self.0, bad, buf.0.as_ptr().cast()) }
    }
}

struct MsgBuf([u8; 80], usize);

impl core::fmt::Write for MsgBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.0.len() - 1 - self.1.min(self.0.len() - 1);
        let n = s.len().min(room);
        self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
        self.1 += n;
        Ok(())
    }
}

/// Puts attributes into a dump message.
pub(crate) struct AttrWriter(*mut b::sk_buff);

impl AttrWriter {
    /// Adds a u64 attribute (padded with `pad` where the arch needs it).
    pub(crate) fn put_u64(&mut self, kind: u16, value: u64, pad: u16) -> Result {
        // SAFETY: `self.0` is the dump skb, valid during the callback.
        let r = unsafe { b::rsch_put_u64(self.0, kind.into(), value, pad.into()) };
        if r < 0 {
            Err(Error::from_errno(r))
        } else {
            Ok(())
        }
    }

    /// Adds a u32 attribute.
    pub(crate) fn put_u32(&mut self, kind: u16, value: u32) -> Result {
        // SAFETY: as above.
        let r = unsafe { b::rsch_put_u32(self.0, kind.into(), value) };
        if r < 0 {
            Err(Error::from_errno(r))
        } else {
            Ok(())
        }
    }
}

/// What a qdisc implements. Each method maps onto one `Qdisc_ops` callback.
pub(crate) trait QdiscOps: Sized + Send {
    /// The qdisc kind (`tc qdisc add … KIND`), at most 15 bytes.
    const KIND: &'static [u8];
    /// Attribute type used for padding 64-bit attributes in dumps.
    const PAD_ATTR: u16;

    /// `init`: creates the state from the options (`None` when tc sent no
    /// `TCA_OPTIONS`).
    fn init(q: &mut Queue<'_>, opts: Option<&Attrs<'_>>, ext: &mut ExtAck) -> Result<Self>;
    /// The options in force, as [`QdiscOps::parse`] takes them.
    type Options: Copy;
    /// A copy of the options in force (taken under the root lock).
    fn options(&self) -> Self::Options;
    /// `change`, first half: `opts` parsed and validated on top of `base`,
    /// with no lock held (the data path keeps running); a refusal sets
    /// extack and changes nothing.
    fn parse(base: Self::Options, opts: &Attrs<'_>, ext: &mut ExtAck) -> Result<Self::Options>;
    /// `change`, second half: commits what [`QdiscOps::parse`] accepted,
    /// under the root lock. Cannot fail, so a change is all or nothing.
    fn apply(&mut self, q: &mut Queue<'_>, opts: Self::Options);
    /// `enqueue`.
    fn enqueue(&mut self, q: &mut Queue<'_>, skb: Skb) -> Enqueued;
    /// `dequeue`: a packet whose time has come, or `None` (having armed
    /// the watchdog if packets wait).
    fn dequeue(&mut self, q: &mut Queue<'_>) -> Option<Skb>;
    /// `reset`: the queue was purged.
    fn reset(&mut self, q: &mut Queue<'_>);
    /// `dump`: the parameters in force.
    fn dump(&self, w: &mut AttrWriter) -> Result;
    /// The xstats blob's type (e.g. a byte array of its exact size).
    type XStats: AsRef<[u8]>;
    /// `dump_stats`: the xstats blob at `now`.
    fn xstats(&self, now: u64) -> Self::XStats;
}

/// The qdisc's private area (zeroed by the core before `init`).
#[repr(C)]
struct Private<T> {
    /// The hrtimer core's: only its address is ever taken.
    watchdog: Opaque<b::qdisc_watchdog>,
    /// `state` is initialised: set by a successful `init`, cleared by
    /// `destroy`, both under RTNL while the data path cannot reach the
    /// qdisc.
    ready: bool,
    state: MaybeUninit<T>,
}

/// The private area of `sch`.
///
/// # Safety
///
/// `sch` is a live qdisc of kind `T` (its private area is a `Private<T>`).
unsafe fn private<T>(sch: *mut b::Qdisc) -> *mut Private<T> {
    // SAFETY: by the caller's contract; `qdisc_priv()` is the flexible
    // array that ends `struct Qdisc`, at its size (`check_layout`), sized
    // and (cache-line) aligned for `Private<T>` (`priv_size`).
    unsafe { sch.byte_add(size_of::<b::Qdisc>()).cast::<Private<T>>() }
}

/// The watchdog in `p`, by address (no reference is made).
///
/// # Safety
///
/// `p` is a live qdisc's private area ([`private`]).
unsafe fn watchdog<T>(p: *mut Private<T>) -> *mut b::qdisc_watchdog {
    // SAFETY: `p` is valid (caller); `addr_of!` makes no reference.
    Opaque::raw_get(unsafe { ptr::addr_of!((*p).watchdog) })
}

/// Whether `p`'s state is initialised.
///
/// # Safety
///
/// `p` is a live qdisc's private area; the caller holds RTNL or the root
/// lock (`ready` only changes under RTNL while nothing else can reach it).
unsafe fn ready<T>(p: *mut Private<T>) -> bool {
    // SAFETY: by the caller's contract; reads the field alone.
    unsafe { ptr::addr_of!((*p).ready).read() }
}

/// The qdisc's state `T`, borrowed for `'a`.
///
/// # Safety
///
/// `p` is a live qdisc's private area whose state is initialised
/// ([`ready`]), and for all of `'a` the caller holds what makes the access
/// exclusive: the root lock, or RTNL while the data path cannot reach the
/// qdisc.
unsafe fn state<'a, T>(p: *mut Private<T>) -> &'a mut T {
    // SAFETY: by the caller's contract; borrows the `state` field alone.
    unsafe { (*ptr::addr_of_mut!((*p).state)).assume_init_mut() }
}

/// `sch`'s queue for one callback.
///
/// # Safety
///
/// For all of `'a` the caller has `sch`'s FIFO and counters to itself: it
/// holds the root lock, or RTNL while the data path cannot reach `sch`
/// (init; reset from destroy). `watchdog` is `sch`'s, initialised, and
/// `to_free` null or the drop list of the enqueue call in progress.
unsafe fn queue<'a>(
    sch: *mut b::Qdisc,
    watchdog: *mut b::qdisc_watchdog,
    to_free: *mut *mut b::sk_buff,
) -> Queue<'a> {
    Queue {
        sch,
        watchdog,
        to_free,
        _borrow: PhantomData,
    }
}

/// `Qdisc_ops.init`.
///
/// # Safety
///
/// Called by the qdisc core only: once, under RTNL, on a new qdisc of kind
/// `T` that the data path cannot reach yet; `opt` null or a valid attribute
/// and `extack` null or valid, both for the duration of the call.
unsafe extern "C" fn init_cb<T: QdiscOps>(
    sch: *mut b::Qdisc,
    opt: *mut b::nlattr,
    extack: *mut b::netlink_ext_ack,
) -> c_int {
    // SAFETY: the core calls init once on a new qdisc of our kind.
    let (p, wd) = unsafe {
        let p = private::<T>(sch);
        (p, watchdog(p))
    };
    // SAFETY: the watchdog lives in the private area as long as `sch`.
    unsafe { b::qdisc_watchdog_init(wd, sch) };
    // SAFETY: nothing else reaches the qdisc yet; the watchdog is
    // initialised (above).
    let mut q = unsafe { queue(sch, wd, ptr::null_mut()) };
    // SAFETY: `opt` is null or valid for the duration of the call.
    let attrs = unsafe { Attrs::new(opt) };
    match T::init(&mut q, attrs.as_ref(), &mut ExtAck(extack)) {
        Ok(new) => {
            // SAFETY: nothing else reaches the qdisc yet; `state` is
            // uninitialised (init runs once), so nothing is overwritten.
            unsafe {
                (*ptr::addr_of_mut!((*p).state)).write(new);
                ptr::addr_of_mut!((*p).ready).write(true);
            }
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `Qdisc_ops.destroy`.
///
/// # Safety
///
/// Called by the qdisc core only: once, under RTNL, after `init` (also a
/// failed one), when the data path can no longer reach `sch`.
unsafe extern "C" fn destroy_cb<T: QdiscOps>(sch: *mut b::Qdisc) {
    // SAFETY: called once, also after a failed init (then `ready` is
    // false); the watchdog was initialised in init_cb, which always runs
    // first.
    unsafe {
        let p = private::<T>(sch);
        b::qdisc_watchdog_cancel(watchdog(p));
        if ready(p) {
            ptr::addr_of_mut!((*p).ready).write(false);
            // The state was initialised (ready) and is dropped once; the
            // data path can no longer reach it.
            (*ptr::addr_of_mut!((*p).state)).assume_init_drop();
        }
    }
}

/// `Qdisc_ops.reset`.
///
/// # Safety
///
/// Called by the qdisc core only, under RTNL, with `sch`'s root lock held
/// or (`qdisc_put` of a qdisc being destroyed, also after a failed init)
/// while nothing else can reach it.
unsafe extern "C" fn reset_cb<T: QdiscOps>(sch: *mut b::Qdisc) {
    // SAFETY: by the contract above, the access is exclusive.
    let (p, wd) = unsafe {
        let p = private::<T>(sch);
        (p, watchdog(p))
    };
    // SAFETY: as above; frees every queued packet.
    unsafe { b::rsch_reset_queue(sch) };
    // SAFETY: watchdog initialised in init_cb.
    unsafe { b::qdisc_watchdog_cancel(wd) };
    // SAFETY: as above; the state is borrowed only once it is initialised.
    if unsafe { ready(p) } {
        // SAFETY: initialised (ready); the access is exclusive (above).
        unsafe { state(p).reset(&mut queue(sch, wd, ptr::null_mut())) };
    }
}

/// `Qdisc_ops.enqueue`.
///
/// # Safety
///
/// Called by the qdisc core only, with the root lock held, on an
/// initialised qdisc; `skb` is a valid packet whose ownership passes to us
/// and `to_free` the list this call's drops go to.
unsafe extern "C" fn enqueue_cb<T: QdiscOps>(
    skb: *mut b::sk_buff,
    sch: *mut b::Qdisc,
    to_free: *mut *mut b::sk_buff,
) -> c_int {
    // SAFETY: root lock held for the whole call (the queue is ours);
    // enqueue only runs on an initialised qdisc; the core hands us
    // ownership of a valid skb.
    let (state, mut q, skb) = unsafe {
        let p = private::<T>(sch);
        (
            state(p),
            queue(sch, watchdog(p), to_free),
            Skb::from_owned(skb),
        )
    };
    state.enqueue(&mut q, skb).0
}

/// `Qdisc_ops.dequeue`.
///
/// # Safety
///
/// Called by the qdisc core only, with the root lock held, on an
/// initialised qdisc.
unsafe extern "C" fn dequeue_cb<T: QdiscOps>(sch: *mut b::Qdisc) -> *mut b::sk_buff {
    // SAFETY: root lock held for the whole call (the queue is ours);
    // initialised qdisc.
    let (state, mut q) = unsafe {
        let p = private::<T>(sch);
        (state(p), queue(sch, watchdog(p), ptr::null_mut()))
    };
    state.dequeue(&mut q).map_or(ptr::null_mut(), Skb::into_raw)
}

/// `Qdisc_ops.peek`.
///
/// # Safety
///
/// Called by the qdisc core only, with the root lock held.
unsafe extern "C" fn peek_cb<T: QdiscOps>(sch: *mut b::Qdisc) -> *mut b::sk_buff {
    // SAFETY: root lock held; the generic helper stashes a dequeued skb in
    // `sch->gso_skb`, which the core's `qdisc_dequeue_peeked` returns next.
    unsafe { b::rsch_peek_dequeued(sch) }
}

/// `Qdisc_ops.change`.
///
/// # Safety
///
/// Called by the qdisc core only: under RTNL (which serialises every
/// control operation on `sch`) but not the root lock, on an initialised
/// qdisc; `opt` null or valid and `extack` null or valid for the call.
unsafe extern "C" fn change_cb<T: QdiscOps>(
    sch: *mut b::Qdisc,
    opt: *mut b::nlattr,
    extack: *mut b::netlink_ext_ack,
) -> c_int {
    // SAFETY: RTNL held, qdisc initialised; `opt` null or valid.
    let (p, attrs) = unsafe { (private::<T>(sch), Attrs::new(opt)) };
    let Some(attrs) = attrs else { return 0 };
    // Parse and validate outside the root lock, so a large or bad request
    // never stalls the data path; RTNL keeps the options read here in force
    // until the new ones are committed.
    // SAFETY: under the root lock (which also orders this read after the
    // data path's writes), the state borrowed only until the unlock.
    let base = unsafe {
        b::rsch_tree_lock(sch);
        let base = state(p).options();
        b::rsch_tree_unlock(sch);
        base
    };
    let new = match T::parse(base, &attrs, &mut ExtAck(extack)) {
        Ok(new) => new,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the root lock keeps enqueue/dequeue out while the state and
    // the queue are borrowed (the watchdog initialised in init, no drop
    // list: change drops nothing); both borrows end before the unlock.
    unsafe {
        b::rsch_tree_lock(sch);
        state(p).apply(&mut queue(sch, watchdog(p), ptr::null_mut()), new);
        b::rsch_tree_unlock(sch);
    }
    0
}

/// `TCA_OPTIONS`.
const TCA_OPTIONS: c_int = 2;

/// `Qdisc_ops.dump`.
///
/// # Safety
///
/// Called by the qdisc core only: under RTNL, on an initialised qdisc;
/// `skb` is the dump message being built.
unsafe extern "C" fn dump_cb<T: QdiscOps>(sch: *mut b::Qdisc, skb: *mut b::sk_buff) -> c_int {
    // SAFETY: RTNL held, qdisc initialised; `skb` is the dump message.
    let (p, nest) = unsafe { (private::<T>(sch), b::rsch_nest_start(skb, TCA_OPTIONS)) };
    if nest.is_null() {
        return -1;
    }
    // SAFETY: the root lock for a consistent read of the state, borrowed
    // only until the unlock.
    let r = unsafe {
        b::rsch_tree_lock(sch);
        let r = state(p).dump(&mut AttrWriter(skb));
        b::rsch_tree_unlock(sch);
        r
    };
    match r {
        // SAFETY: `nest` was started on `skb` above.
        Ok(()) => unsafe { b::rsch_nest_end(skb, nest) },
        Err(_) => {
            // SAFETY: as above.
            unsafe { b::rsch_nest_cancel(skb, nest) };
            -1
        }
    }
}

/// `Qdisc_ops.dump_stats`.
///
/// # Safety
///
/// Called by the qdisc core only: under RTNL, on an initialised qdisc;
/// `d` is valid for the call.
unsafe extern "C" fn dump_stats_cb<T: QdiscOps>(sch: *mut b::Qdisc, d: *mut b::gnet_dump) -> c_int {
    // SAFETY: RTNL held, qdisc initialised; the root lock for a consistent
    // snapshot, the state borrowed only until the unlock.
    let blob = unsafe {
        let p = private::<T>(sch);
        b::rsch_tree_lock(sch);
        let blob = state(p).xstats(b::rsch_now_ns());
        b::rsch_tree_unlock(sch);
        blob
    };
    let bytes = blob.as_ref();
    let Ok(len) = c_int::try_from(bytes.len()) else {
        return -1;
    };
    // SAFETY: `d` is valid for the call; gnet_stats_copy_app only reads
    // `len` bytes of the blob (it copies them; the pointer is not kept).
    unsafe { b::gnet_stats_copy_app(d, bytes.as_ptr().cast_mut().cast::<c_void>(), len) }
}

/// A registered qdisc kind; unregistered on drop.
pub(crate) struct Registration {
    /// The core's once registered: it links it into its list (`next`) and
    /// reads it from any CPU, so Rust keeps only its address.
    ops: Pin<KBox<Opaque<b::Qdisc_ops>>>,
}

// SAFETY: `Registration` holds the table only to pass its address to
// `unregister_qdisc` in `drop`, which may run on any thread; the core
// synchronises its own accesses (`qdisc_mod_lock`, RCU for the data path).
unsafe impl Send for Registration {}
// SAFETY: `&Registration` gives no access to the table.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers `T` as a qdisc kind owned by `module`.
    pub(crate) fn new<T: QdiscOps>(module: &'static ThisModule) -> Result<Registration> {
        check_layout()?;
        let mut id = [0 as core::ffi::c_char; 16];
        if T::KIND.len() >= id.len() {
            return Err(EINVAL);
        }
        for (d, s) in id.iter_mut().zip(T::KIND) {
            *d = *s as core::ffi::c_char;
        }
        let ops = b::Qdisc_ops {
            id,
            priv_size: size_of::<Private<T>>() as c_int,
            enqueue: Some(enqueue_cb::<T>),
            dequeue: Some(dequeue_cb::<T>),
            peek: Some(peek_cb::<T>),
            init: Some(init_cb::<T>),
            reset: Some(reset_cb::<T>),
            destroy: Some(destroy_cb::<T>),
            change: Some(change_cb::<T>),
            dump: Some(dump_cb::<T>),
            dump_stats: Some(dump_stats_cb::<T>),
            owner: module.as_ptr().cast(),
            // SAFETY: all-zero is a valid `Qdisc_ops` (null pointers, no
            // callback, no flags), as a C designated initialiser leaves
            // the fields it does not name.
            ..unsafe { core::mem::zeroed() }
        };
        let ops = KBox::pin(Opaque::new(ops), GFP_KERNEL)?;
        // SAFETY: the table is pinned and outlives the registration (it is
        // unregistered in `drop` before being freed).
        let r = unsafe { b::register_qdisc(ops.get()) };
        if r != 0 {
            return Err(Error::from_errno(r));
        }
        Ok(Registration { ops })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; no qdisc of this kind can exist now
        // (each holds a reference on the owning module).
        unsafe { b::unregister_qdisc(self.ops.get()) };
    }
}

/// Compares bindgen's layout of the structs we build or embed with the C
/// compiler's: a mismatch refuses to load instead of corrupting memory.
fn check_layout() -> Result {
    let want = [
        size_of::<b::Qdisc_ops>(),
        offset_of!(b::Qdisc_ops, enqueue),
        offset_of!(b::Qdisc_ops, dump_stats),
        offset_of!(b::Qdisc_ops, owner),
        size_of::<b::qdisc_watchdog>(),
        offset_of!(b::Qdisc_ops, priv_size),
        // `qdisc_priv()`, computed in Rust as the end of `struct Qdisc`.
        size_of::<b::Qdisc>(),
        size_of::<b::Qdisc>(),
    ];
    for (what, want) in want.into_iter().enumerate() {
        // SAFETY: no preconditions.
        let have = unsafe { b::rsch_layout(what as c_int) };
        if have != want {
            pr_err!(
                "layout check {} failed: C says {}, bindgen {}\n",
                what,
                have,
                want
            );
            return Err(EINVAL);
        }
    }
    Ok(())
}
