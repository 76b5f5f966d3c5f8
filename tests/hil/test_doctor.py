"""`mmrenal doctor` on the board: it passes once the clock is set and a valid signed table
is installed, and fails plainly (exit 1, what is wrong, what to do) when one is not."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from mmrenal import clock, deploy, tablebin, tables

QUIET = {"log": lambda *a, **k: None}


def _doctor(board, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmrenal", "doctor", "--port", board.port, *args],
                          capture_output=True, text=True, timeout=120)


def _line(out: str, check: str) -> list[str]:
    return [x for x in out.splitlines() if x[6:].startswith(check)]


def _set_clock(board, minutes: int) -> None:
    with board.device() as dev:
        assert dev.request({"op": "set_clock", "time": minutes})["ok"]


def _table(priv, effective: dt.date, expires: dt.date) -> bytes:
    """The example table with the given dates (the repository's own expires one day)."""
    table, problems = tables.load(tables.EXAMPLE)
    assert problems == []
    table.effective, table.expires = effective, expires
    return tablebin.sign(tablebin.compile_table(table), priv)


@pytest.fixture(scope="module")
def ready(deployed, tmp_path_factory):
    """The board with its clock on this computer's time and a table in force today,
    signed by a key made here and trusted by the board."""
    priv, pub = tablebin.keygen(tmp_path_factory.mktemp("doctor-approver"), "doctor-approver")
    today = dt.date.today()
    current = _table(priv, today - dt.timedelta(days=30), today + dt.timedelta(days=365))
    expired = _table(priv, today - dt.timedelta(days=60), today - dt.timedelta(days=1))
    deploy.trust_key(deployed.port, tablebin.device_key_line(tablebin.load_public(pub), "doctor-approver"))
    deploy.flash_table(deployed.port, current, force=True, **QUIET)
    _set_clock(deployed, clock.now_minutes())
    deployed.tables = {"current": current, "expired": expired}
    return deployed


@pytest.mark.req("R-HW-01")
def test_doctor_passes_on_a_ready_board(ready):
    res = _doctor(ready)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.rstrip().splitlines()[-1].startswith("every check passed")
    for check in ("firmware", "start-up", "memory", "profile", "flash", "clock", "table"):
        assert _line(res.stdout, check)[0].startswith("ok "), (check, res.stdout)
    if ready.virtual:
        assert _line(res.stdout, "display")[0].startswith("n/a   display   no display on a virtual board")
        assert _line(res.stdout, "buttons")[0].startswith("n/a ")
    else:
        assert any(x.startswith("look  display") for x in _line(res.stdout, "display"))


def test_doctor_json(ready):
    res = _doctor(ready, "--json")
    out = json.loads(res.stdout)
    assert res.returncode == 0 and out["ok"] is True
    assert {f["check"] for f in out["findings"]} >= {"firmware", "profile", "display", "buttons",
                                                      "flash", "clock", "table"}
    assert out["board_check"]["profile"] == "pimoroni_pico_display" or not ready.virtual


@pytest.mark.req("R-CLK-02")
def test_doctor_fails_on_a_clock_that_is_off(ready):
    _set_clock(ready, clock.now_minutes() - 120)
    try:
        res = _doctor(ready)
    finally:
        _set_clock(ready, clock.now_minutes())
    assert res.returncode == 1
    line = _line(res.stdout, "clock")[0]
    assert line.startswith("FAIL") and "min behind this computer" in line
    assert "rtc --set" in res.stdout and res.stdout.rstrip().endswith("1 check(s) failed")


@pytest.mark.req("R-CLK-02")
def test_doctor_fails_on_a_clock_never_set(ready):
    if not ready.virtual:
        pytest.skip("needs the virtual board's power switch")
    ready.control("power-cut")  # cold boot: the RTC starts at 2021-01-01
    try:
        res = _doctor(ready)
    finally:
        _set_clock(ready, clock.now_minutes())
    assert res.returncode == 1
    assert _line(res.stdout, "clock")[0].startswith("FAIL  clock     2021-01-01T")
    assert "NOT SET" in res.stdout and f"mpremote connect {ready.port} rtc --set" in res.stdout
    # With the clock unknown, the table's dates cannot be judged: said, not guessed.
    assert _line(res.stdout, "table")[0].startswith("look ")


@pytest.mark.req("R-TAB-06")
def test_doctor_fails_without_a_table(ready):
    code = ("import os\nfor n in ('table_a.bin','table_b.bin','table.act','table.act.new'):\n"
            " try:\n  os.remove(n)\n except OSError:\n  pass")
    assert ready.mpremote("exec", code, "+", "soft-reset").returncode == 0
    try:
        res = _doctor(ready)
    finally:
        deploy.flash_table(ready.port, ready.tables["current"], force=True, **QUIET)
    assert res.returncode == 1
    line = _line(res.stdout, "table")[0]
    assert line.startswith("FAIL") and "NO VALID DOSE TABLE" in line
    assert "mmrenal table flash" in res.stdout


def test_doctor_fails_on_an_expired_table(ready):
    deploy.flash_table(ready.port, ready.tables["expired"], force=True, **QUIET)
    try:
        res = _doctor(ready)
    finally:
        deploy.flash_table(ready.port, ready.tables["current"], force=True, **QUIET)
    assert res.returncode == 1 and "EXPIRED" in _line(res.stdout, "table")[0]


def test_doctor_fails_on_an_unknown_profile(ready):
    if not ready.virtual:
        pytest.skip("rewrites board.txt: virtual board only")
    write = "f=open('board.txt','w'); f.write('no_such_board'); f.close()"
    assert ready.mpremote("exec", write, "+", "soft-reset").returncode == 0
    try:
        res = _doctor(ready)
    finally:
        ready.mpremote("exec", "import os; os.remove('board.txt')", "+", "soft-reset")
    assert res.returncode == 1
    assert "board.txt names 'no_such_board', which is not a profile" in _line(res.stdout, "profile")[0]
    res = _doctor(ready, "--profile", "waveshare_pico_lcd_1_14")
    assert res.returncode == 1 and "you said waveshare_pico_lcd_1_14" in res.stdout
