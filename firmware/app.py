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


class _NoTable:
    table = None  # safe mode: the table store is not touched again


def safe_screen(reason):
    """Start-up failed: a safe screen that says so, what failed, and what to do. Drawn
    with the screens' SafeScreen if they can be built, else in the display's own 8x8
    letters (no font, no UI: whatever failed may be among them)."""
    try:
        u = ui.UI(_canvas, text.Writer(_canvas), _NoTable(), clock.now, None, None,
                  clock.set_clock)
        u.stack = [ui.SafeScreen("app", "safe_start", "safe_pull", reason)]
        u.draw()
        return
    except Exception:  # noqa: S110 (the plainest screen below)
        pass
    gc.collect()
    _canvas.fill(canvas.RED)
    lines = ["SAFE MODE: start-up failed", "Pull the records to the host"]
    while reason and len(lines) < 15:
        lines.append(reason[:30])
        reason = reason[30:]
    for i in range(len(lines)):
        _canvas.text(lines[i], 0, i * 9, canvas.WHITE)
    _canvas.touch(0, _canvas.height)
    _canvas.push()


def run():
    prof = board.profile()
    # The profile names the buttons that act as UP, DOWN, SELECT, BACK, and their labels.
    keys = buttons.Buttons(PinSource(board.buttons(), prof["keys"], prof["active_low"]))
    stage = "dose table store"
    try:
        store = service.store()
        stage = "FLC records (journal replay)"
        tracker = service.tracker()
        stage = "screens"
        u = ui.UI(_canvas, text.Writer(_canvas), store, clock.now, audit.shared(), tracker,
                  clock.set_clock, prof["key_labels"], board.power)
        u.draw()
    except Exception as e:  # safe mode: say what failed, still serve the pulls
        store = tracker = u = None
        reason = stage + ": " + type(e).__name__ + ": " + str(e)
        service.safe_mode(reason)
        protocol.note_error("start-up failed, safe mode: " + reason)
        safe_screen(reason)
        protocol.serve(hello=True)
        return
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
