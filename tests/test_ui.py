"""The bedside screens, driven by key scripts on MicroPython (mmrenal sim), checked by
the text on the screen and by screenshots."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

from mmrenal import sim

from support import scrolled_lines

TO_RESULT = sim.TO_RESULT  # Kidney function for BED-12: a 67-year-old woman, 1.40 mg/dL
TO_RENAL = sim.TO_RENAL  # Kidney function, choose BED-12: the empty form


@pytest.fixture(scope="module")
def flash():
    d = Path(tempfile.mkdtemp(prefix="mmrenal-ui-"))
    sim.prepare_flash(d, demo=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(flash, keys):
    with sim.Sim(flash) as s:
        for k in keys:
            s.key(k)
        return s.screen()


@pytest.mark.req("R-PAT-02", "R-TAB-07")
def test_home_shows_menu_and_table(flash):
    screen = run(flash, [])
    assert screen["screen"] == "Home"
    assert {"Kidney function", "Drug doses", "Free light chains"} <= set(screen["text"])
    # The sixth item scrolls into view; it names Settings in both languages.
    assert "Settings · 设置" in run(flash, ["A"])["text"]
    assert "Dose table v1 to 2027-11-01" in screen["text"]
    assert "Patient: no patient chosen" in screen["text"]
    assert "09:30" in screen["text"]  # the clock in the title bar (sim.SIM_NOW)


@pytest.mark.req("R-WT-02", "R-WT-04")
def test_kidney_function_result(flash):
    # 67 y woman, 58 kg, 160 cm, 1.40 mg/dL; the table's institution rule is the BMI
    # rule (BMI 22.7 -> min(ideal 52.4 kg, actual)): CrCl 73 x 52.38 x 0.85 / (72 x 1.40)
    # = 32.2 mL/min.
    screen = run(flash, TO_RESULT)
    assert screen["screen"] == "RenalResult"
    assert "CrCl 32.2 mL/min" in screen["text"]
    assert "Weight used 52.4 kg (ideal)" in screen["text"]


@pytest.mark.req("R-IN-04", "R-UI-04")
def test_number_entry_steps_and_clamps(flash):
    # Age: the first press shows 65 (empty before it), UP adds 1 y, a long press 5;
    # DOWN held long enough stops at 18.
    assert "--" in run(flash, TO_RENAL)["text"]
    screen = run(flash, TO_RENAL + ["A", "A", "A:long"])
    assert "71 y" in screen["text"]
    screen = run(flash, TO_RENAL + ["A"] + ["B:long"] * 20)
    assert "18 y" in screen["text"]


@pytest.mark.req("R-DOSE-06", "R-DOSE-03")
def test_dose_words_colour_and_citation(flash):
    # Lenalidomide is the 5th drug; CrCl 32.2: 30-59 band, 10 mg daily, adjusted.
    screen = run(flash, sim.LENALIDOMIDE)
    assert screen["screen"] == "Dose"
    assert screen["text"][3] == "ADJUSTED DOSE" and "10 mg" in screen["text"]
    # The citation is at the end of the same screen: scroll down to it.
    with sim.Sim(flash) as s:
        for k in sim.LENALIDOMIDE:
            s.key(k)
        text = " ".join(scrolled_lines(s))
    assert "Source: Table 1, lenalidomide, CrCl 30-59: 10 mg/d" in text and "Treatment strategies" in text


@pytest.mark.req("R-DOSE-02", "R-DOSE-05")
def test_uncertain_dose_shows_no_number(flash):
    # CrCl 32.2: ide-cel (10th drug) is uncertain in its 30-59 band.
    keys = TO_RESULT + ["X"] + ["B"] * 9 + ["X"]
    screen = run(flash, keys)
    assert screen["screen"] == "Dose"
    body = screen["text"][3:-1]  # between the title bar (title, time, patient) and the key hints
    assert body[0] == "UNCERTAIN: NO DOSE" and "idecabtagene-vicleucel (iv)" in body
    with sim.Sim(flash) as s:
        for k in keys:
            s.key(k)
        lines = scrolled_lines(s)
    # No amount anywhere: the only numbers are the band and the patient's basis.
    assert not any(re.search(r"\d\s*(mg(?!/dL)|cells|x10)", t) for t in lines), lines
    # A dose check has nothing to check against: words, and still no number.
    check = run(flash, keys + ["X"])
    assert check["screen"] == "CheckResult" and "CANNOT BE CHECKED" in check["text"]
    assert not any(re.search(r"\d", t) for t in check["text"][3:-1]), check["text"]


@pytest.mark.req("R-UI-01")
def test_chinese_screens(demo_flash):
    screen = run(demo_flash, sim.ZH_PREFIX)  # Settings, switch, back
    assert "肾功能" in screen["text"] and "药物剂量" in screen["text"]
    # The choice is kept on the flash: after a power cycle the screens are in Chinese.
    assert "肾功能" in run(demo_flash, [])["text"]
    with sim.Sim(demo_flash) as s:
        for k in sim.LENALIDOMIDE:
            s.key(k)
        dose = scrolled_lines(s)
    assert "调整剂量" in dose and any("来那度胺" in t for t in dose)
    assert any("每日" in t for t in dose)


@pytest.mark.req("R-TAB-06")
def test_no_valid_table_is_a_clear_screen():
    d = Path(tempfile.mkdtemp(prefix="mmrenal-ui-empty-"))
    try:
        sim.prepare_flash(d, with_table=False, demo=True)
        screen = run(d, ["B", "B", "X"])  # Drug doses
        assert screen["screen"] == "SafeScreen"
        assert "NO VALID DOSE TABLE" in screen["text"]
        home = run(d, [])
        assert "NO VALID DOSE TABLE" in home["text"]
        result = run(d, TO_RESULT)  # kidney function still works without a table
        assert result["screen"] == "RenalResult"
        assert any(t.startswith("CrCl ") for t in result["text"])
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_screenshot_png(flash, tmp_path):
    with sim.Sim(flash) as s:
        for k in TO_RESULT:
            s.key(k)
        png = s.png(tmp_path / "result.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    img = Image.open(png)
    assert img.size == (480, 270)
    assert len(img.convert("RGB").getcolors(1 << 16)) >= 3  # background, header, text


@pytest.mark.req("R-UI-03")
def test_docs_screens_are_current(tmp_path):
    """docs/screens are golden images: regenerate with `mmrenal sim --screens docs/screens`."""
    from PIL import Image

    from mmrenal.paths import REPO

    made = sim.screens(tmp_path)
    assert len(made) == 2 * (len(sim.SCREENS) + len(sim.SAFE_SCREENS))
    stale = {p.name for p in (REPO / "docs" / "screens").glob("*.png")} - {p.name for p in made}
    assert not stale, f"docs/screens holds screens no longer made: {sorted(stale)}"
    for png in made:
        golden = REPO / "docs" / "screens" / png.name
        assert golden.exists(), f"{golden.name} missing: run mmrenal sim --screens docs/screens"
        a, b = Image.open(png).convert("RGB"), Image.open(golden).convert("RGB")
        assert a.size == b.size and a.tobytes() == b.tobytes(), (
            f"{png.name} differs from docs/screens: run mmrenal sim --screens docs/screens")


@pytest.mark.req("R-AUD-01", "R-PAT-02")
def test_every_dose_shown_is_audited_with_the_patient(tmp_path):
    from mmrenal.firmware import load

    d = tmp_path / "flash"
    sim.prepare_flash(d)
    tracker = load("flcstore").Tracker(str(d / "flc.jnl"))  # the device's own format
    tracker.boot()
    tracker.add_patient("BED-12", 0, 0)
    with sim.Sim(d) as s:
        for k in ["X", "X"]:  # Patient, choose BED-12
            s.key(k)
        assert "Patient: BED-12" in s.screen()["text"]
        for k in ["B", "X"] + sim.TYPICAL + ["X", "B", "B", "B", "B", "X"]:  # lenalidomide
            s.key(k)
        s.screen()  # the dose is drawn (shown) here
        s.key("Y")
        s.key("B")
        s.key("X")  # pomalidomide
        s.screen()
        log = s.audit()
    assert [(r[1], r[3], r[4], r[9], r[10], r[11]) for r in log] == [
        ("dose", "BED-12", "lenalidomide", "adjusted", 1000, "mg"),
        ("dose", "BED-12", "pomalidomide", "standard", 400, "mg"),
    ]
    assert log[0][5] == 322 and log[0][8] == 1  # CrCl 32.2 and table version 1
    assert [r[0] for r in log] == [1, 2]  # sequence numbers for `audit pull`


# --- dose checks, units, clock and expiry ---------------------------------------------


@pytest.fixture
def demo_flash(tmp_path):
    d = tmp_path / "flash"
    sim.prepare_flash(d, demo=True)
    return d


# Lenalidomide for the typical patient (CrCl 37.8): 10 mg daily, days 1-21 of 28. From
# the dose screen, SELECT opens the check: Unit (mg, the only one), Prescribed, Frequency,
# Cycle day, Check. An amount's first press starts at the power of ten at or below the
# table's dose (10 mg); a long press then adds 1 mg. Frequency: UP from empty is daily,
# again every other day. Cycle day: UP from empty is day 1, a long press adds 7.
LEN_CHECK = sim.LENALIDOMIDE + ["X"]


def _check_len(s, amount_keys=(), freq_keys=("A",), day_keys=("A",)):
    """From lenalidomide's dose screen: open the check, enter, check; the result."""
    for k in ["X", "X", "A", *amount_keys, "X", *freq_keys, "X", *day_keys, "X", "X"]:
        s.key(k)
    return s.screen()


