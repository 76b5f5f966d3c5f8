"""The FLC tracker: journal damage of every kind, capacity, compaction, and the integer
kinetics against the float reference on synthetic two-compartment series."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mmrenal import flcmodel
from mmrenal.firmware import load

from support import SOAK

journal = load("journal")
flc = load("flc")
flcstore = load("flcstore")


def _records(path):
    got = []
    j = journal.Journal(str(path), 1 << 20)
    j.scan(lambda seq, t, p: got.append((seq, t, bytes(p))))
    return got, j


@pytest.fixture
def written(tmp_path):
    """A journal of 40 records of different sizes, and what was written."""
    path = tmp_path / "j.jnl"
    j = journal.Journal(str(path), 1 << 20)
    want = []
    for i in range(40):
        payload = bytes((i * 7 + k) % 256 for k in range(3 + i % 20))
        seq = j.append(1 + i % 4, payload)
        want.append((seq, 1 + i % 4, payload))
    return path, want


@pytest.mark.req("R-FLC-01")
def test_append_and_replay(written):
    path, want = written
    got, j = _records(path)
    assert got == want and j.bad == [] and j.last_seq == 40


@pytest.mark.req("R-FLC-01")
def test_truncated_at_every_byte(written):
    """A power cut at any byte: every complete record is there, no torn one."""
    path, want = written
    data = path.read_bytes()
    ends, off = [], 0
    for _, _, p in want:
        off += journal.HEAD + len(p) + journal.TAIL
        ends.append(off)
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        got, j = _records(path)
        complete = sum(1 for e in ends if e <= cut)
        assert got == want[:complete], cut
        assert (j.bad != []) == (cut not in (0, *ends)), cut


@pytest.mark.req("R-FLC-02")
def test_every_bit_flip_loses_only_the_damaged_record(written):
    path, want = written
    data = path.read_bytes()
    starts, off = [], 0
    for _, _, p in want:
        starts.append(off)
        off += journal.HEAD + len(p) + journal.TAIL
    positions = range(len(data)) if SOAK else range(0, len(data), 3)
    for pos in positions:
        rec = max(i for i, s in enumerate(starts) if s <= pos)
        for bit in range(8):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            path.write_bytes(bytes(bad))
            got, j = _records(path)
            assert [g for g in got if g[0] != want[rec][0]] == want[:rec] + want[rec + 1:], (pos, bit)
            assert want[rec] not in got and j.bad, (pos, bit)


@pytest.mark.req("R-FLC-01", "R-FLC-04")
def test_append_after_a_torn_tail_and_compaction(written):
    path, want = written
    data = path.read_bytes()
    path.write_bytes(data[:-5])  # the last record torn
    j = journal.Journal(str(path), 1 << 20)
    j.scan(lambda *a: None)
    assert j.bad and j.last_seq == 39
    seq = j.append(2, b"after the cut")
    assert seq == 40
    got, j2 = _records(path)
    assert got == want[:39] + [(40, 2, b"after the cut")] and j2.bad
    size = j2.compact(lambda s, t, p: True)
    got, j3 = _records(path)
    assert got == want[:39] + [(40, 2, b"after the cut")] and j3.bad == []
    assert size == os.path.getsize(path) < len(data)


@pytest.mark.req("R-FLC-04")
def test_compaction_keeps_the_last_sequence_number(written):
    path, want = written
    j = journal.Journal(str(path), 1 << 20)
    j.scan(lambda *a: None)
    j.compact(lambda seq, t, p: seq < 10)  # drop most, but never the last
    got, j2 = _records(path)
    assert [g[0] for g in got] == [*range(1, 10), 40] and j2.last_seq == 40
    assert j2.append(1, b"x") == 41


@pytest.mark.req("R-FLC-03")
def test_capacity_four_thousand_samples_then_full(tmp_path):
    tr = flcstore.Tracker(str(tmp_path / "flc.jnl"))
    tr.boot()
    tr.add_patient("BED-1", 0, 14_000_000)
    for i in range(4000):
        tr.add_sample("BED-1", 14_000_000 + i * 60, 100 + i, 200, "LAB-8CHR", False)
    assert tr.status()["samples"] == 4000
    with pytest.raises(journal.Full):
        for i in range(10_000):
            tr.add_sample("BED-1", 14_300_000 + i * 60, 100, 200, "LAB-8CHR", False)
    size = os.path.getsize(tmp_path / "flc.jnl")
    before = tr.status()["samples"]
    with pytest.raises(journal.Full):
        tr.add_sample("BED-1", 15_000_000, 100, 200, "LAB-8CHR", False)
    assert os.path.getsize(tmp_path / "flc.jnl") == size  # nothing half-written
    again = flcstore.Tracker(str(tmp_path / "flc.jnl"))
    again.boot()
    assert again.status()["samples"] == before  # every acknowledged sample replays


@pytest.mark.req("R-PAT-01", "R-PAT-03", "R-FLC-07")
def test_entry_limits(tmp_path):
    tr = flcstore.Tracker(None)
    tr.boot()
    limits = load("limits")
    for code in ("ZHANG SAN", "Bed-1", "", "ABCDEFGHIJKLM1", "NAME"):
        with pytest.raises(limits.InputError) as e:
            tr.add_patient(code, 0, 0)
        assert e.value.field == "patient"
    tr.add_patient("BED-7", 1, 14_000_000)
    for kappa, lam, field in ((9, 500, "kappa"), (500, 10_000_001, "lambda")):
        with pytest.raises(limits.InputError) as e:
            tr.add_sample("BED-7", 14_000_100, kappa, lam, "L1", False)
        assert e.value.field == field
    tr.add_sample("BED-7", 14_000_100, 500, 500, "L1", False)
    with pytest.raises(limits.InputError) as e:
        tr.add_sample("BED-7", 14_000_000, 500, 500, "L1", False)
    assert e.value.field == "time" and "confirm" in e.value.message
    tr.add_sample("BED-7", 14_000_000, 500, 500, "L1", True)  # confirmed
    with pytest.raises(limits.InputError):
        tr.add_sample("BED-9", 14_000_000, 500, 500, "L1", False)  # not registered


def _track(s: flcmodel.Series):
    tr = flcstore.Tracker(None)
    tr.boot()
    tr.add_patient("BED-1", flc.CHAINS.index(s.chain), s.t0)
    for t, k, lam in zip(s.times, s.kappa, s.lam, strict=True):
        tr.add_sample("BED-1", t, round(k * 100), round(lam * 100), "L1", True)
    for kind, start, end in s.sessions:
        tr.add_event("BED-1", flc.EVENTS.index(kind), start, end)
    return flc.kinetics(tr.patient("BED-1"), 0)


@pytest.mark.req("R-FLC-05")
def test_reference_uses_the_device_sample_choice():
    assert (flcmodel.RING, flcmodel.WINDOW) == (flc.RING, flc.WINDOW)


@pytest.mark.req("R-FLC-05")
def test_kinetics_against_the_float_reference():
    rng = np.random.default_rng(2026)
    n = 400 if SOAK else 60
    checked = 0
    for i in range(n):
        chain = ("kappa", "lambda")[i % 2]
        half = float(rng.choice([2.5, 4, 6, 30, 45, 60]))  # normal and dialysis range
        s = flcmodel.simulate(rng, chain, half, sessions=int(rng.integers(0, 5)),
                              session_kind=("pe", "hco_hd", "hfr")[i % 3])
        k = _track(s)
        ref = flcmodel.reference(s)
        assert abs(k["reduction_x10"] / 10 - ref["reduction_pct"]) <= 0.1
        assert k["baseline_x100"] == round(ref["baseline"] * 100)
        if ref["half_life_h"] is None:
            assert k["half_life_x10"] is None
            continue
        assert abs(k["half_life_x10"] / 10 - ref["half_life_h"]) <= 0.02 * ref["half_life_h"]
        checked += 1
    assert checked > n * 0.8


@pytest.mark.req("R-FLC-05")
def test_sessions_removal_and_rebound():
    rng = np.random.default_rng(7)
    s = flcmodel.simulate(rng, "lambda", 45, sessions=3, session_kind="hco_hd", noise=0.0)
    k = _track(s)
    assert [x[0] for x in k["sessions"]] == ["hco_hd"] * 3
    for _kind, _start, _end, removal, rebound in k["sessions"]:
        assert 100 < removal < 800  # a session lowers the plasma FLC (0.1 pp)
        assert rebound is not None and rebound > 0  # tissue refills the plasma afterwards
    # Independently: the fall across the first session from the samples around it.
    t = np.array(s.times)
    inv = np.array(s.lam)
    pre = inv[t <= s.sessions[0][1]][-1]
    post = inv[t >= s.sessions[0][2]][0]
    assert abs(k["sessions"][0][3] / 10 - 100 * (pre - post) / pre) <= 0.1


@pytest.mark.req("R-FLC-05", "R-FLC-06")
def test_day21_target_and_projection():
    tr = flcstore.Tracker(None)
    tr.boot()
    t0 = 14_000_000
    tr.add_patient("BED-2", 0, t0)
    tr.add_sample("BED-2", t0 - 60, 100_000, 1_000, "L1", False)  # 1000 mg/L baseline
    # Halving every 4 days: 60% reduction (40% left) after 4 x log2(2.5) = 5.29 days.
    for d in (1, 2, 3, 4):
        tr.add_sample("BED-2", t0 + d * 1440, round(100_000 * 2 ** (-d / 4)), 1_000, "L1", False)
    k = flc.kinetics(tr.patient("BED-2"), 0)
    assert k["half_life_x10"] == 960  # 96.0 h
    day = (k["projected_60"] - t0) / 1440
    assert abs(day - 4 * np.log2(2.5)) < 0.05
    assert k["on_track_day21"] is True and k["reached_60_at"] is None
    tr.add_sample("BED-2", t0 + 6 * 1440, 30_000, 1_000, "L2", False)
    k = flc.kinetics(tr.patient("BED-2"), 0)
    assert k["reached_60_at"] == t0 + 6 * 1440 and k["labs_differ"] is True


@pytest.mark.req("R-FLC-06")
def test_small_changes_are_no_change():
    tr = flcstore.Tracker(None)
    tr.boot()
    tr.add_patient("BED-3", 0, 14_000_000)
    tr.add_sample("BED-3", 14_000_100, 10_000, 1_000, "L1", False)
    tr.add_sample("BED-3", 14_001_540, 8_600, 1_000, "L1", False)  # -14%
    assert flc.kinetics(tr.patient("BED-3"), 0)["trend"] == "no change"
    tr.add_sample("BED-3", 14_002_980, 7_000, 1_000, "L1", False)  # -18.6%
    assert flc.kinetics(tr.patient("BED-3"), 0)["trend"] == "falling"


def _write_csv(path, s: flcmodel.Series):
    import csv

    from mmrenal import clock

    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "kappa_mg_l", "lambda_mg_l", "lab", "event"])
        w.writerow([clock.from_minutes(s.t0), "", "", "", "chemo_start"])
        for kind, a, b in s.sessions:
            w.writerow([clock.from_minutes(a), "", "", "", kind])
            w.writerow([clock.from_minutes(b), "", "", "", "session_end"])
        for t, k, lam in zip(s.times, s.kappa, s.lam, strict=True):
            w.writerow([clock.from_minutes(t), f"{k:.2f}", f"{lam:.2f}", "LAB1", ""])


@pytest.mark.req("R-FLC-05")
def test_analyze_command_matches_the_tracker(tmp_path):
    import json
    import subprocess
    import sys

    rng = np.random.default_rng(11)
    s = flcmodel.simulate(rng, "kappa", 5, sessions=2, session_kind="pe")
    f = tmp_path / "p.csv"
    _write_csv(f, s)
    res = subprocess.run([sys.executable, "-m", "mmrenal", "flc", "analyze", "--csv", str(f),
                          "--involved", "kappa", "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert {"baseline_mg_l", "latest_mg_l", "reduction_pct", "half_life_h", "projected_60pct_date",
            "on_track_day21", "sessions"} <= set(out)
    # Same inputs through the tracker in this process (the CSV holds 2-decimal values).
    s.kappa = [round(v, 2) for v in s.kappa]
    s.lam = [round(v, 2) for v in s.lam]
    k = _track(s)
    assert out["reduction_pct"] == k["reduction_x10"] / 10
    assert out["half_life_h"] == (k["half_life_x10"] or 0) / 10 or out["half_life_h"] is None
    assert [x["kind"] for x in out["sessions"]] == ["pe", "pe"]
    ref = flcmodel.reference(s)
    assert abs(out["reduction_pct"] - ref["reduction_pct"]) <= 0.1
    res = subprocess.run([sys.executable, "-m", "mmrenal", "flc", "plot", "--csv", str(f),
                          "--involved", "kappa", "-o", str(tmp_path / "p.png")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("row, where", [
    ("2026-11-02T08:00,abc,12,L1,", "kappa"),
    ("2026-11-02T08:00,150,,L1,", "needs both"),
    ("yesterday,150,12,L1,", "time"),
    ("2026-11-02T08:00,150,12,L1,dialysis", "event"),
    ("2026-11-02T08:00,150,12,lab one,", "lab"),
])
@pytest.mark.req("R-FLC-07", "R-IN-05")
def test_analyze_refuses_bad_rows_naming_row_and_field(tmp_path, row, where):
    import subprocess
    import sys

    f = tmp_path / "bad.csv"
    f.write_text("time,kappa_mg_l,lambda_mg_l,lab,event\n2026-11-01T08:00,200,12,L1,\n" + row + "\n")
    res = subprocess.run([sys.executable, "-m", "mmrenal", "flc", "analyze", "--csv", str(f),
                          "--involved", "kappa"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert where in res.stderr
    if where not in ("event", "time", "needs both"):
        assert f"{f}:3" in res.stderr  # the row


@pytest.mark.req("R-CALC-06", "R-UNIT-02")
def test_recorded_creatinine_feeds_kdigo(engines):
    for eng in engines.values():
        base = {"patient": "BED-8", "scratch": True}
        assert eng.request({"op": "flc_patient", "involved": "kappa", **base})["ok"]
        # 1.0 -> 2.3 mg/dL in 2 days: >= 2.0 x baseline, KDIGO stage 2.
        assert eng.request({"op": "flc_creatinine", "time": 14_002_880, "scr": "2.3",
                            "scr_unit": "mg/dL", **base})["ok"]
        assert eng.request({"op": "flc_creatinine", "time": 14_000_000, "scr": "88.4",
                            "scr_unit": "umol/L", **base})["ok"]
        k = eng.request({"op": "flc_kinetics", **base})
        assert (k["aki_stage"], k["creatinine_samples"]) == (2, 2)


@pytest.mark.req("R-FLC-01")
def test_a_repeated_record_is_not_written_twice(tmp_path):
    fs = load("flcstore")
    path = tmp_path / "flc.jnl"
    t = fs.Tracker(str(path))
    t.boot()
    t.add_patient("BED-9", 0, 14_000_000)

    def same_size(fn):
        size = path.stat().st_size
        answer = fn()
        return answer == fs.REPEAT and path.stat().st_size == size

    assert t.add_sample("BED-9", 14_001_000, 50000, 1200, "LAB-1", False) > 0
    # The same sample again (a retry after a lost answer): nothing written.
    assert same_size(lambda: t.add_sample("BED-9", 14_001_000, 50000, 1200, "LAB-1", False))
    assert t.add_event("BED-9", 2, 14_000_500, 14_000_700) > 0
    assert same_size(lambda: t.add_event("BED-9", 2, 14_000_500, 14_000_700))
    assert same_size(lambda: t.add_event("BED-9", 1, 14_000_000, 0))  # the start, recorded
    assert t.add_creatinine("BED-9", 14_001_000, 300000) > 0
    assert same_size(lambda: t.add_creatinine("BED-9", 14_001_000, 300000))
    # A different laboratory or time is a new record.
    assert t.add_sample("BED-9", 14_001_000, 50000, 1200, "LAB-2", False) > 0
    assert t.add_sample("BED-9", 14_002_000, 50000, 1200, "LAB-1", False) > 0
    replay = fs.Tracker(str(path))
    replay.boot()
    p = replay.patient("BED-9")
    assert p.count == 3 and len(p.sessions) == 1 and len(replay.creatinine["BED-9"]) == 1
