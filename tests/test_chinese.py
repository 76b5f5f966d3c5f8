"""Chinese screens read as a Chinese nurse writes (issue 13): no English on a Chinese
screen but the units and abbreviations the seed review itself writes in its Chinese
text, every glyph distinct (未 is not 末), every title clear of the patient's code, and
the terms of docs/glossary-zh.md the ones the screens use.

The screens are reached, not listed: every screen of `mmrenal sim --screens`
(sim.SCREENS, sim.SAFE_SCREENS, whoever adds them), every screen on the way to it, and
what a short exploration from each reaches (each key tried on each new screen), so a
screen or word added later is checked without touching this file.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import tomllib
from collections import deque
from pathlib import Path

import pytest

from mmrenal import fontgen, sim, tables
from mmrenal.firmware import load
from mmrenal.paths import FIRMWARE, REPO

from support import run_script

ui_text = load("ui_text")
font_ui = load("font_ui")

EXPLORE_STEPS = 40  # key presses explored from each screen of sim.SCREENS
CLASS_CAP = 12  # forms of one kind of screen explored key by key, per exploration
KEYS = ("X", "B", "A", "Y", "X:long", "A:long", "B:long")

# --- what may be in Latin letters on a Chinese screen ---------------------------------
# Units and abbreviations as the seed review writes them inside its Chinese sentences
# (/work/shared/seed/000_88dde4eb3d69682d.txt, line of an example), the board's key
# letters, and names of the device. Longest first: "mL/min/1.73 m²" before "mL/min".
ALLOWED = (
    "mL/min/1.73 m²",  # 137: eGFR <29 mL/（min·1.73 m²）
    "mL/min",  # 37: 肌酐清除率（CrCl）< 40 mL/min
    "µmol/L",  # the SI creatinine unit of Chinese labs (the seed gives mg/dL only)
    "mg/dL",  # 36: 血清肌酐 >2 mg/dL
    "mg/d",  # 343: Table 1's daily doses, 25 mg/d (after mg/dL: the longer first)
    "mg/L",  # FLC concentration as Chinese labs report it
    "mg/m2", "mg/m²",  # 337: 1.3 mg/m2
    "mg/kg",  # 346: 10 mg/kg
    "mg", "kg", "cm", "m²",
    "h",  # 102: 半寿期 ... 3~6 h
    "CrCl",  # 37
    "eGFR",  # 137
    "AKI",  # 39
    "IMWG",  # 34
    "FLC",  # 57
    "KDIGO",  # 42
    "HFR",  # 124: 内源性超滤液回输血液透析滤过（HFR）
    "HCO-HD",  # 119: 高截留量血液透析（HCO-HD）
    "CAR-T",  # 350: 2.6~5.0亿CAR-T细胞
    "dFLC",  # IMWG's difference of involved and uninvolved FLC (not in the seed)
    "BMI",  # body-mass index: the weight rule's name in every Chinese dosing text
    "iv", "sc",  # 317: 硼替佐米（iv或 sc）; 449: iv：静脉注射；sc：皮下注射
    "mmrenal",  # the device's name
    "USB",  # the power source in the title bar
    "sha256",  # TableInfo: the table's digest, as `mmrenal table` prints it
)
_ALLOWED_RE = re.compile(
    "|".join(rf"(?<![A-Za-z]){re.escape(a)}(?![A-Za-z])" for a in ALLOWED))
# Patient codes (capitals, digits, '-', at least one digit; flc.check_code) and one
# being typed (ending in the cursor "_"); hexadecimal digests; a table's version (v1);
# the board's key letters A, B, X, Y in a hint ("X确定", "AB调整").
_DATA_RE = re.compile(r"(?<![A-Za-z0-9-])(?:[A-Z0-9-]*[0-9][A-Z0-9-]*|[A-Z0-9-]*_|[0-9a-f]{8,}|v[0-9]+"
                      r"|[ABXY]{1,2})(?![A-Za-z0-9-])")
_LATIN_RE = re.compile(r"[A-Za-z]+")
# Home names Settings in both languages on purpose, so that a reader of either finds
# the language switch (test_ui.test_home_shows_menu_and_table).
BOTH_LANGUAGES = "· " + ui_text.T["settings"][0]
# The approver is the name on the key that signed the table, shown as it was written.
APPROVER = ui_text.T["approver"][1] + ":"


def table_data() -> tuple[str, list[str]]:
    """The example table's id and its text that exists in English only (the table
    format has no Chinese for the approver's and author's names): shown as written.
    Where in the source a rule or a schedule stands has its Chinese (where_zh,
    dosing_where_zh), so no `where` is allowed here."""
    raw = tomllib.loads(tables.EXAMPLE.read_text(encoding="utf-8"))
    only_en = [raw["table"].get("approver", ""), raw["table"].get("author", "")]
    return raw["table"]["id"], [s for s in only_en if s]


def english_in(line: str, table_id: str, only_en: list[str]) -> list[str]:
    """The runs of Latin letters in a line of a Chinese screen that are not an allowed
    unit, abbreviation, patient code, key letter or name."""
    if line.startswith(APPROVER):
        return []
    s = line.replace(table_id, " ").replace(BOTH_LANGUAGES, " ")
    # A title the header cut short ("mmre…" beside the widest code): the start of an
    # allowed word is that word.
    s = re.sub(r"[A-Za-z]+…", lambda m: " " if any(a.startswith(m.group(0)[:-1]) for a in ALLOWED)
               else m.group(0), s)
    s = _ALLOWED_RE.sub(" ", s)
    s = _DATA_RE.sub(" ", s)
    runs = _LATIN_RE.findall(s)
    # A line of the table's English-only text (or a wrapped part of one), after its
    # Chinese label ("来源: Table 1, lenalidomide,"): the whole of it, not a word.
    rest = re.sub(r"^[^A-Za-z0-9]*?[:：]", "", line).strip()
    if runs and any(rest in t for t in only_en):
        return []
    return runs


# --- walking the screens ----------------------------------------------------------------


def widest_code() -> str:
    """The widest patient code the default pattern allows (flc.PATIENT_PATTERN: up to 4
    capitals, '-', up to 6 digits), in the widest glyphs."""
    width = dict(zip(codes_in_font(), font_ui.WIDTHS, strict=True))
    letter = max("ABCDEFGHIJKLMNOPQRSTUVWXYZ", key=lambda c: width[c])
    digit = max("0123456789", key=lambda c: width[c])
    return letter * 4 + "-" + digit * 6


def codes_in_font() -> list[str]:
    return [chr(int.from_bytes(font_ui.CODES[i:i + 2], "big")) for i in range(0, len(font_ui.CODES), 2)]


def _abstract(screen: dict) -> tuple[str, str]:
    """A screen without its numbers and codes: what counts as a new screen to explore."""
    return screen["screen"], re.sub(r"[0-9A-Z]+", "#", "\x00".join(screen["text"]))


def _explore(s: sim.Sim, first: dict, steps: int, rnd: random.Random, found: dict, how: str,
             frames: Path, flash: Path) -> None:
    """Press keys for `steps` presses: at a screen not seen before, each key in turn; at
    a screen whose keys were all tried, the first key of the shortest known way to one
    that has keys left (else a random key). A kind of screen met in CLASS_CAP forms
    already (a form's values) is passed through rather than explored again. Every
    screen passed is recorded."""
    edges: dict[tuple, dict[str, tuple]] = {}
    per_class: dict[str, int] = {}
    here = first
    for n in range(steps):
        state = _abstract(here)
        if state not in edges:
            per_class[state[0]] = per_class.get(state[0], 0) + 1
            edges[state] = {} if per_class[state[0]] <= CLASS_CAP else dict.fromkeys(KEYS, None)
        out = edges[state]
        left = [k for k in KEYS if k not in out]
        key = left[0] if left else _way_on(edges, state) or rnd.choice(KEYS)
        s.key(key)
        here = s.screen()
        out[key] = _abstract(here)
        _record(s, here, found, f"{how} +{n + 1} {key}", frames, flash)


def _way_on(edges: dict, start: tuple) -> str | None:
    seen = {start}
    queue = deque((nxt, key) for key, nxt in edges[start].items() if nxt)
    while queue:
        state, first = queue.popleft()
        if state in seen:
            continue
        seen.add(state)
        if any(k not in edges.get(state, {}) for k in KEYS):
            return first
        queue.extend((nxt, first) for nxt in edges.get(state, {}).values() if nxt)
    return None


def _language(flash: Path) -> str:
    """The language the screens are in: the UI writes it to the flash as soon as it is
    switched (firmware/ui.py UI.save_settings: "language unit")."""
    try:
        words = (flash / "settings.txt").read_text().split()
    except OSError:
        words = []
    return "zh" if words[:1] == [str(ui_text.ZH)] else "en"


def _record(s: sim.Sim, screen: dict, found: dict, how: str, frames: Path, flash: Path) -> None:
    key = (_language(flash), screen["screen"], tuple(screen["text"]))
    if key not in found:
        png = frames / f"{len(found)}.png"
        found[key] = {"lang": key[0], "how": how, "screen": screen["screen"], "text": screen["text"],
                      "png": s.png(png).read_bytes()}


def walk(lang: str, root: Path, code: str) -> list[dict]:
    """Every screen reached from `lang` ("en", "zh"), with the demo patient under `code`:
    each step of each sim.SCREENS and sim.SAFE_SCREENS key script, then EXPLORE_STEPS
    presses of exploration from its end. Each screen is recorded once, with the language
    it was in, its text and a screenshot."""
    prefix = sim.ZH_PREFIX if lang == "zh" else []
    templates = {}
    saved = sim.DEMO_PATIENT
    sim.DEMO_PATIENT = code  # add_demo_patient writes the demo records under this code
    try:
        for kind, with_table, demo in (("demo", True, True), ("table", True, False), ("none", False, False)):
            templates[kind] = root / f"template-{kind}"
            sim.prepare_flash(templates[kind], with_table, demo=demo)
    finally:
        sim.DEMO_PATIENT = saved
    scripts = [(name, "demo", sim.SIM_NOW, keys) for name, keys in sim.SCREENS.items()]
    scripts += [(name, "table" if with_table else "none", clock, keys)
                for name, (with_table, clock, keys) in sim.SAFE_SCREENS.items()]
    found: dict = {}
    frames = root / "frames"
    frames.mkdir()
    rnd = random.Random(13)  # the same walk on every run
    for name, kind, clock, keys in scripts:
        flash = root / "flash"
        shutil.rmtree(flash, ignore_errors=True)
        shutil.copytree(templates[kind], flash)  # fresh: a screen may write records
        with sim.Sim(flash, clock) as s:
            for k in prefix:
                s.key(k)
            here = s.screen()
            _record(s, here, found, f"{name} +0", frames, flash)
            for i, k in enumerate(keys):
                s.key(k)
                here = s.screen()
                _record(s, here, found, f"{name} {' '.join(keys[:i + 1])}", frames, flash)
            _explore(s, here, EXPLORE_STEPS, rnd, found, name, frames, flash)
    return list(found.values())


@pytest.fixture(scope="module")
def screens(tmp_path_factory):
    """The screens reached from each language (an exploration may switch it), by the
    language they are in; the demo patient under the widest code."""
    code = widest_code()
    views = [v for lang in ("zh", "en") for v in walk(lang, tmp_path_factory.mktemp(lang), code)]
    return {lang: [v for v in views if v["lang"] == lang] for lang in ("zh", "en")}, code


# --- the tests ------------------------------------------------------------------------


@pytest.mark.req("R-ZH-01")
def test_chinese_screens_have_no_english(screens):
    found, _ = screens
    zh = found["zh"]
    table_id, only_en = table_data()
    kinds = {v["screen"] for v in zh}
    assert len(zh) > 100 and {"Home", "RenalEntry", "Dose", "Trend", "TableInfo"} <= kinds, kinds
    bad = []
    for v in zh:
        for line in v["text"]:
            runs = english_in(line, table_id, only_en)
            if runs:
                bad.append(f"{v['screen']} ({v['how']}): {line!r} -> {runs}")
    assert not bad, "English on Chinese screens:\n" + "\n".join(sorted(set(bad))[:60])


def test_no_screen_reached_restarts_with_an_error(screens):
    """The walk presses keys no script does: none of them ends in the error screen (an
    unhandled exception; this walk found one, a unit switch with no creatinine)."""
    found, _ = screens
    errors = [f"{lang} {v['how']}" for lang in ("zh", "en") for v in found[lang]
              if ui_text.T["error"][0] in v["text"] or ui_text.T["error"][1] in v["text"]]
    assert not errors, errors


@pytest.mark.req("R-ZH-01")
def test_the_english_check_can_fail():
    """The check itself: English words are found; units, abbreviations, codes, key
    letters and the table's own English text are not."""
    table_id, only_en = table_data()

    def found(line):
        return english_in(line, table_id, only_en)

    assert found("所用体重 62.1 kg (adjusted)") == ["adjusted"]
    assert found("第21天：on track") == ["on", "track"]
    assert found("t½ 12.3 h") == ["t"]
    assert found("60 y") == ["y"]
    assert found("STANDARD DOSE") == ["STANDARD", "DOSE"]
    assert found("AKI：肌酐变化中，CG不可靠") == ["CG"]
    assert found("Settings") == ["Settings"]
    assert found("10 mg 每日 daily") == ["daily"]
    for ok in ("CrCl 58.7 mL/min", "eGFR 64.5 mL/min/1.73 m²", "患者: BED-12", "κ 159 mg/L",
               "1.3 mg/m2 = 2.33 mg", "21_", "sha256 7c0d1906a2f84f9d", "A上 B下 X确定 Y返回",
               "AB调整 X下一项 Y返回", "剂量表 v1 至 2027-11-01", "设置 · Settings",
               "剂量表: " + only_en[-1][:30], only_en[-1][-12:], "来源: 表1，CrCl ≥60 mL/min：25 mg/d"):
        assert found(ok) == [], ok
    # A rule's English `where` on a Chinese screen is English: no longer let through.
    assert found("来源: Table 1, lenalidomide, CrCl 30-59: 10 mg/d") == \
        ["Table", "lenalidomide"]
    assert found(ui_text.T["schedule"][1] + ": 4.2: days 1-21 of 28") == ["days", "of"]


@pytest.mark.req("R-ZH-01")
def test_every_rule_cites_its_source_in_chinese():
    """Every rule's and schedule's place in its source, as the Chinese dose screen shows
    it (firmware/ui_dose.py Dose.body), has no English: all of them, not only the rules
    the walk reaches. The Chinese is not the English copied."""
    table, problems = tables.load(tables.EXAMPLE)
    assert problems == []
    table_id, only_en = table_data()
    texts = []
    for d in table.drugs:
        for b in [*d.bands, d.dialysis]:
            assert b.where_zh and b.where_zh != b.where, (d.inn, b.where)
            texts.append(b.where_zh)
        if d.dosing_where:
            assert d.dosing_where_zh and d.dosing_where_zh != d.dosing_where, d.inn
            texts.append(d.dosing_where_zh)
    assert len(texts) > 60
    bad = {t: english_in(ui_text.T["source"][1] + ": " + t, table_id, only_en) for t in texts}
    assert not {t: r for t, r in bad.items() if r}


def _widths(strings: list[str], tmp_path: Path) -> dict[str, int]:
    """Each string's width in pixels by the device's own text writer (text.Writer.width)
    on MicroPython."""
    strings = sorted(set(strings))
    data = tmp_path / "strings.txt"
    data.write_text("\n".join(strings) + "\n", encoding="utf-8")
    script = tmp_path / "widths.py"
    script.write_text(
        "import canvas\nimport text\n"
        "w = text.Writer(canvas.Canvas(canvas.NullDisplay()))\n"
        f"for line in open({str(data)!r}, encoding='utf-8'):\n"
        "    print(w.width(line.rstrip('\\n')))\n", encoding="utf-8")
    res = run_script("micropython", script, heap="320K")
    assert res.returncode == 0, res.stderr
    out = [int(x) for x in res.stdout.split()]
    assert len(out) == len(strings)
    return dict(zip(strings, out, strict=True))


def _title_bar(png: bytes) -> tuple[int, int]:
    """(rightmost white pixel, leftmost yellow pixel) of the title bar (rows 0-17) of a
    screenshot: the title is drawn white, the patient's code yellow (-1 / 240: none)."""
    px, w, _ = _pixels(png)
    white, yellow = -1, w
    for y in range(18):
        for x in range(w):
            r, g, b = px[2 * x, 2 * y]
            if r > 240 and g > 240 and b > 240:
                white = max(white, x)
            elif r > 240 and 200 < g < 240 and b < 40:
                yellow = min(yellow, x)
    return white, yellow


@pytest.mark.req("R-ZH-04")
def test_no_title_reaches_the_patient_code(screens, tmp_path):
    """On every screen that names the patient, in both languages, with the widest
    patient code the device allows, the title ends left of the code: by the device's
    text writer's widths (title from x = 4; code 8 px left of the clock, which ends 4 px
    from the right edge) and by the pixels drawn."""
    found, code = screens
    views = [v for lang in ("zh", "en") for v in found[lang] if _title_bar(v["png"])[1] < 240]
    assert len(views) > 40 and all(v["text"][2] == code for v in views)
    w = _widths([s for v in views for s in v["text"][:2]] + [code], tmp_path)
    over = []
    for v in views:
        title, clock = v["text"][0], v["text"][1]
        code_left = 240 - 4 - w[clock] - 8 - w[code]
        white, yellow = _title_bar(v["png"])
        if 4 + w[title] >= code_left or white >= yellow:
            over.append(f"{v['screen']}: {title!r} ends at {4 + w[title]} (ink {white}), "
                        f"the code starts at {code_left} (ink {yellow})")
    assert not over, "\n".join(sorted(set(over)))
    # A title cut to fit ends in "…": it is the start of a title, never a changed word.
    words = [t for pair in ui_text.T.values() for t in pair]
    for v in views:
        title = v["text"][0]
        assert title in words or title == "" or (
            title.endswith("…") and any(t.startswith(title[:-1]) for t in words)), title


@pytest.mark.req("R-ZH-04")
def test_the_long_title_beside_bed_12_is_cut_visibly(tmp_path):
    """The screen of the report: "Add treatment/session" ran into BED-12. Now, in both
    languages, it ends in "…" left of the code."""
    flash = tmp_path / "flash"
    sim.prepare_flash(flash, demo=True)
    titles = []
    for prefix in ([], sim.ZH_PREFIX):
        with sim.Sim(flash) as s:
            for k in prefix + sim.SCREENS["flc-event"]:
                s.key(k)
            text = s.screen()["text"]
        assert text[2] == sim.DEMO_PATIENT, text
        titles.append(text[:2])
    w = _widths([t for pair in titles for t in pair] + [sim.DEMO_PATIENT], tmp_path)
    for (title, clock), full in zip(titles, ui_text.T["add_event"], strict=True):
        assert title.endswith("…") and full.startswith(title[:-1]) and len(title) > 3, title
        assert 4 + w[title] < 240 - 4 - w[clock] - 8 - w[sim.DEMO_PATIENT], title


def _pixels(png: bytes):
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    return img.load(), img.size[0] // 2, img.size[1] // 2


@pytest.mark.req("R-ZH-04")
def test_no_text_runs_off_the_screen(screens):
    """Nothing drawn is cut at the right edge, in either language (the 18 px Chinese
    glyphs are the widest): in every screen reached, the last column shows what the
    first does (the row's background)."""
    found, _ = screens
    cut = []
    for lang in ("zh", "en"):
        for v in found[lang]:
            px, w, h = _pixels(v["png"])
            rows = [y for y in range(h) if px[2 * (w - 1), 2 * y] != px[0, 2 * y]]
            if rows:
                cut.append(f"{lang} {v['screen']} ({v['how']}): rows {rows[0]}-{rows[-1]}: {v['text']}")
    assert not cut, "\n".join(cut[:20])


# --- glyphs ---------------------------------------------------------------------------

DRAW_GLYPHS = """
import canvas
import font_ui
import text

c = canvas.Canvas(canvas.NullDisplay())
w = text.Writer(c)
for g in range(len(font_ui.WIDTHS)):
    cp = (font_ui.CODES[2 * g] << 8) | font_ui.CODES[2 * g + 1]
    c.fill(canvas.BLACK)
    w.text(chr(cp), 0, 0, canvas.WHITE)
    rows = []
    for y in range(font_ui.HEIGHT):
        v = 0
        for x in range(24):
            v = (v << 1) | (1 if c.pixel(x, y) == canvas.WHITE else 0)
        rows.append("%06x" % v)
    print(cp, font_ui.WIDTHS[g], " ".join(rows))
"""


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Every glyph of the font as the device draws it: {char: (width, rows as ints)}."""
    script = tmp_path_factory.mktemp("glyphs") / "draw_glyphs.py"
    script.write_text(DRAW_GLYPHS, encoding="utf-8")
    res = run_script("micropython", script)
    assert res.returncode == 0, res.stderr
    out = {}
    for line in res.stdout.splitlines():
        cp, width, *rows = line.split()
        out[chr(int(cp))] = (int(width), tuple(int(r, 16) for r in rows))
    return out


def _generated(ch: str, fonts) -> tuple[int, tuple[int, ...]]:
    width, rows = fontgen.render(ch, fonts)
    stride = (width + 7) // 8
    return width, tuple(int.from_bytes(rows[y * stride:(y + 1) * stride], "big") << (24 - 8 * stride)
                        for y in range(fontgen.HEIGHT))


@pytest.mark.req("R-ZH-03", "R-UI-02")
def test_device_draws_every_glyph_as_generated(drawn):
    fonts = fontgen.load_fonts()
    assert set(drawn) == set(fontgen.charset())
    wrong = [ch for ch in drawn if drawn[ch] != _generated(ch, fonts)]
    assert not wrong, wrong


@pytest.mark.req("R-ZH-03")
def test_every_glyph_used_is_distinct(drawn):
    """No two characters of the font (Latin and Chinese, all that the screens and the
    table use) look the same on the device: their drawn pixels differ."""
    by_bitmap: dict[tuple, list[str]] = {}
    for ch, (_, rows) in drawn.items():
        if not ch.isspace():
            by_bitmap.setdefault(rows, []).append(ch)
    same = [chars for chars in by_bitmap.values() if len(chars) > 1]
    assert not same, same
    assert sum(1 for ch in drawn if ord(ch) >= 0x2E80) > 200  # the Chinese really drawn


def _bars(rows: tuple[int, ...], min_len: int) -> list[int]:
    """The lengths of the horizontal strokes from the top down: runs of ink at least
    min_len long; rows next to each other are one stroke (its longest row)."""
    bars: list[int] = []
    last = -2
    for y, row in enumerate(rows):
        run = best = 0
        for x in range(24):
            run = run + 1 if row >> (23 - x) & 1 else 0
            best = max(best, run)
        if best >= min_len:
            if y == last + 1:
                bars[-1] = max(bars[-1], best)
            else:
                bars.append(best)
            last = y
    return bars


def _left_gap(rows: tuple[int, ...]) -> int:
    """Rows without ink between the top stroke and the left-hand upright below it, in
    the upright's column (巳: none; 已: part way; 己: down to the middle stroke)."""
    bars = [y for y, row in enumerate(rows) if bin(row).count("1") >= 8]
    top = bars[0]
    while top + 1 in bars:
        top += 1
    column = min(23 - row.bit_length() + 1 for row in rows if row)  # leftmost ink
    y = top + 1
    while y < len(rows) and not any(rows[y] >> (23 - x) & 1 for x in (column, column + 1)):
        y += 1
    return y - top - 1


@pytest.mark.req("R-ZH-03")
def test_look_alike_characters_differ_in_their_telling_stroke():
    """未 (upper stroke shorter) against 末 (upper stroke longer), by two pixels at
    least; 已, 己 and 巳 by the gap above their left upright. Drawn by the generator
    (the same pixels as the device: the test above), whether or not the screens use
    them today."""
    fonts = fontgen.load_fonts()
    cjk_px = fontgen.CJK_PX
    wei = _bars(_generated("未", fonts)[1], cjk_px // 2)
    mo = _bars(_generated("末", fonts)[1], cjk_px // 2)
    assert wei[0] + 2 <= wei[1], ("未", wei)
    assert mo[0] >= mo[1] + 2, ("末", mo)
    gaps = {ch: _left_gap(_generated(ch, fonts)[1]) for ch in "巳已己"}
    assert gaps["巳"] == 0 and gaps["已"] >= 1 and gaps["己"] >= gaps["已"] + 2, gaps


@pytest.mark.req("R-ZH-03")
def test_font_fits_the_title_bar_and_a_row_and_costs_little():
    ui = (FIRMWARE / "ui.py").read_text(encoding="utf-8")
    line = int(re.search(r"^LINE = (\d+)", ui, re.M).group(1))
    bar = int(re.search(r"c\.fill_rect\(0, 0, W, (\d+), DARK\)", ui).group(1))
    assert font_ui.HEIGHT <= bar <= line
    # No glyph is cut: each drawn alone, unclipped, has all its ink inside its cell.
    from PIL import Image, ImageDraw

    fonts = fontgen.load_fonts()
    for ch in fontgen.charset():
        cjk = fontgen.is_cjk(ch)
        big = Image.new("1", (64, 64), 0)
        d = ImageDraw.Draw(big)
        d.fontmode = "1"
        d.text((8, 8 + (fontgen.CJK_BASELINE if cjk else fontgen.BASELINE)), ch,
               font=fonts["cjk" if cjk else "latin"], fill=1, anchor="ls")
        ink = 64 * 64 - big.histogram()[0]
        _, rows = _generated(ch, fonts)
        assert sum(bin(r).count("1") for r in rows) == ink, ch
    # The bitmaps cost no more than the same glyphs did at 16 px in fixed 2-byte rows.
    n = len(font_ui.WIDTHS)
    assert len(font_ui.DATA) <= n * fontgen.HEIGHT * 2, (len(font_ui.DATA), n)


# --- the glossary ---------------------------------------------------------------------


def glossary() -> list[dict]:
    """The rows of docs/glossary-zh.md's table: key(s), English, the device's Chinese,
    the seed's wording, where in the seed, note."""
    rows = []
    for line in (REPO / "docs" / "glossary-zh.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 6 and cells[0] not in ("key", "") \
                and not set(cells[0]) <= set("-: "):
            rows.append(dict(zip(("keys", "en", "zh", "seed", "where", "note"), cells, strict=True)))
    return rows


@pytest.mark.req("R-ZH-02")
def test_glossary_terms_are_the_screens_terms():
    rows = glossary()
    assert len(rows) >= 15
    drift = []
    for r in rows:
        term = r["zh"]
        for key in re.findall(r"`([a-z0-9_]+)`", r["keys"]):
            if key not in ui_text.T:
                drift.append(f"{key}: not in ui_text.T")
            elif term not in ui_text.T[key][1]:
                drift.append(f"{key}: {ui_text.T[key][1]!r} does not use {term!r}")
    assert not drift, drift


@pytest.mark.req("R-ZH-02")
def test_words_the_glossary_turned_down_are_not_on_the_screens():
    """A term the glossary turned down (「in these brackets」 in its note) is in no
    Chinese string of the screens."""
    zh = [v[1] for v in ui_text.T.values()]
    rejected = [w for r in glossary() for w in re.findall(r"「(.+?)」", r["note"])]
    assert rejected
    used = [(w, s) for w in rejected for s in zh if w in s]
    assert not used, used
