"""Bedside safety on the handheld's screens (issue 13): every dose a nurse sees is the
whole rule, for the chosen patient, from a current kidney-function result whose basis
and age are on the screen, with nothing about the patient assumed. Driven by key
scripts on MicroPython (mmrenal sim), checked against the host's own answer."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from mmrenal import sim
from mmrenal.engine import Engine
from mmrenal.firmware import load
from mmrenal.table_cmds import example_table

from support import scrolled_lines

CODE = "BED-7"


def flash_with_patient(d: Path, creatinine: list[tuple[int, int]] = ()) -> Path:
    """The example table and one patient, BED-7, with the creatinine given (minutes,
    nmol/L) on record, written by the firmware's own store."""
    sim.prepare_flash(d)
    tracker = load("flcstore").Tracker(str(d / "flc.jnl"))
    tracker.boot()
    tracker.add_patient(CODE, 0, 0)
    for t, nmol in creatinine:
        tracker.add_creatinine(CODE, t, nmol)
    return d


def keys(s: sim.Sim, seq: list[str]) -> dict:
    for k in seq:
        s.key(k)
    return s.screen()


def body(screen: dict) -> list[str]:
    """The text between the title bar (title, clock, patient) and the key hints."""
    return screen["text"][3:-1]


def whole_text(s: sim.Sim) -> str:
    """All the lines of the current scrolling screen, joined, without white space (a
    wrapped line breaks at a space, or inside a long word)."""
    return re.sub(r"\s+", "", " ".join(scrolled_lines(s)))


def num(x100: int) -> str:
    return f"{(Decimal(x100) / 100).normalize():f}"


# --- nothing assumed ----------------------------------------------------------------


@pytest.mark.req("R-BED-01")
def test_forms_start_empty_and_an_unentered_value_blocks_the_result(tmp_path):
    d = flash_with_patient(tmp_path / "flash")
    with sim.Sim(d) as s:
        form = keys(s, ["B", "X", "X"])  # Kidney function, choose BED-7
        assert form["screen"] == "RenalEntry"
        values = body(form)[1::2]  # label, value, label, value ...
        assert values[:5] == ["--"] * 5, form["text"]  # age, sex, weight, height, creatinine
        # Calculate with nothing entered: a clear refusal naming what is missing.
        refused = keys(s, ["X"] * 9)
        assert refused["screen"] == "SafeScreen" and "NOT ENTERED" in refused["text"]
        said = " ".join(refused["text"])
        assert all(w in said for w in ("Age", "Sex", "Weight", "Height", "Creatinine", "Dialysis")), said
        log = s.audit()
    assert log == []  # nothing shown, nothing recorded
    tracker = load("flcstore").Tracker(str(d / "flc.jnl"))
    tracker.boot()
    assert not tracker.creatinine.get(CODE)


@pytest.mark.req("R-BED-01")
@pytest.mark.parametrize("skip", ["Age", "Sex", "Weight", "Height", "Creatinine", "Dialysis"])
def test_each_missing_field_blocks_the_result(tmp_path, skip):
    d = flash_with_patient(tmp_path / "flash")
    fields = {"Age": ["A", "A", "A"], "Sex": ["A"], "Weight": ["A", "B:long", "B:long"],
              "Height": ["A", "B:long"], "Creatinine": ["A"] + ["A:long"] * 4, "Dialysis": ["B"]}
    seq = []
    for name, presses in fields.items():
        seq += ([] if name == skip else presses) + ["X"]
    with sim.Sim(d) as s:
        screen = keys(s, ["B", "X", "X"] + seq[:-1] + ["X:long"])
        assert screen["screen"] == "SafeScreen", screen["text"]
        said = " ".join(screen["text"])
        assert "NOT ENTERED" in said and skip in said
        assert not any(n in said for n in fields if n != skip), said
        # Back on the form, on the missing row; enter it and the result follows.
        form = keys(s, ["Y"])
        assert form["screen"] == "RenalEntry"
        result = keys(s, (fields[skip] if skip != "Dialysis" else ["B"]) + ["X:long"])
        assert result["screen"] == "RenalResult", result["text"]


@pytest.mark.req("R-BED-02")
def test_a_dose_is_always_for_a_chosen_patient(tmp_path):
    d = flash_with_patient(tmp_path / "flash")
    with sim.Sim(d) as s:
        chooser = keys(s, ["B", "X"])  # Kidney function without a patient chosen
        assert chooser["screen"] == "Patients"
        s.key("Y")
        assert keys(s, ["B", "X"])["screen"] == "Patients"  # Drug doses: the same
        # Choosing "-" (no patient) gives neither the form nor a dose.
        screen = keys(s, ["B", "B", "X"])
        assert screen["screen"] == "Home"


# --- the basis and age of every dose -------------------------------------------------


