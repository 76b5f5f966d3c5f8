"""Codes are codes on the board (issue 14): `mmrenal flc add` with a name, a date of
birth or a hospital number as the code is refused with the pattern; records kept under
such a code before the pattern are pulled, but into files that never carry the code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mmrenal import clock, flc_cmds, tables

T0 = clock.to_minutes("2026-11-01T08:00")
PATTERN = "[A-Z]{1,4}-[0-9]{1,6}"


def _mmrenal(*args):
    return subprocess.run([sys.executable, "-m", "mmrenal", *args], capture_output=True,
                          text=True, timeout=60)


def _wipe_flc(board):
    code = ("import os\nfor n in ('flc.jnl','flc.jnl.new'):\n try:\n  os.remove(n)\n"
            " except OSError:\n  pass")
    assert board.mpremote("exec", code, "+", "soft-reset").returncode == 0


@pytest.mark.req("R-CODE-01", "R-CODE-02")
def test_flc_add_refuses_identifying_codes_with_the_pattern(deployed):
    _wipe_flc(deployed)
    for code in ("JOHNSMITH1", "SMITH-J-1960", "MRN-12345678", "ZHANGSAN-01", "1-1-1960"):
        res = _mmrenal("flc", "add", "--port", deployed.port, "--patient", code, "--involved", "kappa")
        assert res.returncode == 2 and "patient:" in res.stderr and PATTERN in res.stderr, (code, res)
    res = _mmrenal("flc", "add", "--port", deployed.port, "--patient", "ICU-4", "--involved", "kappa",
                   "--start", "2026-11-01T08:00")
    assert res.returncode == 0, res.stderr
    res = _mmrenal("flc", "add", "--port", deployed.port, "--patient", "ICU-4", "--time",
                   "2026-11-02T08:00", "--kappa", "900", "--lambda", "12", "--lab", "ZHANGSAN")
    assert res.returncode == 2 and "lab:" in res.stderr


@pytest.mark.req("R-CODE-04")
def test_records_under_an_older_code_are_pulled_into_files_without_it(virtual_only, tmp_path):
    board = virtual_only
    _wipe_flc(board)
    from mmrenal.firmware import load

    flc = load("flc")
    flcstore = load("flcstore")
    # A journal from before the pattern (a device that took any capitals and digits).
    flc.set_code_policy("any", tables.compile_code_pattern("[A-Z0-9-]{1,12}"))
    try:
        tr = flcstore.Tracker(str(board.vd.flash / "flc.jnl"))
        tr.boot()
        tr.add_patient("JOHNSMITH1", 0, T0)
        tr.add_sample("JOHNSMITH1", T0 + 60, 150000, 1850, "LAB1", False)
    finally:
        flc.set_code_policy()
    assert board.mpremote("soft-reset").returncode == 0  # the board replays it
    with board.device() as dev:
        r = dev.request({"op": "flc_sample", "patient": "JOHNSMITH1", "time": T0 + 120,
                         "kappa": "1000", "lambda": "12", "lab": "LAB1"})
        assert r["ok"] is False and r["field"] == "patient" and PATTERN in r["error"]
    new, total = flc_cmds.pull(board.port, tmp_path)
    assert new == total == 2  # nothing lost
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["code-refused-s1.csv", "code-refused-s1.json", "records.jsonl"], names
    kept = json.loads((tmp_path / "code-refused-s1.json").read_text())
    assert kept["patient"] == "JOHNSMITH1" and len(kept["records"]) == 2