def _len(s):
    for k in sim.LENALIDOMIDE:
        s.key(k)


@pytest.mark.req("R-CHK-05", "R-CHK-06")
def test_dose_check_starts_empty_and_blocks_until_every_field_is_entered(demo_flash):
    with sim.Sim(demo_flash) as s:
        for k in LEN_CHECK:
            s.key(k)
        form = s.screen()
        assert form["screen"] == "DoseCheck"
        body = form["text"][3:-1]
        assert body == ["Unit", "mg", "Prescribed", "--", "Frequency", "--", "Cycle day", "--",
                        "Dose check", ""], body  # no amount, frequency or day prefilled
        assert not any("10 mg" in t for t in body)
        for k in ["X", "X", "X", "X", "X"]:  # to the Check row and check, nothing entered
            s.key(k)
        refused = s.screen()
        assert refused["screen"] == "DoseCheck" and "Enter every field" in refused["text"]
        # The cursor is back on the first empty field (the amount): enter it and the
        # frequency, not the day, and check again: refused again, the day still "--".
        for k in ["A", "X", "A", "X", "X", "X"]:
            s.key(k)
        again = s.screen()
        day = again["text"].index("Cycle day")
        assert again["screen"] == "DoseCheck" and again["text"][day + 1] == "--"
        assert "Enter every field" in again["text"]
        for k in ["A", "X", "X"]:  # day 1, check
            s.key(k)
        assert s.screen()["screen"] == "CheckResult"
        log = s.audit()
    assert [r[1] for r in log] == ["dose", "check"]  # the refused attempts wrote nothing


