"""The hardware package: generated docs current, BOM totals equal to their lines, every
pin in the wiring tables equal to the pin-map data, and doctor's judgement of a board.

Expected values come from the data files read here with tomllib, or are written out by
hand from the vendor documents (hw/pico_pinout.toml's sources); none is computed by
the code under test.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from datetime import datetime
from decimal import Decimal

import pytest

from mmrenal import doctor, generated
from mmrenal.paths import REPO

HW = REPO / "hw"
BOARDS = sorted((HW / "boards").glob("*.toml"))
BOMS = sorted((HW / "bom").glob("*.toml"))
DISPLAY_SIGNALS = {"sck": "LCD SCK", "mosi": "LCD MOSI (DIN)", "cs": "LCD CS", "dc": "LCD DC",
                   "rst": "LCD reset", "backlight": "backlight"}


def _toml(path):
    return tomllib.loads(path.read_text(encoding="utf-8"))


# --- generated files ------------------------------------------------------------


def test_generated_docs_are_current():
    res = subprocess.run([sys.executable, "-m", "mmrenal.hwdocs", "--check"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([sys.executable, "-m", "mmrenal", "hw", "--check"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    for board in BOARDS:
        assert f"wiring/{board.stem}.md is current" in res.stdout
        assert f"wiring/{board.stem}.svg is current" in res.stdout
    for bom in BOMS:
        assert f"bom/{bom.stem}.md is current" in res.stdout


def test_check_fails_on_a_stale_file(tmp_path, capsys):
    target = tmp_path / "out.md"
    target.write_text("edited by hand\n")
    assert generated.main_files("doc", lambda: {target: "generated\n"}, "x", ["--check"]) == 1
    assert "differs" in capsys.readouterr().err
    assert generated.main_files("doc", lambda: {target: "generated\n"}, "x", []) == 0
    assert generated.main_files("doc", lambda: {target: "generated\n"}, "x", ["--check"]) == 0


def test_every_profile_and_build_has_its_docs():
    assert {b.stem for b in BOARDS} == {"pimoroni_pico_display", "waveshare_pico_lcd_1_14"}
    assert {b.stem for b in BOMS} == {"pimoroni_pico_display_pico", "pimoroni_pico_display_pico2",
                                      "waveshare_pico_lcd_1_14"}
    for bom in BOMS:
        assert (HW / "boards" / f"{_toml(bom)['bom']['profile']}.toml").exists()


# --- the Pico pinout --------------------------------------------------------------


def test_pinout_table_is_the_pico_header():
    pins = _toml(HW / "pico_pinout.toml")["header"]["pins"]
    assert len(pins) == 40
    assert sorted(p for p in pins if p.startswith("GP")) == sorted(
        f"GP{n}" for n in [*range(23), 26, 27, 28])
    assert [i + 1 for i, p in enumerate(pins) if p in ("GND", "AGND")] == [3, 8, 13, 18, 23, 28, 33, 38]
    # From the Raspberry Pi pinout and the Pico 2 datasheet, written out by hand.
    by_pin = {i + 1: p for i, p in enumerate(pins)}
    assert (by_pin[1], by_pin[20], by_pin[21], by_pin[30], by_pin[36], by_pin[39], by_pin[40]) == (
        "GP0", "GP15", "GP16", "RUN", "3V3(OUT)", "VSYS", "VBUS")


# --- wiring tables ------------------------------------------------------------------


def _wiring_rows(stem):
    text = (HW / "wiring" / f"{stem}.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| ([^|]+) \| (GP\d+|none) \| (\d+|none) \| ([^|]+) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return rows


@pytest.mark.req("R-HW-01")
@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.stem)
def test_wiring_table_equals_the_pin_map(board):
    data = _toml(board)
    pins = _toml(HW / "pico_pinout.toml")["header"]["pins"]
    rows = _wiring_rows(board.stem)
    want = {}
    for role, name in DISPLAY_SIGNALS.items():
        want[name] = data["display"][role]
    for key, gpio in data["buttons"].items():
        if isinstance(gpio, int) and not isinstance(gpio, bool):
            want[f"button {key}"] = gpio
    for colour, gpio in data.get("led", {}).items():
        if isinstance(gpio, int) and not isinstance(gpio, bool):
            want[f"LED {colour}"] = gpio
    assert set(rows) == set(want)
    for signal, gpio in want.items():
        got_gpio, got_pin, _ = rows[signal]
        if gpio < 0:
            assert (got_gpio, got_pin) == ("none", "none"), signal
        else:
            assert got_gpio == f"GP{gpio}", signal
            assert int(got_pin) == pins.index(f"GP{gpio}") + 1, signal
    svg = (HW / "wiring" / f"{board.stem}.svg").read_text(encoding="utf-8")
    for signal, gpio in want.items():
        if gpio >= 0:
            assert f"{signal} (GP{gpio})" in svg.replace("&amp;", "&"), signal


def test_physical_pins_match_the_vendor_documents():
    # Pimoroni's Pico Display Pack schematic prints these pin numbers beside the names.
    pim = _wiring_rows("pimoroni_pico_display")
    assert {k: v[:2] for k, v in pim.items() if k in (
        "LCD SCK", "LCD MOSI (DIN)", "LCD CS", "LCD DC", "backlight", "button A", "button B",
        "button X", "button Y", "LED red")} == {
        "LCD SCK": ("GP18", "24"), "LCD MOSI (DIN)": ("GP19", "25"), "LCD CS": ("GP17", "22"),
        "LCD DC": ("GP16", "21"), "backlight": ("GP20", "26"), "button A": ("GP12", "16"),
        "button B": ("GP13", "17"), "button X": ("GP14", "19"), "button Y": ("GP15", "20"),
        "LED red": ("GP6", "9")}
    # Waveshare's demo pins on the Raspberry Pi pinout.
    ws = _wiring_rows("waveshare_pico_lcd_1_14")
    assert ws["LCD CS"][:2] == ("GP9", "12") and ws["LCD reset"][:2] == ("GP12", "16")
    assert ws["button UP"][:2] == ("GP2", "4") and ws["button B"][:2] == ("GP17", "22")


@pytest.mark.req("R-HW-01")
def test_firmware_binds_what_the_wiring_table_shows():
    sys.path.insert(0, str(REPO / "firmware"))
    try:
        import board_pins
    finally:
        sys.path.pop(0)
    for key, prof in board_pins.PROFILES.items():
        rows = _wiring_rows(key)
        for role, name in DISPLAY_SIGNALS.items():
            gpio = prof["display"][role]
            assert rows[name][0] == (f"GP{gpio}" if gpio >= 0 else "none")
        for name, gpio in prof["buttons"].items():
            assert rows[f"button {name}"][0] == f"GP{gpio}"


# --- bills of materials ---------------------------------------------------------------


def _money(text):
    """{currency: Decimal} from 'USD 25.00 (...) + GBP 3.00'."""
    return {cur: Decimal(v) for cur, v in re.findall(r"(?:^| \+ )([A-Z]{3}) (\d+\.\d\d)(?: \(| \+|;|$)", text)}


@pytest.mark.parametrize("bom", BOMS, ids=lambda p: p.stem)
def test_bom_totals_equal_the_sum_of_their_lines(bom):
    data = _toml(bom)
    md = bom.with_suffix(".md").read_text(encoding="utf-8")
    core = [x for x in data["line"] if x["group"] == "core"]
    battery = [x for x in data["line"] if x["group"] == "battery"]
    gone = {x.get("replaces") for x in battery}
    with_battery = [x for x in core if x["id"] not in gone] + battery

    def expect(lines):
        sums, missing = {}, 0
        for x in lines:
            if x["unit_price"] == "unconfirmed":
                missing += 1
                continue
            sums[x["currency"]] = sums.get(x["currency"], Decimal(0)) + Decimal(x["unit_price"]) * x["qty"]
        return sums, missing

    for label, lines in (("**Total:** ", core), ("**Total with the battery option:** ", with_battery)):
        line = next(t for t in md.splitlines() if t.startswith(label))
        sums, missing = expect(lines)
        assert _money(line[len(label):]) == sums, line
        if missing:
            assert f"INCOMPLETE: {missing} line(s)" in line
        else:
            assert "INCOMPLETE" not in line
    for x in data["line"]:
        row = next(t for t in md.splitlines() if t.startswith(f"| {x['id']} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        if x["unit_price"] == "unconfirmed":
            assert cells[7:9] == ["unconfirmed", "unconfirmed"]
        else:
            assert cells[8] == f"{x['currency']} {Decimal(x['unit_price']) * x['qty']:.2f}"


def test_bom_totals_by_hand():
    md = (HW / "bom" / "pimoroni_pico_display_pico.md").read_text(encoding="utf-8")
    # Pico H 5.00 + Display Pack about 20.00; with the battery: Pico 4.00 + Display Pack
    # about 20.00 + cell about 7.95 = USD 31.95 (27.95 of it approximate), and the SHIM
    # about GBP 6.90; the cable and the headers have no price.
    assert "**Total:** USD 25.00 (of which USD 20.00 approximate)" in md
    assert ("**Total with the battery option:** GBP 6.90 (of which GBP 6.90 approximate) + "
            "USD 31.95 (of which USD 27.95 approximate); INCOMPLETE: 2 line(s)") in md


@pytest.mark.parametrize("bom", BOMS, ids=lambda p: p.stem)
def test_every_bom_line_is_complete_and_sourced(bom):
    data = _toml(bom)
    assert data["bom"]["read_on"]
    assert any(x["group"] == "battery" for x in data["line"])
    assert data["enclosure"]["notes"]
    for x in data["line"]:
        for key in ("part", "manufacturer", "supplier", "qty", "unit_price", "currency",
                    "price_kind", "source"):
            assert x.get(key) not in (None, ""), (x["id"], key)
        assert isinstance(x["unit_price"], str)  # exact decimal text, never a float
        assert (x["unit_price"] == "unconfirmed") == (x["price_kind"] == "unconfirmed"), x["id"]


# --- doctor's judgement (the board's answers written out by hand) -----------------------

STATUS = {"ok": True, "firmware": "0.1.0", "protocol": 1, "micropython": "3.4.0; MicroPython v1.26.1",
          "platform": "rp2", "heap_free": 80000, "flash_free": 1200000, "flash_total": 1441792,
          "clock": "2026-11-26T08:30", "clock_set": True}
HEALTHY = {
    "ok": True, "profile": "pimoroni_pico_display", "board_txt": None, "machine_pin": True,
    "machine_spi": True,
    "display": [["sck", 18, "Pin(GPIO18, mode=ALT, alt=SPI)", 0],
                ["mosi", 19, "Pin(GPIO19, mode=ALT, alt=SPI)", 0],
                ["cs", 17, "Pin(GPIO17, mode=OUT)", 1], ["dc", 16, "Pin(GPIO16, mode=OUT)", 1],
                ["backlight", 20, "Pin(GPIO20, mode=OUT)", 1]],
    "bus": "SPI(0, baudrate=62500000, polarity=1, phase=1, bits=8, sck=18, mosi=19, miso=16)",
    "buttons": [[k, g, 0, 8, f"Pin(GPIO{g}, mode=IN, pull=PULL_UP)"]
                for k, g in (("A", 12), ("B", 13), ("X", 14), ("Y", 15))],
}


def _states(findings, check):
    return [(f.state, f.text) for f in findings if f.check == check]


@pytest.mark.req("R-HW-01")
def test_doctor_healthy_board():
    fs = doctor.display(HEALTHY, STATUS) + doctor.buttons(HEALTHY) + [doctor.profile(HEALTHY, None)]
    assert all(f.state in (doctor.OK, doctor.LOOK) for f in fs), fs
    disp = _states(fs, "display")
    assert disp[0][0] == "ok" and "SCK GP18, MOSI GP19, CS GP17, DC GP16, BACKLIGHT GP20" in disp[0][1]
    assert disp[1][0] == "ok" and "SPI0 created at 62.5 MHz" in disp[1][1]
    assert disp[-1][0] == "look" and "cannot be read back" in disp[-1][1]


def test_doctor_on_a_virtual_board():
    bc = {"ok": True, "profile": "pimoroni_pico_display", "board_txt": None, "machine_pin": False,
          "machine_spi": False}
    st = dict(STATUS, platform="linux")
    assert [f.state for f in doctor.display(bc, st) + doctor.buttons(bc)] == ["n/a", "n/a"]
    assert "no display on a virtual board" in doctor.display(bc, st)[0].text


@pytest.mark.req("R-HW-01")
def test_doctor_finds_dc_taken_by_the_bus():
    bc = dict(HEALTHY, display=[r if r[0] != "dc" else ["dc", 16, "Pin(GPIO16, mode=ALT, alt=SPI)", 0]
                                for r in HEALTHY["display"]])
    fails = [f for f in doctor.display(bc, STATUS) if f.state == "FAIL"]
    assert len(fails) == 1 and "DC GP16 is ALT (taken by the SPI bus), not an output" in fails[0].text
    assert "soft-reset" in fails[0].fix


@pytest.mark.req("R-HW-01")
def test_doctor_finds_a_display_never_started():
    bc = dict(HEALTHY, bus="", display=[[r[0], r[1], f"Pin(GPIO{r[1]}, mode=IN)", 0]
                                        for r in HEALTHY["display"]])
    fails = [f.text for f in doctor.display(bc, STATUS) if f.state == "FAIL"]
    assert fails and "SCK GP18 is IN, not the SPI bus" in fails[0]


@pytest.mark.req("R-HW-01")
def test_doctor_finds_stuck_and_flickering_keys():
    bc = dict(HEALTHY, buttons=[["A", 12, 0, 8, "Pin(GPIO12, mode=IN, pull=PULL_UP)"],
                                ["B", 13, 8, 8, "Pin(GPIO13, mode=IN, pull=PULL_UP)"],
                                ["X", 14, 3, 8, "Pin(GPIO14, mode=IN, pull=PULL_UP)"],
                                ["Y", 15, 0, 8, "Pin(GPIO15, mode=IN)"]])
    got = [(f.state, f.text.split(" ")[0]) for f in doctor.buttons(bc)]
    assert got == [("FAIL", "B"), ("FAIL", "X"), ("FAIL", "Y")]
    texts = [f.text for f in doctor.buttons(bc)]
    assert "reads pressed with nobody touching it" in texts[0]
    assert "flickers: pressed in 3 of 8" in texts[1]
    assert "not an input with PULL_UP" in texts[2]


def test_doctor_press_results():
    assert doctor.pressed("A", 12, 350, True, 10000).state == "ok"
    assert "not seen pressed within 10 s" in doctor.pressed("A", 12, -1, True, 10000).text
    assert doctor.pressed("A", 12, 10, False, 10000).state == "FAIL"


def test_doctor_profile_findings():
    assert doctor.profile(dict(HEALTHY, board_txt="pico_lcd"), None).state == "FAIL"
    assert "not a profile" in doctor.profile(dict(HEALTHY, board_txt="pico_lcd"), None).text
    f = doctor.profile(HEALTHY, "waveshare_pico_lcd_1_14")
    assert f.state == "FAIL" and "you said waveshare_pico_lcd_1_14" in f.text
    assert doctor.profile(dict(HEALTHY, board_txt="pimoroni_pico_display"), "pimoroni_pico_display").state == "ok"
    assert "no such profile" in doctor.profile(HEALTHY, "pimoroni").text


@pytest.mark.req("R-CLK-02")
def test_doctor_clock():
    at = "2026-08-14T08:30"
    now = int((datetime(2026, 8, 14, 8, 30) - datetime(2000, 1, 1)).total_seconds()) // 60
    assert doctor.clock_check(dict(STATUS, clock=at), now).state == "ok"
    f = doctor.clock_check(dict(STATUS, clock=at), now + 120)
    assert f.state == "FAIL" and "120 min behind this computer" in f.text
    f = doctor.clock_check(dict(STATUS, clock="2021-01-01T00:03", clock_set=False), now)
    assert f.state == "FAIL" and "NOT SET" in f.text and "rtc --set" in f.fix


def test_doctor_table():
    slot = {"id": "myeloma-renal", "version": 2, "effective": 9800, "expires": 10200,
            "approver": "pharmacist", "expired": False}
    st = dict(STATUS, clock="2026-11-26T08:30")  # day 9826 since 2000-01-01
    ok = {"active_slot": "a", "fallback": False, "problems": [], "slot_a": slot}
    assert doctor.table(ok, st).state == "ok"
    f = doctor.table({"active_slot": None, "fallback": False, "problems": ["a: empty", "b: empty"]}, st)
    assert f.state == "FAIL" and "NO VALID DOSE TABLE (a: empty; b: empty)" in f.text
    assert "mmrenal table flash" in f.fix
    assert "EXPIRED" in doctor.table(dict(ok, slot_a=dict(slot, expired=True)), st).text
    assert "not yet in effect" in doctor.table(dict(ok, slot_a=dict(slot, effective=9900)), st).text
    f = doctor.table(dict(ok, fallback=True, problems=["b: SHA-256 of the body does not match"]), st)
    assert f.state == "FAIL" and "fell back" in f.text
    assert doctor.table(ok, dict(st, clock_set=False)).state == "look"


def test_doctor_flash_and_firmware():
    flc = {"capacity": 180000, "bytes": 0}
    # Needs 24,576 (table) + 32,768 (deploy) + 180,000 (FLC) + 60,000 (audit) = 297,344 bytes.
    assert doctor.flash(dict(STATUS, flash_free=297344), flc).state == "ok"
    assert doctor.flash(dict(STATUS, flash_free=297343), flc).state == "FAIL"
    assert doctor.flash(dict(STATUS, flash_free=-1), flc).state == "look"
    assert doctor.firmware(STATUS).state == "ok"
    f = doctor.firmware(dict(STATUS, firmware="0.0.9"))
    assert f.state == "FAIL" and "mmrenal deploy" in f.fix


def test_doctor_report_and_exit_wording():
    fs = [doctor.Finding("clock", "FAIL", "x", "run `mpremote connect PORT rtc --set`"),
          doctor.Finding("display", "look", "y")]
    text = doctor.report(fs, "/dev/ttyACM0")
    assert "mpremote connect /dev/ttyACM0 rtc --set" in text and text.endswith("1 check(s) failed")
    assert doctor.report(fs[1:], "p").endswith("every check passed (items marked look need a person)")


def test_doctor_reads_the_numbered_spi_function():
    # rp2 prints alt=<number> where it has no name for the function; SPI is 1, PWM 4.
    rows = [[r[0], r[1], r[2].replace("alt=SPI", "alt=1"), r[3]] for r in HEALTHY["display"]]
    assert [f.state for f in doctor.display(dict(HEALTHY, display=rows), STATUS)] == ["ok", "ok", "look"]
    rows[0][2] = "Pin(GPIO18, mode=ALT, alt=4)"
    fails = [f.text for f in doctor.display(dict(HEALTHY, display=rows), STATUS) if f.state == "FAIL"]
    assert fails == ["SCK GP18 is ALT, not the SPI bus"]
