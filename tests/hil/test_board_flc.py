"""FLC records on the board: acknowledged records survive a power cut at any byte of
an append, a torn record is never accepted, and a pull round-trips through CSV to the
same kinetics the board computes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mmrenal import clock, flc_cmds

T0 = clock.to_minutes("2026-11-01T08:00")


def _wipe_flc(board):
    code = ("import os\nfor n in ('flc.jnl','flc.jnl.new'):\n try:\n  os.remove(n)\n"
            " except OSError:\n  pass")
    assert board.mpremote("exec", code, "+", "soft-reset").returncode == 0


def _request(board, req, wait=15.0):
    with board.device() as dev:
        return dev.request(req, wait=wait)


@pytest.mark.req("R-PAT-01", "R-PAT-03", "R-FLC-07")
def test_register_add_list_and_refusals(deployed):
    _wipe_flc(deployed)
    assert _request(deployed, {"op": "flc_patient", "patient": "BED-4", "involved": "kappa",
                               "start": T0})["ok"]
    r = _request(deployed, {"op": "flc_patient", "patient": "WANG WU", "involved": "kappa"})
    assert r["ok"] is False and r["field"] == "patient"
    for day, value in ((-1, "1500"), (1, "900"), (2, "600"), (3, "420")):
        r = _request(deployed, {"op": "flc_sample", "patient": "BED-4", "time": T0 + day * 1440,
                                "kappa": value, "lambda": "12.5", "lab": "LAB1"})
        assert r["ok"] and r["seq"] > 0
    r = _request(deployed, {"op": "flc_sample", "patient": "BED-4", "time": T0, "kappa": "800",
                            "lambda": "12", "lab": "LAB1"})
    assert r["ok"] is False and r["field"] == "time" and "confirm" in r["error"]
    r = _request(deployed, {"op": "flc_sample", "patient": "BED-4", "time": T0 + 5 * 1440,
                            "kappa": "200000", "lambda": "12", "lab": "LAB1"})
    assert r["ok"] is False and r["field"] == "kappa"
    k = _request(deployed, {"op": "flc_kinetics", "patient": "BED-4"})
    assert k["baseline_x100"] == 150000 and k["reduction_x10"] == 720  # (1500-420)/1500
    st = _request(deployed, {"op": "flc_list"})
    assert st["samples"] == 4 and st["patient_list"][0][0] == "BED-4"


@pytest.mark.req("R-FLC-01")
def test_power_cut_at_every_byte_of_an_append(virtual_only):
    board = virtual_only
    _wipe_flc(board)
    assert _request(board, {"op": "flc_patient", "patient": "BED-5", "involved": "lambda",
                            "start": T0})["ok"]
    from support import SOAK

    record = 12 + 13 + 4  # journal head/tail + sample payload + a 4-character lab code
    cuts_at = range(record + 1) if SOAK else sorted({*range(0, record, 4), record - 1, record})
    for n in cuts_at:
        before = _request(board, {"op": "flc_list"})["samples"]
        board.control(f"power-cut-after {n}")
        cuts = board.control("status")["power_cuts"]
        req = {"op": "flc_sample", "patient": "BED-5", "time": T0 + n * 60, "kappa": "15",
               "lambda": str(1000 - n), "lab": "LAB2"}
        try:
            r = _request(board, req, wait=1.5)
        except Exception:
            r = None  # the board went down before it answered: nothing acknowledged
        board.control("disarm")
        if board.control("status")["power_cuts"] == cuts:
            assert r and r["ok"] and n == record  # the whole record fitted in the budget
            continue
        after = _request(board, {"op": "flc_list"})
        assert r is None or not r.get("ok")  # never acknowledged
        if n < record:
            # A cut before the last byte: the torn record is not accepted, its bytes are
            # reported at boot, and every earlier sample is still there.
            assert after["samples"] == before, n
            assert bool(after["damaged"]) == (n > 0), n
        else:
            # All bytes reached flash before the power went: the record is whole and
            # replays (durable, though the host never heard so).
            assert after["samples"] == before + 1 and after["damaged"] == []
        # The host sends it again, as it must when no answer came: exactly one copy
        # either way (written now, or found already durable and not written twice).
        again = _request(board, req)
        assert again["ok"] and again.get("repeat", False) == (n == record), (n, again)
        assert _request(board, {"op": "flc_list"})["samples"] == before + 1, n


@pytest.mark.req("R-FLC-04")
def test_pull_twice_and_csv_round_trip(deployed, tmp_path):
    _wipe_flc(deployed)
    assert _request(deployed, {"op": "flc_patient", "patient": "BED-6", "involved": "lambda",
                               "start": T0})["ok"]
    values = ("2400", "1800", "1100", "950", "700", "520")
    for i, v in enumerate(values):
        assert _request(deployed, {"op": "flc_sample", "patient": "BED-6",
                                   "time": T0 - 60 + i * 1440, "kappa": "10.2", "lambda": v,
                                   "lab": "LAB1"})["ok"]
    assert _request(deployed, {"op": "flc_event", "patient": "BED-6", "event": "hco_hd",
                               "start": T0 + 2 * 1440 - 200, "end": T0 + 2 * 1440 - 20})["ok"]
    new, total = flc_cmds.pull(deployed.port, tmp_path)
    assert new == total == len(values) + 2
    new, total = flc_cmds.pull(deployed.port, tmp_path)
    assert new == 0 and total == len(values) + 2  # nothing twice
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    assert len(lines) == len(set(json.loads(x)["seq"] for x in lines)) == total
    on_board = _request(deployed, {"op": "flc_kinetics", "patient": "BED-6"})
    from_csv = flc_cmds.analyze(str(tmp_path / "BED-6.csv"), "lambda", "micropython")
    for key in ("baseline_x100", "latest_x100", "reduction_x10", "half_life_x10",
                "projected_60", "on_track_day21", "sessions", "kl_ratio_x1000"):
        assert from_csv[key] == on_board[key], key
    res = subprocess.run([sys.executable, "-m", "mmrenal", "flc", "plot", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    png = tmp_path / "BED-6.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.parametrize("cmd", [["list"], ["list", "--patient", "BED-6"]])
def test_flc_list_command(deployed, cmd):
    res = subprocess.run([sys.executable, "-m", "mmrenal", "flc", *cmd, "--port", deployed.port],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


@pytest.mark.req("R-AUD-02")
def test_audit_pull(deployed, tmp_path):
    """The board's audit log over the protocol into a CSV, nothing twice. The records
    are written here as the screens write them (firmware/audit.py) into the flash."""
    board = deployed
    if not board.virtual:
        pytest.skip("writes the audit journal into the virtual flash directly")
    from mmrenal.firmware import load

    audit = load("audit")
    log = audit.Audit(str(board.vd.flash / "audit.jnl"))
    result = {"drug": "lenalidomide", "status": "adjusted",
              "doses": [{"unit": "mg", "amount_x100": 1000}]}
    assert log.record(audit.T_DOSE, T0, "BED-4", result, 350, 400, False, 2)
    out = tmp_path / "audit.csv"
    for _ in range(2):
        res = subprocess.run([sys.executable, "-m", "mmrenal", "audit", "pull", "--port", board.port,
                              "-o", str(out)], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
    rows = out.read_text().splitlines()
    assert len(rows) == 2  # header and the one record, pulled once
    assert rows[1].split(",")[3:6] == ["BED-4", "lenalidomide", "35.0"]


def _patients(board, codes, chain, samples):
    """Register each code (treatment start T0) with the samples (time, kappa, lambda)."""
    for code in codes:
        assert _request(board, {"op": "flc_patient", "patient": code, "involved": chain,
                                "start": T0})["ok"]
        for t, kappa, lam in samples:
            assert _request(board, {"op": "flc_sample", "patient": code, "time": t,
                                    "kappa": kappa, "lambda": lam, "lab": "LAB1"})["ok"]


def _ask(board, req, wait=30.0):
    with board.device() as dev:
        return dev.request(req, wait=wait)


@pytest.mark.req("R-LIFE-01", "R-LIFE-02", "R-LIFE-05")
def test_board_starts_and_serves_with_the_journal_at_capacity(deployed):
    """16 patients and the journal full at MAX_BYTES, then a power cut: the board boots
    and answers (issue 14: it failed with a MemoryError in replay from 16 patients x 40
    samples on). At the Pico's heap itself: test_flc.py::test_start_up_heap_budget."""
    vd = deployed
    if not vd.virtual:
        pytest.skip("fills the virtual board's flash directly")
    written = flc_cmds.write_full_journal(vd.vd.flash)
    assert written["patients"] == 16 and written["bytes"] > 180000 - 400 - 64
    vd.control("power-cut")
    st = _ask(vd, {"op": "flc_list"})
    assert st["ok"] and st["patients"] == 16 and st["records"] == written["records"], st
    assert st["damaged"] == [] and st["not_acked"] == written["records"]
    code = st["patient_list"][3][0]
    k = _ask(vd, {"op": "flc_kinetics", "patient": code})
    assert sum(x[3] for x in st["patient_list"]) == written["samples"]
    assert k["ok"] and k["samples"] == st["patient_list"][3][3] and k["creatinine_samples"] == 16
    r = _ask(vd, {"op": "crcl", "age": 60, "sex": "female", "weight": "60", "height": "165", "scr": "1.5",
                  "scr_unit": "mg/dL"})
    assert r["ok"], r
    page = _ask(vd, {"op": "flc_pull", "since": 0, "limit": 10})
    assert page["ok"] and [x[0] for x in page["records"]] == list(range(1, 11))
    # Full: a new record is refused, saying so and how to free space; nothing written.
    r = _ask(vd, {"op": "flc_sample", "patient": code, "time": T0 + 90 * 1440,
                  "kappa": "15", "lambda": "12", "lab": "LAB1"})
    assert r["ok"] is False and r["field"] == "storage", r
    assert "storage full" in r["error"] and "pull" in r["error"] and "discharge" in r["error"]
    assert _ask(vd, {"op": "flc_list"})["records"] == written["records"]
    # doctor says it as it is: started, full, and how many records wait for a pull.
    from mmrenal import doctor

    with vd.device() as dev:
        findings, _ = doctor.examine(dev)
    rec = [f for f in findings if f.check == "records"][0]
    assert rec.state == doctor.FAIL and "STORAGE FULL" in rec.text
    assert f"{written['records']} records not yet pulled" in rec.text and "discharge" in rec.fix
    assert [f.state for f in findings if f.check == "start-up"] == [doctor.OK]
    _wipe_flc(vd)


