"""The line protocol the device serves on its USB serial port (docs/protocol.md).

One JSON object per line in each direction. A request line is read into a fixed
buffer: a line longer than MAX_LINE is discarded to its end and answered with an
error, a partial line left idle for IDLE_MS is answered as truncated, and bytes that
are not UTF-8 JSON get an error answer. A line is refused unparsed when it holds more
brackets or commas than any request needs, so no line can make the parser build more
than a few KB of objects.

Nothing a line holds ends the loop: any exception while a line is parsed, handled or
answered (MemoryError included) is answered ("field": "request" or "internal"),
noted in the audit log where it can be, and serving goes on. Only KeyboardInterrupt
(Ctrl-C, which the host tools send as "\\r\\x03" to reach the REPL) leaves it.
"""

import service  # noqa: I001 (first: its table buffer and code before this module's objects)

import gc
import sys

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
# The largest requests: crcl or aki with 64 history samples hold 66 brackets and about
# 140 commas. More is refused before parsing: 80 nested or listed containers and 200
# values cost the parser a few KB at most, where a 1 KB line of "[[],[]..." or deep
# nesting would cost tens of KB (a Pico's heap has ~50 KB free after boot).
MAX_CONTAINERS = 80
MAX_COMMAS = 200
# Sent when even a small answer cannot be built: a constant, so it needs no memory.
_LAST_WORD = (b'{"ok": false, "field": "internal", "error": "MemoryError: no memory left to '
              b'answer; nothing more was done, ask again"}\n')


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


def _request(line):
    """The request dict (or what the line held) from bytes; an error answer if refused."""
    try:
        text = str(line, "utf-8")
    except UnicodeError:
        return None, _error("request", "not a JSON object on one line")
    if text.count("[") + text.count("{") > MAX_CONTAINERS or text.count(",") > MAX_COMMAS:
        return None, _error("request", "refused unread: more than " + str(MAX_CONTAINERS)
                            + " brackets or " + str(MAX_COMMAS) + " commas (no request needs more)")
    try:
        return json.loads(text), None
    except ValueError:
        return None, _error("request", "not a JSON object on one line")


def _answer(line):
    """(answer dict, the request's id or None) for one request line."""
    req, refused = _request(line)
    if refused:
        return refused, None
    req_id = req.get("id") if isinstance(req, dict) else None
    if req_id is not None and not (
            (isinstance(req_id, int) and not isinstance(req_id, bool))
            or (isinstance(req_id, str) and len(req_id) <= MAX_ID)):
        return _error("id", "id must be an integer or a short string"), None
    resp = service.handle(req)
    if req_id is not None:
        resp["id"] = req_id
    return resp, req_id


def answer(line):
    """The answer dict for one request line (bytes, without its newline)."""
    return _answer(line)[0]


def note_error(text):
    """An error the link recovered from, in the audit log; never raises (a full or
    failing log must not stop the answer)."""
    try:
        import audit

        audit.link_note("error", "link: " + text)
    except Exception:  # noqa: S110 (the answer matters more than the note)
        pass


# A block kept free for the one moment it is needed: when a line cannot be parsed for
# want of a free block (a long-running heap is fragmented), it is let go and the line
# tried once more, then taken back when the heap allows.
_reserve = None


def _take_reserve():
    global _reserve
    if _reserve is None:
        try:
            _reserve = bytearray(4 * MAX_LINE)
        except MemoryError:
            pass


def reply(out, line):
    """Parse, handle and answer one line. Never raises, except KeyboardInterrupt."""
    global _reserve
    req_id = None
    stage = "request"
    try:
        try:
            resp, req_id = _answer(line)
        except MemoryError:
            if _reserve is None:
                raise
            _reserve = None  # let the reserve go, and try the line once more
            gc.collect()
            resp, req_id = _answer(line)
        stage = "answer"
        _send(out, resp)
        resp = None
        _take_reserve()
        return
    except Exception as e:  # MemoryError included: answered below, the loop goes on
        err = e
    resp = None  # noqa: F841 (let the collector take a half-built answer)
    gc.collect()
    try:
        what = type(err).__name__ + ": " + str(err)
        if stage == "answer":
            # Part of the answer may be out already: end that line (the host drops a
            # line that is not a whole JSON object) before the error answer.
            out.write("\n")
        msg = _error("request" if stage == "request" else "internal",
                     what + ("; the request was too large to take" if stage == "request"
                             else "; while answering"))
        if req_id is not None:
            msg["id"] = req_id
        _send(out, msg)
    except Exception:
        try:
            out.write(_LAST_WORD.decode())
        except Exception:  # noqa: S110 (nothing left to say it with; serve on)
            pass
        what = "MemoryError"
    note_error(what)
    _take_reserve()


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
        self.view = memoryview(self.buf)
        self.one = bytearray(1)
        self.n = 0
        self.overflow = False
        self.last = ticks_ms()
        _take_reserve()
        if hello:
            self.hello()

    def hello(self):
        _send(self.out, {"hello": "mmrenal", "protocol": service.PROTOCOL_VERSION,
                         "firmware": service.FIRMWARE_VERSION})

    def poll(self, timeout_ms):
        """Answer what arrives within timeout_ms; False once stdin has closed."""
        try:
            return self._poll(timeout_ms)
        except Exception as e:  # the link itself failed (never expected): say so, go on
            self.n = 0
            self.overflow = False
            gc.collect()
            try:
                _send(self.out, _error("internal", type(e).__name__ + ": " + str(e)
                                       + "; in the link (the line was lost, send it again)"))
            except Exception:  # noqa: S110
                pass
            note_error(type(e).__name__)
            return True

    def _poll(self, timeout_ms):
        if not self.poller.poll(timeout_ms):
            if (self.n or self.overflow) and ticks_diff(ticks_ms(), self.last) >= IDLE_MS:
                self.n = 0
                self.overflow = False
                _send(self.out, _error("request", "truncated request: no end of line within "
                                       + str(IDLE_MS) + " ms"))
            return True
        while True:
            if not self.rx.readinto(self.one):  # stdin closed
                if self.n or self.overflow:
                    self.n = 0
                    self.overflow = False
                    _send(self.out, _error("request", "truncated request: input ended mid-line"))
                return False
            self.last = ticks_ms()
            self._byte(self.one[0])
            if not self.poller.poll(0):
                return True

    def _byte(self, c):
        if c == 10:  # end of line
            n, over = self.n, self.overflow
            self.n = 0  # first: whatever the answer does, the next line starts afresh
            self.overflow = False
            if over:
                _send(self.out, _error("request", "request longer than " + str(MAX_LINE) + " bytes"))
            elif n:
                reply(self.out, self.view[:n])
        elif c == 13 or self.overflow:
            return
        elif self.n < MAX_LINE:
            self.buf[self.n] = c
            self.n += 1
        else:
            self.overflow = True


def serve(hello=True, link=None):
    """Answer requests from stdin until it closes. `link`: one made earlier (main.py
    makes it before the table and the journal take the heap), greeted here."""
    if link is None:
        link = Link(hello)
    elif hello:
        link.hello()
    while link.poll(IDLE_MS):
        pass