@pytest.mark.req("R-BED-03")
def test_the_dose_shows_its_basis_and_age(tmp_path):
    d = flash_with_patient(tmp_path / "flash")
    with sim.Sim(d) as s:
        # 67-year-old woman, 58 kg, 160 cm, 1.40 mg/dL drawn 2 h 30 min ago (07:00).
        # BMI 22.7: the table's BMI rule takes min(ideal, actual); ideal (Devine)
        # 45.5 + 2.3 x (160 / 2.54 - 60) = 52.38 kg; CrCl (140 - 67) x 52.38 x 0.85 /
        # (72 x 1.40) = 32.2 mL/min: lenalidomide's 30-59 band, 10 mg daily.
        keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 140, drawn_back=150))
        dose = keys(s, ["X"] + ["B"] * 4 + ["X"])
        assert dose["screen"] == "Dose"
        text = whole_text(s)
    for want in ("CrCl32.2mL/min", "52.4kgideal", "BMIrule", "Creatinine1.40mg/dLdrawn11-2607:00(2h)",
                 "10mg", "daily"):
        assert want in text, (want, text)


@pytest.mark.req("R-BED-04")
def test_a_result_older_than_the_tables_limit_is_stale(tmp_path):
    d = flash_with_patient(tmp_path / "flash")
    with sim.Sim(d) as s:
        # Drawn 23 h 45 min ago: still current (the example table's limit is 24 h).
        keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 140, drawn_back=23 * 60 + 45))
        assert keys(s, ["X"])["screen"] == "Drugs"
        # Twenty minutes later the result is a day old: no dose until re-entered.
        s.set_clock(sim.SIM_NOW + 20)
        stale = keys(s, ["Y", "X"])  # back to the result, then Drug doses again
        assert stale["screen"] == "SafeScreen" and "RESULT NOT CURRENT" in stale["text"]
        assert "Creatinine too old for a dose: enter the latest" in " ".join(stale["text"])
        form = keys(s, ["Y"])
        assert form["screen"] == "RenalEntry"
        assert "--" in body(form)  # the creatinine must be entered again
        log = s.audit()
    assert [r[1] for r in log] == []  # no dose was shown


@pytest.mark.req("R-BED-04")
def test_a_newer_creatinine_on_record_makes_the_result_stale(tmp_path):
    d = flash_with_patient(tmp_path / "flash")
    with sim.Sim(d) as s:
        keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 140, drawn_back=120))
        assert keys(s, ["X"])["screen"] == "Drugs"
        # A later sample reaches the device's record (the host, or another screen).
        tracker = load("flcstore").Tracker(str(d / "flc.jnl"))
        tracker.boot()
        tracker.add_creatinine(CODE, sim.SIM_NOW - 30, 150280)  # 1.70 mg/dL, 30 min ago
    with sim.Sim(d) as s:  # the device reads its records at start
        keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 140, drawn_back=120))
        stale = keys(s, ["X"])
        assert stale["screen"] == "SafeScreen"
        assert "A newer creatinine is on record: enter it" in " ".join(stale["text"])


@pytest.mark.req("R-BED-05")
def test_creatinine_is_recorded_at_its_draw_time(tmp_path):
    d = flash_with_patient(tmp_path / "flash")
    with sim.Sim(d) as s:
        keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 140, drawn_back=6 * 60 + 15))
    tracker = load("flcstore").Tracker(str(d / "flc.jnl"))
    tracker.boot()
    assert tracker.creatinine[CODE] == [(sim.SIM_NOW - 375, 123760)]  # 1.40 x 88,400 nmol/L


# --- AKI: provisional doses, acknowledged ---------------------------------------------


@pytest.mark.req("R-BED-06", "R-AUD-01")
def test_aki_banner_provisional_doses_and_acknowledgement(tmp_path):
    # 1.40 mg/dL yesterday 07:00, 2.10 now: 1.5 x within 7 days, KDIGO stage 1.
    yesterday = sim.SIM_NOW - sim.SIM_NOW % sim.DAY - sim.DAY + 420
    d = flash_with_patient(tmp_path / "flash", [(yesterday, 123760)])
    with sim.Sim(d) as s:
        result = keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 210))
        assert result["screen"] == "RenalResult"
        assert body(result)[0] == "AKI: Cr rising, CrCl overstates"  # above the numbers
        ack = keys(s, ["X"])
        assert ack["screen"] == "AkiAck"
        assert "AKI: CrCl unreliable" in ack["text"]
        drugs = keys(s, ["X"])  # I understand
        assert drugs["screen"] == "Drugs"
        dose = keys(s, ["X"])  # bortezomib: a CrCl-keyed dose
        assert "PROVISIONAL STANDARD DOSE" in dose["text"]
        assert "AKI: CrCl unreliable" in dose["text"]
        # Once per patient and day: back to the result and in again, no second ask.
        assert keys(s, ["Y", "Y", "X"])["screen"] == "Drugs"
        log = s.audit()
    acks = [r for r in log if r[1] == "ack"]
    assert len(acks) == 1 and acks[0][9].startswith("BED-7 AKI")