@pytest.mark.req("R-LIFE-02", "R-LIFE-04")
def test_pull_acknowledges_and_discharge_frees_the_space(deployed, tmp_path):
    """`mmrenal flc pull` writes the files, then acknowledges; after a discharge the next
    pull removes that patient's records from the board, and only theirs."""
    _wipe_flc(deployed)
    _patients(deployed, ("BED-7", "BED-8"), "kappa",
              [(T0 + i * 1440, str(900 - i * 100), "12") for i in range(5)])
    new, total = flc_cmds.pull(deployed.port, tmp_path)
    assert new == total == 12
    st = _request(deployed, {"op": "flc_list"})
    assert st["acked_through"] == 12 and st["not_acked"] == 0 and st["patients"] == 2
    size = st["bytes"]
    res = subprocess.run([sys.executable, "-m", "mmrenal", "flc", "discharge", "BED-7",
                          "--port", deployed.port], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "discharged" in res.stdout, res.stderr
    st = _request(deployed, {"op": "flc_list"})
    assert st["patients"] == 1 and st["not_acked"] == 1 and st["bytes"] > size  # not yet freed
    new, total = flc_cmds.pull(deployed.port, tmp_path)
    assert new == 1 and total == 13
    st = _request(deployed, {"op": "flc_list"})
    assert st["bytes"] < size and st["not_acked"] == 0
    left = _request(deployed, {"op": "flc_pull", "since": 0, "limit": 40})["records"]
    assert {r[2] for r in left} == {"BED-8"} and len(left) == 6
    # The host's files hold every record, BED-7's discharge included.
    lines = [json.loads(x) for x in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert [r["seq"] for r in lines] == [*range(1, 13), 14]  # 13: the acknowledgement
    assert lines[-1]["type"] == "discharge" and lines[-1]["patient"] == "BED-7"
    # A pull into a folder from another journal is refused, nothing acknowledged.
    other = tmp_path / "other"
    other.mkdir()
    seq = _request(deployed, {"op": "flc_sample", "patient": "BED-8", "time": T0 + 9 * 1440,
                              "kappa": "99", "lambda": "12", "lab": "LAB1"})["seq"]
    (other / "records.jsonl").write_text(json.dumps({**lines[7], "seq": seq}) + "\n")
    with pytest.raises(flc_cmds.CsvError, match="another board"):
        flc_cmds.pull(deployed.port, other)
    assert _request(deployed, {"op": "flc_list"})["not_acked"] == 1  # still on the board


@pytest.mark.req("R-LIFE-04")
def test_power_cut_during_the_compaction_on_the_board(virtual_only, tmp_path):
    """The acknowledgement's rewrite cut by the power at bytes across the new file (every
    byte under MMRENAL_SOAK): after the reboot the board holds the old journal whole or
    the new one, never a mix, and serves."""
    board = virtual_only
    from support import SOAK

    def fill():
        _wipe_flc(board)
        _patients(board, ("BED-1", "BED-2"), "lambda",
                  [(T0 + i * 60, "12", str(900 - i)) for i in range(4)])
        assert _request(board, {"op": "flc_discharge", "patient": "BED-1"})["ok"]
        return _request(board, {"op": "flc_pull", "since": 0, "limit": 40})["records"]

    before = fill()
    through = before[-1][0]
    assert _request(board, {"op": "flc_ack", "through": through})["ok"]
    after = _request(board, {"op": "flc_pull", "since": 0, "limit": 40})["records"]
    new_size = _request(board, {"op": "flc_list"})["bytes"]
    assert {r[2] for r in after} == {"BED-2"}
    points = range(new_size) if SOAK else sorted({*range(0, new_size, 23), new_size - 1})
    seen = set()
    for n in points:
        assert fill() == before
        cuts = board.control("status")["power_cuts"]
        board.control(f"power-cut-after {n}")
        try:
            _request(board, {"op": "flc_ack", "through": through}, wait=2)
        except Exception:  # noqa: S110 - the board went down before it answered
            pass
        board.control("disarm")
        assert board.control("status")["power_cuts"] == cuts + 1, f"no cut at {n}"
        now = _request(board, {"op": "flc_pull", "since": 0, "limit": 40})["records"]
        assert now in (before, after), n
        seen.add("old" if now == before else "new")
        st = _request(board, {"op": "flc_list"})
        assert st["damaged"] == [] and st["patients"] == 1
    assert seen == {"old"}  # the rename is the last step: a cut before it keeps the old