@pytest.mark.req("R-DOSE-05", "R-AUD-01", "R-CHK-02", "R-CHK-06")
def test_dose_check_within_and_above_is_audited(demo_flash):
    with sim.Sim(demo_flash) as s:
        _len(s)
        within = _check_len(s)  # 10 mg daily on day 1
        assert within["screen"] == "CheckResult"
        assert "WITHIN THE TABLE'S DOSE" in within["text"] and "Table at most 10 mg" in within["text"]
        assert "Prescribed 10 mg" in within["text"]
        s.key("X")  # nothing to override
        assert s.screen()["screen"] == "CheckResult"
        s.key("Y")  # back to the dose
        above = _check_len(s, ["A:long"] * 5)  # 15 mg: 50 % above, past the 10 % soft limit
        assert "ABOVE THE SOFT LIMIT" in above["text"] and "Prescribed 15 mg" in above["text"]
        assert "Soft limit 11 mg" in above["text"] and "AB more  X override  Y back" in above["text"]
        s.key("X")  # the override asks why
        reasons = s.screen()
        assert reasons["screen"] == "Override" and "Protocol dose" in reasons["text"]
        s.key("B")
        s.key("X")  # protocol dose
        done = s.screen()
        assert done["screen"] == "CheckResult" and "OVERRIDDEN: Protocol dose" in done["text"]
        log = s.audit()
    # Shown once, checked twice (ceiling 10 mg each time), then the override with its reason.
    assert [(r[1], r[4], r[9], r[10], r[11], r[12], r[13]) for r in log] == [
        ("dose", "lenalidomide", "adjusted", 1000, "mg", 0, ""),
        ("check", "lenalidomide", "adjusted", 1000, "mg", 1000, "within"),
        ("check", "lenalidomide", "adjusted", 1000, "mg", 1500, "above"),
        ("override", "lenalidomide", "adjusted", 1000, "mg", 1500, "above"),
    ]
    assert [r[14:] for r in log[1:]] == [  # frequency, cycle day, flags, reason, regimen
        ["daily", 1, "", "", ""], ["daily", 1, "", "", ""], ["daily", 1, "", "protocol dose", ""]]


@pytest.mark.req("R-CHK-02", "R-CHK-06")
def test_dose_check_above_the_hard_limit_is_refused_without_override(demo_flash):
    with sim.Sim(demo_flash) as s:
        _len(s)
        refused = _check_len(s, ["A:long"] * 15)  # 25 mg: 150 % above 10 mg, past the 100 % limit
        assert "REFUSED: ABOVE HARD LIMIT" in refused["text"]
        assert "Hard limit 20 mg" in refused["text"] and "override" not in " ".join(refused["text"])
        s.key("X")
        assert s.screen()["screen"] == "CheckResult"  # no override step
        log = s.audit()
    assert (log[-1][1], log[-1][12], log[-1][13]) == ("check", 2500, "refused")


@pytest.mark.req("R-CHK-03", "R-CHK-06")
def test_dose_check_flags_frequency_and_cycle_day(demo_flash):
    with sim.Sim(demo_flash) as s:
        _len(s)
        # 10 mg every other day, on day 24 of the cycle (the rest week).
        flagged = _check_len(s, freq_keys=["A", "A"], day_keys=["A"] + ["A:long"] * 3 + ["A", "A"])
        assert "DOES NOT MATCH THE TABLE" in flagged["text"]
        assert "Table frequency: daily" in flagged["text"]
        s.key("B")  # the next line
        more = s.screen()
        assert "Dosing days: days 1-21 of 28" in more["text"]
        s.key("X")
        assert s.screen()["screen"] == "Override"
        s.key("X")  # prescriber confirmed
        log = s.audit()
    assert log[-2][13:] == ["does not match", "every other day", 24, "frequency;cycle_day", "", ""]
    assert log[-1][1] == "override" and log[-1][17] == "prescriber confirmed"


@pytest.mark.req("R-CHK-02", "R-CHK-05", "R-CHK-06", "R-CHK-08")
def test_dose_check_elotuzumab_epd_regimen_is_within(demo_flash):
    """Elotuzumab (the 9th drug) has three regimens: none is chosen for the nurse. EPd
    from cycle 3 is 20 mg/kg every 4 weeks on day 1: a correct 20 mg/kg is within."""
    with sim.Sim(demo_flash) as s:
        for k in TO_RESULT + ["X"] + ["B"] * 8 + ["X", "X"]:
            s.key(k)
        form = s.screen()
        assert form["screen"] == "DoseCheck" and form["text"][3:5] == ["Regimen", "--"]
        for k in ["A", "A", "A"]:  # C1-2, ERd C3+, EPd C3+
            s.key(k)
        assert "EPd C3+" in s.screen()["text"]
        # Unit mg/kg; 20 mg/kg (first press 10, then ten long presses of 1); every 4 weeks
        # (DOWN from empty is "once", DOWN again every 4 weeks); day 1; check.
        for k in ["X", "A", "X", "A"] + ["A:long"] * 10 + ["X", "B", "B", "X", "A", "X", "X"]:
            s.key(k)
        result = s.screen()
        log = s.audit()
    assert "WITHIN THE TABLE'S DOSE" in result["text"] and "Table at most 20 mg/kg" in result["text"]
    assert log[-1][13:] == ["within", "every 4 weeks", 1, "", "", "EPd C3+"]


