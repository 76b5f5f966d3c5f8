"""Helpers shared by the tests (imported as `support`; conftest.py holds fixtures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mmrenal.engine import micropython_path
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


def scrolled_lines(s) -> list[str]:
    """Every line a scrolling screen of the handheld holds (a `mmrenal.sim.Sim` on it):
    the first view between the title bar and the key hints, then the line each DOWN
    brings in at the bottom, until one brings none."""
    def body():
        return s.screen()["text"][3:-1]

    lines = list(body())
    last = lines
    for _ in range(80):
        s.key("B")
        now = body()
        if now == last:
            break
        lines.append(now[-1])
        last = now
    return lines
