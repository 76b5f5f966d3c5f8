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


@pytest.fixture
def eight_character_lab():
    """The capacity is sized for the longest laboratory code a table may list (8
    characters): a table that lists one, then the defaults again."""
    flc.set_code_policy(None, None, ["LAB-8CHR"])
    yield
    flc.set_code_policy()


@pytest.mark.req("R-FLC-03")
def test_capacity_four_thousand_samples_then_full(tmp_path, eight_character_lab):
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

    assert t.add_sample("BED-9", 14_001_000, 50000, 1200, "LAB1", False) > 0
    # The same sample again (a retry after a lost answer): nothing written.
    assert same_size(lambda: t.add_sample("BED-9", 14_001_000, 50000, 1200, "LAB1", False))
    assert t.add_event("BED-9", 2, 14_000_500, 14_000_700) > 0
    assert same_size(lambda: t.add_event("BED-9", 2, 14_000_500, 14_000_700))
    assert same_size(lambda: t.add_event("BED-9", 1, 14_000_000, 0))  # the start, recorded
    assert t.add_creatinine("BED-9", 14_001_000, 300000) > 0
    assert same_size(lambda: t.add_creatinine("BED-9", 14_001_000, 300000))
    # A different laboratory or time is a new record.
    assert t.add_sample("BED-9", 14_001_000, 50000, 1200, "LAB2", False) > 0
    assert t.add_sample("BED-9", 14_002_000, 50000, 1200, "LAB1", False) > 0
    replay = fs.Tracker(str(path))
    replay.boot()
    p = replay.patient("BED-9")
    assert p.count == 3 and len(p.sessions) == 1 and len(replay.creatinine["BED-9"]) == 1


# --- issue 13: the FLC tracker says the truth on every sample -------------------------

D = 1440
T0 = 14_000_000


def _scenario(eng, involved, samples, sessions=(), code="ST-1"):
    """One patient on the engine's scratch tracker (a new person under `code` each
    time, so scenarios never mix): treatment start T0, samples (day, involved mg/L,
    uninvolved mg/L), sessions (kind, start day, hours); returns the kinetics."""
    base = {"patient": code, "scratch": True}
    r = eng.request({"op": "flc_patient", "involved": involved, "start": T0, "new_episode": True,
                     **base})
    assert r["ok"], r
    other = "lambda" if involved == "kappa" else "kappa"
    for day, inv, unin in samples:
        r = eng.request({"op": "flc_sample", "time": T0 + round(day * D), involved: str(inv),
                         other: str(unin), "lab": "L1", "confirm": True, **base})
        assert r["ok"], r
    for kind, day, hours in sessions:
        r = eng.request({"op": "flc_event", "event": kind, "start": T0 + round(day * D),
                         "end": T0 + round(day * D) + hours * 60, **base})
        assert r["ok"], r
    return eng.request({"op": "flc_kinetics", **base})


# Baseline 1000 mg/L the day before treatment; 60% reduction = 400 mg/L or less.
REACHED = [(-1, 1000, 12), (2, 700, 12), (4, 450, 12), (5.2, 380, 12)]


@pytest.mark.req("R-FLCT-01")
def test_on_track_is_worked_out_afresh_not_latched(engines):
    """Reached by day 5, then a rebound after a high cut-off session: not on track, on
    both interpreters; a later fall to below the low point is on track again."""
    for eng in engines.values():
        k = _scenario(eng, "kappa", REACHED)
        assert (k["on_track_day21"], k["on_track_reason"]) == (True, "reached")
        # Session on day 6 (pre 360, post 200), then the tissue refills the plasma: 320 (+60%).
        session = REACHED + [(5.9, 360, 12), (6.3, 200, 12), (8, 320, 12)]
        k = _scenario(eng, "kappa", session, [("hco_hd", 6, 5)])
        assert k["reached_60_at"] == T0 + round(5.2 * D)  # the history is kept ...
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "rebound_after_session")
        k = _scenario(eng, "kappa", session + [(10, 190, 12)], [("hco_hd", 6, 5)])
        assert (k["on_track_day21"], k["on_track_reason"]) == (True, "reached")