@pytest.mark.req("R-UNIT-03", "R-DOSE-05", "R-AUD-01", "R-CHK-05")
def test_dose_check_in_mg_of_a_per_m2_dose(demo_flash):
    from decimal import ROUND_HALF_UP, Decimal

    # Bortezomib 1.3 mg/m2 for the typical patient (58 kg, 160 cm): BSA by Mosteller
    # sqrt(160 x 58 / 3600) = 1.61 m2, so 1.3 x 1.61 = 2.093 -> 2.09 mg.
    bsa = (Decimal(160 * 58) / 3600).sqrt().quantize(Decimal("0.01"), ROUND_HALF_UP)
    mg = (Decimal("1.3") * bsa).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert (bsa, mg) == (Decimal("1.61"), Decimal("2.09"))
    with sim.Sim(demo_flash) as s:
        for k in TO_RESULT + ["X", "X", "X"]:  # bortezomib, then its check
            s.key(k)
        form = s.screen()
        assert form["text"][3:5] == ["Unit", "--"]  # two units: none chosen for the nurse
        s.key("A")
        assert "mg/m2" in s.screen()["text"]
        s.key("A")  # the unit: mg
        s.key("X")
        s.key("A")  # the amount's first press: 1 mg (the power of ten below 2.09)
        assert "1 mg" in s.screen()["text"]
        for k in ["A:long"] * 10 + ["A"] * 9 + ["X", "X"]:  # 2 mg, then 2.09 mg; check
            s.key(k)
        within = s.screen()
        for k in ["Y", "X", "A", "A", "X", "A"] + ["A:long"] * 15 + ["X", "X"]:  # 2.5 mg
            s.key(k)
        above = s.screen()
        log = s.audit()
    assert "WITHIN THE TABLE'S DOSE" in within["text"] and f"Table at most {mg} mg" in within["text"]
    assert "ABOVE THE SOFT LIMIT" in above["text"] and "Prescribed 2.5 mg" in above["text"]
    assert (log[-1][1], log[-1][10], log[-1][11], log[-1][12]) == ("check", 209, "mg", 250)


@pytest.mark.req("R-UNIT-04", "R-UNIT-02")
def test_creatinine_in_micromoles(demo_flash):
    flash = demo_flash  # the unit chosen is kept on this flash
    from fractions import Fraction

    from mmrenal import reference

    to_umol = ["B"] * 5 + ["X", "X", "A", "Y", "B"]  # Settings, unit row, switch, back, top
    to_scr = TO_RENAL + ["X"] * 4
    entry = run(flash, to_umol + to_scr + ["A"])  # the creatinine's first press
    assert "88 µmol/L" in entry["text"]  # 1.00 mg/dL = 88.4 umol/L, on the umol/L grid
    # Kept on the flash: from here on, every start is in umol/L.
    assert "89 µmol/L" in run(flash, to_scr + ["A", "A"])["text"]
    # 65 y woman, 70 kg, 165 cm (each field's first press), 88 umol/L, no dialysis.
    result = run(flash, TO_RENAL + ["A", "X"] * 5 + ["B", "X:long"])
    # The value shown (88 umol/L) is the value computed with, not 88.4.
    _, w = reference.dosing_weight_exact("bmi", True, Fraction(70), Fraction(165))
    want = reference.round_half_up(reference.crcl_exact(65, True, w, Fraction(88) / Fraction("88.4")), 1)
    assert f"CrCl {float(want):.1f} mL/min" in result["text"]
    assert want != reference.round_half_up(reference.crcl_exact(65, True, w, Fraction(1)), 1)


@pytest.mark.req("R-TAB-08", "R-CLK-02")
def test_unset_clock_gives_no_dose_until_set(demo_flash):
    with sim.Sim(demo_flash, clock=0) as s:  # a Pico after power-up: no time
        for k in ["B", "B", "X"]:
            s.key(k)
        screen = s.screen()
        assert screen["screen"] == "SafeScreen" and "Clock not set" in screen["text"]
        assert "--:--" in screen["text"]
        # Settings, Date and time; set 2026-11-26 10:05 from the 2026-01-01 00:00 it offers.
        for k in ["Y", "B", "B", "B", "X", "X", "X", "X"]:
            s.key(k)
        assert s.screen()["screen"] == "ClockEntry"
        keys = ["X"] + ["B"] * 2 + ["X"] + ["B"] * 5 + ["X"] + ["A"] * 10 + ["X"] + ["A"] * 5 + ["X", "X"]
        for k in keys:
            s.key(k)
        settings = s.screen()
        assert "11-26 10:05" in settings["text"] and "10:05" in settings["text"]
        for k in ["Y", "A", "A", "A", "X"]:  # Drug doses: now asks for the patient
            s.key(k)
        assert s.screen()["screen"] == "Patients"
        log = s.audit()
    assert [(r[1], r[9]) for r in log] == [("clock", "2000-01-01T00:00 -> 2026-11-26T10:05")]


@pytest.mark.req("R-TAB-07")
def test_expired_table_gives_no_dose(flash):
    last_day = sim.minutes(__import__("datetime").datetime(2027, 11, 1, 23, 59))
    with sim.Sim(flash, clock=last_day) as s:  # the expiry day itself is still valid
        for k in TO_RESULT + ["X"]:
            s.key(k)
        assert s.screen()["screen"] == "Drugs"
        s.set_clock(last_day + 1)
        for k in ["Y", "X"]:
            s.key(k)
        screen = s.screen()
    assert screen["screen"] == "SafeScreen" and "TABLE EXPIRED" in screen["text"]
    assert "No doses: install the current table" in " ".join(screen["text"])  # wrapped


@pytest.mark.req("R-UI-06")
def test_clock_tick_sends_only_the_title_bar(flash):
    with sim.Sim(flash) as s:
        s.screen()
        assert s.tick() == 0  # same minute: nothing sent
        s.set_clock(sim.SIM_NOW + 1)
        assert s.tick() == 18  # the title bar's rows, not the whole 135
        assert "09:31" in s.screen()["text"]


