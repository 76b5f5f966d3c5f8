"""Scripts that need MicroPython itself (framebuf, viper, heap_lock), run on the unix
port with a Pico-sized heap. Each prints one line per check; a FAIL line fails."""

from __future__ import annotations

import pytest

from support import TESTS, run_script

SCRIPTS = sorted((TESTS / "device").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_device_script(script):
    res = run_script("micropython", script)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "FAIL" not in res.stdout, res.stdout
    assert "failures 0" in res.stdout, res.stdout


def test_scripts_exist():
    assert SCRIPTS
