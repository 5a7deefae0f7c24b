//! tc's C ABI: `struct qdisc_util` (same layout in iproute2 6.1 to 7.1) and
//! the helpers tc exports to plugins (resolved from the tc binary when it
//! loads us). Every `unsafe` of the plugin is in this file.

use crate::{nested, parse_args};
use smooth_core::options::Usage;
use smooth_core::report::{self, BucketLabel, Item};
use smooth_core::uapi::XStats;
use smooth_netlink::{Header, NLMSG_HDRLEN, NLM_F_CREATE, NLM_F_EXCL};
use std::ffi::{c_char, c_int, c_void, CStr, CString};

#[repr(C)]
pub struct NlMsgHdr {
    _private: [u8; 0],
}

#[repr(C)]
pub struct RtAttr {
    rta_len: u16,
    rta_type: u16,
}

type ParseFn = unsafe extern "C" fn(
    *mut QdiscUtil,
    c_int,
    *mut *mut c_char,
    *mut NlMsgHdr,
    *const c_char,
) -> c_int;
type PrintFn = unsafe extern "C" fn(*mut QdiscUtil, *mut c_void, *mut RtAttr) -> c_int;

/// iproute2's `struct qdisc_util`.
#[repr(C)]
pub struct QdiscUtil {
    next: *mut QdiscUtil,
    id: *const c_char,
    parse_qopt: Option<ParseFn>,
    print_qopt: Option<PrintFn>,
    print_xstats: Option<PrintFn>,
    parse_copt: Option<ParseFn>,
    print_copt: Option<PrintFn>,
    has_block: Option<unsafe extern "C" fn(*mut QdiscUtil, *mut RtAttr, u32, *mut bool) -> c_int>,
}

/// The symbol tc looks up: `<kind>_qdisc_util`.
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static mut smooth_qdisc_util: QdiscUtil = QdiscUtil {
    next: std::ptr::null_mut(),
    id: c"smooth".as_ptr(),
    parse_qopt: Some(parse_qopt),
    print_qopt: Some(print_qopt),
    print_xstats: Some(print_xstats),
    parse_copt: None,
    print_copt: None,
    has_block: None,
};

const TCA_OPTIONS: c_int = 2;
const NLA_F_NESTED: c_int = 1 << 15;
/// `enum output_type` of json_print.h.
const PRINT_FP: c_int = 1;
const PRINT_JSON: c_int = 2;
/// `COLOR_NONE` of color.h.
const COLOR_NONE: c_int = 6;
/// Each text line of the xstats starts with this, under tc's own stats
/// (as fq's and `tc-smooth show -s` do).
const XSTATS_INDENT: &str = "  ";

unsafe extern "C" {
    fn addattr_l(
        n: *mut NlMsgHdr,
        maxlen: c_int,
        kind: c_int,
        data: *const c_void,
        alen: c_int,
    ) -> c_int;
    fn addattr_nest(n: *mut NlMsgHdr, maxlen: c_int, kind: c_int) -> *mut RtAttr;
    fn addattr_nest_end(n: *mut NlMsgHdr, nest: *mut RtAttr) -> c_int;
    fn print_color_string(
        t: c_int,
        color: c_int,
        key: *const c_char,
        fmt: *const c_char,
        value: *const c_char,
    );
    fn print_color_u64(t: c_int, color: c_int, key: *const c_char, fmt: *const c_char, value: u64);
    fn open_json_object(name: *const c_char);
    fn close_json_object();
    fn print_nl();
}

/// The `maxlen` a qdisc's `parse_qopt` passes to `addattr_*`, as iproute2's
/// own qdiscs do: a bound on the whole message, far below the request
/// buffer tc allocates (TCA_BUF_MAX, 64 KiB) and far above smooth's options.
const MAXLEN: c_int = 1024;

/// Whether tc's request can only create a qdisc (`tc qdisc add`:
/// `NLM_F_CREATE | NLM_F_EXCL`), so that every value not given is its
/// default; `replace` may change an existing one and `change` does.
fn creates_only(header: &[u8]) -> bool {
    let both = NLM_F_CREATE | NLM_F_EXCL;
    Header::parse(header).is_some_and(|h| h.flags & both == both)
}

unsafe extern "C" fn parse_qopt(
    _qu: *mut QdiscUtil,
    argc: c_int,
    argv: *mut *mut c_char,
    n: *mut NlMsgHdr,
    _dev: *const c_char,
) -> c_int {
    let mut words = Vec::new();
    for i in 0..argc.max(0) as usize {
        // SAFETY: tc passes `argc` valid NUL-terminated strings in `argv`.
        let w = unsafe { CStr::from_ptr(*argv.add(i)) };
        match w.to_str() {
            Ok(w) => words.push(w),
            Err(_) => {
                eprintln!("smooth: option words must be UTF-8");
                return -1;
            }
        }
    }
    // SAFETY: `n` is tc's request buffer, which starts with a complete
    // `struct nlmsghdr` (16 bytes).
    let header = unsafe { std::slice::from_raw_parts(n.cast::<u8>(), NLMSG_HDRLEN) };
    let values = match parse_args(&words, creates_only(header)) {
        Ok(v) => v,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("{msg}");
            }
            eprintln!("{Usage}");
            return -1;
        }
    };
    // SAFETY: `n` is tc's request buffer of at least MAXLEN bytes; the
    // helpers check the remaining room and fail instead of overflowing.
    unsafe {
        let nest = addattr_nest(n, MAXLEN, TCA_OPTIONS | NLA_F_NESTED);
        if nest.is_null() {
            return -1;
        }
        for v in &values {
            let (payload, len) = v.payload();
            if addattr_l(
                n,
                MAXLEN,
                v.kind().into(),
                payload.as_ptr().cast(),
                len as c_int,
            ) < 0
            {
                return -1;
            }
        }
        addattr_nest_end(n, nest);
    }
    0
}

