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


def test_long_names_and_notes_are_cut_to_fit_never_refused(tmp_path):
    audit = load("audit")
    log = audit.Audit(str(tmp_path / "audit.jnl"))
    long_drug = dict(LEN, drug="ciltacabtagene-autoleucel-extended-name")  # 40 characters
    assert log.record(audit.T_DOSE, 14_000_000, "STUDY-123456", long_drug, 250, 300, False, 1)
    note = "ValueError: " + "一" * 40  # 3 bytes a character: a cut must not split one
    assert log.note(audit.T_ERROR, 14_000_001, note)
    (dose, err) = log.pull(0, 10)
    # 24 bytes of fields + 12 of patient code leave 28 of the 64-byte record for the drug.
    assert dose[3] == "STUDY-123456" and dose[4] == "ciltacabtagene-autoleucel-ex"
    assert err[1] == "error" and note.startswith(err[9]) and len(err[9].encode()) <= 60
    assert err[9].endswith("一")
