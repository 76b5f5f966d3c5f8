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
    out.write(json.dumps(obj))
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


def serve(hello=True):
    """Answer requests from stdin until it closes."""
    rx, out = _streams()
    poller = select.poll()
    poller.register(rx, select.POLLIN)
    buf = bytearray(MAX_LINE)
    one = bytearray(1)
    n = 0
    overflow = False
    if hello:
        _send(out, {"hello": "mmrenal", "protocol": service.PROTOCOL_VERSION,
                    "firmware": service.FIRMWARE_VERSION})
    while True:
        if not poller.poll(IDLE_MS):
            if n or overflow:
                _send(out, _error("request", "truncated request: no end of line within "
                                  + str(IDLE_MS) + " ms"))
                n = 0
                overflow = False
            continue
        if not rx.readinto(one):  # stdin closed
            if n or overflow:
                _send(out, _error("request", "truncated request: input ended mid-line"))
            return
        c = one[0]
        if c == 10:  # end of line
            if overflow:
                _send(out, _error("request", "request longer than " + str(MAX_LINE) + " bytes"))
            elif n:
                _send(out, answer(bytes(buf[:n]).strip()))
            n = 0
            overflow = False
        elif c == 13:
            continue
        elif overflow:
            continue
        elif n < MAX_LINE:
            buf[n] = c
            n += 1
        else:
            overflow = True
