"""The link survives anything: generated lines, many built to exhaust memory, on a
virtual board at the Pico's heap (180K), and after every batch the board still answers
a valid request right. `make soak` (MMRENAL_SOAK=1) runs 100,000 lines."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from mmrenal import deploy, vboard
from mmrenal.device import Device
from mmrenal.engine import PICO_HEAP

from support import SOAK

LINES = 100_000 if SOAK else 10_000
BATCH = 100
MAX_LINE = 1024  # firmware/protocol.py
# Cockcroft-Gault by hand: (140 - 60) x 70 kg / (72 x 1.00 mg/dL) = 77.78 mL/min.
CRCL = {"op": "crcl", "age": "60", "sex": "M", "weight": "70", "height": "170", "scr": "1.00",
        "scr_unit": "mg/dL"}
CRCL_X10 = 778
GOOD = [b'{"op":"version"}', json.dumps(CRCL).encode(),
        b'{"op":"aki","scr_unit":"mg/dL","history":[[0,"1.0"],[1440,"1.5"]]}',
        b'{"op":"dose","drug":"lenalidomide","crcl":"25"}', b'{"op":"flc_list"}',
        b'{"op":"flc_pull","since":0,"limit":100}', b'{"op":"audit_pull","since":0}',
        b'{"op":"status"}', b'{"op":"table_status"}', b'{"op":"bsa","weight":"70","height":"170"}']


def _fill(rng: random.Random, head: bytes, item: bytes, tail: bytes, sep: bytes = b",") -> bytes:
    """As many items as fit in one line (or a random share of them)."""
    room = MAX_LINE - len(head) - len(tail)
    n = max(1, room // (len(item) + len(sep)))
    if rng.random() < 0.3:
        n = rng.randint(1, n)
    return head + sep.join([item] * n) + tail


def _exhaust(rng: random.Random) -> bytes:
    """Lines built to make the parser allocate as much as one line can: long arrays of
    small values, many keys, deep nesting, just inside and past the firmware's limits."""
    kind = rng.randrange(8)
    item = rng.choice([b"0", b"[]", b"{}", b'"a"', b"0.5", b"1e9", b"[0]", b"99999999999999999999",
                       b"null", b'""'])
    if kind == 0:
        return _fill(rng, b"[", item, b"]")
    if kind == 1:
        return _fill(rng, b'{"op":"crcl","history":[', item, b"]}")
    if kind == 2:
        keys = rng.randint(50, 250)
        return (b"{" + b",".join(b'"k%d":%s' % (i, item) for i in range(keys)) + b"}")[:MAX_LINE + 20]
    if kind == 3:
        depth = rng.choice([40, 78, 79, 80, 81, 200, 500])
        return b'{"a":' * depth + b"1" + b"}" * depth
    if kind == 4:
        depth = rng.choice([79, 80, 81, 511])
        return b"[" * depth + b"]" * depth
    if kind == 5:  # just under the comma limit, every value a fresh object
        return b"[" + b",".join([rng.choice([b'"ab"', b"0.5", b"{}", b"1e9"])] * rng.choice([199, 200, 201])) + b"]"
    if kind == 6:  # a valid op carrying a large array
        op = rng.choice([b"dose", b"flc_pull", b"crcl", b"aki", b"version", b"audit_pull"])
        return _fill(rng, b'{"op":"' + op + b'","x":[', item, b"]}")
    return _fill(rng, b'{"op":"flc_pull","since":0,"limit":100,"drug":"', b"x", b'"}', b"")


def _line(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind < 4:
        line = _exhaust(rng)
    elif kind < 6:  # bit flips in a good request
        b = bytearray(rng.choice(GOOD))
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        line = bytes(b)
    elif kind == 6:  # cut short
        g = rng.choice(GOOD)
        line = g[: rng.randrange(1, len(g))]
    elif kind == 7:  # random bytes
        line = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    elif kind == 8:  # oversized
        line = b'{"op":"crcl","x":"' + b"a" * rng.randint(1000, 3000) + b'"}'
    else:  # a good request with a wrong-typed or absurd value
        req = json.loads(rng.choice(GOOD))
        req[rng.choice(["limit", "since", "drug", "age", "id", "history", "op"])] = rng.choice(
            [None, -1, 2**70, "x" * 300, [], {}, [[0, "1"]] * 64, True, 1.5])
        line = json.dumps(req).encode()
    # Line ends and Ctrl-C are framing, not content (Ctrl-C is the board's interrupt key;
    # the host tools never send it inside a line: JSON escapes it).
    return line.replace(b"\n", b" ").replace(b"\r", b" ").replace(b"\x03", b" ") or b"?"


@pytest.fixture(scope="module")
def pico_board():
    """A board of its own at the Pico's heap (the session's board has 256K)."""
    flash = Path(tempfile.mkdtemp(prefix="mmrenal-fuzz-flash-"))
    vd = vboard.Running(flash, heap=PICO_HEAP)
    try:
        deploy.deploy(vd.port, log=lambda *a, **k: None)
        yield vd
    finally:
        vd.stop()
        shutil.rmtree(flash, ignore_errors=True)


def _still_right(dev: Device) -> None:
    v = dev.request({"op": "version"})
    assert v["ok"] and v["protocol"] == 1 and v["engine"] == "micropython", v
    c = dev.request(CRCL)
    assert c["ok"] and c["crcl_ml_min_x10"] == CRCL_X10, c


@pytest.mark.req("R-LINK-02")
def test_lines_built_to_exhaust_memory_are_refused_unread(pico_board):
    """Past the bracket and comma limits a line is refused before parsing (field
    request), while the largest real request (crcl with 64 samples) is still taken.
    (Runs first, on the fresh board: after the fuzz below the heap is fragmented.)"""
    history = [[i * 60, "1.00"] for i in range(63)]
    big = dict(CRCL, history=history, scr_time=63 * 60)
    assert len(json.dumps(big, separators=(",", ":"))) <= MAX_LINE
    with Device(pico_board.port) as dev:
        for line in (b"[" * 81 + b"]" * 81, b"[" + b",".join([b"0"] * 202) + b"]",
                     b'{"a":' * 81 + b"1" + b"}" * 81):
            dev.send_raw(line + b"\n")
            ans = dev.read_answer(wait=10)
            assert (ans["ok"], ans["field"]) == (False, "request") and "refused unread" in ans["error"]
        r = dev.request(big)
        assert r["ok"] and r["crcl_ml_min_x10"] == CRCL_X10, r
        _still_right(dev)


@pytest.mark.req("R-LINK-01", "R-LINK-02", "R-LINK-03")
def test_generated_lines_never_stop_the_link(pico_board):
    rng = random.Random(14)
    answered = internal = 0
    start = time.monotonic()
    with Device(pico_board.port) as dev:
        hello_boots = pico_board.control("status")["boots"]
        for done in range(0, LINES, BATCH):
            for _ in range(BATCH):
                line = _line(rng)
                dev.send_raw(line + b"\n")
                ans = dev.read_answer(wait=10)
                assert ans is not None, f"no answer after {done} lines to {line[:80]!r}"
                assert ans["ok"] or ans.get("field"), ans
                answered += 1
                if ans.get("field") == "internal":
                    # Only running out of memory while answering may be "internal".
                    assert ans["error"].startswith("MemoryError"), (line[:80], ans)
                    internal += 1
            _still_right(dev)
    # Never fell to the REPL: the interpreter was never restarted.
    assert pico_board.control("status")["boots"] == hello_boots
    assert answered == LINES
    print(f"{LINES:,} lines in {time.monotonic() - start:.0f} s; {internal} answered "
          "MemoryError while answering")