@pytest.mark.req("R-FLCT-01")
def test_a_rise_after_day_21_or_without_a_session(engines):
    for eng in engines.values():
        k = _scenario(eng, "lambda", REACHED + [(15, 200, 12), (24, 300, 12)])  # +50% after day 21
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "rising_after_day21")
        k = _scenario(eng, "lambda", REACHED + [(7, 200, 12), (9, 260, 12)])  # +30% on day 9
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "rising")
        # A rise from the baseline itself with the first sample after the start.
        k = _scenario(eng, "lambda", [(-1, 1000, 12), (1, 1200, 12)])
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "rising")


@pytest.mark.req("R-FLCT-01", "R-FLC-06")
def test_a_rise_within_the_assay_imprecision_is_not_a_trend(engines):
    for eng in engines.values():
        # 200 -> 228 mg/L is +14%: below the 15% imprecision, still at the target.
        k = _scenario(eng, "kappa", REACHED + [(7, 200, 12), (9, 228, 12)])
        assert (k["on_track_day21"], k["on_track_reason"]) == (True, "reached")
        k = _scenario(eng, "kappa", REACHED + [(7, 200, 12), (9, 232, 12)])  # +16%
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "rising")


@pytest.mark.req("R-FLCT-01")
def test_day21_reasons_when_not_reached(engines):
    for eng in engines.values():
        # Falling, projected: halving every 4 days reaches 40% on day 5.3.
        fall = [(-1, 1000, 12)] + [(d, round(1000 * 2 ** (-d / 4)), 12) for d in (1, 2, 3)]
        k = _scenario(eng, "kappa", fall)
        assert (k["on_track_day21"], k["on_track_reason"]) == (True, "projected")
        # Halving every 20 days: 40% only on day 26.
        slow = [(-1, 1000, 12)] + [(d, round(1000 * 2 ** (-d / 20)), 12) for d in (1, 2, 3)]
        k = _scenario(eng, "kappa", slow)
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "projected_late")
        k = _scenario(eng, "kappa", slow + [(22, 480, 12)])
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "missed")
        k = _scenario(eng, "kappa", slow + [(23, 390, 12)])
        assert (k["on_track_day21"], k["on_track_reason"]) == (False, "reached_late")
        k = _scenario(eng, "kappa", [(-1, 1000, 12), (1, 900, 12)])  # one sample after the start
        assert (k["on_track_day21"], k["on_track_reason"]) == (None, "too_few")
        assert k["fit_points"] is None and k["half_life_x10"] is None


@pytest.mark.req("R-FLCT-03")
def test_involved_below_the_other_chain_is_counted(engines):
    for eng in engines.values():
        k = _scenario(eng, "kappa", [(-1, 1000, 12), (1, 14, 900), (2, 600, 12)])
        assert k["chain_doubt"] == 1
        k = _scenario(eng, "lambda", [(-1, 1000, 12), (1, 700, 12)])
        assert k["chain_doubt"] == 0


@pytest.mark.req("R-FLCT-04")
def test_half_life_in_two_significant_figures():
    cases = {85: "0.85", 99: "0.99", 420: "4.2", 995: "10", 1236: "12", 9949: "99",
             12360: "120", 123600: "1200"}
    assert {x: flc.two_figures(x) for x in cases} == cases
    tr = flcstore.Tracker(None)
    tr.boot()
    tr.add_patient("BED-2", 0, T0)
    for h, v in ((0, 160000), (2, 80000), (4, 40000)):  # halving every 2 h exactly
        tr.add_sample("BED-2", T0 + 60 + h * 60, v, 1000, "L1", False)
    k = flc.kinetics(tr.patient("BED-2"), 0)
    # 0.01 h for the short ones (within the fit's 1%), shown as "2.0 h".
    assert k["half_life_x10"] == 20 and abs(k["half_life_x100"] - 200) <= 2
    assert flc.two_figures(k["half_life_x100"]) == "2.0"


def _episode_tracker(path):
    tr = flcstore.Tracker(str(path))
    tr.boot()
    tr.add_patient("BED-12", 0, T0)
    for d, v in ((-1, 184000), (1, 90000), (3, 40000)):
        tr.add_sample("BED-12", T0 + d * D, v, 1850, "LAB1", False)
    tr.add_event("BED-12", 2, T0 + D, T0 + D + 240)
    tr.add_creatinine("BED-12", T0 + D, 300000)
    tr.add_patient("BED-7", 1, 0)
    return tr