/// The payload of an attribute tc hands us.
///
/// # Safety
///
/// `rta` is null or a valid attribute whose `rta_len` bytes are readable.
unsafe fn payload<'a>(rta: *const RtAttr) -> Option<&'a [u8]> {
    if rta.is_null() {
        return None;
    }
    // SAFETY: by the contract above.
    let len = unsafe { (*rta).rta_len } as usize;
    let len = len.checked_sub(4)?;
    // SAFETY: the payload follows the 4-byte header within `rta_len`.
    Some(unsafe { std::slice::from_raw_parts(rta.cast::<u8>().add(4), len) })
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// Prints fields: text `key value ` in plain mode; in JSON a number, or
/// a hex string for an attribute this version does not know.
fn print_items<'a>(items: impl Iterator<Item = Item<'a>>) {
    for item in items {
        let key = c(&item.key.to_string());
        let value = c(&item.value.to_string());
        let text = c(&format!("{} {} ", item.key, item.value));
        // SAFETY: tc's printers take NUL-terminated strings that outlive
        // the call; the format strings contain exactly one conversion.
        unsafe {
            print_color_string(
                PRINT_FP,
                COLOR_NONE,
                std::ptr::null(),
                c"%s".as_ptr(),
                text.as_ptr(),
            );
            match item.value.number() {
                Some(n) => {
                    print_color_u64(PRINT_JSON, COLOR_NONE, key.as_ptr(), c"%llu".as_ptr(), n)
                }
                None => print_color_string(
                    PRINT_JSON,
                    COLOR_NONE,
                    key.as_ptr(),
                    c"%s".as_ptr(),
                    value.as_ptr(),
                ),
            }
        }
    }
}

unsafe extern "C" fn print_qopt(_qu: *mut QdiscUtil, _f: *mut c_void, opt: *mut RtAttr) -> c_int {
    // SAFETY: tc passes TCA_OPTIONS (or null).
    let Some(bytes) = (unsafe { payload(opt) }) else {
        return 0;
    };
    print_items(report::options(nested(bytes)));
    0
}

/// Prints one histogram: `name <128us:N …` as text, `name: {…}` in JSON.
///
/// # Safety
///
/// Only from within tc's print callbacks (tc's JSON context is set up).
unsafe fn print_histogram(name: &str, buckets: &[u64]) {
    let key = c(name);
    let head = c(&format!("{XSTATS_INDENT}{name} "));
    // SAFETY: tc's printers, as in `print_fields`; the object is closed below.
    unsafe {
        print_color_string(
            PRINT_FP,
            COLOR_NONE,
            std::ptr::null(),
            c"%s".as_ptr(),
            head.as_ptr(),
        );
        open_json_object(key.as_ptr());
    }
    for (k, n) in buckets.iter().enumerate() {
        let label = c(&BucketLabel(k).to_string());
        let text = c(&format!("{}:{} ", BucketLabel(k), n));
        // SAFETY: as above.
        unsafe {
            print_color_string(
                PRINT_FP,
                COLOR_NONE,
                std::ptr::null(),
                c"%s".as_ptr(),
                text.as_ptr(),
            );
            print_color_u64(PRINT_JSON, COLOR_NONE, label.as_ptr(), c"%llu".as_ptr(), *n);
        }
    }
    // SAFETY: closes the object opened above.
    unsafe { close_json_object() };
}

unsafe extern "C" fn print_xstats(
    _qu: *mut QdiscUtil,
    _f: *mut c_void,
    xstats: *mut RtAttr,
) -> c_int {
    // SAFETY: tc passes the xstats attribute (or null).
    let Some(bytes) = (unsafe { payload(xstats) }) else {
        return 0;
    };
    let Some(x) = XStats::decode(bytes) else {
        eprintln!("smooth: unknown xstats layout ({} bytes)", bytes.len());
        return -1;
    };
    // SAFETY: tc's printers, as in `print_fields`; our fields are grouped
    // in one "xstats" object so they cannot collide with tc's own keys. tc
    // has ended its own stats' line; ours are indented under it, as fq's.
    unsafe {
        let indent = c(XSTATS_INDENT);
        print_color_string(
            PRINT_FP,
            COLOR_NONE,
            std::ptr::null(),
            c"%s".as_ptr(),
            indent.as_ptr(),
        );
        open_json_object(c"xstats".as_ptr());
    }
    print_items(report::counters(&x));
    for (name, buckets) in report::histograms(&x) {
        // SAFETY: as above; `print_histogram` closes what it opens.
        unsafe {
            print_nl();
            print_histogram(name, buckets);
        }
    }
    // SAFETY: closes the "xstats" object opened above.
    unsafe { close_json_object() };
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use smooth_netlink::{NLM_F_ACK, NLM_F_REPLACE, NLM_F_REQUEST};

    fn header(flags: u16) -> [u8; NLMSG_HDRLEN] {
        Header {
            len: 36,
            kind: 36, // RTM_NEWQDISC
            flags,
            seq: 1,
            pid: 0,
        }
        .to_bytes()
    }

    #[test]
    fn only_add_is_a_creation() {
        let base = NLM_F_REQUEST | NLM_F_ACK;
        assert!(creates_only(&header(base | NLM_F_CREATE | NLM_F_EXCL)));
        assert!(!creates_only(&header(base | NLM_F_CREATE | NLM_F_REPLACE)));
        assert!(!creates_only(&header(base)));
        assert!(!creates_only(&[0; 4]), "a short header creates nothing");
    }
}