# --- FLC ------------------------------------------------------------------------------


def _tracker(flash):
    from mmrenal.firmware import load

    t = load("flcstore").Tracker(str(flash / "flc.jnl"))  # the device's own records
    t.boot()
    return t


@pytest.mark.req("R-FLC-05")
def test_flc_trend_of_the_demo_patient(demo_flash):
    import numpy as np

    screen = run(demo_flash, sim.SCREENS["flc-trend"])
    text = screen["text"]
    # Baseline 1840 mg/L the day before treatment; latest 159 mg/L: 1 - 159/1840 = 91.4%.
    assert "κ 159 mg/L" in text and "Reduction 91.4%" in text
    # 40% of 1840 is 736: first below it on day 6 (704 mg/L, 13 Nov), and still below.
    assert "Day 21: on track" in text and "60% reached 11-13" in text
    # Half-life: a least-squares fit of log2(kappa) over the samples after treatment start,
    # shown with two significant figures.
    p = _tracker(demo_flash).patient(sim.DEMO_PATIENT)
    t = np.array([p.times[i] for i in range(p.n) if p.times[i] > p.t0]) / 60
    y = np.log2([p.kappa[i] for i in range(p.n) if p.times[i] > p.t0])
    half = -1 / np.polyfit(t, y, 1)[0]
    assert f"t½ {float(f'{half:.2g}'):g} h" in text, (half, text)


@pytest.mark.req("R-FLC-08")
def test_flc_sample_entered_on_the_screens_is_recorded(demo_flash):
    before = _tracker(demo_flash).patient(sim.DEMO_PATIENT).count
    keys = sim.TO_FLC + ["B", "X"]  # Add a sample: now (09:30), kappa and lambda empty
    # kappa: the first press starts at the latest (159), then 4 x 1 mg/L down; lambda:
    # the latest (18.5); save.
    keys += ["X", "X"] + ["B"] * 5 + ["X", "A", "X", "X"]
    screen = run(demo_flash, keys)
    assert screen["screen"] == "Trend" and "κ 155 mg/L" in screen["text"]
    p = _tracker(demo_flash).patient(sim.DEMO_PATIENT)
    i = p.n - 1
    assert p.count == before + 1
    assert (p.times[i], p.kappa[i], p.lam[i], p.labs[i]) == (sim.SIM_NOW, 15500, 1850, "LAB1")


@pytest.mark.req("R-PAT-03")
def test_flc_sample_in_the_future_or_before_the_latest(demo_flash):
    before = _tracker(demo_flash).patient(sim.DEMO_PATIENT).count
    future = run(demo_flash, sim.TO_FLC + ["B", "X", "X", "A", "X", "A", "X", "A", "X", "X"])  # 09:45
    assert "NOT SAVED" in future["text"] and "The time is in the future" in future["text"]
    assert _tracker(demo_flash).patient(sim.DEMO_PATIENT).count == before
    with sim.Sim(demo_flash) as s:  # yesterday 09:30: before the latest sample (16:00)
        for k in sim.TO_FLC + ["B", "X", "B", "X", "X", "A", "X", "A", "X", "X"]:
            s.key(k)
        warn = s.screen()
        assert "Earlier than the latest sample" in warn["text"]
        assert _tracker(demo_flash).patient(sim.DEMO_PATIENT).count == before
        for k in ["Y", "X"]:  # back to the form, Save again
            s.key(k)
        assert s.screen()["screen"] == "Trend"
    p = _tracker(demo_flash).patient(sim.DEMO_PATIENT)
    assert p.count == before + 1 and sim.SIM_NOW - 1440 in list(p.times[:p.n])


@pytest.mark.req("R-FLC-08")
def test_flc_session_entered_on_the_screens_is_recorded(demo_flash):
    # Plasma exchange yesterday 09:30, 4 h (the form's default length).
    keys = sim.TO_FLC + ["B", "B", "X", "A", "X", "B", "X", "X", "X", "X"]
    assert run(demo_flash, keys)["screen"] == "Trend"
    p = _tracker(demo_flash).patient(sim.DEMO_PATIENT)
    start = sim.SIM_NOW - 1440
    assert p.sessions[-1] == (2, start, start + 240)


@pytest.mark.req("R-FLC-03")
def test_flc_storage_full_is_a_clear_screen(demo_flash):
    from mmrenal.firmware import load

    t = _tracker(demo_flash)
    full = load("journal").Full
    n = 0
    with pytest.raises(full):
        while True:  # fill the journal as months of samples would
            t.add_sample(sim.DEMO_PATIENT, sim.SIM_NOW - 100000 + n, 1000, 1000, "LAB1", True)
            n += 1
    count = _tracker(demo_flash).patient(sim.DEMO_PATIENT).count
    screen = run(demo_flash, sim.TO_FLC + ["B", "X", "X", "X", "A", "X", "A", "X", "X"])
    assert screen["screen"] == "SafeScreen" and "STORAGE FULL" in screen["text"]
    assert _tracker(demo_flash).patient(sim.DEMO_PATIENT).count == count


