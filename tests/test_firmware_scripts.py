"""The firmware's own test scripts, run unchanged on CPython and on MicroPython.

As in MicroPython's run-tests.py: each script prints; a FAIL line or a non-zero exit
fails the test, and MicroPython's output must equal CPython's (or the script's .exp
file where MicroPython must differ).
"""

from __future__ import annotations

import pytest

from support import FIRMWARE_TESTS, run_script

SCRIPTS = sorted(p for p in FIRMWARE_TESTS.glob("*.py") if p.name != "check.py")
# Requirement ids (docs/safety/requirements.toml) that each script proves; the
# traceability matrix reads them from each case's marker.
REQS = {
    "buttons_timing": ("R-UI-04",),
    "clock_days": ("R-CLK-01",),
    "fixmath_exact": ("R-CORE-05", "R-CORE-02"),
    "heapalloc": ("R-CORE-03",),
    "kdigo_series": ("R-CALC-06", "R-UNIT-02", "R-IN-01"),
    "refusals": ("R-IN-01", "R-IN-02", "R-UNIT-01"),
    "renal_hand": ("R-CALC-01", "R-CALC-03", "R-CALC-04", "R-CALC-05", "R-WT-01", "R-WT-03",
                   "R-WARN-01", "R-WARN-02", "R-UNIT-02"),
}
CASES = [pytest.param(p, id=p.stem, marks=[pytest.mark.req(*REQS[p.stem])] if p.stem in REQS else [])
         for p in SCRIPTS]


@pytest.mark.req("R-DEV-01")  # every script prints the same on both interpreters
@pytest.mark.parametrize("script", CASES)
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
