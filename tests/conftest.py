"""Shared fixtures: where the firmware and its test scripts are, and the engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmrenal.engine import Engine, micropython_path
from mmrenal.paths import FIRMWARE

TESTS = Path(__file__).resolve().parent
FIRMWARE_TESTS = TESTS / "firmware"
SOAK = os.environ.get("MMRENAL_SOAK") == "1"


def run_script(engine: str, script: Path, heap: str = "180K") -> subprocess.CompletedProcess:
    """Run a firmware test script on one interpreter, firmware modules on its path."""
    path = f"{FIRMWARE}{os.pathsep}{FIRMWARE_TESTS}"
    env = dict(os.environ, MICROPYPATH=path, PYTHONPATH=path)
    if engine == "micropython":
        cmd = [micropython_path(), "-X", f"heapsize={heap}", str(script)]
    else:
        cmd = [sys.executable, "-B", str(script)]
    return subprocess.run(cmd, cwd=FIRMWARE, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def engines():
    """One long-lived engine of each kind for the whole session."""
    running = {kind: Engine(kind) for kind in ("micropython", "cpython")}
    yield running
    for eng in running.values():
        eng.close()


def pytest_addoption(parser):
    group = parser.getgroup("mmrenal hardware-in-the-loop")
    group.addoption("--port", default=None,
                    help="run tests/hil on the board at this serial port (default: a virtual board)")
    group.addoption("--require-board", action="store_true",
                    help="skip tests/hil unless a real board is attached at --port")