@pytest.mark.req("R-FLCT-06")
def test_a_new_person_in_a_bed_starts_a_new_episode(tmp_path):
    import gc

    limits = load("limits")
    path = tmp_path / "flc.jnl"
    tr = _episode_tracker(path)
    size = path.stat().st_size
    with pytest.raises(limits.InputError) as e:  # the same code again: refused, nothing written
        tr.add_patient("BED-12", 1, 0)
    assert e.value.field == "patient" and "new_episode" in e.value.message
    assert path.stat().st_size == size and tr.patient("BED-12").count == 3
    del e  # its traceback holds the earlier person's tracker (add_patient's locals)
    assert tr.add_patient("BED-12", 1, T0 + 30 * D, True) > 0
    assert tr.add_patient("BED-12", 1, T0 + 30 * D, True) == flcstore.REPEAT  # a retry: no third
    tr.add_sample("BED-12", T0 + 31 * D, 1200, 90000, "LAB2", False)
    for t in (tr, flcstore.Tracker(str(path))):
        t.boot() if t is not tr else None
        p = t.patient("BED-12")
        # Only the new person: one sample, no sessions, no creatinine, their own chain.
        assert (p.episode, p.count, p.n, p.involved, p.t0) == (2, 1, 1, 1, T0 + 30 * D)
        assert p.sessions == [] and "BED-12" not in t.creatinine
        assert [q.code for q in t.by_pid] == ["BED-12", "BED-7"]  # one bed, not a 3rd patient
        k = flc.kinetics(p, 0)
        assert (k["samples"], k["baseline_x100"], k["episode"]) == (1, None, 2)
    gc.collect()
    # The replayed tracker keeps no tracker of the earlier person (bounded memory).
    live = [o for o in gc.get_objects() if isinstance(o, flc.Patient) and o.code == "BED-12"]
    assert sorted(o.episode for o in live) == [2, 2]  # tr's and the replay's, nothing else
    # Nothing is deleted: every record is pulled, each with its person's episode.
    got = t.pull(0, 100)
    assert [(r[1], r[2], r[-1]) for r in got] == [
        ("patient", "BED-12", 1), ("sample", "BED-12", 1), ("sample", "BED-12", 1),
        ("sample", "BED-12", 1), ("event", "BED-12", 1), ("creatinine", "BED-12", 1),
        ("patient", "BED-7", 1), ("episode", "BED-12", 2), ("sample", "BED-12", 2)]
    assert [r[-1] for r in t.pull(7, 100)] == [2, 2]  # counted from the start, pulled later


@pytest.mark.req("R-FLCT-06", "R-FLCT-07")
def test_protocol_refuses_a_code_in_use_unless_new_episode(engines):
    for eng in engines.values():
        base = {"patient": "EP-3", "scratch": True}
        r = eng.request({"op": "flc_patient", **base})  # no chain: never assumed
        assert r["ok"] is False and r["field"] == "involved"
        if eng.request({"op": "flc_kinetics", **base}).get("ok"):
            pytest.fail("EP-3 already on the scratch tracker: use another code")
        assert eng.request({"op": "flc_patient", "involved": "kappa", "start": T0, **base})["ok"]
        assert eng.request({"op": "flc_sample", "time": T0 + D, "kappa": "900", "lambda": "12",
                            **base})["ok"]
        assert eng.request({"op": "flc_creatinine", "time": T0 + D, "scr": "3.0",
                            "scr_unit": "mg/dL", **base})["ok"]
        r = eng.request({"op": "flc_patient", "involved": "kappa", "start": T0, **base})
        assert r["ok"] is False and r["field"] == "patient" and "new_episode" in r["error"]
        r = eng.request({"op": "flc_patient", "involved": "lambda", "new_episode": "yes", **base})
        assert r["ok"] is False and r["field"] == "new_episode"
        assert eng.request({"op": "flc_patient", "involved": "lambda", "new_episode": True, **base})["ok"]
        k = eng.request({"op": "flc_kinetics", **base})
        assert (k["episode"], k["samples"], k["involved"], k["creatinine_samples"]) == (2, 0, "lambda", 0)
        listed = [row for row in eng.request({"op": "flc_list", "scratch": True})["patient_list"]
                  if row[0] == "EP-3"]
        assert len(listed) == 1 and listed[0][5] == 2


