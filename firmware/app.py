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
    # The profile names the buttons that act as UP, DOWN, SELECT, BACK, and their labels.
    keys = buttons.Buttons(PinSource(board.buttons(), prof["keys"], prof["active_low"]))
    u = ui.UI(_canvas, text.Writer(_canvas), service.store(), clock.now, audit.Audit(),
              service.tracker(), clock.set_clock, prof["key_labels"], board.power)
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
