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


# --- issue 13: what a dose check records ------------------------------------------------

LEN15 = {"drug": "lenalidomide", "status": "adjusted", "doses": [{"unit": "mg", "amount_x100": 1500}]}


def _check(**kw):
    """A dose check's answer as dosing.check_dose gives it (the fields the log keeps)."""
    c = {"verdict": "above", "unit": "mg", "ceiling_x100": 1500, "regimen": "", "frequency": 1,
         "cycle_day": 24, "flags": ["frequency", "cycle_day"], "override": "", "limit": "soft"}
    c.update(kw)
    return c


@pytest.mark.req("R-CHK-06")
def test_check_and_override_records_keep_their_inputs_verdict_and_reason(tmp_path):
    audit = load("audit")
    path = str(tmp_path / "audit.jnl")
    log = audit.Audit(path)
    assert log.record(audit.T_CHECK, 14_000_000, "BED-12", LEN15, 250, 300, False, 3, _check(), 2500)
    over = _check(override="protocol dose", regimen="EPd C3+", flags=["strength"], cycle_day=0,
                  frequency=28, verdict="does not match")
    assert log.record(audit.T_CHECK, 14_000_001, "BED-12", LEN15, 250, 300, False, 3, over, 1200)
    refused = _check(verdict="refused", flags=[], frequency=2, cycle_day=3)
    assert log.record(audit.T_CHECK, 14_000_002, "BED-12", LEN15, 250, 300, False, 3, refused, 3500)
    rows = audit.Audit(path).pull(0, 10)  # as after a restart
    # kind, patient, drug, amount (the table's), unit, prescribed, verdict, frequency,
    # cycle day, flags, reason, regimen
    assert [(r[1], r[3], r[4], r[10], r[11], r[12], *r[13:]) for r in rows] == [
        ("check", "BED-12", "lenalidomide", 1500, "mg", 2500, "above", "daily", 24,
         "frequency;cycle_day", "", ""),
        ("override", "BED-12", "lenalidomide", 1500, "mg", 1200, "does not match", "every 4 weeks",
         0, "strength", "protocol dose", "EPd C3+"),
        ("check", "BED-12", "lenalidomide", 1500, "mg", 3500, "refused", "every other day", 3, "",
         "", ""),
    ]


@pytest.mark.req("R-CHK-06")
def test_check_records_written_before_issue_13_stay_readable(tmp_path):
    """A check record as the earlier firmware wrote it (type 2: amounts only) is pulled
    with the new fields empty, next to the new records."""
    import struct

    audit = load("audit")
    path = str(tmp_path / "audit.jnl")
    log = audit.Audit(path)
    old = struct.pack("<IIHHBBBIIB", 14_000_000, 1, 587, 640, 0, 1, 1, 1000, 1020, 6)
    log.journal.append(2, old + b"BED-12" + b"lenalidomide")
    assert log.record(audit.T_DOSE, 14_000_001, "BED-12", LEN15, 250, 300, False, 1)
    assert log.record(audit.T_CHECK, 14_000_002, "BED-12", LEN15, 250, 300, False, 1, _check(), 1500)
    rows = audit.Audit(path).pull(0, 10)
    assert rows[0] == [1, "check", 14_000_000, "BED-12", "lenalidomide", 587, 640, False, 1,
                       "adjusted", 1000, "mg", 1020, "", "", 0, "", "", ""]
    assert [r[1] for r in rows] == ["check", "dose", "check"] and rows[2][13] == "above"


@pytest.mark.req("R-CHK-06", "R-AUD-02")
def test_audit_pull_writes_the_check_fields(tmp_path, monkeypatch):
    """`mmrenal audit pull` over the device's own protocol handler (the board stood in
    for by the firmware's service in this process, on a flash folder)."""
    import csv

    from mmrenal import cli, device

    audit = load("audit")
    flash = tmp_path / "flash"
    flash.mkdir()
    log = audit.Audit(str(flash / "audit.jnl"))
    assert log.record(audit.T_DOSE, 14_000_000, "BED-12", LEN15, 250, 300, False, 1)
    assert log.record(audit.T_CHECK, 14_000_001, "BED-12", LEN15, 250, 300, False, 1,
                      _check(override="other", regimen="C1-2"), 2500)
    service = load("service")

    class Board:
        def __init__(self, port):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def request(self, req):
            monkeypatch.chdir(flash)  # the device's files are in its working folder
            return service.handle(req)

    monkeypatch.setattr(device, "Device", Board)
    out = tmp_path / "audit.csv"
    assert cli.main(["audit", "pull", "--port", "virtual", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open(newline="")))
    assert [r["kind"] for r in rows] == ["dose", "override"]
    o = rows[1]
    assert (o["checked_amount"], o["verdict"], o["frequency"], o["cycle_day"], o["flags"],
            o["override_reason"], o["regimen"]) == ("25.0", "above", "daily", "24",
                                                    "frequency;cycle_day", "other", "C1-2")
    assert rows[0]["verdict"] == "" and rows[0]["cycle_day"] == ""
    # A file written by an older mmrenal (fewer columns) is not appended to.
    old = tmp_path / "old.csv"
    old.write_text("seq,kind,time\n1,dose,2026-11-26T09:30\n")
    assert cli.main(["audit", "pull", "--port", "virtual", "-o", str(old)]) == 2


# --- issue 14: what the serial link's requests record -----------------------------------


@pytest.mark.req("R-LINK-06")
def test_link_doses_checks_and_table_notes_are_their_own_kinds(tmp_path):
    audit = load("audit")
    log = audit.Audit(str(tmp_path / "audit.jnl"))
    assert log.record(audit.T_DOSE, 14_000_000, "", LEN15, 250, 0, False, 3, link=True)
    assert log.record(audit.T_DOSE, 14_000_001, "BED-4", LEN15, 250, 0, True, 3,
                      _check(override="", regimen=""), 1500, link=True)
    assert log.record(audit.T_DOSE, 14_000_002, "BED-4", LEN15, 250, 0, False, 3,
                      _check(override="protocol dose"), 2500, link=True)
    assert log.note(audit.T_TABLE, 14_000_003, "active b: myeloma-renal v2 1a2b3c4d")
    assert log.record(audit.T_DOSE, 14_000_004, "BED-4", LEN15, 250, 0, False, 3)  # a screen's
    rows = audit.Audit(str(tmp_path / "audit.jnl")).pull(0, 10)
    assert [r[1] for r in rows] == ["link dose", "link check", "link override", "table", "dose"]
    assert rows[0][3:5] == ["", "lenalidomide"] and rows[0][10:12] == [1500, "mg"]
    assert rows[1][7] is True and rows[1][12] == 1500 and rows[1][13] == "above"
    assert rows[2][17] == "protocol dose" and rows[2][12] == 2500
    assert rows[3][9] == "active b: myeloma-renal v2 1a2b3c4d"
    assert rows[4][13] == ""  # a screen's dose carries no check fields


def test_one_shared_log_for_screens_and_link(tmp_path, monkeypatch):
    audit = load("audit")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(audit, "_shared", None)
    a = audit.shared()
    assert audit.shared() is a  # two writers would each count sequence numbers
    a.note(audit.T_ERROR, 1, "x")
    assert audit.shared().pull(0, 5)[0][0] == 1
