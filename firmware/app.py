"""The handheld's main loop on a board with a display: buttons, screens, and the
serial protocol served between them, so the host tools reach a running handheld."""

import time

import board
import canvas

# The display and its buffers first, while the heap still has large free blocks.
_display = board.display()
_canvas = canvas.Canvas(_display)

import gc  # noqa: E402

import audit  # noqa: E402
import buttons  # noqa: E402
import clock  # noqa: E402
import protocol  # noqa: E402
import service  # noqa: E402
import text  # noqa: E402

gc.collect()  # the compiler's scraps from the imports above, before the largest module
import ui  # noqa: E402

ORDER = ("A", "B", "X", "Y")  # Pimoroni keys as the logical UP, DOWN, SELECT, BACK
# Waveshare: joystick up, its press (DOWN/LEFT/RIGHT are not confirmed from a vendor
# source), keys A and B; the labels are what the key hints print.
WAVESHARE = ("UP", "CTRL", "A", "B")
WAVESHARE_LABELS = ("↑", "Ctrl", "A", "B")


class PinSource:
    """Buttons from the profile's pins (active low)."""

    def __init__(self, pins, names, active_low):
        self.pins = [pins[n] for n in names]
        self.low = active_low

    def pressed(self, i):
        v = self.pins[i].value()
        return v == 0 if self.low else v == 1


def run():
    prof = board.profile()
    pimoroni = all(n in prof["buttons"] for n in ORDER)
    names = ORDER if pimoroni else WAVESHARE
    keys = buttons.Buttons(PinSource(board.buttons(), names, prof["active_low"]))
    u = ui.UI(_canvas, text.Writer(_canvas), service.store(), clock.now, audit.Audit(),
              service.tracker(), clock.set_clock, ORDER if pimoroni else WAVESHARE_LABELS)
    u.draw()
    link = protocol.Link()
    second = time.ticks_ms()
    while True:
        try:
            now = time.ticks_ms()
            ev = keys.poll(now)
            if ev:
                u.key(ev)
                u.draw()
            elif time.ticks_diff(now, second) >= 1000:
                second = now
                u.tick()  # the clock in the title bar: only its rows are sent
            link.poll(5)
        except Exception as e:  # the loop itself never stops: log, then a safe screen
            u.fail(e)
            u.draw()