@pytest.mark.req("R-PAT-01")
def test_new_patient_code_on_the_device(demo_flash):
    # The code starts from the ward's prefix (BED- of BED-12, the newest code) and a '0'.
    assert "BED-0_" in run(demo_flash, ["X", "B", "X"])["text"]
    keys = ["X", "B", "X", "A", "A", "X", "A", "X:long", "A", "X", "X"]  # "BED-23", lambda, save
    screen = run(demo_flash, keys)
    assert screen["screen"] == "Home" and "Patient: BED-23" in screen["text"]
    p = _tracker(demo_flash).patient("BED-23")
    assert p.involved == 1
    # A code not of the table's pattern may be a name: refused, the pattern on the screen
    # as its shortest and longest codes (up to 4 capitals, '-', up to 6 digits).
    name = run(demo_flash, ["X", "B", "B", "X"] + ["A"] * 10 + ["X:long", "X", "X"])  # "BED-A"
    assert name["screen"] == "SafeScreen" and "NOT SAVED" in name["text"]
    assert "Codes here (shortest … longest):" in " ".join(name["text"])  # wrapped in two rows
    assert "A-1 … ABCD-123456" in name["text"]
    # BACK clears the prefix a character at a time (the first stays, "B"): "7" alone is
    # refused (a bare number is not of the pattern), "B-7" is taken.
    bare = run(demo_flash, ["X", "B", "B", "X"] + ["Y"] * 4 + ["B"] * 4 + ["X:long", "B", "X", "X"])
    assert bare["screen"] == "SafeScreen" and "A-1 … ABCD-123456" in bare["text"]
    assert "7" not in _tracker(demo_flash).patients
    keys = ["X", "B", "B", "X"] + ["Y"] * 4 + ["X"] + ["B"] * 12 + ["X"] + ["A"] * 8  # B, B-, B-7
    screen = run(demo_flash, keys + ["X:long", "B", "X", "X"])
    assert "Patient: B-7" in screen["text"]


@pytest.mark.req("R-UI-08")
def test_aki_from_the_patients_recorded_creatinine(demo_flash):
    # BED-12 had 1.00 mg/dL yesterday; 1.50 today is 1.5 x the 7-day lowest: KDIGO stage 1.
    t = _tracker(demo_flash)
    t.add_creatinine(sim.DEMO_PATIENT, sim.SIM_NOW - 1440, 88400)
    t.add_patient("B-2", 0, 0)
    raised = sim.entry_keys(67, True, 580, 1600, 150)
    screen = run(demo_flash, TO_RENAL + raised)  # choose BED-12, then the kidney function
    assert screen["screen"] == "RenalResult"
    assert "AKI: Cr rising, CrCl overstates" in screen["text"]
    # The value entered is now part of the patient's series (for the next assessment).
    assert _tracker(demo_flash).creatinine[sim.DEMO_PATIENT][-1] == (sim.SIM_NOW, 132600)
    # The same entry for another patient, who has no history: no AKI warning.
    other = run(demo_flash, ["B", "X", "B", "X"] + raised)
    assert other["screen"] == "RenalResult" and not any("AKI" in x for x in other["text"])


@pytest.mark.req("R-UI-09")
def test_another_patient_starts_a_fresh_assessment(demo_flash):
    # Kidney function for BED-12, then choose B-2: the doses ask for B-2's kidney
    # function, on an empty form, not BED-12's values.
    _tracker(demo_flash).add_patient("B-2", 0, 0)
    assert "CrCl 32.2 mL/min" in run(demo_flash, TO_RESULT)["text"]
    switched = run(demo_flash, TO_RESULT + ["Y", "Y", "A", "X", "B", "X", "B", "B", "X"])
    assert switched["screen"] == "RenalEntry" and switched["text"][2] == "B-2"
    assert "67 y" not in switched["text"] and switched["text"][4] == "--"
    # The title bar names the patient on the dose screen.
    dose = run(demo_flash, sim.LENALIDOMIDE)
    assert (dose["screen"], dose["text"][:3]) == ("Dose", ["Drug doses", "09:30", "BED-12"])


@pytest.mark.req("R-UI-10")
def test_unusual_creatinine_asks_for_the_unit(tmp_path):
    flash = tmp_path / "flash"  # its own: the unit chosen is kept on the flash
    sim.prepare_flash(flash, demo=True)
    # Creatinine unit set to umol/L, but a mg/dL reading (1.2) entered as if it were
    # umol/L: the value stops at 9 umol/L, far below any adult's; the screens say so
    # in both units before computing, and compute only when asked again.
    to_umol = ["B"] * 5 + ["X", "X", "A", "Y", "B"]
    person = ["A", "X", "A", "X", "A", "X", "A", "X"]  # 65 y, female, 70 kg, 165 cm
    low = TO_RENAL + person + ["A"] + ["B:long"] * 10 + ["X", "B", "X:long"]
    warn = run(flash, to_umol + low)
    assert warn["screen"] == "SafeScreen" and "Unusual creatinine: check the unit" in " ".join(warn["text"])
    assert "0.10 mg/dL = 9 µmol/L" in warn["text"]
    again = run(flash, low + ["Y", "X:long"])  # the unit stays umol/L
    assert again["screen"] == "RenalResult"
    # The same for a umol/L reading entered as mg/dL: it stops at 25.00 mg/dL.
    run(flash, to_umol)  # back to mg/dL
    high = TO_RENAL + person + ["A"] + ["A:long"] * 300 + ["X", "B", "X:long"]
    assert "Unusual creatinine: check the unit" in " ".join(run(flash, high)["text"])
    assert "25.00 mg/dL = 2210 µmol/L" in run(flash, high)["text"]


def test_flc_trend_says_what_is_missing(tmp_path):
    from mmrenal.firmware import load

    d = tmp_path / "flash"
    sim.prepare_flash(d)
    t = load("flcstore").Tracker(str(d / "flc.jnl"))
    t.boot()
    t.add_patient("B-1", 1, 0)  # no samples
    t.add_patient("B-2", 0, sim.SIM_NOW - 5000)  # treatment start, one sample after it
    t.add_sample("B-2", sim.SIM_NOW - 100, 5000, 2000, "LAB1", False)
    empty = run(d, ["B", "B", "B", "X", "X", "X", "X"])
    assert empty["screen"] == "Trend" and "No samples yet" in empty["text"]
    one = run(d, ["B", "B", "B", "X", "B", "X", "X", "X"])
    assert one["screen"] == "Trend" and "κ 50 mg/L" in one["text"]
    assert "Day 21: cannot tell yet" in one["text"] and "no sample before treatment" in one["text"]
    assert "t½ not enough data" in one["text"]  # one sample: no fit
    assert not any(x.startswith("Reduction") for x in one["text"])


