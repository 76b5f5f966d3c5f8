"""A small ST7789 driver: commands and pixel windows over an SPI bus it is given.

The bus and pins come from the board profile (firmware/board.py); this module never
creates them. Buffers are allocated once; pushing pixels allocates nothing. Only what
a 240x135 panel needs: init, a window, and raw RGB565 writes.
"""

import time

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_SWRESET = const(0x01)
_SLPOUT = const(0x11)
_NORON = const(0x13)
_INVON = const(0x21)
_DISPON = const(0x29)
_CASET = const(0x2A)
_RASET = const(0x2B)
_RAMWR = const(0x2C)
_MADCTL = const(0x36)
_COLMOD = const(0x3A)


class ST7789:
    def __init__(self, spi, cs, dc, rst=None, backlight=None, width=240, height=135,
                 x_offset=40, y_offset=53, madctl=0x70):
        self.spi = spi
        self.cs = cs
        self.dc = dc
        self.rst = rst
        self.backlight = backlight
        self.width = width
        self.height = height
        self.x_offset = x_offset
        self.y_offset = y_offset
        self._cmd = bytearray(1)
        self._arg = bytearray(4)
        cs.value(1)
        dc.value(1)
        if rst is not None:
            rst.value(1)
            time.sleep_ms(5)
            rst.value(0)
            time.sleep_ms(10)
            rst.value(1)
            time.sleep_ms(120)
        self.command(_SWRESET)
        time.sleep_ms(150)
        self.command(_SLPOUT)
        time.sleep_ms(120)
        self.command(_COLMOD, b"\x55")  # 16-bit RGB565
        self.command(_MADCTL, bytes((madctl,)))
        self.command(_INVON)  # IPS panels show true colours inverted
        self.command(_NORON)
        self.command(_DISPON)
        if backlight is not None:
            backlight.value(1)

    def command(self, cmd, data=None):
        self._cmd[0] = cmd
        self.cs.value(0)
        self.dc.value(0)
        self.spi.write(self._cmd)
        if data:
            self.dc.value(1)
            self.spi.write(data)
        self.cs.value(1)

    def _window(self, x0, y0, x1, y1):
        a = self._arg
        x0 += self.x_offset
        x1 += self.x_offset
        y0 += self.y_offset
        y1 += self.y_offset
        a[0] = x0 >> 8
        a[1] = x0 & 0xFF
        a[2] = x1 >> 8
        a[3] = x1 & 0xFF
        self.command(_CASET, a)
        a[0] = y0 >> 8
        a[1] = y0 & 0xFF
        a[2] = y1 >> 8
        a[3] = y1 & 0xFF
        self.command(_RASET, a)

    def begin(self, x, y, w, h):
        """Open a window for w x h pixels; follow with write() calls, then end()."""
        self._window(x, y, x + w - 1, y + h - 1)
        self._cmd[0] = _RAMWR
        self.cs.value(0)
        self.dc.value(0)
        self.spi.write(self._cmd)
        self.dc.value(1)

    def write(self, buf):
        self.spi.write(buf)

    def end(self):
        self.cs.value(1)
