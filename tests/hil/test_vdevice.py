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


def _journal(records: list[tuple[int, bytes]]) -> bytes:
    """Journal bytes as docs/flc.md lays them out (magic, type, length, seq, payload,
    CRC32 of all after the magic), written here, not by the firmware."""
    import binascii
    import struct

    out = b""
    for seq, (rtype, payload) in enumerate(records, 1):
        body = struct.pack("<BHI", rtype, len(payload), seq) + payload
        out += b"\xa7" + body + struct.pack("<I", binascii.crc32(body))
    return out


@pytest.mark.req("R-LINK-04", "R-LINK-05")
def test_failed_start_up_comes_up_in_safe_mode_and_strands_no_record(virtual_only, tmp_path):
    """A start-up that raises (the approver keys' file damaged: not UTF-8): the board
    does not fall to the REPL; it serves status (safe mode, and why), the FLC and audit
    pulls, refuses doses, and `mmrenal doctor` says so truthfully."""
    import struct
    import subprocess
    import sys

    from mmrenal import deploy
    from mmrenal.device import Device

    flash = tmp_path / "flash"
    vd = vboard.Running(flash)  # the Pico's heap
    try:
        deploy.deploy(vd.port, log=lambda *a, **k: None)
        (flash / "flc.jnl").write_bytes(_journal([
            (1, struct.pack("<BBI", 0, 0, 0) + b"BED-1"),
            (1, struct.pack("<BBI", 1, 1, 0) + b"BED-2"),
            (2, struct.pack("<BIII", 0, 14_000_000, 12000, 1500) + b"LAB1"),
            (2, struct.pack("<BIII", 1, 14_000_060, 900, 45000) + b"LAB1"),
        ]))
        (flash / "approvers.txt").write_bytes(b"\xff\xfe damaged\n")  # the table store raises
        vd.control("power-cut")
        with Device(vd.port) as dev:
            assert not dev._started_here  # main.py serves: it did not fall to the REPL
            st = dev.request({"op": "status"})
            assert st["ok"] and st["safe_mode"].startswith("dose table store: UnicodeError"), st
            r = dev.request({"op": "dose", "drug": "lenalidomide", "crcl": "25"})
            assert (r["ok"], r["field"]) == (False, "safe_mode") and "doses" not in r
            pulled = dev.request({"op": "flc_pull", "since": 0, "limit": 100})
            assert pulled["ok"], pulled
            assert [x[0] for x in pulled["records"]] == [1, 2, 3, 4]
            assert pulled["records"][2][2:6] == ["BED-1", 14_000_000, 12000, 1500]
            assert pulled["records"][3][2] == "BED-2" and pulled["records"][3][5] == 45000
            notes = dev.request({"op": "audit_pull", "since": 0})["records"]
            assert any(n[1] == "error" and "safe mode" in n[9] for n in notes), notes
        doc = subprocess.run([sys.executable, "-m", "mmrenal", "doctor", "--port", vd.port],
                             capture_output=True, text=True, timeout=120)
        assert doc.returncode == 1
        line = [x for x in doc.stdout.splitlines() if x[6:].startswith("start-up")][0]
        assert line.startswith("FAIL") and "SAFE MODE" in line and "dose table store" in line, doc.stdout
        assert "mmrenal flc pull" in doc.stdout and "did not start" not in doc.stdout + doc.stderr
    finally:
        vd.stop()
