//! The corpus on a real network: a sender that replays a trace as UDP
//! datagrams at its recorded times, and a receiver that timestamps each one
//! in the kernel. `cargo xtask bench` runs them on both sides of a shaper in
//! the guest kernel (sender in the VM's namespace, receiver in the client's,
//! one kernel, one clock).
//!
//! Wire format: each datagram's payload starts with its sequence number (u32,
//! big-endian) and the sender's CLOCK_REALTIME just before `send` (u64 ns,
//! big-endian), padded with zeros so that the L2 frame has the trace's length
//! (payload + [`L2_OVERHEAD`]); never shorter than the header.

use crate::workload::Trace;
use serde::Serialize;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// UDP 8 + IPv4 20 + Ethernet 14: the bytes a qdisc counts beyond the
/// payload.
pub const L2_OVERHEAD: u32 = 42;
const HEADER: usize = 12;
/// The send buffer the replayer asks for, bytes.
const SEND_BUFFER: libc::c_int = 16 << 20;
/// The shortest frame a replay sends (a trace's shorter packets grow to it).
pub const MIN_FRAME: u32 = L2_OVERHEAD + HEADER as u32;

fn realtime_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// What the sender reports.
#[derive(Clone, Debug, Serialize)]
pub struct Sent {
    /// Datagrams sent.
    pub sent: u64,
    /// How late the sender was against the trace's schedule: p99 and max, ns.
    pub late_p99: u64,
    /// Largest lateness, ns.
    pub late_max: u64,
    /// The most bytes the socket had charged to it just before a send
    /// (`SIOCOUTQ`): datagrams the path, the shaper's queue included, has
    /// not freed yet. A send blocks once this reaches `sndbuf`.
    pub outq_max: u64,
    /// The socket's send buffer, bytes (`SO_SNDBUF`).
    pub sndbuf: u64,
}

/// Sends `trace` to `to`, each packet at its time after the start.
pub fn send(trace: &Trace, to: SocketAddr) -> std::io::Result<Sent> {
    let sock = UdpSocket::bind("0.0.0.0:0")?;
    // A datagram stays charged to this socket until the path frees it, and
    // a shaper's queue on the way (an IFB on the vif's ingress) holds it
    // first: with the default buffer (≈ 200 KB) a deep queue would hold the
    // sender back, and a datagram would reach the shaper later than its
    // stamp. A buffer far deeper than any queue keeps the stamps the
    // arrivals (root may exceed `wmem_max`; `sndbuf` reports what was
    // granted, `outq_max` how much of it was used).
    if set_int(&sock, libc::SO_SNDBUFFORCE, SEND_BUFFER).is_err() {
        set_int(&sock, libc::SO_SNDBUF, SEND_BUFFER)?;
    }
    let mut buf = vec![0u8; 65_536];
    let start = Instant::now();
    let mut late = Vec::with_capacity(trace.len());
    let mut outq_max = 0;
    for (seq, &(at, len)) in trace.iter().enumerate() {
        let due = Duration::from_nanos(at);
        let now = start.elapsed();
        if due > now {
            std::thread::sleep(due - now);
        }
        late.push(start.elapsed().saturating_sub(due).as_nanos() as u64);
        let payload = (len.saturating_sub(L2_OVERHEAD) as usize).clamp(HEADER, buf.len());
        buf[..4].copy_from_slice(&(seq as u32).to_be_bytes());
        buf[4..12].copy_from_slice(&realtime_ns().to_be_bytes());
        outq_max = outq_max.max(int_ioctl(&sock, libc::TIOCOUTQ)?);
        // A full socket buffer is the shaper's queue backing up into the
        // sender: wait and retry rather than lose the datagram here.
        loop {
            match sock.send_to(&buf[..payload], to) {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    std::thread::sleep(Duration::from_micros(200))
                }
                Err(e) => return Err(e),
            }
        }
    }
    late.sort_unstable();
    Ok(Sent {
        sent: trace.len() as u64,
        late_p99: late
            .get(late.len().saturating_sub(1) * 99 / 100)
            .copied()
            .unwrap_or(0),
        late_max: late.last().copied().unwrap_or(0),
        outq_max,
        sndbuf: get_int(&sock, libc::SO_SNDBUF)?,
    })
}

/// One received datagram: sequence, send time, kernel receive time (ns,
/// CLOCK_REALTIME) and L2 length.
pub type Received = (u32, u64, u64, u32);

