#!/usr/bin/env python3
"""Sends one hand-built RTM_NEWQDISC for a root `smooth` qdisc and prints the
kernel's answer, extack included.

tc and tc-smooth only send what smooth-core's option parser accepts, so they
cannot show what the kernel does with an attribute they would never build:
an unknown type, a wrong payload size, a duplicate, a truncated stream. This
tool builds TCA_OPTIONS byte by byte to ask exactly that.

    smooth_nl.py DEV add|change|replace [--flat] ATTR...

ATTR is TYPE:u32:VALUE, TYPE:u64:VALUE or TYPE:hex:BYTES (TYPE a number, so
that unknown types can be sent). TCA_OPTIONS carries NLA_F_NESTED unless
--flat (stock tc's way). `--raw-options HEX` replaces the whole TCA_OPTIONS
payload. Prints `ok`, or `error ERRNO: MESSAGE (attribute type T)` where T is
the type of the attribute the extack offset points at; exits 0 on ok, 1 on a
kernel error, 2 on bad usage.
"""

import errno
import os
import socket
import struct
import sys

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11

RTM_NEWQDISC = 36
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS = 1, 2
NLA_F_NESTED = 0x8000

TCA_KIND, TCA_OPTIONS = 1, 2
TC_H_ROOT = 0xFFFFFFFF

FLAGS = {
    "add": NLM_F_CREATE | NLM_F_EXCL,
    "change": 0,
    "replace": NLM_F_CREATE | NLM_F_REPLACE,
}


def nla(kind, payload):
    """One attribute, padded to 4 bytes."""
    head = struct.pack("=HH", 4 + len(payload), kind)
    return head + payload + b"\0" * (-len(payload) % 4)


def parse_attr(spec):
    kind, fmt, value = spec.split(":", 2)
    if fmt == "u32":
        payload = struct.pack("=I", int(value, 0))
    elif fmt == "u64":
        payload = struct.pack("=Q", int(value, 0))
    elif fmt == "hex":
        payload = bytes.fromhex(value)
    else:
        raise ValueError(f"attribute format {fmt!r}: expected u32, u64 or hex")
    return nla(int(kind, 0), payload)


def tlvs(buf):
    """(type, payload) pairs of an attribute stream."""
    while len(buf) >= 4:
        length, kind = struct.unpack_from("=HH", buf)
        if length < 4:
            break
        yield kind & 0x3FFF, buf[4:length]
        buf = buf[(length + 3) & ~3:]


def main(argv):
    flat = "--flat" in argv
    argv = [a for a in argv if a != "--flat"]
    raw = None
    if "--raw-options" in argv:
        i = argv.index("--raw-options")
        raw = bytes.fromhex(argv[i + 1])
        del argv[i : i + 2]
    if len(argv) < 2 or argv[1] not in FLAGS:
        print("usage: smooth_nl.py DEV add|change|replace [--flat] ATTR...", file=sys.stderr)
        return 2
    dev, op, specs = argv[0], argv[1], argv[2:]
    try:
        options = raw if raw is not None else b"".join(parse_attr(s) for s in specs)
    except ValueError as e:
        print(f"smooth_nl.py: {e}", file=sys.stderr)
        return 2

    tcmsg = struct.pack("=BxxxiIII", socket.AF_UNSPEC, socket.if_nametoindex(dev), 0, TC_H_ROOT, 0)
    opts_type = TCA_OPTIONS if flat else TCA_OPTIONS | NLA_F_NESTED
    body = tcmsg + nla(TCA_KIND, b"smooth\0") + nla(opts_type, options)
    flags = NLM_F_REQUEST | NLM_F_ACK | FLAGS[op]
    msg = struct.pack("=IHHII", 16 + len(body), RTM_NEWQDISC, flags, 1, 0) + body

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
    sock.sendto(msg, (0, 0))
    reply = sock.recv(65536)
    _, rtype, rflags, _, _ = struct.unpack_from("=IHHII", reply)
    if rtype != NLMSG_ERROR:
        print(f"smooth_nl.py: unexpected reply type {rtype}", file=sys.stderr)
        return 2
    (err,) = struct.unpack_from("=i", reply, 16)
    if err == 0:
        print("ok")
        return 0
    text, pointed = "", None
    if rflags & NLM_F_ACK_TLVS:
        # Capped ack: the error code, then the request's 16-byte header.
        for kind, payload in tlvs(reply[16 + 4 + 16 :]):
            if kind == NLMSGERR_ATTR_MSG:
                text = payload.rstrip(b"\0").decode()
            elif kind == NLMSGERR_ATTR_OFFS:
                (offset,) = struct.unpack("=I", payload)
                if offset + 4 <= len(msg):
                    pointed = struct.unpack_from("=H", msg, offset + 2)[0] & 0x3FFF
    where = f" (attribute type {pointed})" if pointed is not None else ""
    print(f"error {errno.errorcode.get(-err, -err)}: {text}{where}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
