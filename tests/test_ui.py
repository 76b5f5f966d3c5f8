"""The bedside screens, driven by key scripts on MicroPython (mmrenal sim), checked by
the text on the screen and by screenshots."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

from mmrenal import sim

TO_RESULT = sim.TO_RESULT  # to Kidney function, SELECT through the 8 fields


@pytest.fixture(scope="module")
def flash():
    d = Path(tempfile.mkdtemp(prefix="mmrenal-ui-"))
    sim.prepare_flash(d)
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
    # Defaults: 60 y woman, 70 kg, 165 cm, 1.00 mg/dL; the table's institution rule is
    # the BMI rule (BMI 25.7 -> adjusted weight 62.1 kg): CrCl 58.7 mL/min.
    screen = run(flash, TO_RESULT)
    assert screen["screen"] == "RenalResult"
    assert "CrCl 58.7 mL/min" in screen["text"]
    assert any(t.startswith("Weight used 62.1 kg (adjusted)") for t in screen["text"])


@pytest.mark.req("R-IN-04", "R-UI-04")
def test_number_entry_steps_and_clamps(flash):
    # Age: UP adds 1 y; a long press adds 5; DOWN held long enough stops at 18.
    screen = run(flash, ["B", "X", "A", "A:long"])
    assert "66 y" in screen["text"]
    screen = run(flash, ["B", "X"] + ["B:long"] * 20)
    assert "18 y" in screen["text"]


@pytest.mark.req("R-DOSE-06", "R-DOSE-03")
def test_dose_words_colour_and_citation(flash):
    # Lenalidomide is the 5th drug; CrCl 58.7: 30-59 band, 10 mg daily, adjusted.
    screen = run(flash, TO_RESULT + ["X", "B", "B", "B", "B", "X"])
    assert screen["screen"] == "Dose"
    assert "ADJUSTED DOSE" in screen["text"] and "10 mg daily" in screen["text"]
    source = run(flash, TO_RESULT + ["X", "B", "B", "B", "B", "X", "X"])
    assert source["screen"] == "Source"
    assert "lenalidomide" in " ".join(source["text"]) and "Table 1" in " ".join(source["text"])


@pytest.mark.req("R-DOSE-02", "R-DOSE-05")
def test_uncertain_dose_shows_no_number(flash):
    # Raise creatinine to 1.50 mg/dL (CrCl ~ 39): ide-cel (10th drug) is uncertain there.
    keys = ["B", "X", "X", "X", "X", "X"] + ["A"] * 50 + ["X", "X", "X", "X"]
    keys += ["X"] + ["B"] * 9 + ["X"]
    screen = run(flash, keys)
    assert screen["screen"] == "Dose"
    assert "UNCERTAIN: NO DOSE" in screen["text"]
    body = screen["text"][2:-1]  # between the title bar (title, time) and the key hints
    assert body[0] == "idecabtagene-vicleucel"
    assert not any(re.search(r"\d\s*(mg|cells|x10)", t) for t in body[2:]), body
    # A dose check has nothing to check against: words, and still no number.
    check = run(flash, keys + ["B"])
    assert check["screen"] == "CheckResult" and "CANNOT BE CHECKED" in check["text"]
    assert not any(re.search(r"\d", t) for t in check["text"][3:-1]), check["text"]


@pytest.mark.req("R-UI-01")
def test_chinese_screens(demo_flash):
    screen = run(demo_flash, sim.ZH_PREFIX)  # Settings, switch, back
    assert "肾功能" in screen["text"] and "药物剂量" in screen["text"]
    # The choice is kept on the flash: after a power cycle the screens are in Chinese.
    assert "肾功能" in run(demo_flash, [])["text"]
    dose = run(demo_flash, TO_RESULT + ["X", "B", "B", "B", "B", "X"])
    assert "调整剂量" in dose["text"] and any("来那度胺" in t for t in dose["text"])
    assert any("每日" in t for t in dose["text"])


@pytest.mark.req("R-TAB-06")
def test_no_valid_table_is_a_clear_screen():
    d = Path(tempfile.mkdtemp(prefix="mmrenal-ui-empty-"))
    try:
        sim.prepare_flash(d, with_table=False)
        screen = run(d, ["B", "B", "X"])  # Drug doses
        assert screen["screen"] == "SafeScreen"
        assert "NO VALID DOSE TABLE" in screen["text"]
        home = run(d, [])
        assert "Dose table: NO VALID DOSE TABLE" in home["text"]
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
        for k in TO_RESULT + ["X", "B", "B", "B", "B", "X"]:  # lenalidomide
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
    assert log[0][5] == 587 and log[0][8] == 1  # CrCl 58.7 and table version 1
    assert [r[0] for r in log] == [1, 2]  # sequence numbers for `audit pull`


# --- dose checks, units, clock and expiry ---------------------------------------------


@pytest.fixture
def demo_flash(tmp_path):
    d = tmp_path / "flash"
    sim.prepare_flash(d, demo=True)
    return d


@pytest.mark.req("R-DOSE-05", "R-AUD-01")
def test_dose_check_within_and_above_is_audited(demo_flash):
    with sim.Sim(demo_flash) as s:
        for k in sim.LENALIDOMIDE + ["B"]:  # lenalidomide 10 mg daily, then check a dose
            s.key(k)
        form = s.screen()
        assert form["screen"] == "DoseCheck" and "10 mg" in form["text"]  # starts at the band's dose
        for k in ["X", "X", "X"]:  # to the Check row, check 10 mg
            s.key(k)
        within = s.screen()
        assert "WITHIN THE TABLE'S DOSE" in within["text"] and "Table at most 10 mg" in within["text"]
        s.key("Y")  # back to the dose
        for k in ["B", "X", "A", "A", "X", "X"]:  # 10 mg + 2 x 0.1 mg
            s.key(k)
        above = s.screen()
        assert "ABOVE THE TABLE'S DOSE" in above["text"] and "Prescribed 10.2 mg" in above["text"]
        log = s.audit()
    # The dose was shown once (one record), then checked twice: ceiling 10 mg each time.
    assert [(r[1], r[4], r[9], r[10], r[11], r[12]) for r in log] == [
        ("dose", "lenalidomide", "adjusted", 1000, "mg", 0),
        ("check", "lenalidomide", "adjusted", 1000, "mg", 1000),
        ("check", "lenalidomide", "adjusted", 1000, "mg", 1020),
    ]


@pytest.mark.req("R-UNIT-03", "R-DOSE-05", "R-AUD-01")
def test_dose_check_in_mg_of_a_per_m2_dose(demo_flash):
    # Bortezomib 1.3 mg/m2; BSA 1.79 m2 (70 kg, 165 cm): 1.3 x 1.79 = 2.327 -> 2.33 mg.
    with sim.Sim(demo_flash) as s:
        for k in TO_RESULT + ["X", "X", "B"]:
            s.key(k)
        assert "1.3 mg/m2" in s.screen()["text"]
        s.key("A")  # the unit: mg
        assert "2.33 mg" in s.screen()["text"]
        for k in ["X", "A:long", "X", "X"]:  # 2.33 + 0.1 mg
            s.key(k)
        screen = s.screen()
        log = s.audit()
    assert "ABOVE THE TABLE'S DOSE" in screen["text"] and "Table at most 2.33 mg" in screen["text"]
    assert (log[-1][1], log[-1][10], log[-1][11], log[-1][12]) == ("check", 233, "mg", 243)


@pytest.mark.req("R-UNIT-04", "R-UNIT-02")
def test_creatinine_in_micromoles(demo_flash):
    flash = demo_flash  # the unit chosen is kept on this flash
    from fractions import Fraction

    from mmrenal import reference

    to_umol = ["B"] * 5 + ["X", "X", "A", "Y", "B"]  # Settings, unit row, switch, back, top
    entry = run(flash, to_umol + ["B", "X", "X", "X", "X", "X"])
    assert "88 µmol/L" in entry["text"]  # 1.00 mg/dL = 88.4 umol/L, on the umol/L grid
    # Kept on the flash: from here on, every start is in umol/L.
    assert "89 µmol/L" in run(flash, ["B", "X", "X", "X", "X", "X", "A"])["text"]
    result = run(flash, TO_RESULT)
    # The value shown (88 umol/L) is the value computed with, not 88.4.
    _, w = reference.dosing_weight_exact("bmi", True, Fraction(70), Fraction(165))
    want = reference.round_half_up(reference.crcl_exact(60, True, w, Fraction(88) / Fraction("88.4")), 1)
    assert f"CrCl {float(want):.1f} mL/min" in result["text"]
    assert want != reference.round_half_up(reference.crcl_exact(60, True, w, Fraction(1)), 1)


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
        for k in ["Y", "A", "A", "A", "X"]:  # Drug doses: now asks for the kidney function
            s.key(k)
        assert s.screen()["screen"] == "RenalEntry"
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
    assert "No doses: install the current table" in screen["text"]


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
    assert "Day 21: on track" in text and "60%" in text
    # Half-life: a least-squares fit of log2(kappa) over the samples after treatment start.
    p = _tracker(demo_flash).patient(sim.DEMO_PATIENT)
    t = np.array([p.times[i] for i in range(p.n) if p.times[i] > p.t0]) / 60
    y = np.log2([p.kappa[i] for i in range(p.n) if p.times[i] > p.t0])
    half = -1 / np.polyfit(t, y, 1)[0]
    shown = float(next(s for s in text if s.startswith("t½ ")).split()[1])
    assert abs(shown - half) < 0.2, (shown, half)


@pytest.mark.req("R-FLC-08")
def test_flc_sample_entered_on_the_screens_is_recorded(demo_flash):
    before = _tracker(demo_flash).patient(sim.DEMO_PATIENT).count
    keys = sim.TO_FLC + ["B", "X"]  # Add a sample: now (09:30), the latest values (159, 18.5)
    keys += ["X", "X"] + ["B"] * 4 + ["X", "X", "X"]  # kappa 159 - 4 x 1 mg/L, save
    screen = run(demo_flash, keys)
    assert screen["screen"] == "Trend" and "κ 155 mg/L" in screen["text"]
    p = _tracker(demo_flash).patient(sim.DEMO_PATIENT)
    i = p.n - 1
    assert p.count == before + 1
    assert (p.times[i], p.kappa[i], p.lam[i], p.labs[i]) == (sim.SIM_NOW, 15500, 1850, "LAB-1")


@pytest.mark.req("R-PAT-03")
def test_flc_sample_in_the_future_or_before_the_latest(demo_flash):
    before = _tracker(demo_flash).patient(sim.DEMO_PATIENT).count
    future = run(demo_flash, sim.TO_FLC + ["B", "X", "X", "A", "X", "X", "X", "X"])  # 09:45
    assert "NOT SAVED" in future["text"] and "The time is in the future" in future["text"]
    assert _tracker(demo_flash).patient(sim.DEMO_PATIENT).count == before
    with sim.Sim(demo_flash) as s:  # yesterday 09:30: before the latest sample (16:00)
        for k in sim.TO_FLC + ["B", "X", "B", "X", "X", "X", "X", "X"]:
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
            t.add_sample(sim.DEMO_PATIENT, sim.SIM_NOW - 100000 + n, 1000, 1000, "LAB-1", True)
            n += 1
    count = _tracker(demo_flash).patient(sim.DEMO_PATIENT).count
    screen = run(demo_flash, sim.TO_FLC + ["B", "X", "X", "X", "X", "X", "X"])
    assert screen["screen"] == "SafeScreen" and "STORAGE FULL" in screen["text"]
    assert _tracker(demo_flash).patient(sim.DEMO_PATIENT).count == count


@pytest.mark.req("R-PAT-01")
def test_new_patient_code_on_the_device(demo_flash):
    keys = ["X", "B", "X", "A", "A", "X", "A", "X:long", "A", "X", "X"]  # "23", lambda, save
    screen = run(demo_flash, keys)
    assert screen["screen"] == "Home" and "Patient: 23" in screen["text"]
    p = _tracker(demo_flash).patient("23")
    assert p.involved == 1
    # A code without a digit may be a name: refused, with the reason on the screen.
    name = run(demo_flash, ["X", "B", "B", "X"] + ["A"] * 10 + ["X:long", "X", "X"])  # "A"
    assert name["screen"] == "SafeScreen" and "NOT SAVED" in name["text"]
    assert "never names" in " ".join(name["text"])


@pytest.mark.req("R-UI-08")
def test_aki_from_the_patients_recorded_creatinine(demo_flash):
    # BED-12 had 1.00 mg/dL yesterday; 1.50 today is 1.5 x the 7-day lowest: KDIGO stage 1.
    t = _tracker(demo_flash)
    t.add_creatinine(sim.DEMO_PATIENT, sim.SIM_NOW - 1440, 88400)
    raised = ["B", "X", "X", "X", "X", "X"] + ["A"] * 50 + ["X", "X", "X", "X"]
    screen = run(demo_flash, ["X", "X"] + raised)  # choose BED-12, then the kidney function
    assert screen["screen"] == "RenalResult"
    assert "AKI: creatinine rising, CrCl overstates" in screen["text"]
    # The value entered is now part of the patient's series (for the next assessment).
    assert _tracker(demo_flash).creatinine[sim.DEMO_PATIENT][-1] == (sim.SIM_NOW, 132600)
    # The same entry with no patient chosen has no history: no AKI warning.
    alone = run(demo_flash, raised)
    assert alone["screen"] == "RenalResult" and not any("AKI" in x for x in alone["text"])


@pytest.mark.req("R-UI-09")
def test_another_patient_starts_a_fresh_assessment(demo_flash):
    # Kidney function for BED-12 (age raised to 70), then choose no patient: the
    # doses ask for the kidney function again, from the defaults, not BED-12's values.
    keys = ["X", "X", "B", "X"] + ["A"] * 10 + ["X"] * 7 + ["X"]
    assert "CrCl" in " ".join(run(demo_flash, keys)["text"])
    switched = run(demo_flash, keys + ["Y", "Y", "A", "X", "B", "B", "X", "B", "B", "X"])
    assert switched["screen"] == "RenalEntry"
    assert "60 y" in switched["text"] and "70 y" not in switched["text"]
    # The title bar names the patient on the dose and dose-check screens.
    dose = run(demo_flash, ["X", "X"] + sim.LENALIDOMIDE)
    check = run(demo_flash, ["X", "X"] + sim.LENALIDOMIDE + ["B", "X", "X", "X"])
    assert (dose["screen"], dose["text"][:3]) == ("Dose", ["Drug doses", "09:30", "BED-12"])
    assert (check["screen"], check["text"][:3]) == ("CheckResult", ["Dose check", "09:30", "BED-12"])


@pytest.mark.req("R-UI-10")
def test_unusual_creatinine_asks_for_the_unit(tmp_path):
    flash = tmp_path / "flash"  # its own: the unit chosen is kept on the flash
    sim.prepare_flash(flash)
    # Creatinine unit set to umol/L, but a mg/dL reading (1.2) entered as if it were
    # umol/L: the value stops at 9 umol/L, far below any adult's; the screens say so
    # in both units before computing, and compute only when asked again.
    to_umol = ["B"] * 5 + ["X", "X", "A", "Y", "B"]
    low = ["B", "X", "X", "X", "X", "X"] + ["B:long"] * 10 + ["X", "X", "X", "X"]
    warn = run(flash, to_umol + low)
    assert warn["screen"] == "SafeScreen" and "Unusual creatinine: check the unit" in warn["text"]
    assert "0.10 mg/dL = 9 µmol/L" in warn["text"]
    again = run(flash, low + ["Y", "X"])  # the unit stays umol/L
    assert again["screen"] == "RenalResult"
    # The same for a umol/L reading entered as mg/dL: it stops at 25.00 mg/dL.
    run(flash, to_umol)  # back to mg/dL
    high = ["B", "X", "X", "X", "X", "X"] + ["A:long"] * 300 + ["X", "X", "X", "X"]
    assert "Unusual creatinine: check the unit" in run(flash, high)["text"]
    assert "25.00 mg/dL = 2210 µmol/L" in run(flash, high)["text"]


def test_flc_trend_says_what_is_missing(tmp_path):
    from mmrenal.firmware import load

    d = tmp_path / "flash"
    sim.prepare_flash(d)
    t = load("flcstore").Tracker(str(d / "flc.jnl"))
    t.boot()
    t.add_patient("B-1", 1, 0)  # no samples
    t.add_patient("B-2", 0, sim.SIM_NOW - 5000)  # treatment start, one sample after it
    t.add_sample("B-2", sim.SIM_NOW - 100, 5000, 2000, "LAB-1", False)
    empty = run(d, ["B", "B", "B", "X", "X", "X", "X"])
    assert empty["screen"] == "Trend" and "No samples yet" in empty["text"]
    one = run(d, ["B", "B", "B", "X", "B", "X", "X", "X"])
    assert one["screen"] == "Trend" and "κ 50 mg/L" in one["text"]
    assert "Day 21: no baseline" in one["text"] and "t½ —" in one["text"]
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
        dose = s.screen()
        for k in ["B", "X", "X", "X"]:  # check the band's own 10 mg
            s.key(k)
        check = s.screen()
    assert "AUDIT LOG FULL: pull it" in dose["text"]
    assert "ADJUSTED DOSE" in dose["text"] and "10 mg daily" in dose["text"]
    assert "AUDIT LOG FULL: pull it" in check["text"] and "WITHIN THE TABLE'S DOSE" in check["text"]


@pytest.mark.req("R-UI-01")
def test_unreadable_settings_give_the_defaults(tmp_path):
    d = tmp_path / "flash"
    sim.prepare_flash(d)
    for garbage in (b"\xff\xfe\x00", b"7 9\n", b"1\n", b""):
        (d / "settings.txt").write_bytes(garbage)
        home = run(d, ["B", "X", "X", "X", "X", "X"])
        assert "Creatinine" in home["text"] and "1.00 mg/dL" in home["text"], garbage
    (d / "settings.txt").write_text("1 1\n")  # Chinese, umol/L
    assert "88 µmol/L" in run(d, ["B", "X", "X", "X", "X", "X"])["text"]


def test_a_refused_entry_is_a_clear_screen_with_its_reason(demo_flash):
    t = _tracker(demo_flash)
    for i in range(15):  # BED-12 and 15 more: the device's 16 patients
        t.add_patient(f"B-{i + 1}", 0, 0)
    keys = ["X"] + ["A", "A"] + ["X", "A", "X:long", "X", "X"]  # "+ New patient", code "1", save
    screen = run(demo_flash, keys)
    assert screen["screen"] == "SafeScreen" and "NOT SAVED" in screen["text"]
    assert "patient: the device holds 16 patients at most" in " ".join(screen["text"])
    assert len(_tracker(demo_flash).by_pid) == 16  # nothing written
    assert run(demo_flash, keys + ["Y"])["screen"] == "NewPatient"  # back to the form
