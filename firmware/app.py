"""The handheld's main loop on a board with a display: buttons, screens, and the
serial protocol served between them, so the host tools reach a running handheld."""

import time

import board
import canvas

# The display and its buffers first, while the heap still has large free blocks.
_display = board.display()
_canvas = canvas.Canvas(_display)

import audit  # noqa: E402
import buttons  # noqa: E402
import clock  # noqa: E402
import protocol  # noqa: E402
import service  # noqa: E402
import text  # noqa: E402
import ui  # noqa: E402

ORDER = ("A", "B", "X", "Y")  # Pimoroni keys as the logical UP, DOWN, SELECT, BACK


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
    names = ORDER if all(n in prof["buttons"] for n in ORDER) else ("UP", "CTRL", "A", "B")
    keys = buttons.Buttons(PinSource(board.buttons(), names, prof["active_low"]))
    u = ui.UI(_canvas, text.Writer(_canvas), service.store(), clock.now, audit.Audit(),
              service.tracker())
    u.draw()
    link = protocol.Link()
    while True:
        ev = keys.poll(time.ticks_ms())
        if ev:
            u.key(ev)
            u.draw()
        link.poll(5)