@pytest.mark.req("R-FLCT-06")
def test_pull_writes_each_person_in_a_bed_to_files_of_their_own(tmp_path):
    from mmrenal import flc_cmds

    tr = _episode_tracker(tmp_path / "flc.jnl")
    tr.add_patient("BED-12", 1, T0 + 30 * D, True)
    tr.add_sample("BED-12", T0 + 31 * D, 1200, 90000, "LAB2", False)
    records = [flc_cmds._record_dict(r) for r in tr.pull(0, 100)]  # as `flc pull` stores them
    out = tmp_path / "ward"
    out.mkdir()
    flc_cmds.write_patient_files(out, records)
    assert sorted(p.name for p in out.iterdir()) == ["BED-12.csv", "BED-12.e2.csv", "BED-12.e2.json",
                                                      "BED-12.json", "BED-7.csv", "BED-7.json"]
    first = (out / "BED-12.csv").read_text().splitlines()
    second = (out / "BED-12.e2.csv").read_text().splitlines()
    assert [r.split(",")[1] for r in first[1:] if r.split(",")[1]] == ["1840.00", "900.00", "400.00"]
    assert not any("LAB2" in r for r in first)
    assert len(second) == 3 and second[1].endswith(",,,,chemo_start")  # the new start
    assert second[2].endswith(",12.00,900.00,LAB2,")  # the new person's one sample
    import json

    meta = json.loads((out / "BED-12.e2.json").read_text())
    assert (meta["episode"], meta["involved"]) == (2, "lambda")
    assert {r["episode"] for r in meta["records"]} == {2}


@pytest.mark.req("R-FLCT-02", "R-FLCT-03")
def test_analyze_says_the_status_reason_and_chain_doubt(tmp_path):
    """`flc analyze` runs the device's code: the same status, in the screen's words."""
    import subprocess
    import sys

    f = tmp_path / "rebound.csv"
    f.write_text("time,kappa_mg_l,lambda_mg_l,lab,event\n"
                 "2026-11-01T08:00,1000,12,L1,\n2026-11-02T08:00,,,,chemo_start\n"
                 "2026-11-05T08:00,700,12,L1,\n2026-11-07T08:00,380,12,L1,\n"
                 "2026-11-08T08:00,360,12,L1,\n2026-11-08T09:00,,,,hco_hd\n"
                 "2026-11-08T14:00,,,,session_end\n2026-11-08T14:20,200,12,L1,\n"
                 "2026-11-10T08:00,320,12,L1,\n2026-11-11T08:00,10,300,L1,\n")
    args = [sys.executable, "-m", "mmrenal", "flc", "analyze", "--csv", str(f), "--involved", "kappa"]
    res = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    import json

    out = json.loads(res.stdout)
    # The last sample (10 mg/L) is far below the low: at target, reached on 11-07.
    assert (out["on_track_day21"], out["on_track_reason"]) == (True, "reached")
    assert out["on_track_reason_text"] == "60% reached" and out["chain_doubt_samples"] == 1
    text = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    assert "Day-21 target (>= 60%): ON TRACK: 60% reached" in text
    assert "WARNING: involved kappa below lambda in 1 sample(s)" in text
    f.write_text(f.read_text().rsplit("\n", 2)[0] + "\n")  # without the last row: the rebound
    text = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    assert "Day-21 target (>= 60%): NOT on track: rebound after session" in text
    assert "WARNING" not in text and "Half-life " in text


