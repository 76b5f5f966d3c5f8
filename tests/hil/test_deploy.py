"""Deploy: cold, unchanged, and repaired after a power cut in the middle."""

from __future__ import annotations

import hashlib

import pytest

from mmrenal import deploy


def _wipe(board):
    """Remove what a deploy writes (a board 'fresh from flashing MicroPython')."""
    names = list(deploy.device_files()) + [n + deploy.TMP_SUFFIX for n in deploy.device_files()]
    code = f"import os\nfor n in {names!r}:\n try:\n  os.remove(n)\n except OSError:\n  pass"
    res = board.mpremote("exec", code)
    assert res.returncode == 0, res.stderr


def _board_hashes(board) -> dict[str, str]:
    code = ("import os, hashlib, binascii\nfor n in sorted(os.listdir()):\n"
            " h = hashlib.sha256(open(n,'rb').read())\n print(n, binascii.hexlify(h.digest()).decode())")
    res = board.mpremote("exec", code)
    assert res.returncode == 0, res.stderr
    return dict(line.split() for line in res.stdout.splitlines() if line.strip())


@pytest.mark.req("R-DEV-02")
def test_cold_then_unchanged(board):
    _wipe(board)
    files = deploy.device_files()
    cold = deploy.deploy(board.port, log=lambda *a, **k: None)
    assert sorted(cold.written) == sorted(files)
    assert cold.bytes_written == sum(len(d) for d in files.values())
    again = deploy.deploy(board.port, log=lambda *a, **k: None)
    assert again.written == [] and sorted(again.skipped) == sorted(files)
    on_board = _board_hashes(board)
    for name, data in files.items():
        assert on_board[name] == hashlib.sha256(data).hexdigest(), name


@pytest.mark.req("R-DEV-02")
def test_firmware_serves_after_deploy(deployed):
    with deployed.device() as dev:
        v = dev.request({"op": "version"})
    assert v["ok"] and v["protocol"] == 1


@pytest.mark.req("R-DEV-02")
@pytest.mark.parametrize("cut_after", [40, 2500, 7000, 12000])
def test_power_cut_during_deploy_is_repaired(virtual_only, cut_after):
    board = virtual_only
    _wipe(board)
    cuts = board.control("status")["power_cuts"]
    board.control(f"power-cut-after {cut_after}")
    with pytest.raises(deploy.DeployError, match="Run deploy again"):
        deploy.deploy(board.port, log=lambda *a, **k: None)
    assert board.control("status")["power_cuts"] == cuts + 1
    repaired = deploy.deploy(board.port, log=lambda *a, **k: None)
    assert repaired.written  # what the cut spoiled was rewritten
    on_board = _board_hashes(board)
    assert not [n for n in on_board if n.endswith(deploy.TMP_SUFFIX)]
    for name, data in deploy.device_files().items():
        assert on_board[name] == hashlib.sha256(data).hexdigest(), name
    with board.device() as dev:
        assert dev.request({"op": "version"})["ok"]
