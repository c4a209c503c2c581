"""
An RS485 line with DL/T 645-2007 meters on it, for tests: it owns the gateway's pty, answers the
DL/T 645 read requests of the meters it simulates, and relays every other byte (Modbus RTU) to a
second pty where a real pymodbus peer listens, and its answers back. So one serial line carries
both protocols, as on site.

Written from the standard, independently of the gateway's TypeScript: frame
[FE..] 68 A0..A5 68 C L DATA CS 16, address BCD lowest byte first, DATA +0x33, CS = sum mod 256.

argv[1]: JSON {"gateway": pty path, "modbus": pty path or null,
               "meters": {"000012345678": {"00010000": "67452301", ...}}, "garbageEvery": n}
Values are the value bytes as on the wire before +0x33 (BCD, lowest byte first).
stdin: JSON lines {"op": "remove"|"restore"|"stats", "address": "..."}; answers {"ok": true,
"answered": n, "spoiled": n}.
"""
import json
import os
import select
import sys
import termios
import tty

spec = json.loads(sys.argv[1])
meters = {a.upper(): {int(di, 16): bytes.fromhex(v) for di, v in values.items()} for a, values in spec["meters"].items()}
removed = set()
garbage_every = spec.get("garbageEvery", 0)
answered = 0
spoiled = 0


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    return fd


gw = open_raw(spec["gateway"])
mb = open_raw(spec["modbus"]) if spec.get("modbus") else None


def address_bytes(address):
    return bytes(int(address[10 - 2 * i:12 - 2 * i], 16) for i in range(6))


def frame(address, control, data):
    body = bytes([0x68]) + address_bytes(address) + bytes([0x68, control, len(data)]) + bytes((b + 0x33) & 0xFF for b in data)
    return b"\xfe\xfe\xfe\xfe" + body + bytes([sum(body) & 0xFF, 0x16])


def answer(req_address, control, data):
    """The reply of whichever meter the request addresses, or None (silence)."""
    global answered, spoiled
    if control != 0x11 or len(data) != 4:
        return None
    di = int.from_bytes(data, "little")
    if req_address == "AAAAAAAAAAAA":
        candidates = [a for a in meters if a not in removed]
        if len(candidates) != 1:
            return None  # several meters would answer at once: a collision, nobody is heard
        address = candidates[0]
    elif req_address in meters and req_address not in removed:
        address = req_address
    else:
        return None
    answered += 1
    if di not in meters[address]:
        reply = frame(address, 0xD1, bytes([0x02]))  # error: no such data
    else:
        reply = frame(address, 0x91, data + meters[address][di])
    if garbage_every and answered % garbage_every == 0:
        spoiled += 1
        reply = b"\x00\x68\x13\x68" + reply  # stray bytes, even a false frame start, before it
    return reply


def take_dlt(buf):
    """(consumed, request) for the first whole DL/T frame in buf; (0, None) if none is complete yet."""
    start = buf.find(b"\x68")
    if start < 0:
        return len(buf), None
    if len(buf) < start + 10:
        return 0, None
    if buf[start + 7] != 0x68:
        return start + 1, None
    length = buf[start + 9]
    end = start + 12 + length
    if len(buf) < end:
        return 0, None
    if buf[end - 1] != 0x16 or buf[end - 2] != sum(buf[start:end - 2]) & 0xFF:
        return start + 1, None
    address = "".join("%02X" % b for b in reversed(buf[start + 1:start + 7]))
    data = bytes((b - 0x33) & 0xFF for b in buf[start + 10:end - 2])
    return end, (address, buf[start + 8], data)


print(json.dumps({"ready": True}), flush=True)
pending = b""
fds = [gw, sys.stdin] + ([mb] if mb is not None else [])
while True:
    ready, _, _ = select.select(fds, [], [], 1.0)
    for fd in ready:
        if fd is sys.stdin:
            line = sys.stdin.readline()
            if not line:
                sys.exit(0)
            cmd = json.loads(line)
            if cmd["op"] == "remove":
                removed.add(cmd["address"].upper())
            elif cmd["op"] == "restore":
                removed.discard(cmd["address"].upper())
            print(json.dumps({"ok": True, "answered": answered, "spoiled": spoiled}), flush=True)
        elif fd == mb:
            try:
                os.write(gw, os.read(mb, 4096))
            except BlockingIOError:
                pass
        else:
            try:
                pending += os.read(gw, 4096)
            except BlockingIOError:
                continue
            while pending:
                if pending[0] in (0xFE, 0x68):
                    consumed, request = take_dlt(pending.lstrip(b"\xfe"))
                    skipped = len(pending) - len(pending.lstrip(b"\xfe"))
                    if consumed == 0 and request is None:
                        break  # wait for the rest of the frame
                    pending = pending[skipped + consumed:]
                    if request is not None:
                        reply = answer(*request)
                        if reply is not None:
                            os.write(gw, reply)
                else:
                    # Not DL/T 645: a Modbus RTU read request (8 bytes: unit, FC, address, count,
                    # CRC) for the pymodbus peer, relayed whole once it is all here.
                    if len(pending) < 8:
                        break
                    if mb is not None:
                        os.write(mb, pending[:8])
                    pending = pending[8:]
