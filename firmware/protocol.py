"""The line protocol the device serves on its USB serial port (docs/protocol.md).

One JSON object per line in each direction. A request line is read into a fixed
buffer: a line longer than MAX_LINE is discarded to its end and answered with an
error, a partial line left idle for IDLE_MS is answered as truncated, and bytes that
are not UTF-8 JSON get an error answer. The loop never stops for bad input, and each
request allocates a bounded amount.
"""

import sys

import service

try:
    import ujson as json
except ImportError:
    import json

try:
    import select
except ImportError:  # pragma: no cover
    import uselect as select

MAX_LINE = 1024
IDLE_MS = 2000
MAX_ID = 32


def _streams():
    rx = sys.stdin.buffer
    rx = getattr(rx, "raw", rx)  # CPython: unbuffered, so poll() sees every byte
    return rx, sys.stdout


def _send(out, obj):
    # Streamed piece by piece: a dose answer with every regimen in both languages is a
    # few KB, which as one string may find no free block on a long-running heap.
    json.dump(obj, out)
    out.write("\n")
    try:
        out.flush()
    except AttributeError:
        pass


def _error(field, message):
    return {"ok": False, "field": field, "error": message}


def answer(line):
    """The answer dict for one request line (bytes, without its newline)."""
    try:
        req = json.loads(line.decode())
    except (ValueError, UnicodeError):
        return _error("request", "not a JSON object on one line")
    req_id = req.get("id") if isinstance(req, dict) else None
    resp = service.handle(req)
    if req_id is not None:
        if (isinstance(req_id, int) and not isinstance(req_id, bool)) or (
            isinstance(req_id, str) and len(req_id) <= MAX_ID
        ):
            resp["id"] = req_id
        else:
            resp = _error("id", "id must be an integer or a short string")
    return resp


try:
    from time import ticks_diff, ticks_ms
except ImportError:  # CPython
    from time import monotonic

    def ticks_ms():
        return int(monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


class Link:
    """The protocol on stdin/stdout, one byte at a time, without blocking the caller:
    the handheld's main loop calls poll() between button checks and screen updates."""

    def __init__(self, hello=True):
        self.rx, self.out = _streams()
        self.poller = select.poll()
        self.poller.register(self.rx, select.POLLIN)
        self.buf = bytearray(MAX_LINE)
        self.one = bytearray(1)
        self.n = 0
        self.overflow = False
        self.last = ticks_ms()
        if hello:
            _send(self.out, {"hello": "mmrenal", "protocol": service.PROTOCOL_VERSION,
                             "firmware": service.FIRMWARE_VERSION})

    def poll(self, timeout_ms):
        """Answer what arrives within timeout_ms; False once stdin has closed."""
        if not self.poller.poll(timeout_ms):
            if (self.n or self.overflow) and ticks_diff(ticks_ms(), self.last) >= IDLE_MS:
                _send(self.out, _error("request", "truncated request: no end of line within "
                                       + str(IDLE_MS) + " ms"))
                self.n = 0
                self.overflow = False
            return True
        while True:
            if not self.rx.readinto(self.one):  # stdin closed
                if self.n or self.overflow:
                    _send(self.out, _error("request", "truncated request: input ended mid-line"))
                return False
            self.last = ticks_ms()
            self._byte(self.one[0])
            if not self.poller.poll(0):
                return True

    def _byte(self, c):
        if c == 10:  # end of line
            if self.overflow:
                _send(self.out, _error("request", "request longer than " + str(MAX_LINE) + " bytes"))
            elif self.n:
                _send(self.out, answer(bytes(self.buf[:self.n]).strip()))
            self.n = 0
            self.overflow = False
        elif c == 13 or self.overflow:
            return
        elif self.n < MAX_LINE:
            self.buf[self.n] = c
            self.n += 1
        else:
            self.overflow = True


def serve(hello=True):
    """Answer requests from stdin until it closes."""
    link = Link(hello)
    while link.poll(IDLE_MS):
        pass
