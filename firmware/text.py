"""Text on the canvas in the generated UI font (firmware/font_ui.py).

A glyph is found by binary search over the sorted code points, unpacked into one
scratch cell and blitted with a two-entry palette, so drawing text from bytes (UTF-8)
allocates nothing. The font keeps only a glyph's inked rows, bit-packed; a row of the
cell takes as many bytes as the glyph's width needs (Latin 1-2, the 18 px Chinese 3),
so there is one frame buffer over the scratch per row width. A character the font
lacks is drawn as an empty box, never skipped and never a crash; the font generator
makes sure the dose tables never need one.
"""

import framebuf
import micropython

import font_ui

_CLEAR = 15  # palette index no colour uses


@micropython.viper
def _cell(dst: ptr8, size: int, stride: int, top: int, rows: int,  # noqa: F821 (viper types)
          src: ptr8, at: int, w: int):  # noqa: F821
    """Clear the first size bytes of dst (a cell of rows of stride bytes), then unpack
    into it, from row top, `rows` rows of w bits packed one after another from byte at
    of src, eight bits at a time."""
    for i in range(size):
        dst[i] = 0
    bit = at << 3
    for r in range(rows):
        d = (top + r) * stride
        x = 0
        while x < w:
            k = bit >> 3
            v = ((((src[k] << 8) | src[k + 1]) << (bit & 7)) >> 8) & 0xFF
            m = w - x
            if m < 8:
                v = v & ((0xFF << (8 - m)) & 0xFF)
                bit += m
            else:
                bit += 8
            dst[d + (x >> 3)] = v
            x += 8


class Writer:
    def __init__(self, canvas, font=font_ui):
        self.canvas = canvas
        self.font = font
        self.height = font.HEIGHT
        self.count = len(font.WIDTHS)
        self.scratch = bytearray(font.HEIGHT * font.STRIDE)
        # glyphs[s - 1] reads the scratch as rows of s bytes
        self.glyphs = [framebuf.FrameBuffer(self.scratch, s * 8, font.HEIGHT, framebuf.MONO_HLSB)
                       for s in range(1, font.STRIDE + 1)]
        self.palette = framebuf.FrameBuffer(bytearray(1), 2, 1, framebuf.GS4_HMSB)
        # blit() compares its transparent key after the palette: glyph background maps
        # to index 15 (used by no colour), so text may be any colour, black included.
        self.palette.pixel(0, 0, _CLEAR)
        self._cp = 0

    def find(self, cp):
        """Index of code point cp in the font, or -1."""
        codes = self.font.CODES
        lo = 0
        hi = self.count - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            c = (codes[2 * mid] << 8) | codes[2 * mid + 1]
            if c == cp:
                return mid
            if c < cp:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def _next(self, b, i):
        """Decode the UTF-8 character at b[i] into self._cp; return the next index."""
        c = b[i]
        if c < 0x80:
            self._cp = c
            return i + 1
        if c < 0xE0:
            self._cp = ((c & 0x1F) << 6) | (b[i + 1] & 0x3F)
            return i + 2
        self._cp = ((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F)
        return i + 3 if c < 0xF0 else i + 4

    def width(self, s):
        b = s.encode() if isinstance(s, str) else s
        w = 0
        i = 0
        while i < len(b):
            i = self._next(b, i)
            g = self.find(self._cp)
            w += self.font.WIDTHS[g] if g >= 0 else 8
        return w

    def text(self, s, x, y, color):
        """Draw s (bytes in UTF-8, or str) with its top-left at (x, y); return the x
        after the last character."""
        b = s.encode() if isinstance(s, str) else s
        c = self.canvas
        self.palette.pixel(1, 0, color)
        i = 0
        n = len(b)
        while i < n:
            i = self._next(b, i)
            g = self.find(self._cp)
            if g < 0:
                c.rect(x + 1, y + 3, 6, self.height - 6, color)
                x += 8
                continue
            f = self.font
            w = f.WIDTHS[g]
            s = (w + 7) >> 3
            offs = f.OFFSETS
            start = (offs[2 * g] << 8) | offs[2 * g + 1]
            end = (offs[2 * g + 2] << 8) | offs[2 * g + 3] if g + 1 < self.count else len(f.DATA) - 1
            top = f.TOPS[g]
            # the whole rows in the glyph's bytes (its last byte's spare bits are zero)
            rows = min((end - start) * 8 // w, self.height - top)
            _cell(self.scratch, s * self.height, s, top, rows, f.DATA, start, w)
            c.blit(self.glyphs[s - 1], x, y, _CLEAR, self.palette)
            x += w
        c.touch(y, y + self.height)
        return x