@pytest.mark.req("R-FLCT-01", "R-CORE-02")
def test_status_and_half_life_stay_small_ints():
    """The status, fit and two-figure text at the entry limits (0.10 and 100,000 mg/L,
    alternating), watched by the integer recorder: nothing reaches 2**30."""
    from mmrenal import intcheck

    rec = intcheck.Recorder()
    mods = intcheck.load_instrumented(rec, ("fixtables", "fixmath", "fmt", "limits", "flc"))
    iflc = mods["flc"]
    lo, hi = flc.FLC[3], flc.FLC[4]
    for t0 in (T0, 52_000_000):  # 2026 and 2098
        for a, b in ((lo, hi), (hi, lo), (lo, lo), (hi, hi)):
            p = iflc.Patient(0, "B-1", 0, t0)
            p.add(t0 - 60, b, a, "L1")
            for i in range(60):  # more than the ring holds
                p.add(t0 + i * 700, b if i % 3 else a, b, "L1")
            p.add_session(3, t0 + 100, t0 + 400)
            k = iflc.kinetics(p, 0)
            assert k["on_track_reason"] in iflc.ON_TRACK_REASONS + iflc.OFF_TRACK_REASONS + iflc.UNKNOWN_REASONS
    for x in (1, 85, 995, hi, 2 * hi):
        iflc.two_figures(x)
    assert rec.count > 10_000 and rec.max_abs < 1 << 30, rec.top()


# --- start-up is bounded (issue 14) ---------------------------------------------------

# The FLC tracker's heap at the documented capacity (16 patients, the journal full at
# MAX_BYTES), on the 64-bit unix port the simulator and the virtual board run (an
# RP2040's objects take about half): docs/flc.md "Start-up heap budget".
STARTUP_BUDGET = 12_000

_MEASURE = """
import gc
import flcstore
gc.collect()
a = gc.mem_alloc()
t = flcstore.Tracker()
t.boot()
gc.collect()
print(gc.mem_alloc() - a, len(t.by_pid), t.records)
"""


