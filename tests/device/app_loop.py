# MicroPython only: the handheld's main loop with a stand-in machine (SPI, Pins) and
# a scripted key press. heap: sim (the whole UI on 64-bit words: mmrenal.sim.SIM_HEAP)

from check import check, done, fake_machine


class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 2
    PULL_DOWN = 3
    pins = {}

    def __init__(self, n, mode=-1, pull=-1):
        self.n = n
        self.v = 1  # buttons idle high (active low)
        Pin.pins[n] = self

    def value(self, v=None):
        if v is not None:
            self.v = v
        return self.v


class SPI:
    sent = [0]

    def __init__(self, *a, **k):
        pass

    def write(self, buf):
        SPI.sent[0] += len(buf)


fake_machine(Pin=Pin, SPI=SPI)

import app  # noqa: E402

check("only the panel's set-up commands before the first frame", SPI.sent[0] < 64, True)
prof = app.board.profile()
keys = app.buttons.Buttons(app.PinSource(app.board.buttons(), prof["keys"], prof["active_low"]))
ui_ = app.ui.UI(app._canvas, app.text.Writer(app._canvas), app.service.store(), app.clock.now)
ui_.draw()
check("first frame pushed", SPI.sent[0] >= 240 * 135 * 2, True)
# Press X (GP14 on the Pico Display Pack) for 100 ms: SELECT opens the first item.
t = 0
ev = 0
Pin.pins[14].value(0)
while t < 100:
    ev = ev or keys.poll(t)
    t += 10
Pin.pins[14].value(1)
while t < 200 and not ev:
    ev = keys.poll(t)
    t += 10
check("a short press of X", (app.buttons.button_of(ev), app.buttons.kind_of(ev)),
      (app.buttons.SELECT, app.buttons.SHORT))
ui_.key(ev)
ui_.draw()
check("screen after the press: the first item, the patient chooser", type(ui_.stack[-1]).__name__, "Patients")
done()