def test_full_audit_log_is_said_and_the_dose_still_shown(demo_flash):
    from mmrenal.firmware import load

    audit = load("audit")
    log = audit.Audit(str(demo_flash / "audit.jnl"))
    n = 0
    while log.record(audit.T_DOSE, sim.SIM_NOW, "BED-12", {"doses": [], "status": "uncertain",
                                                            "drug": "x" * 20}, 0, 0, False, 1):
        n += 1
    assert log.full and n > 100
    with sim.Sim(demo_flash) as s:
        for k in sim.LENALIDOMIDE:
            s.key(k)
        dose = s.screen()["text"][:6] + scrolled_lines(s)
        for k in ["X", "X", "A", "X", "A", "X", "A", "X", "X"]:  # check 10 mg daily, day 1
            s.key(k)
        check = s.screen()
    assert "AUDIT LOG FULL: pull it" in dose
    assert "ADJUSTED DOSE" in dose and "10 mg" in dose
    assert "AUDIT LOG FULL: pull it" in check["text"] and "WITHIN THE TABLE'S DOSE" in check["text"]


@pytest.mark.req("R-UI-01")
def test_unreadable_settings_give_the_defaults(tmp_path):
    d = tmp_path / "flash"
    sim.prepare_flash(d, demo=True)
    to_scr = TO_RENAL + ["X"] * 4 + ["A"]  # the creatinine's first press: its start
    for garbage in (b"\xff\xfe\x00", b"7 9\n", b"1\n", b""):
        (d / "settings.txt").write_bytes(garbage)
        home = run(d, to_scr)
        assert "Creatinine" in home["text"] and "1.00 mg/dL" in home["text"], garbage
    (d / "settings.txt").write_text("1 1\n")  # Chinese, umol/L
    assert "88 µmol/L" in run(d, to_scr)["text"]


def test_a_refused_entry_is_a_clear_screen_with_its_reason(demo_flash):
    t = _tracker(demo_flash)
    for i in range(15):  # BED-12 and 15 more: the device's 16 patients
        t.add_patient(f"B-{i + 1}", 0, 0)
    keys = ["X"] + ["A", "A"] + ["X", "X:long", "X", "X"]  # "+ New patient", code "B-0", save
    screen = run(demo_flash, keys)
    assert screen["screen"] == "SafeScreen" and "NOT SAVED" in screen["text"]
    assert "patient: the device holds 16 patients at most" in " ".join(screen["text"])
    assert len(_tracker(demo_flash).by_pid) == 16  # nothing written
    assert run(demo_flash, keys + ["Y"])["screen"] == "NewPatient"  # back to the form


# --- issue 13: the FLC tracker says the truth on every sample --------------------------


def _flc_flash(tmp_path, code, involved, samples, sessions=()):
    """A flash with the table and one patient: treatment started 10 days before the
    sim's clock, samples (day, involved mg/L, uninvolved mg/L) and sessions (day, h)."""
    from mmrenal.firmware import load

    d = tmp_path / "flash"
    sim.prepare_flash(d)
    t = load("flcstore").Tracker(str(d / "flc.jnl"))
    t.boot()
    t0 = sim.SIM_NOW - 10 * 1440
    t.add_patient(code, involved, t0)
    for day, inv, unin in samples:
        k, lam = (inv, unin) if involved == 0 else (unin, inv)
        t.add_sample(code, t0 + round(day * 1440), k * 100, lam * 100, "LAB1", False)
    for day, hours in sessions:
        t.add_event(code, 3, t0 + round(day * 1440), t0 + round(day * 1440) + hours * 60)
    return d, t


@pytest.mark.req("R-FLCT-01", "R-FLCT-02")
def test_flc_trend_says_rebound_after_session_in_both_languages(tmp_path):
    # 60% reached on day 5 (380 of 1000 mg/L), then a session and a rebound from 200 to 320.
    d, _ = _flc_flash(tmp_path, "B-5", 0, [(-1, 1000, 12), (2, 700, 12), (5, 380, 12), (5.9, 360, 12),
                                         (6.3, 200, 12), (8, 320, 12)], [(6, 5)])
    screen = run(d, sim.TO_FLC + ["X"])
    assert screen["screen"] == "Trend"
    assert "Day 21: NOT on track" in screen["text"] and "rebound after session" in screen["text"]
    zh = run(d, sim.ZH_PREFIX + sim.TO_FLC + ["X"])
    assert "21天内下降60%：未达到" in zh["text"] and "体外清除后反弹" in zh["text"]


@pytest.mark.req("R-FLCT-04")
def test_flc_trend_chart_has_dates_units_target_and_dflc(demo_flash):
    chart = run(demo_flash, sim.TO_FLC + ["X", "B"])
    text = chart["text"]
    assert chart["screen"] == "Trend"
    assert "κ mg/L (log)" in text and "dFLC 140.5 mg/L" in text  # 159 - 18.5 mg/L
    # The value axis from the baseline (1840) to the latest (159), two figures; the time
    # axis from the baseline's date (6 Nov) to day 21 of treatment (started 7 Nov).
    assert {"1800", "160", "11-06", "11-28", "day 21", "60%"} <= set(text)
    assert run(demo_flash, sim.TO_FLC + ["X", "B", "A"])["text"] == run(demo_flash, sim.TO_FLC + ["X"])["text"]


