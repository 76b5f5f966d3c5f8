"""The virtual board itself: start, cold boot, power cut, clean stop."""

from __future__ import annotations

import os
import signal

import pytest

from mmrenal import vboard


@pytest.mark.req("R-VER-01")
def test_port_first_line_and_clean_stop(virtual_only, tmp_path):
    vd = vboard.Running(tmp_path / "flash")
    try:
        assert vd.port.startswith("/dev/pts/") and os.path.exists(vd.port)
        pid = vd.control("status")["pid"]
        os.kill(pid, 0)  # the interpreter runs
    finally:
        code = vd.stop(signal.SIGINT)
    assert code == 0
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the interpreter outlived its board"


@pytest.mark.req("R-VER-01")
def test_flash_is_kept_between_runs(virtual_only, tmp_path):
    flash = tmp_path / "flash"
    vd = vboard.Running(flash)
    try:
        board_file = flash / "kept.txt"
        import sys
        from pathlib import Path
        from subprocess import run

        mp = str(Path(sys.executable).with_name("mpremote"))
        res = run([mp, "connect", vd.port, "exec", "open('kept.txt','w').write('x')"],
                  capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
    finally:
        vd.stop()
    assert board_file.read_text() == "x"


@pytest.mark.req("R-VER-01", "R-CLK-02")
def test_power_cut_cold_boots_with_rtc_reset(board):
    before = board.control("status")
    board.control("set-clock 2026-11-26T08:30:00")
    after = board.control("power-cut")
    assert after["power_cuts"] == before["power_cuts"] + 1
    assert after["pid"] != before["pid"]
    res = board.mpremote("rtc")
    assert res.stdout.strip().startswith("(2021, 1, 1")  # a Pico's RTC after power-up