@pytest.mark.req("R-BED-06")
def test_a_slow_rise_is_aki_for_the_screens_too(tmp_path):
    # 1.40 six days ago, 1.75 now: under 1.5 x and not within 48 h (KDIGO stage 0), but
    # up 0.35 mg/dL on the week's lowest: creatinine is not steady, CG is not valid.
    six_days = sim.SIM_NOW - 6 * sim.DAY
    d = flash_with_patient(tmp_path / "flash", [(six_days, 123760)])
    with sim.Sim(d) as s:
        keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 175))
        assert keys(s, ["X"])["screen"] == "AkiAck"
    # A steady value is not.
    d2 = flash_with_patient(tmp_path / "flash2", [(six_days, 123760)])
    with sim.Sim(d2) as s:
        keys(s, ["B", "X", "X"] + sim.entry_keys(67, True, 580, 1600, 142))
        assert keys(s, ["X"])["screen"] == "Drugs"


# --- the whole rule --------------------------------------------------------------------

# (age, female, weight 0.1 kg, height 0.1 cm, creatinine 0.01 mg/dL, dialysis): a man of
# 60, 70 kg, 170 cm whose creatinine puts him in each band of the example table.
PATIENTS = [
    (60, False, 700, 1700, 100, False),  # CrCl ~ 73: every drug's top band
    (60, False, 700, 1700, 150, False),  # ~ 49: 40-60 (teclistamab's > 40)
    (60, False, 700, 1700, 200, False),  # ~ 37: 30-40
    (60, False, 700, 1700, 300, False),  # ~ 24: 15-30, melphalan's eGFR < 30
    (60, False, 700, 1700, 600, False),  # ~ 12: < 15
    (60, False, 700, 1700, 600, True),  # on dialysis
]


def host_fields(r: dict, zh: bool = False) -> list[str]:
    """Every fact of the host's answer for a rule, as text to find on the screens."""
    out = [r["band_zh" if zh else "band"], r["where_zh" if zh else "where"],
           r["source_zh" if zh and r["source_zh"] else "source"]]
    if r["dosing_where"]:  # the schedule's own source
        out.append(r["dosing_where_zh" if zh else "dosing_where"])
        out.append(r["dosing_source_zh" if zh else "dosing_source"])
    if r["strengths_x100"]:  # what the pharmacy can give
        out += [num(x) for x in r["strengths_x100"]]
    for key in ("timing", "note"):
        v = r[key + "_zh"] if zh and r[key + "_zh"] else r[key]
        if v:
            out.append(v)
    for d in r["doses"]:
        if d["regimen"]:
            out.append(d["regimen"])
        for key in ("amount_x100", "amount_max_x100", "amount_then_x100",
                    "absolute_x100", "absolute_max_x100", "absolute_then_x100"):
            if d.get(key):
                out.append(num(d[key]) + ("mg" if key.startswith("absolute") else ""))
        for key in ("frequency", "cycle"):
            v = d.get(key + "_zh" if zh else key)
            if v:
                out.append(v)
    return out


def _result_value(screen: dict, name: str) -> str:
    for t in screen["text"]:
        m = re.match(name + r" (\d+\.\d) mL/min", t)
        if m:
            return m.group(1)
    raise AssertionError(f"no {name} on {screen['text']}")


@pytest.mark.req("R-BED-07", "R-DOSE-03")
@pytest.mark.parametrize("zh", [False, True], ids=["en", "zh"])
@pytest.mark.parametrize("patient", PATIENTS, ids=lambda p: f"scr{p[4]}{'-dialysis' if p[5] else ''}")
def test_every_drug_and_band_shows_the_whole_rule(tmp_path, patient, zh):
    age, female, weight, height, scr, dialysis = patient
    d = flash_with_patient(tmp_path / "flash")
    with sim.Sim(d) as s:
        if zh:
            keys(s, sim.ZH_PREFIX)
        result = keys(s, ["B", "X", "X"] + sim.entry_keys(age, female, weight, height, scr, dialysis))
        assert result["screen"] == "RenalResult", result["text"]
        crcl, egfr = _result_value(result, "CrCl"), _result_value(result, "eGFR")
        drugs = keys(s, ["X"])
        assert drugs["screen"] == "Drugs", drugs["text"]
        with Engine("cpython") as eng:
            names = eng.request({"op": "drugs", "table_path": example_table()})["drugs"]
            missing = {}
            for i, (inn, _, _) in enumerate(names):
                req = {"op": "dose", "drug": inn, "table_path": example_table(), "dialysis": dialysis,
                       "crcl": crcl, "egfr": egfr, "weight": str(Decimal(weight) / 10),
                       "height": str(Decimal(height) / 10)}
                host = eng.request(req)
                assert host["ok"], host
                screen = keys(s, (["B"] if i else []) + ["X"])  # the list keeps its place
                assert screen["screen"] == "Dose", (inn, screen["text"])
                text = whole_text(s)
                gone = [f for f in host_fields(host, zh) if re.sub(r"\s+", "", f) not in text]
                if gone:
                    missing[inn] = gone
                s.key("Y")  # back to the list
    assert not missing, missing
