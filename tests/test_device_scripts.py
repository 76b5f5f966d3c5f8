"""Scripts that need MicroPython itself (framebuf, viper, heap_lock), run on the unix
port with a Pico-sized heap. Each prints one line per check; a FAIL line fails."""

from __future__ import annotations

import pytest

from mmrenal import sim

from support import TESTS, run_script

SCRIPTS = sorted((TESTS / "device").glob("*.py"))
# Requirement ids (docs/safety/requirements.toml) that each script proves.
REQS = {
    "app_loop": ("R-HW-01",),
    "board_bind": ("R-HW-01",),
    "canvas_push": ("R-UI-06",),
    "text_render": ("R-UI-02",),
    "ui_faults": ("R-UI-05", "R-UI-06"),
}
CASES = [pytest.param(p, id=p.stem, marks=[pytest.mark.req(*REQS[p.stem])] if p.stem in REQS else [])
         for p in SCRIPTS]


def _heap(script) -> str:
    """A script may ask for more heap in its header ('heap: 320K'); 'heap: sim' is the
    simulator's, for scripts that build the whole UI."""
    head = script.read_text(encoding="utf-8")[:400]
    heap = head.split("heap: ")[1].split()[0] if "heap: " in head else "180K"
    return sim.SIM_HEAP if heap == "sim" else heap


@pytest.mark.parametrize("script", CASES)
def test_device_script(script):
    res = run_script("micropython", script, heap=_heap(script))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "FAIL" not in res.stdout, res.stdout
    assert "failures 0" in res.stdout, res.stdout


def test_scripts_exist():
    assert SCRIPTS


@pytest.mark.req("R-UI-02")
def test_text_pixels_match_pillow():
    """The font pipeline (generator, lookup, blit) puts on the canvas what Pillow draws
    for the same characters in the same fonts."""
    from PIL import Image, ImageDraw, ImageFont

    from mmrenal import fontgen

    res = run_script("micropython", TESTS / "device" / "text_render.py")
    rows = [line[4:] for line in res.stdout.splitlines() if line.startswith("ROW ")]
    assert len(rows) == 60
    fonts = {"latin": ImageFont.truetype(str(fontgen.LATIN_FONT), fontgen.LATIN_PX),
             "cjk": ImageFont.truetype(str(fontgen.CJK_FONT), fontgen.CJK_PX)}
    img = Image.new("1", (240, 60), 0)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    for n, sample in enumerate(("CrCl 32.2 mL/min", "来那度胺 15 mg 隔日", "≥ 60")):
        x = 0
        for ch in sample:
            cjk = ord(ch) >= 0x2E80
            font = fonts["cjk"] if cjk else fonts["latin"]
            w = min(24, max(1, round(font.getlength(ch))))
            cell = Image.new("1", (24, fontgen.HEIGHT), 0)
            d = ImageDraw.Draw(cell)
            d.fontmode = "1"
            base = fontgen.CJK_BASELINE if cjk else fontgen.BASELINE
            left = d.textbbox((0, base), ch, font=font, anchor="ls")[0]  # ink left of the origin
            d.text((max(0, -left), base), ch, font=font, fill=1, anchor="ls")
            cell = cell.crop((0, 0, w, fontgen.HEIGHT))
            img.paste(cell, (x, n * 20), cell)
            x += w
    px = img.load()
    want = ["".join("#" if px[x, y] else "." for x in range(240)) for y in range(60)]
    assert rows == want
    assert sum(r.count("#") for r in rows) > 500
