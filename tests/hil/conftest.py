"""Hardware-in-the-loop fixtures: one board for the session, virtual unless --port.

- no options: a virtual board (`mmrenal vdevice`) is started for the session;
- `--port /dev/ttyACM0`: the same tests run on that board;
- `--require-board`: without a board present at --port, the suite is skipped, saying why.

Tests that need the virtual board's power switch or clock control are skipped on a
real board with that reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmrenal import deploy, vboard
from mmrenal.device import Device, NoBoard, find_port

HIL_HEAP = "256K"


@dataclass
class Board:
    port: str
    virtual: bool
    vd: vboard.Running | None = None

    def control(self, line: str) -> dict:
        if not self.vd:
            pytest.skip("needs the virtual board's control (power switch, clock)")
        return self.vd.control(line)

    def mpremote(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        exe = str(Path(sys.executable).with_name("mpremote"))
        return subprocess.run([exe, "connect", self.port, *args], capture_output=True,
                              text=True, timeout=timeout)

    def device(self) -> Device:
        return Device(self.port)


@pytest.fixture(scope="session")
def board(request):
    port = request.config.getoption("--port")
    require = request.config.getoption("--require-board")
    if port:
        try:
            port = find_port(port)
        except NoBoard as e:
            pytest.skip(str(e))
        if not os.path.exists(port):
            pytest.skip(f"no board at {port}: connect a Pico by USB (see README: real board)")
        yield Board(port, virtual=False)
        return
    if require:
        pytest.skip("--require-board given without --port: no real board to test")
    flash = Path(tempfile.mkdtemp(prefix="mmrenal-hil-flash-"))
    # The unix port's 64-bit objects take up to twice the RAM of an RP2040's; the whole
    # firmware with a table, FLC records and repeated install/power-cut cycles runs out
    # of a 180K unix heap (docs/benchmarks.md: ~100 KB used right after boot), so the
    # session's board gets 256K. `mmrenal vdevice` keeps engine.PICO_HEAP as its default.
    vd = vboard.Running(flash, heap=HIL_HEAP)
    yield Board(vd.port, virtual=True, vd=vd)
    code = vd.stop()
    shutil.rmtree(flash, ignore_errors=True)
    assert code == 0, "vdevice did not stop cleanly"


@pytest.fixture(scope="session")
def deployed(board):
    """The board with the current firmware deployed (once per session)."""
    deploy.deploy(board.port, log=lambda *a, **k: None)
    return board


@pytest.fixture
def virtual_only(board):
    if not board.virtual:
        pytest.skip("needs the virtual board's power switch")
    return board


@dataclass
class Tables:
    v1: bytes
    v2: bytes
    unsigned: bytes
    foreign: bytes
    pub_line: str


@pytest.fixture(scope="session")
def signed_tables(tmp_path_factory) -> Tables:
    """The example table signed as version 1 and 2 by a key made for this session."""
    from mmrenal import tablebin, tables

    d = tmp_path_factory.mktemp("approver")
    priv, pub = tablebin.keygen(d, "hil-approver")
    other, _ = tablebin.keygen(d, "stranger")
    table, problems = tables.load(tables.EXAMPLE)
    assert problems == []
    v1 = tablebin.compile_table(table)
    table.version = 2
    v2 = tablebin.compile_table(table)
    return Tables(tablebin.sign(v1, priv), tablebin.sign(v2, priv), v1, tablebin.sign(v1, other),
                  tablebin.device_key_line(tablebin.load_public(pub), "hil-approver"))


@pytest.fixture
def trusted(deployed, signed_tables):
    """A deployed board that trusts the session's approver key."""
    deploy.trust_key(deployed.port, signed_tables.pub_line)
    return deployed
