# MicroPython only (framebuf, viper): the canvas draws and pushes a frame to an ST7789
# on a recording bus without allocating, and the bytes on the wire are the palette
# colours of the pixels drawn.
import micropython

import canvas
import st7789
from check import check, done


class Pin:
    def __init__(self):
        self.v = 1

    def value(self, v=None):
        if v is not None:
            self.v = v
        return self.v


class Bus:
    """Counts what an SPI bus would carry; keeps the last data bytes written."""

    def __init__(self):
        self.count = 0
        self.last = bytearray(8)

    def write(self, buf):
        self.count += len(buf)
        n = len(buf)
        if n > 8:
            n = 8
        for i in range(n):
            self.last[i] = buf[i]


bus = Bus()
disp = st7789.ST7789(bus, Pin(), Pin(), Pin(), Pin())
c = canvas.Canvas(disp)
c.fill(canvas.BLACK)
c.fill_rect(0, 0, 240, 135, canvas.RED)
sent = [0, 0, 0]


def frame():
    c.fill_rect(0, 0, 240, 135, canvas.RED)
    c.touch(0, 135)
    sent[0] = c.push()
    c.fill_rect(10, 40, 20, 8, canvas.GREEN)
    c.touch(40, 48)
    sent[1] = c.push()
    sent[2] = c.push()  # nothing changed


before = bus.count
micropython.heap_lock()
try:
    frame()
    ok = True
except MemoryError:
    ok = False
micropython.heap_unlock()
check("no allocation with the heap locked", ok, True)
check("rows sent: full frame, a band of 8 rows, nothing", sent, [135, 8, 0])
# Pixels: a full frame (240 x 135 x 2 bytes) and 8 rows; plus window commands.
data = bus.count - before
check("bytes on the bus", data - (240 * 135 * 2 + 240 * 8 * 2) < 64, True)
red = canvas.rgb565(220, 30, 30)
check("palette colour on the wire", (bus.last[0], bus.last[1]), (red >> 8, red & 0xFF))
print("canvas bytes", len(c.buf) + len(c.band))
done()
