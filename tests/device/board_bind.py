# MicroPython only: the board profile binds exactly the vendor pins, through a stand-in
# `machine` module that records what it is asked for.

from check import check, done, fake_machine


class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 2
    PULL_DOWN = 3
    made = []

    def __init__(self, n, mode=-1, pull=-1):
        self.n = n
        self.v = 0
        Pin.made.append((n, mode, pull))

    def value(self, v=None):
        if v is not None:
            self.v = v
        return self.v


class SPI:
    made = []

    def __init__(self, bus_id, baudrate=0, polarity=0, phase=0, sck=None, mosi=None):
        SPI.made.append((bus_id, baudrate, sck.n, mosi.n))

    def write(self, buf):
        pass


fake_machine(Pin=Pin, SPI=SPI)

import board  # noqa: E402

d = board.display("pimoroni_pico_display")
check("Pimoroni SPI bus 0, SCK 18, MOSI 19", SPI.made[-1][0:1] + SPI.made[-1][2:], (0, 18, 19))
outs = sorted(n for n, mode, _ in Pin.made if mode == Pin.OUT)
check("Pimoroni CS 17, DC 16, backlight 20 as outputs", outs, [16, 17, 20])
keys = board.buttons("pimoroni_pico_display")
check("Pimoroni buttons", sorted((k, p.n) for k, p in keys.items()),
      [("A", 12), ("B", 13), ("X", 14), ("Y", 15)])
Pin.made.clear()
board.display("waveshare_pico_lcd_1_14")
check("Waveshare SPI bus 1, SCK 10, MOSI 11", SPI.made[-1][0:1] + SPI.made[-1][2:], (1, 10, 11))
check("Waveshare CS 9, DC 8, RST 12, backlight 13", sorted(n for n, mode, _ in Pin.made if mode == Pin.OUT),
      [8, 9, 12, 13])
ws = board.buttons("waveshare_pico_lcd_1_14")
check("Waveshare keys and joystick", sorted((k, p.n) for k, p in ws.items()),
      [("A", 15), ("B", 17), ("CTRL", 3), ("DOWN", 18), ("LEFT", 16), ("RIGHT", 20), ("UP", 2)])
# The logical UP, DOWN, SELECT, BACK: the key hints and the buttons come from the profile.
check("Pimoroni logical keys", board.profile("pimoroni_pico_display")["keys"], ("A", "B", "X", "Y"))
check("Waveshare logical keys: joystick up, down, press; key B",
      board.profile("waveshare_pico_lcd_1_14")["keys"], ("UP", "DOWN", "CTRL", "B"))
check("default profile", board.profile_name(), "pimoroni_pico_display")
done()
