"""The one file that binds hardware: which board, its SPI bus, display and buttons.

Everything else in the firmware is hardware-free. The profile comes from board.txt on
the flash (one line: a key of board_pins.PROFILES) or defaults to the Pimoroni Pico
Display Pack. Pin numbers are data from the vendors' documentation (hw/boards/).
"""

import board_pins

DEFAULT = "pimoroni_pico_display"
CHOICE_FILE = "board.txt"


def choice():
    """board.txt as written, or None without one."""
    try:
        with open(CHOICE_FILE) as f:
            return f.read(64).strip()
    except OSError:
        return None


def profile_name():
    name = choice()
    return name if name in board_pins.PROFILES else DEFAULT


def profile(name=None):
    return board_pins.PROFILES[name or profile_name()]


def display(name=None):
    """The ST7789 on the profile's SPI bus (machine is imported only here)."""
    import machine

    import st7789

    d = profile(name)["display"]
    Pin = machine.Pin
    # The bus first, then CS and DC: rp2's SPI constructor also claims the bus's default
    # MISO pin (GP16 on SPI0, GP8 on SPI1), which is DC on both supported boards; making
    # DC an output afterwards takes it back. Never create this bus again while the
    # display runs (boardcheck.py only reads it).
    spi = machine.SPI(d["spi_id"], baudrate=d["baudrate"], polarity=1, phase=1,
                      sck=Pin(d["sck"]), mosi=Pin(d["mosi"]))
    rst = Pin(d["rst"], Pin.OUT) if d["rst"] >= 0 else None
    bl = Pin(d["backlight"], Pin.OUT) if d["backlight"] >= 0 else None
    return st7789.ST7789(spi, Pin(d["cs"], Pin.OUT), Pin(d["dc"], Pin.OUT), rst, bl,
                         d["width"], d["height"], d["x_offset"], d["y_offset"], d["madctl"])


def buttons(name=None):
    """{button name: Pin} as inputs. Internal pull-ups are enabled even where the vendor
    demo sets none: an active-low key that floats would read as random presses."""
    import machine

    p = profile(name)
    Pin = machine.Pin
    pull = Pin.PULL_DOWN if p["pull"] == "down" else Pin.PULL_UP
    return {k: Pin(g, Pin.IN, pull) for k, g in p["buttons"].items()}


def power():
    """(on USB, VSYS in mV) on a Pico or Pico 2, or None where it cannot be read. The
    Pico datasheet: GPIO24 senses VBUS (high with USB power), GPIO29 is ADC3 reading
    VSYS/3 through the board's divider (with the LiPo option, VSYS is the battery)."""
    import machine

    try:
        usb = machine.Pin(24, machine.Pin.IN).value()
        raw = machine.ADC(29).read_u16()
    except (AttributeError, ValueError, OSError, TypeError):
        return None
    return usb == 1, raw * 9900 // 65535  # 3 x 3.3 V full scale, in mV