@pytest.mark.req("R-FLCT-05")
def test_flc_sample_records_the_draw_time(demo_flash):
    form = run(demo_flash, sim.TO_FLC + ["B", "X"])
    assert {"Drawn on", "Drawn at"} <= set(form["text"])
    assert "采血时间" in run(demo_flash, sim.ZH_PREFIX + sim.TO_FLC + ["B", "X"])["text"]
    run(demo_flash, sim.ZH_PREFIX)  # back to English
    # Drawn two hours ago (8 x 15 minutes back), typed now: the record keeps 07:30.
    saved = run(demo_flash, sim.TO_FLC + ["B", "X", "X"] + ["B"] * 8 + ["X", "A", "X", "A", "X", "X"])
    assert saved["screen"] == "Trend"
    p = _tracker(demo_flash).patient(sim.DEMO_PATIENT)
    assert p.times[p.n - 1] == sim.SIM_NOW - 120


@pytest.mark.req("R-FLCT-03")
def test_flc_sample_with_the_chain_the_wrong_way_round(tmp_path):
    # Lambda myeloma, but the latest sample has lambda 20 below kappa 30 mg/L.
    d, t = _flc_flash(tmp_path, "B-6", 1, [(-1, 20, 30)])
    with sim.Sim(d) as s:
        for k in sim.TO_FLC + ["B", "X", "X", "X", "A", "X", "A", "X", "X"]:  # the latest values, save
            s.key(k)
        warn = s.screen()
        assert warn["screen"] == "SafeScreen" and "Is the involved chain right?" in warn["text"]
        assert "λ 20 < κ 30 mg/L" in warn["text"] and "Save again to record it" in warn["text"]
        assert _tracker(d).patient("B-6").count == 1  # nothing written yet
        for k in ["Y", "X"]:  # back to the form, Save again
            s.key(k)
        trend = s.screen()
    assert trend["screen"] == "Trend" and "λ below κ: check the chain" in trend["text"]
    assert _tracker(d).patient("B-6").count == 2


@pytest.mark.req("R-FLCT-07", "R-PAT-01")
def test_flc_new_patient_chain_must_be_chosen(demo_flash):
    keys = ["X", "B", "X", "A", "A", "X:long"]  # Patient, + New patient, code "BED-2", to the chain
    form = run(demo_flash, keys)
    assert form["screen"] == "NewPatient" and "--" in form["text"]
    assert "κ kappa" not in form["text"] and "λ lambda" not in form["text"]
    with sim.Sim(demo_flash) as s:
        for k in keys + ["X", "X"]:  # Save without a chain
            s.key(k)
        refused = s.screen()
        assert refused["screen"] == "SafeScreen"
        assert "NOT SAVED" in refused["text"] and "Choose the involved chain" in refused["text"]
        assert "BED-2" not in _tracker(demo_flash).patients
        for k in ["Y", "B", "X", "X"]:  # back on the chain's row: kappa, Save
            s.key(k)
        home = s.screen()
    assert home["screen"] == "Home" and "Patient: BED-2" in home["text"]
    assert _tracker(demo_flash).patient("BED-2").involved == 0


@pytest.mark.req("R-FLCT-06")
def test_flc_new_person_in_a_bed_starts_afresh(tmp_path):
    d, t = _flc_flash(tmp_path, "B-1", 0, [(-1, 1000, 12), (2, 700, 12)], [(1, 5)])
    t.add_creatinine("B-1", sim.SIM_NOW - 1440, 88400)
    size = (d / "flc.jnl").stat().st_size
    keys = ["X", "B", "X", "A", "X:long", "A", "X", "X"]  # + New patient "B-1" (from "B-0"), lambda, Save
    with sim.Sim(d) as s:
        for k in keys:
            s.key(k)
        warn = s.screen()
        assert warn["screen"] == "SafeScreen" and "New person in this bed?" in warn["text"]
        assert "Save again to start anew" in warn["text"]
        assert "kept apart, never merged" in " ".join(warn["text"])
        assert (d / "flc.jnl").stat().st_size == size  # nothing written yet
        for k in ["Y", "X"]:  # back to the form, Save again
            s.key(k)
        assert "Patient: B-1" in s.screen()["text"]
        for k in ["B", "B", "B", "X", "X"]:  # FLC for patient B-1: the new person's trend
            s.key(k)
        assert "No samples yet" in s.screen()["text"]
    again = _tracker(d)
    p = again.patient("B-1")
    assert (p.episode, p.count, p.involved, p.sessions) == (2, 0, 1, [])
    assert "B-1" not in again.creatinine and len(again.by_pid) == 1
    kinds = [(r[1], r[-1]) for r in again.pull(0, 100)]  # the first person's records are kept
    assert kinds == [("patient", 1), ("sample", 1), ("sample", 1), ("event", 1), ("creatinine", 1),
                     ("episode", 2)]


@pytest.mark.req("R-BED-01")
def test_flc_sample_values_start_empty(demo_flash):
    before = _tracker(demo_flash).patient(sim.DEMO_PATIENT).count
    form = run(demo_flash, sim.TO_FLC + ["B", "X"])
    assert form["text"].count("--") == 2  # kappa and lambda: nothing assumed
    refused = run(demo_flash, sim.TO_FLC + ["B", "X"] + ["X"] * 5)  # save with none entered
    assert refused["screen"] == "SafeScreen" and "NOT ENTERED" in refused["text"]
    assert _tracker(demo_flash).patient(sim.DEMO_PATIENT).count == before
