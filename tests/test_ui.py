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


def test_home_shows_menu_and_table(flash):
    screen = run(flash, [])
    assert screen["screen"] == "Home"
    assert {"Kidney function", "Drug doses", "Settings"} <= set(screen["text"])
    assert "Dose table: myeloma-renal v1" in screen["text"]
    assert "Patient: no patient chosen" in screen["text"]


def test_kidney_function_result(flash):
    # Defaults: 60 y woman, 70 kg, 165 cm, 1.00 mg/dL; the table's institution rule is
    # the BMI rule (BMI 25.7 -> adjusted weight 62.1 kg): CrCl 58.7 mL/min.
    screen = run(flash, TO_RESULT)
    assert screen["screen"] == "RenalResult"
    assert "CrCl 58.7 mL/min" in screen["text"]
    assert any(t.startswith("Weight used 62.1 kg (adjusted)") for t in screen["text"])


def test_number_entry_steps_and_clamps(flash):
    # Age: UP adds 1 y; a long press adds 5; DOWN held long enough stops at 18.
    screen = run(flash, ["B", "X", "A", "A:long"])
    assert "66 y" in screen["text"]
    screen = run(flash, ["B", "X"] + ["B:long"] * 20)
    assert "18 y" in screen["text"]


def test_dose_words_colour_and_citation(flash):
    # Lenalidomide is the 5th drug; CrCl 58.7: 30-59 band, 10 mg daily, adjusted.
    screen = run(flash, TO_RESULT + ["X", "B", "B", "B", "B", "X"])
    assert screen["screen"] == "Dose"
    assert "ADJUSTED DOSE" in screen["text"] and "10 mg daily" in screen["text"]
    source = run(flash, TO_RESULT + ["X", "B", "B", "B", "B", "X", "X"])
    assert source["screen"] == "Source"
    assert "lenalidomide" in " ".join(source["text"]) and "Table 1" in " ".join(source["text"])


def test_uncertain_dose_shows_no_number(flash):
    # Raise creatinine to 1.50 mg/dL (CrCl ~ 39): ide-cel (10th drug) is uncertain there.
    keys = ["B", "X", "X", "X", "X", "X"] + ["A"] * 50 + ["X", "X", "X", "X"]
    keys += ["X"] + ["B"] * 9 + ["X"]
    screen = run(flash, keys)
    assert screen["screen"] == "Dose"
    assert "UNCERTAIN: NO DOSE" in screen["text"]
    body = [t for t in screen["text"] if t not in ("Drug doses", "中文", "A up  B down  X ok  Y back")]
    assert not any(re.search(r"\d\s*(mg|cells|x10)", t) for t in body[1:]), body


def test_chinese_screens(flash):
    screen = run(flash, sim.ZH_PREFIX)  # Settings, switch, back
    assert "肾功能" in screen["text"] and "药物剂量" in screen["text"]
    dose = run(flash, sim.ZH_PREFIX + TO_RESULT + ["X", "B", "B", "B", "B", "X"])
    assert "调整剂量" in dose["text"] and any("来那度胺" in t for t in dose["text"])
    assert any("每日" in t for t in dose["text"])


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


def test_docs_screens_are_current(tmp_path):
    """docs/screens are golden images: regenerate with `mmrenal sim --screens docs/screens`."""
    from PIL import Image

    from mmrenal.paths import REPO

    made = sim.screens(tmp_path)
    assert len(made) == 2 * len(sim.SCREENS) + 2
    for png in made:
        golden = REPO / "docs" / "screens" / png.name
        assert golden.exists(), f"{golden.name} missing: run mmrenal sim --screens docs/screens"
        a, b = Image.open(png).convert("RGB"), Image.open(golden).convert("RGB")
        assert a.size == b.size and a.tobytes() == b.tobytes(), (
            f"{png.name} differs from docs/screens: run mmrenal sim --screens docs/screens")


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
