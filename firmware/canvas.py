"""The screen as a 4-bit framebuffer with a 16-colour palette, pushed to the panel one
band of rows at a time through a row expander.

A 240x135 RGB565 frame would take 64,800 bytes of a Pico's ~190 KB heap; 4 bits per
pixel take 16,200, plus one reused band of BAND rows in RGB565 (7,680 bytes). All of it
is allocated here, once; drawing and pushing a frame allocate nothing (the band's
partial views are made in advance). Only rows drawn since the last push are sent.
"""

import framebuf
import micropython

BAND = 16  # rows expanded and sent per SPI write

# Palette: RGB565, big-endian as the ST7789 takes it. Index -> name.
BLACK, WHITE, GREY, DARK, RED, GREEN, AMBER, BLUE, CYAN, YELLOW = range(10)
_RGB = (
    (0, 0, 0), (255, 255, 255), (160, 160, 160), (48, 48, 48), (220, 30, 30),
    (20, 170, 60), (255, 160, 0), (40, 90, 220), (0, 190, 200), (255, 230, 0),
)


def rgb565(r, g, b):
    return ((r & 0xF8) << 8) | ((g & 0xFC) << 3) | (b >> 3)


@micropython.viper
def _expand(dest: ptr8, src: ptr8, off: int, lut: ptr8, nbytes: int):  # noqa: F821 (viper types)
    # Each source byte holds two pixels (high nibble first, GS4_HMSB); each pixel
    # becomes two bytes of RGB565 from the palette.
    d = 0
    for i in range(nbytes):
        b = src[off + i]
        hi = (b >> 4) << 1
        lo = (b & 15) << 1
        dest[d] = lut[hi]
        dest[d + 1] = lut[hi + 1]
        dest[d + 2] = lut[lo]
        dest[d + 3] = lut[lo + 1]
        d += 4


class NullDisplay:
    """A panel that takes the rows and shows nothing: the simulator and tests draw on
    the canvas and read its buffer instead."""

    def begin(self, x, y, w, h):
        pass

    def write(self, buf):
        pass

    def end(self):
        pass


class Canvas(framebuf.FrameBuffer):
    def __init__(self, display, width=240, height=135):
        self.display = display
        self.width = width
        self.height = height
        self.stride = width // 2
        self.buf = bytearray(self.stride * height)
        super().__init__(self.buf, width, height, framebuf.GS4_HMSB)
        self.lut = bytearray(32)
        for i in range(len(_RGB)):
            c = rgb565(*_RGB[i])
            self.lut[2 * i] = c >> 8
            self.lut[2 * i + 1] = c & 0xFF
        self.band = bytearray(width * 2 * BAND)
        mv = memoryview(self.band)
        self._views = [mv[:rows * width * 2] for rows in range(BAND + 1)]
        self.dirty_lo = 0  # rows [dirty_lo, dirty_hi) changed since the last push
        self.dirty_hi = height

    def touch(self, y0, y1):
        """Mark rows y0..y1-1 as changed (drawing code calls this)."""
        if y0 < self.dirty_lo or self.dirty_lo >= self.dirty_hi:
            self.dirty_lo = y0 if y0 > 0 else 0
        if y1 > self.dirty_hi or self.dirty_lo >= self.dirty_hi:
            self.dirty_hi = y1 if y1 < self.height else self.height

    def push(self):
        """Send the changed rows to the panel; returns how many rows went."""
        lo = self.dirty_lo
        hi = self.dirty_hi
        if lo >= hi:
            return 0
        d = self.display
        d.begin(0, lo, self.width, hi - lo)
        y = lo
        stride = self.stride
        while y < hi:
            rows = hi - y
            if rows > BAND:
                rows = BAND
            _expand(self.band, self.buf, y * stride, self.lut, rows * stride)
            d.write(self._views[rows])
            y += rows
        d.end()
        self.dirty_lo = self.height
        self.dirty_hi = 0
        return hi - lo
