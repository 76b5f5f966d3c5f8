# MicroPython only: an unhandled error in a screen (drawing or a key) restarts the
# screens at a safe screen, never a blank display, and is written to the audit log;
# the once-a-minute clock update sends the title bar's rows only. heap: sim
import os

import audit
import buttons
import canvas
import text
import ui
from check import check, done


class Panel:
    """Counts the rows the canvas sends."""

    def __init__(self):
        self.rows = 0

    def begin(self, x, y, w, h):
        self.rows += h

    def write(self, buf):
        pass

    def end(self):
        pass


class Broken(ui.Screen):
    title = "broken"

    def __init__(self, where):
        self.where = where

    def draw(self, u):
        if self.where == "draw":
            raise ZeroDivisionError("drawing went wrong")

    def key(self, u, ev):
        raise KeyError("a key went wrong")


PATH = "ui_faults_audit.jnl"
try:
    os.remove(PATH)
except OSError:
    pass
panel = Panel()
c = canvas.Canvas(panel)
minute = [13900000]
log = audit.Audit(PATH)
u = ui.UI(c, text.Writer(c), None, lambda: minute[0], log)
u.log = []

u.push(Broken("draw"))
u.draw()
check("a drawing error: the safe screen", type(u.stack[-1]).__name__, "SafeScreen")
check("the safe screen is drawn, not a blank frame", "Error: restarted safely" in u.log, True)
check("home under it", type(u.stack[0]).__name__, "Home")

u.push(Broken("key"))
u.key(buttons.event(buttons.SELECT, buttons.SHORT))
u.log.clear()
u.draw()
check("a key error: the safe screen", type(u.stack[-1]).__name__, "SafeScreen")
check("and BACK returns home", (u.key(buttons.event(buttons.BACK, buttons.SHORT)),
                                type(u.stack[-1]).__name__), (None, "Home"))

notes = [(r[1], r[9]) for r in log.pull(0, 10)]
check("both errors in the audit log", notes, [
    ("error", "ZeroDivisionError: drawing went wrong"),
    ("error", "KeyError: a key went wrong"),
])

u.draw()
panel.rows = 0
check("same minute: nothing sent", (u.tick(), panel.rows), (0, 0))
minute[0] += 1
check("next minute: the title bar only", (u.tick(), panel.rows), (18, 18))
os.remove(PATH)
done()
