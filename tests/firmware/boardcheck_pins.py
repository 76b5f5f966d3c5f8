# boardcheck on a stand-in rp2 `machine`: it reports the pins and the SPI bus as the
# handheld left them, reads every button idle, waits for a press, and never creates
# the bus again (on rp2 that would take the display's DC pin as MISO).

import boardcheck  # noqa: E402  (before the stand-in: a board without pins first)
from check import check, done, fake_machine

check("no machine.Pin: nothing to read", boardcheck.check({})["machine_pin"], False)

ALT_SPI = "ALT"
DEFAULT_MISO = {0: 16, 1: 8}  # rp2 on a Pico: SPI0 RX is GP16, SPI1 RX is GP8


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2
    mode = {}  # gpio -> "IN", "OUT" or ALT_SPI (as the pad is configured)
    pull = {}
    level = {}  # gpio -> level, or a list of levels read one after another
    reads = {}

    def __init__(self, n, mode=None, pull=None):
        self.n = n
        if mode is not None:  # rp2 configures only when given more than the id
            Pin.mode[n] = "OUT" if mode == Pin.OUT else "IN"
            Pin.pull[n] = pull

    def value(self, v=None):
        if v is not None:
            Pin.level[self.n] = v
            return None
        lv = Pin.level.get(self.n, 0)
        if isinstance(lv, list):
            i = Pin.reads.get(self.n, 0)
            Pin.reads[self.n] = i + 1
            return lv[i] if i < len(lv) else lv[-1]
        return lv

    def __repr__(self):  # the format of ports/rp2/machine_pin.c
        mode = Pin.mode.get(self.n, "IN")
        s = f"Pin(GPIO{self.n}, mode={'ALT' if mode == ALT_SPI else mode}"
        if Pin.pull.get(self.n) == Pin.PULL_UP:
            s += ", pull=PULL_UP"
        if mode == ALT_SPI:
            s += ", alt=SPI"
        return s + ")"


class SPI:
    inits = 0
    state = {}

    def __init__(self, bus, baudrate=None, polarity=0, phase=0, sck=None, mosi=None):
        if baudrate is None and bus in SPI.state:
            self.cfg = SPI.state[bus]  # the existing bus, untouched
            return
        SPI.inits += 1
        cfg = (bus, baudrate or 1000000, polarity, phase, sck.n, mosi.n, DEFAULT_MISO[bus])
        for g in cfg[4:]:
            Pin.mode[g] = ALT_SPI
        SPI.state[bus] = self.cfg = cfg

    def __repr__(self):
        return "SPI({}, baudrate={}, polarity={}, phase={}, bits=8, sck={}, mosi={}, miso={})".format(*self.cfg)


fake_machine(Pin=Pin, SPI=SPI)


def handheld_started():
    """What board.display() leaves behind: the bus, then CS, DC, backlight as outputs."""
    Pin.mode.clear()
    Pin.pull.clear()
    Pin.level.clear()
    Pin.reads.clear()
    SPI.state.clear()
    SPI(0, baudrate=62500000, polarity=1, phase=1, sck=Pin(18), mosi=Pin(19))
    for g in (17, 16, 20):
        Pin(g, Pin.OUT)
    Pin.level[20] = 1
    for g in (12, 13, 14, 15):
        Pin.level[g] = 1  # pulled up, not pressed


handheld_started()
inits = SPI.inits
r = boardcheck.check({})
check("profile", r["profile"], "pimoroni_pico_display")
check("no board.txt", r["board_txt"], None)
check("display pins as the handheld left them", r["display"], [
    ["sck", 18, "Pin(GPIO18, mode=ALT, alt=SPI)", 0],
    ["mosi", 19, "Pin(GPIO19, mode=ALT, alt=SPI)", 0],
    ["cs", 17, "Pin(GPIO17, mode=OUT)", 0],
    ["dc", 16, "Pin(GPIO16, mode=OUT)", 0],
    ["backlight", 20, "Pin(GPIO20, mode=OUT)", 1],
])
check("bus read back", r["bus"],
      "SPI(0, baudrate=62500000, polarity=1, phase=1, bits=8, sck=18, mosi=19, miso=16)")
check("the bus was not created again", SPI.inits, inits)
check("buttons idle, pulled up", r["buttons"], [
    ["A", 12, 0, 8, "Pin(GPIO12, mode=IN, pull=PULL_UP)"],
    ["B", 13, 0, 8, "Pin(GPIO13, mode=IN, pull=PULL_UP)"],
    ["X", 14, 0, 8, "Pin(GPIO14, mode=IN, pull=PULL_UP)"],
    ["Y", 15, 0, 8, "Pin(GPIO15, mode=IN, pull=PULL_UP)"],
])

Pin.level[13] = 0  # B shorted to ground
Pin.level[14] = [1, 0, 1, 1, 0, 1, 1, 1]  # X flickers
r = boardcheck.check({})
check("a stuck key reads pressed in every sample", r["buttons"][1][2:4], [8, 8])
check("a flickering key in some", r["buttons"][2][2:4], [2, 8])

Pin.mode[16] = ALT_SPI  # DC taken by the bus as MISO
check("DC seen in the bus's hands", boardcheck.check({})["display"][3][2], "Pin(GPIO16, mode=ALT, alt=SPI)")

handheld_started()
Pin.level[14] = [1] * 5 + [0] * 6 + [1]  # X pressed on the 6th read, released on the 12th
r = boardcheck.check({"press": "X", "wait_ms": 5000})
check("press seen and released", [r["press"][0], r["press"][1], r["press"][2] >= 0, r["press"][3]],
      ["X", 14, True, True])
r = boardcheck.check({"press": "A", "wait_ms": 40})
check("no press within the time", r["press"][2:], [-1, True])
check("unknown key refused", boardcheck.check({"press": "Z"})["field"], "press")
check("bad wait refused", boardcheck.check({"press": "A", "wait_ms": 0})["field"], "wait_ms")

Pin.mode.clear()  # the handheld never started: no bus on SCK
SPI.state.clear()
inits = SPI.inits
r = boardcheck.check({})
check("no bus to read", [r["bus"], r["display"][0][2]], ["", "Pin(GPIO18, mode=IN)"])
check("and none created", SPI.inits, inits)
done()
