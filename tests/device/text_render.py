# MicroPython only: text drawn on the canvas, read back pixel by pixel. The pytest
# side (tests/test_device_scripts.py) compares the printed rows with Pillow's own
# rendering of the same strings, an independent rasteriser.
import sys

import micropython

import canvas
import text
from check import check, done


class Pin:
    def value(self, v=None):
        return 0


class Bus:
    def write(self, buf):
        pass


import st7789  # noqa: E402

c = canvas.Canvas(st7789.ST7789(Bus(), Pin(), Pin()))
w = text.Writer(c)
SAMPLES = (b"CrCl 32.2 mL/min", "来那度胺 15 mg 隔日".encode(), b"\xe2\x89\xa5 60")
ok = [True]


def draw():
    c.fill(canvas.BLACK)
    y = 0
    for s in SAMPLES:
        w.text(s, 0, y, canvas.WHITE)
        y += 20


micropython.heap_lock()
try:
    draw()
except MemoryError:
    ok[0] = False
micropython.heap_unlock()
check("text from bytes allocates nothing", ok[0], True)
check("missing glyph drawn as a box, no crash", w.text("\u4e00\u4e01", 0, 100, canvas.WHITE) > 0, True)
check("glyph found", w.find(ord("来")) >= 0, True)
# Rows of the drawn samples: '#' for a lit pixel, '.' for background.
for row in range(60):
    line = bytearray(240)
    for x in range(240):
        line[x] = 35 if c.pixel(x, row) == canvas.WHITE else 46
    sys.stdout.write("ROW " + line.decode() + "\n")
done()