def _tracker_heap(flash):
    import subprocess

    from mmrenal.engine import env_for, micropython_path

    script = flash / "measure.py"
    script.write_text(_MEASURE)
    res = subprocess.run([micropython_path(), "-X", "heapsize=2M", str(script)], cwd=flash,
                         env=env_for("micropython"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    used, patients, records = map(int, res.stdout.split())
    return used, patients, records


@pytest.mark.req("R-LIFE-01")
def test_start_up_heap_does_not_grow_with_the_journal(tmp_path):
    """The tracker's heap after replay is the same with one record per patient as with
    the journal full (it grew by ~64 bytes a sample: 107 KB at capacity), and within the
    stated budget."""
    from mmrenal import flc_cmds

    full = tmp_path / "full"
    st = flc_cmds.write_full_journal(full)
    assert st["patients"] == 16 and st["bytes"] > flcstore.MAX_BYTES - flcstore.RESERVE - 64
    few = tmp_path / "few"
    few.mkdir()
    t = flcstore.Tracker(str(few / flcstore.PATH))
    for i in range(16):
        t.add_patient(f"WARD-{100000 + i}", i % 2, 14_000_000)
    at_capacity, patients, records = _tracker_heap(full)
    empty, _, _ = _tracker_heap(few)
    assert patients == 16 and records == st["records"] > 5000
    assert at_capacity <= STARTUP_BUDGET, at_capacity
    assert abs(at_capacity - empty) <= 512, (at_capacity, empty)


@pytest.mark.req("R-LIFE-01")
def test_start_up_at_the_pico_heap_with_a_full_journal(tmp_path):
    """firmware/main.py as a board runs it (the .mpy build), on the Pico's heap
    (engine.PICO_HEAP), with 16 patients and the journal full: it starts (not in safe
    mode) and answers status, the patient list, kinetics, a pull page and a dose
    calculation. Before issue 14 it failed from 16 patients x 40 samples on."""
    import json
    import subprocess

    from mmrenal import deploy, engine, flc_cmds
    from mmrenal.paths import FIRMWARE

    fw = tmp_path / "fw"
    fw.mkdir()
    for name, data in deploy.device_files().items():
        (fw / name).write_bytes(data)
    flash = tmp_path / "flash"
    st = flc_cmds.write_full_journal(flash)
    reqs = [{"op": "status"}, {"op": "flc_list"},
            {"op": "flc_kinetics", "patient": "WARD-100003"},
            {"op": "flc_pull", "since": 0, "limit": 10},
            {"op": "crcl", "age": 60, "sex": "female", "weight": "60", "height": "165",
             "scr": "1.5", "scr_unit": "mg/dL"}]
    env = dict(engine.env_for("micropython"), MICROPYPATH=str(fw))
    res = subprocess.run([engine.micropython_path(), "-X", f"heapsize={engine.PICO_HEAP}",
                          str(fw / "main.py")], cwd=flash, env=env, capture_output=True,
                         text=True, timeout=300,
                         input="".join(json.dumps(r) + "\n" for r in reqs))
    answers = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert len(answers) == len(reqs) + 1, res.stdout[-800:] + res.stderr[-800:]
    status, listing, kin, page, crcl = answers[1:]
    assert status["ok"] and not status.get("safe_mode"), status
    assert listing["patients"] == 16 and listing["records"] == st["records"], listing
    assert kin["ok"] and kin["creatinine_samples"] == 16, kin
    assert [r[0] for r in page["records"]] == list(range(1, 11)), page
    assert crcl["ok"], crcl
    assert FIRMWARE.exists()


# --- records have a life cycle (issue 14) ---------------------------------------------


class PowerCut(Exception):
    pass


class _Cutter:
    """Flash writes through journal.open with a byte budget: at the budget the write is
    cut where it is (the bytes before it on disk) and PowerCut raised, as the virtual
    board's supervisor does; `at_rename` cuts after every byte, before the rename."""

    def __init__(self, monkeypatch, budget=None, at_rename=False):
        self.left = budget
        self.at_rename = at_rename
        real_open = open
        real_rename = os.rename
        cutter = self

        class File:
            def __init__(self, f):
                self.f = f

            def write(self, b):
                if cutter.left is not None:
                    if len(b) > cutter.left:
                        self.f.write(bytes(b[:cutter.left]))
                        self.f.close()
                        cutter.left = 0
                        raise PowerCut
                    cutter.left -= len(b)
                return self.f.write(b)

            def __getattr__(self, name):
                return getattr(self.f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

        def cut_open(path, mode="r", *a):
            f = real_open(path, mode, *a)
            return File(f) if ("w" in mode or "a" in mode) else f

        def cut_rename(a, b):
            if cutter.at_rename:
                raise PowerCut
            real_rename(a, b)

        monkeypatch.setattr(journal, "open", cut_open, raising=False)
        monkeypatch.setattr(journal.os, "rename", cut_rename)


def _all_records(path):
    """Every record on the device as a host pulls it (a fresh tracker: after a reboot)."""
    t = flcstore.Tracker(str(path))
    t.boot()
    return {r[0]: r for r in t.pull(0, 1 << 30)}, t


def _host_pull(tr, since, page=5):
    """The host's pull loop as flc_cmds.pull runs it over the protocol (one more asked
    than kept, as service._op_flc_pull does)."""
    got = []
    while True:
        recs = tr.pull(since, page + 1)
        got += recs[:page]
        if recs[:page]:
            since = recs[:page][-1][0]
        if len(recs) <= page:
            return got


@pytest.mark.req("R-LIFE-02")
def test_discharge_and_acknowledged_pull_free_the_space(tmp_path):
    path = tmp_path / "flc.jnl"
    tr = flcstore.Tracker(str(path))
    tr.boot()
    for i in range(16):
        tr.add_patient(f"BED-{i + 1}", 0, 14_000_000)
    with pytest.raises(load("limits").InputError) as e:
        tr.add_patient("BED-17", 0, 14_000_000)
    assert "discharge" in str(e.value)
    n = 0
    with pytest.raises(flcstore.StorageFull) as full:
        while True:
            tr.add_sample(f"BED-{n % 16 + 1}", 14_000_000 + n, 1000 + n % 50, 200, "LAB1", False)
            n += 1
    msg = str(full.value)
    assert "pull" in msg and "discharge" in msg and "not yet pulled and acknowledged" in msg
    size = path.stat().st_size
    # A discharge still fits (the reserve); pulling alone frees nothing (nothing closed).
    tr.discharge("BED-3")
    assert "BED-3" not in tr.patients and len(tr.by_pid) == 15
    got = _host_pull(tr, 0, page=1000)
    freed = tr.ack(got[-1][0])
    # Only BED-3's records could go (1 registration, ~n/16 samples, the discharge).
    assert (n // 16) * 29 < freed < (n // 16 + 3) * 29, (freed, n)
    assert path.stat().st_size == tr.journal.size < size - (n // 16) * 29
    on_device, again = _all_records(path)
    assert not any(r[2] == "BED-3" for r in on_device.values())
    assert again.status()["not_acked"] == 0 and again.acked == got[-1][0]
    # The freed place and bytes take a new patient and samples.
    assert tr.add_patient("BED-99", 1, 14_100_000) > 0
    assert tr.add_sample("BED-99", 14_100_100, 100, 5000, "LAB1", False) > 0
    assert len(tr.by_pid) == 16


@pytest.mark.req("R-LIFE-03")
def test_an_acknowledgement_covers_only_what_was_pulled(tmp_path):
    """A host folder holding another device's records (its sequence numbers ahead of
    what this device sent) cannot remove this device's records."""
    path = tmp_path / "flc.jnl"
    tr = flcstore.Tracker(str(path))
    tr.boot()
    tr.add_patient("BED-1", 0, 14_000_000)
    for i in range(10):
        tr.add_sample("BED-1", 14_000_000 + i, 1000, 200, "LAB1", False)
    tr.discharge("BED-1")
    refused = load("limits").InputError
    with pytest.raises(refused) as e:
        tr.ack(12)
    assert e.value.field == "through"
    tr.pull(8, 100)  # a pull from further on does not count: 1-8 never went out
    with pytest.raises(refused):
        tr.ack(12)
    assert len(_all_records(path)[0]) == 12
    _host_pull(tr, 0)
    tr.ack(12)
    assert len(_all_records(path)[0]) <= 1  # the last record stays (sequence numbers)


@pytest.mark.req("R-LIFE-04")
def test_power_cut_at_every_byte_of_a_compaction(tmp_path, monkeypatch):
    """An acknowledgement rewrites the journal; cut at every byte of the new file and
    before the rename, the device boots with the old journal whole or the new one."""
    path = tmp_path / "flc.jnl"
    tr = flcstore.Tracker(str(path))
    tr.boot()
    for code in ("BED-1", "BED-2"):
        tr.add_patient(code, 0, 14_000_000)
        for i in range(6):
            tr.add_sample(code, 14_000_000 + i * 60, 1000 - i, 200, "LAB1", False)
    tr.discharge("BED-1")
    tr.add_patient("BED-2", 1, 14_100_000, True)  # the next person in bed 2
    tr.add_sample("BED-2", 14_100_060, 100, 900, "LAB2", False)
    old = path.read_bytes()
    before, _ = _all_records(path)
    through = max(before)
    probe = tmp_path / "probe.jnl"
    probe.write_bytes(old)
    p = flcstore.Tracker(str(probe))
    p.boot()
    _host_pull(p, 0)
    p.ack(through)
    new_size = probe.stat().st_size
    outcomes = set()
    for cut in [*range(new_size), "rename"]:
        path.write_bytes(old)
        t = flcstore.Tracker(str(path))
        t.boot()
        _host_pull(t, 0)
        with monkeypatch.context() as m:
            _Cutter(m, None if cut == "rename" else cut, at_rename=cut == "rename")
            with pytest.raises(PowerCut):
                t.ack(through)
        now, t2 = _all_records(path)
        assert now == before, cut  # the old journal, whole
        assert t2.acked == 0 and t2.damaged_at_boot == []
        assert not os.path.exists(str(path) + ".new")  # the torn rewrite is cleared at boot
        outcomes.add("old")
        assert [q.code for q in t2.by_pid] == ["BED-2"] and t2.summary("BED-2").episode == 2
    t = flcstore.Tracker(str(path))
    t.boot()
    _host_pull(t, 0)
    t.ack(through)
    now, t3 = _all_records(path)
    assert t3.acked == through and not any(r[2] == "BED-1" for r in now.values())
    # Bed 2's first person is gone; the second keeps their episode number and trend.
    assert [r[1] for r in now.values() if r[2] == "BED-2"] == ["episode", "sample"]
    assert t3.summary("BED-2").episode == 2 and t3.patient("BED-2").count == 1


def _kinetics_key(p):
    k = flc.kinetics(p, 15_000_000)
    return {x: k[x] for x in sorted(k) if x != "now"}


@pytest.mark.req("R-LIFE-02", "R-LIFE-03", "R-LIFE-04")
def test_nothing_is_removed_that_was_not_pulled_and_acknowledged(tmp_path, monkeypatch):
    """Random appends, pulls, acknowledgements, discharges, new episodes and power cuts
    (in appends and in compactions): after every step every record ever acknowledged
    to a writer is on the device or in the host's files (and then acknowledged), the
    device's records are exactly as written, and every patient's trend on the device
    (rebuilt from the compacted journal after a reboot) equals one that kept every record."""
    import random

    rng = random.Random(14)
    path = tmp_path / "flc.jnl"
    dev = flcstore.Tracker(str(path), max_bytes=6000)
    dev.boot()
    ref = {}  # code -> flc.Patient fed every accepted record (never compacted)
    host = {}  # seq -> record, written to the host's files
    ever = {}  # seq -> record, every record seen on the device
    t = 14_000_000
    steps = 3000 if SOAK else 400
    cuts = acks = discharges = 0
    for step in range(steps):
        t += rng.randint(1, 90)
        op = rng.random()
        codes = [p.code for p in dev.by_pid]
        try:
            if op < 0.08 or not codes:
                code = f"BED-{rng.randint(1, 20)}"
                if code in dev.patients:
                    dev.add_patient(code, rng.randint(0, 1), t, True)
                    ref[code] = flc.Patient(0, code, dev.summary(code).involved, t)
                    ref[code].episode = dev.summary(code).episode
                elif len(codes) < 16:
                    inv = rng.randint(0, 1)
                    dev.add_patient(code, inv, t)
                    ref[code] = flc.Patient(0, code, inv, t)
            elif op < 0.55:
                code = rng.choice(codes)
                k, lam = rng.randint(100, 90000), rng.randint(100, 90000)
                if rng.random() < 0.3:  # a power cut inside the append
                    rec = journal.HEAD + 13 + 4 + journal.TAIL
                    with monkeypatch.context() as m:
                        _Cutter(m, rng.randrange(rec))
                        with pytest.raises(PowerCut):
                            dev.add_sample(code, t, k, lam, "LAB" + str(step % 3), False)
                    cuts += 1
                    dev = flcstore.Tracker(str(path), max_bytes=6000)
                    dev.boot()
                else:
                    dev.add_sample(code, t, k, lam, "LAB" + str(step % 3), False)
                    ref[code].add(t, k, lam, "LAB" + str(step % 3))
            elif op < 0.62:
                code = rng.choice(codes)
                dev.add_event(code, 2, t, t + 30)
                ref[code].add_session(2, t, t + 30)
            elif op < 0.68:
                code = rng.choice(codes)
                dev.add_creatinine(code, t, 100_000 + step)
                ref[code].add_creatinine(t, 100_000 + step)
            elif op < 0.76:
                code = rng.choice(codes)
                dev.discharge(code)
                ref.pop(code)
                discharges += 1
            else:  # the host pulls, writes its files, and (mostly) acknowledges
                since = min(max(host, default=0), dev.acked)
                got = _host_pull(dev, since)
                for r in got:
                    assert host.setdefault(r[0], r) == r
                if got and rng.random() < 0.85:
                    through = got[-1][0]
                    if rng.random() < 0.25:  # a power cut while compacting
                        with monkeypatch.context() as m:
                            _Cutter(m, rng.randrange(dev.journal.size + 40),
                                    at_rename=rng.random() < 0.2)
                            try:
                                dev.ack(through)
                            except PowerCut:
                                cuts += 1
                        dev = flcstore.Tracker(str(path), max_bytes=6000)
                        dev.boot()
                    else:
                        dev.ack(through)
                        acks += 1
        except flcstore.StorageFull:
            pass
        on_device, fresh = _all_records(path)
        for seq, r in on_device.items():
            assert ever.setdefault(seq, r) == r, (step, seq)  # never altered
        for seq, r in ever.items():
            if seq not in on_device:  # removed: only after the host had it and acked it
                assert host.get(seq) == r and seq <= fresh.acked, (step, seq)
        assert sorted(q.code for q in fresh.by_pid) == sorted(ref), step
        if step % 25 == 0:
            for code, p in ref.items():
                assert _kinetics_key(fresh.patient(code)) == _kinetics_key(p), (step, code)
    assert cuts > 10 and acks > 10 and discharges > 10
    assert len(ever) > len(_all_records(path)[0])  # space was freed on the way
