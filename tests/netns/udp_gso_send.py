#!/usr/bin/env python3
"""Sends UDP GSO datagrams (UDP_SEGMENT) and makes every other one's
segmentation fail: with failslab's task filter on, writing 1 to
/proc/self/make-it-fail makes this task's non-sleeping slab allocations
fail, which is what software segmentation makes (GFP_ATOMIC) and what
building the datagram does not (GFP_KERNEL, left alone by failslab's
ignore-gfp-wait).

usage: udp_gso_send.py DEST_IP PORT SENDS SEGMENTS SEGMENT_BYTES GAP_MS
Prints one JSON line: {"sends", "segments", "failing"}.
"""
import json
import os
import socket
import sys
import time

UDP_SEGMENT = 103  # linux/udp.h


def make_it_fail(on):
    fd = os.open("/proc/self/make-it-fail", os.O_WRONLY)
    try:
        os.write(fd, b"1" if on else b"0")
    finally:
        os.close(fd)


def main():
    dest, port, sends, segments, size, gap_ms = sys.argv[1:7]
    sends, segments, size = int(sends), int(segments), int(size)
    # One CPU: the output route is cached per CPU, and a lookup that misses
    # the cache allocates a dst (GFP_ATOMIC), which would fail the send
    # itself while this task's allocations are made to fail. The first
    # send, not failing, fills this CPU's cache.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, size)
    payload = bytes(size * segments)
    failing = 0
    for i in range(sends):
        odd = i % 2 == 1
        make_it_fail(odd)
        # Unconnected: the guest's port-unreachable replies are ignored.
        sock.sendto(payload, (dest, int(port)))
        make_it_fail(False)
        failing += odd
        time.sleep(int(gap_ms) / 1000)
    print(json.dumps({"sends": sends, "segments": segments, "failing": failing}))


if __name__ == "__main__":
    main()