/// Receives on `port` until `duration` has passed since the first datagram,
/// or `idle` without one once something arrived.
pub fn receive(port: u16, duration: Duration, idle: Duration) -> std::io::Result<Vec<Received>> {
    let sock = UdpSocket::bind(("0.0.0.0", port))?;
    timestamps_on(&sock)?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65_536];
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    let started = Instant::now();
    loop {
        let elapsed_since_first = first.map(|f| f.elapsed());
        if elapsed_since_first.is_some_and(|e| e >= duration)
            || (first.is_some() && last.elapsed() >= idle)
            || (first.is_none() && started.elapsed() >= duration + idle)
        {
            return Ok(out);
        }
        match recv_stamped(&sock, &mut buf) {
            Ok((n, stamp)) if n >= HEADER => {
                let seq = u32::from_be_bytes(buf[..4].try_into().expect("4 bytes"));
                let sent = u64::from_be_bytes(buf[4..12].try_into().expect("8 bytes"));
                out.push((seq, sent, stamp, n as u32 + L2_OVERHEAD));
                first.get_or_insert_with(Instant::now);
                last = Instant::now();
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Asks the kernel to stamp each datagram with the time it reached the
/// socket (`SO_TIMESTAMPNS`), not when this process got around to reading it.
fn timestamps_on(sock: &UdpSocket) -> std::io::Result<()> {
    set_int(sock, libc::SO_TIMESTAMPNS, 1)?;
    set_int(sock, libc::SO_RCVBUF, 4 << 20)
}

/// Sets a `SOL_SOCKET` option that is one int.
fn set_int(sock: &UdpSocket, opt: libc::c_int, value: libc::c_int) -> std::io::Result<()> {
    // SAFETY: `sock` owns a valid socket fd for this call; the option value
    // is a live c_int whose size is passed alongside it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// One `recvmsg` with its `SCM_TIMESTAMPNS` control message: (bytes, ns).
fn recv_stamped(sock: &UdpSocket, buf: &mut [u8]) -> std::io::Result<(usize, u64)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one cmsg carrying a timespec, 8-byte aligned.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: `msg` points at `iov` (into `buf`) and `control`, both alive
    // and exclusively borrowed for the duration of the call.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut stamp = 0;
    // SAFETY: the CMSG_* macros walk the control buffer the kernel just
    // filled, bounded by `msg.msg_controllen`; a SCM_TIMESTAMPNS payload is
    // a timespec, read unaligned.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                stamp = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if stamp == 0 {
        return Err(std::io::Error::other("datagram without SCM_TIMESTAMPNS"));
    }
    Ok((n as usize, stamp))
}

/// An `ioctl` that reads one int (e.g. `TIOCOUTQ`, alias `SIOCOUTQ`).
fn int_ioctl(sock: &UdpSocket, request: libc::c_ulong) -> std::io::Result<u64> {
    let mut value: libc::c_int = 0;
    // SAFETY: `sock` owns a valid fd; the request writes one c_int to the
    // live `value`.
    if unsafe { libc::ioctl(sock.as_raw_fd(), request, &mut value) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(value as u64)
}

/// A `SOL_SOCKET` option that is one int.
fn get_int(sock: &UdpSocket, opt: libc::c_int) -> std::io::Result<u64> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `sock` owns a valid fd; `value` and `len` are live and `len`
    // gives `value`'s size.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(value as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loopback: every datagram arrives with its sequence, a send time
    /// before its kernel receive time, and the trace's L2 length.
    #[test]
    fn a_trace_crosses_loopback_intact() {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let rx = std::thread::spawn(move || {
            receive(port, Duration::from_secs(5), Duration::from_millis(500)).unwrap()
        });
        std::thread::sleep(Duration::from_millis(100));
        let trace: Trace = vec![(0, 1514), (0, 60), (2_000_000, 54), (4_000_000, 300)];
        let sent = send(&trace, format!("127.0.0.1:{port}").parse().unwrap()).unwrap();
        assert_eq!(sent.sent, 4);
        let got = rx.join().unwrap();
        assert_eq!(got.len(), 4);
        for (i, &(seq, at, stamp, len)) in got.iter().enumerate() {
            assert_eq!(seq as usize, i);
            assert!(at <= stamp, "{at} > {stamp}");
            assert_eq!(len, trace[i].1.max(L2_OVERHEAD + HEADER as u32));
        }
    }
}
