"""The audit log's own promises, on the firmware code in CPython (the screens' use of it
is in test_ui.py, the pull over the protocol in hil/test_board_flc.py)."""

from __future__ import annotations

import pytest

from mmrenal.firmware import load

LEN = {"drug": "lenalidomide", "status": "adjusted", "doses": [{"unit": "mg", "amount_x100": 1000}]}


@pytest.mark.req("R-AUD-03")
def test_full_log_refuses_writes_nothing_and_keeps_every_record(tmp_path):
    audit = load("audit")
    path = tmp_path / "audit.jnl"
    log = audit.Audit(str(path), 400)  # room for a handful of records
    written = 0
    while log.record(audit.T_DOSE, 14_000_000 + written, "BED-12", LEN, 250, 300, False, 1):
        written += 1
        assert written < 100, "the log never filled"
    assert log.full and written >= 3
    size = path.stat().st_size
    assert log.record(audit.T_DOSE, 14_000_999, "BED-12", LEN, 250, 300, False, 1) is False
    assert path.stat().st_size == size  # nothing half-written
    rows = audit.Audit(str(path), 400).pull(0, 100)  # as after a restart
    assert [r[0] for r in rows] == list(range(1, written + 1))
    assert {(r[1], r[3], r[4], r[10], r[11]) for r in rows} == {("dose", "BED-12", "lenalidomide", 1000, "mg")}
