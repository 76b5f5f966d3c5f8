"""mpremote's own commands work against the board exactly as against a Pico."""

from __future__ import annotations

import ast

import pytest


@pytest.mark.req("R-VER-01")
def test_exec(board):
    res = board.mpremote("exec", "print(6 * 7)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "42"


@pytest.mark.req("R-VER-01")
def test_fs_cp_ls_and_read_back(board, tmp_path):
    src = tmp_path / "hil_probe.txt"
    src.write_bytes(b"mmrenal hil\n" * 50)
    res = board.mpremote("fs", "cp", str(src), ":hil_probe.txt", "+", "fs", "ls")
    assert res.returncode == 0, res.stderr
    line = next(x for x in res.stdout.splitlines()
                if x.endswith(" hil_probe.txt") and x.split()[0].isdigit())
    assert int(line.split()[0]) == 600  # the size, as a board's LittleFS lists it
    back = tmp_path / "back.txt"
    res = board.mpremote("fs", "cp", ":hil_probe.txt", str(back), "+", "fs", "rm", ":hil_probe.txt")
    assert res.returncode == 0, res.stderr
    assert back.read_bytes() == src.read_bytes()


@pytest.mark.req("R-VER-01")
def test_run(board, tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint('ran on', sys.platform)\n")
    res = board.mpremote("run", str(script))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ran on ")


@pytest.mark.req("R-VER-01")
def test_soft_reset_keeps_raw_repl_and_state_goes(board):
    res = board.mpremote("exec", "hil_marker = 1", "+", "soft-reset", "+", "exec",
                         "print('hil_marker' in globals())")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"  # a soft reset clears the interpreter


@pytest.mark.req("R-VER-01", "R-CLK-02")
def test_rtc_set_and_read(board):
    res = board.mpremote("rtc", "--set", "+", "rtc")
    assert res.returncode == 0, res.stderr
    t = ast.literal_eval(res.stdout.strip().splitlines()[-1])
    assert len(t) == 8 and t[0] >= 2025


@pytest.mark.req("R-VER-01")
def test_ctrl_c_interrupts_running_code(board):
    # exec returns only if Ctrl-C (sent by the next mpremote) reaches the loop.
    import subprocess

    res = board.mpremote("exec", "--no-follow", "import time\nwhile True: time.sleep_ms(5)")
    assert res.returncode == 0, res.stderr
    res = board.mpremote("exec", "print('alive')")  # enter_raw_repl sends Ctrl-C first
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "alive"
    assert isinstance(res, subprocess.CompletedProcess)
