"""What `mmrenal doctor` can learn about the hardware from the board itself.

Facts only, judged on the host: which profile is bound (board.txt), how the display's
pins and SPI bus are configured right now, and what every button reads while nobody
touches it (or, asked to, whether one key is pressed within a time limit).

The display is never set up again here. On rp2, constructing machine.SPI with
arguments re-initialises the bus and also claims the bus's default MISO pin (GP16 on
SPI0, GP8 on SPI1): that is the display's DC line on both supported boards, and the
screen would stay garbled until the next reset. machine.Pin(n) and machine.SPI(id)
with no other argument return the existing objects without touching the hardware
(ports/rp2/machine_pin.c, machine_spi.c), and their repr() shows the live
configuration. The buttons are set up exactly as the handheld sets them up
(board.buttons), so reading them changes nothing.

The panel itself cannot be read back: neither profile names a MISO pin (the vendors'
drivers only write), so a missing or dead panel looks the same as a good one.
"""

import board

try:
    from time import sleep_ms, ticks_diff, ticks_ms
except ImportError:  # CPython: only reached with a stand-in machine module (tests)
    import time

    def sleep_ms(ms):  # integers only, as everywhere in the firmware
        end = time.monotonic_ns() + ms * 1000000
        while time.monotonic_ns() < end:
            pass

    def ticks_ms():
        return time.monotonic_ns() // 1000000

    def ticks_diff(a, b):
        return a - b


SAMPLES = 8  # idle reads per button; a stuck key reads pressed in all of them
SAMPLE_MS = 5
MAX_WAIT_MS = 30000  # longest wait for a press (the host's answer timeout is longer)
DISPLAY_ROLES = ("sck", "mosi", "cs", "dc", "rst", "backlight")


def _machine():
    try:
        import machine
    except ImportError:
        return None
    return machine


def _pressed(pin, active_low):
    return (pin.value() == 0) == active_low


def _display(machine, d):
    rows = []
    for role in DISPLAY_ROLES:
        gpio = d[role]
        if gpio >= 0:
            pin = machine.Pin(gpio)
            rows.append([role, gpio, repr(pin), pin.value()])
    return rows


def on_spi(rep):
    """A pin's repr says it carries SPI: rp2 names the function (alt=SPI), or gives its
    number where it has no name for it (GPIO_FUNC_SPI is 1)."""
    return "alt=SPI" in rep or rep.endswith("alt=1)")


def _bus(machine, d, rows):
    """repr() of the profile's SPI bus, only if SCK already carries it (otherwise
    machine.SPI(id) would initialise the bus with its default pins)."""
    if not hasattr(machine, "SPI") or not on_spi(rows[0][2]):
        return ""
    try:
        return repr(machine.SPI(d["spi_id"]))
    except Exception as e:  # a port whose SPI wants more arguments
        return "error: " + type(e).__name__ + ": " + str(e)


def _idle(keys, gpios, active_low):
    counts = [0] * len(keys)
    for _ in range(SAMPLES):
        for i in range(len(keys)):
            if _pressed(keys[i][1], active_low):
                counts[i] += 1
        sleep_ms(SAMPLE_MS)
    return [[keys[i][0], gpios[keys[i][0]], counts[i], SAMPLES, repr(keys[i][1])]
            for i in range(len(keys))]


def _wait_press(pin, active_low, wait_ms):
    """Milliseconds until the key was pressed (-1: never), then wait for its release so
    that the handheld's own loop does not take the press as a key stroke."""
    start = ticks_ms()
    after = -1
    while ticks_diff(ticks_ms(), start) < wait_ms:
        if _pressed(pin, active_low):
            after = ticks_diff(ticks_ms(), start)
            break
        sleep_ms(SAMPLE_MS)
    released = after < 0
    while not released and ticks_diff(ticks_ms(), start) < wait_ms + 2000:
        if not _pressed(pin, active_low):
            released = True
        else:
            sleep_ms(SAMPLE_MS)
    return after, released


def check(req):
    # board.txt as written too: an unknown name falls back silently in
    # board.profile_name(), so the host has to see what was asked for.
    out = {"ok": True, "profile": board.profile_name(), "board_txt": board.choice()}
    machine = _machine()
    out["machine_pin"] = machine is not None and hasattr(machine, "Pin")
    out["machine_spi"] = machine is not None and hasattr(machine, "SPI")
    if not out["machine_pin"]:
        return out  # the virtual board or CPython: no pins to read
    p = board.profile()
    gpios = p["buttons"]
    rows = _display(machine, p["display"])
    out["display"] = rows
    out["bus"] = _bus(machine, p["display"], rows) if rows else ""
    pins = board.buttons()
    keys = [(name, pins[name]) for name in sorted(pins)]
    press = req.get("press")
    if press is None:
        out["buttons"] = _idle(keys, gpios, p["active_low"])
        return out
    if press not in pins:
        return {"ok": False, "field": "press", "error": repr(press) + " is not a button of "
                + out["profile"] + ": " + ", ".join(sorted(pins))}
    wait = req.get("wait_ms", 10000)
    if isinstance(wait, bool) or not isinstance(wait, int) or not 0 < wait <= MAX_WAIT_MS:
        return {"ok": False, "field": "wait_ms", "error": "1-" + str(MAX_WAIT_MS) + " ms"}
    after, released = _wait_press(pins[press], p["active_low"], wait)
    out["press"] = [press, gpios[press], after, released]
    return out
