#!/usr/bin/env python3
"""A bursty UDP stream with per-packet one-way delays, measured in the guest.

    burst_stream.py recv PORT SECS OUT.json [READY]
    burst_stream.py send HOST PORT SECS PERIOD_MS BURST_BYTES [PAYLOAD [GOP I_TO_P]]
    burst_stream.py analyse OUT.json RATE_BYTES_PER_S

The sender emits, every PERIOD_MS, a burst of BURST_BYTES cut into
datagrams of PAYLOAD bytes (default 1200), back to back: a frame of a video
stream. With GOP and I_TO_P, every GOP-th frame (from the first) is an
I-frame I_TO_P times as large (the paper's stream: GOP 30, I_TO_P 6). It
prints how many datagrams it sent. Each datagram carries its sequence number and the send time
(CLOCK_REALTIME, ns). The receiver timestamps each datagram in the kernel
(SO_TIMESTAMPNS, the moment it reached the socket) until SECS have passed
or, once the stream has begun, 2 s without a datagram; it creates the file
READY once its port is bound (for the sender to wait on), and writes
`[[seq, sent_ns, received_ns, payload_len], ...]`. Sender and receiver run in
two network namespaces of one kernel, so both read the same clock.

`analyse` prints one JSON object: one-way delay percentiles (ns), RFC 3550
jitter J (mean over the run, ns), the p99 of |IPDV| (RFC 3393, consecutive
packets, ns), and `sigma`: the token-bucket depth at
RATE the arrivals need, sup over all windows — max over i <= j of
sum(len_i..len_j) - RATE * (t_j - t_i), with len the L2 frame length the
qdisc counts (payload + UDP 8 + IPv4 20 + Ethernet 14).
"""

import json
import socket
import struct
import sys
import time

HEADER = struct.Struct("!IQ")
# Python's socket module does not export it; 35 on x86_64 (asm-generic).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
L2_OVERHEAD = 8 + 20 + 14


# Reads that time out (0.5 s each) in a row, once the stream has begun,
# that end it: 2 s without a datagram. Counted by reads, not by the clock,
# so a stalled guest still reads what its socket holds before deciding.
IDLE_READS = 4


def recv(port, secs, out, ready=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind(("0.0.0.0", port))
    if ready:
        open(ready, "w").close()
    s.settimeout(0.5)
    end = time.monotonic() + secs
    idle = 0
    rows = []
    while time.monotonic() < end:
        try:
            data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(16))
        except socket.timeout:
            idle += 1 if rows else 0
            if idle >= IDLE_READS:
                break
            continue
        idle = 0
        stamp = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                stamp = sec * 1_000_000_000 + nsec
        if stamp is None or len(data) < HEADER.size:
            continue
        seq, sent = HEADER.unpack_from(data)
        rows.append([seq, sent, stamp, len(data)])
    with open(out, "w") as f:
        json.dump(rows, f)


def send(host, port, secs, period_ms, burst, payload, gop=1, i_to_p=1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    pad = bytes(max(payload - HEADER.size, 0))
    period = period_ms * 1_000_000
    start = time.monotonic_ns()
    seq = 0
    frame = 0
    while True:
        due = start + frame * period
        if due - start >= secs * 1_000_000_000:
            break
        wait = due - time.monotonic_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        left = burst * (i_to_p if frame % gop == 0 else 1)
        while left > 0:
            n = min(payload, left)
            s.sendto(HEADER.pack(seq, time.time_ns()) + pad[: max(n - HEADER.size, 0)], (host, port))
            seq += 1
            left -= n
        frame += 1
    print(seq)


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    k = min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))
    return sorted_values[k]


def analyse(path, rate):
    rows = sorted(json.load(open(path)), key=lambda r: r[0])
    delays = [r[2] - r[1] for r in rows]
    jitter, jsum = 0.0, 0.0
    for a, b in zip(delays, delays[1:]):
        jitter += (abs(b - a) - jitter) / 16
        jsum += jitter
    # sigma in arrival order at the receiver (what a downstream bucket sees).
    arrivals = sorted((r[2], r[3] + L2_OVERHEAD) for r in rows)
    sigma, prefix, low = 0.0, 0.0, float("inf")
    for t, length in arrivals:
        low = min(low, prefix - rate * t / 1e9)
        prefix += length
        sigma = max(sigma, prefix - rate * t / 1e9 - low)
    d = sorted(delays)
    ipdv = sorted(abs(b - a) for a, b in zip(delays, delays[1:]))
    print(json.dumps({
        "packets": len(rows),
        "delay_p1": percentile(d, 1),
        "delay_p50": percentile(d, 50),
        "delay_p99": percentile(d, 99),
        "delay_max": d[-1] if d else 0,
        "jitter_mean": round(jsum / max(len(delays), 1)),
        "ipdv_p99": percentile(ipdv, 99),
        "sigma": round(sigma),
        "largest": max((a[1] for a in arrivals), default=0),
    }))


def main(argv):
    if len(argv) in (4, 5) and argv[0] == "recv":
        recv(int(argv[1]), float(argv[2]), argv[3], argv[4] if len(argv) > 4 else None)
    elif len(argv) in (6, 7, 9) and argv[0] == "send":
        payload = int(argv[6]) if len(argv) > 6 else 1200
        gop, i_to_p = (int(argv[7]), int(argv[8])) if len(argv) > 8 else (1, 1)
        send(argv[1], int(argv[2]), float(argv[3]), float(argv[4]), int(argv[5]), payload, gop, i_to_p)
    elif len(argv) == 3 and argv[0] == "analyse":
        analyse(argv[1], float(argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
