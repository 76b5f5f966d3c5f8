"""The firmware's own test scripts, run unchanged on CPython and on MicroPython.

As in MicroPython's run-tests.py: each script prints; a FAIL line or a non-zero exit
fails the test, and MicroPython's output must equal CPython's (or the script's .exp
file where MicroPython must differ).
"""

from __future__ import annotations

import pytest

from support import FIRMWARE_TESTS, run_script

SCRIPTS = sorted(p for p in FIRMWARE_TESTS.glob("*.py") if p.name != "check.py")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_on_both_engines(script):
    cpy = run_script("cpython", script)
    mpy = run_script("micropython", script)
    for name, res in (("cpython", cpy), ("micropython", mpy)):
        assert res.returncode == 0, f"{name} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
        assert "FAIL" not in res.stdout, f"{name}:\n{res.stdout}"
        assert "failures 0" in res.stdout, f"{name} did not finish:\n{res.stdout}"
    exp = script.with_suffix(".exp")
    expected = exp.read_text() if exp.exists() else cpy.stdout
    assert mpy.stdout == expected


def test_scripts_exist():
    # The runner must not pass vacuously.
    assert {p.stem for p in SCRIPTS} >= {"heapalloc", "refusals", "kdigo_series", "renal_hand"}
