"""Text on the canvas in the generated UI font (firmware/font_ui.py).

A glyph is found by binary search over the sorted code points, copied into one
scratch cell and blitted with a two-entry palette, so drawing text from bytes (UTF-8)
allocates nothing. A character the font lacks is drawn as an empty box, never skipped
and never a crash; the font generator makes sure the dose tables never need one.
"""

import framebuf
import micropython

import font_ui

_CLEAR = 15  # palette index no colour uses


@micropython.viper
def _copy(dst: ptr8, src: ptr8, off: int, n: int):  # noqa: F821 (viper types)
    for i in range(n):
        dst[i] = src[off + i]


class Writer:
    def __init__(self, canvas, font=font_ui):
        self.canvas = canvas
        self.font = font
        self.height = font.HEIGHT
        self.count = len(font.WIDTHS)
        self.cell = font.HEIGHT * font.STRIDE
        self.scratch = bytearray(self.cell)
        self.glyph = framebuf.FrameBuffer(self.scratch, font.STRIDE * 8, font.HEIGHT,
                                          framebuf.MONO_HLSB)
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
            _copy(self.scratch, self.font.DATA, g * self.cell, self.cell)
            c.blit(self.glyph, x, y, _CLEAR, self.palette)
            x += self.font.WIDTHS[g]
        c.touch(y, y + self.height)
        return x
