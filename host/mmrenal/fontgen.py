"""Generate firmware/font_ui.py: the handheld's bitmap font, only the glyphs it needs.

Latin glyphs come from DejaVu Sans and Chinese ones from WenQuanYi Micro Hei (Debian's
fonts-dejavu-core and fonts-wqy-microhei, both freely licensed), rendered without
anti-aliasing with Pillow into 1-bit cells of one height, the way the device blits
them (firmware/text.py). The character set is printable ASCII, a few clinical symbols,
and every character of the dose tables' strings and of the host's Chinese words for
the tables (routes, frequencies, timing), so a table can never show a missing glyph.
`python -m mmrenal.fontgen --check` proves the checked-in module is what this
generator makes from those fonts.

Chinese is drawn at 18 px: at 16 px the upper stroke of 未 came out one pixel shorter
than the lower (末 has it longer), so the two read alike; at 18 px every glyph used is
distinct (tests/test_chinese.py). An 18 px glyph needs 17 columns, more than the 16
of fixed 2-byte rows, so a glyph keeps only its rows from the first inked to the last,
each of exactly its width in bits, packed one after another (the device unpacks them
into a cell of 1-3 bytes a row): the font is smaller than the 16 px one in fixed cells.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mmrenal import generated, tables
from mmrenal.paths import FIRMWARE, REPO

LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LATIN_PX = 14
CJK_PX = 18
HEIGHT = 18  # the title bar's height; a list row (ui.LINE) is 19
BASELINE = 14  # Latin: DejaVu's descenders end on the cell's last row
CJK_BASELINE = 15  # the 18 px ideographs' ink spans rows 0-17 from this baseline
STRIDE = 3  # the most bytes a glyph row takes: glyphs are at most 24 pixels wide
TARGET = FIRMWARE / "font_ui.py"
EXTRA = "≥≤±µ²×·—–°→←↑↓…✓✗½κλ"


def charset() -> list[str]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(EXTRA)
    for toml in sorted((REPO / "tables").glob("*.toml")):
        chars |= set(toml.read_text(encoding="utf-8"))
    for words in (tables.FREQUENCY_ZH, tables.TIMING_ZH, tables.ROUTE_ZH):
        for v in words.values():
            chars |= set(v)
    strings = FIRMWARE / "ui_text.py"
    if strings.exists():
        chars |= set(strings.read_text(encoding="utf-8"))
    return sorted(c for c in chars if c.isprintable() and ord(c) < 0x10000)


def is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def load_fonts() -> dict:
    from PIL import ImageFont

    for f in (LATIN_FONT, CJK_FONT):
        if not f.exists():
            raise SystemExit(f"font {f} is missing: install Debian's fonts-dejavu-core and "
                             "fonts-wqy-microhei (make does this when run as root)")
    return {"latin": ImageFont.truetype(str(LATIN_FONT), LATIN_PX),
            "cjk": ImageFont.truetype(str(CJK_FONT), CJK_PX)}


def render(ch: str, fonts) -> tuple[int, bytes]:
    """(advance in pixels, HEIGHT rows of (advance + 7) // 8 bytes, leftmost pixel in the
    most significant bit). This is the glyph as the device draws it (tests compare
    glyphs with it). A glyph whose ink starts left of its origin (DejaVu's J, j, v, x, y
    by a pixel) is moved right onto it, so no ink is cut."""
    from PIL import Image, ImageDraw

    cjk = is_cjk(ch)
    font = fonts["cjk"] if cjk else fonts["latin"]
    width = min(STRIDE * 8, max(1, round(font.getlength(ch))))
    stride = (width + 7) // 8
    img = Image.new("1", (STRIDE * 8, HEIGHT), 0)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"  # no anti-aliasing: the glyph is exactly its pixels
    baseline = CJK_BASELINE if cjk else BASELINE
    left = draw.textbbox((0, baseline), ch, font=font, anchor="ls")[0]
    draw.text((max(0, -left), baseline), ch, font=font, fill=1, anchor="ls")
    rows = bytearray()
    px = img.load()
    for y in range(HEIGHT):
        for b in range(stride):
            v = 0
            for bit in range(8):
                x = b * 8 + bit
                if x < width and px[x, y]:
                    v |= 0x80 >> bit
            rows.append(v)
    return width, bytes(rows)


def _inked(w: int, rows: bytes) -> list[int]:
    stride = (w + 7) // 8
    return [y for y in range(HEIGHT) if any(rows[y * stride:(y + 1) * stride])]


def _top(w: int, rows: bytes) -> int:
    inked = _inked(w, rows)
    return inked[0] if inked else 0


def pack(w: int, rows: bytes) -> bytes:
    """The rows from the first inked to the last, w bits each (leftmost first), one
    after another, zero bits to the end of the last byte."""
    stride = (w + 7) // 8
    inked = _inked(w, rows)
    if not inked:
        return b""
    bits = 0
    n = 0
    for y in range(inked[0], inked[-1] + 1):
        row = int.from_bytes(rows[y * stride:(y + 1) * stride], "big") >> (stride * 8 - w)
        bits = (bits << w) | row
        n += w
    pad = -n % 8
    return (bits << pad).to_bytes((n + pad) // 8, "big")


def _bytes_literal(name: str, data: bytes) -> str:
    lines = [f"{name} = ("]
    for i in range(0, len(data), 48):
        lines.append(f"    {data[i:i + 48]!r}")
    lines.append(")")
    return "\n".join(lines) + "\n"


def generate() -> str:
    fonts = load_fonts()
    chars = charset()
    codes = bytearray()
    widths = bytearray()
    offsets = bytearray()
    tops = bytearray()
    data = bytearray()
    for ch in chars:
        w, rows = render(ch, fonts)
        codes += ord(ch).to_bytes(2, "big")
        widths.append(w)
        tops.append(_top(w, rows))
        offsets += len(data).to_bytes(2, "big")  # raises past 64 KB: far beyond a Pico's RAM
        data += pack(w, rows)
    data.append(0)  # the device reads a byte beyond a glyph's last bit
    head = (
        '"""The handheld\'s UI font. GENERATED by host/mmrenal/fontgen.py from DejaVu Sans\n'
        f"{LATIN_PX} px and WenQuanYi Micro Hei {CJK_PX} px; do not edit: run\n"
        "`python -m mmrenal.fontgen` instead.\n\n"
        f"{len(chars)} glyphs, {len(data)} bytes of bitmaps. CODES: sorted code points, 2 bytes\n"
        "each (big-endian); WIDTHS: advance in pixels; TOPS: the glyph's first inked row;\n"
        "OFFSETS: the byte where its rows start in DATA (2 bytes, big-endian), up to the next\n"
        "glyph's; DATA: the inked rows, WIDTH bits each with the leftmost pixel first, packed\n"
        "one after another, to be unpacked into a cell of HEIGHT rows of (width + 7) // 8\n"
        'bytes (framebuf.MONO_HLSB). STRIDE: the most bytes a row takes.\n"""\n\n'
        f"HEIGHT = {HEIGHT}\nBASELINE = {BASELINE}\nSTRIDE = {STRIDE}\n\n"
    )
    return (head + _bytes_literal("CODES", bytes(codes)) + "\n"
            + _bytes_literal("WIDTHS", bytes(widths)) + "\n"
            + _bytes_literal("TOPS", bytes(tops)) + "\n" + _bytes_literal("OFFSETS", bytes(offsets))
            + "\n" + _bytes_literal("DATA", bytes(data)))


def main(argv: list[str] | None = None) -> int:
    return generated.main(__doc__, TARGET, generate, "mmrenal.fontgen", argv)


if __name__ == "__main__":
    sys.exit(main())
