# Debounce, short press, long press and repeat, driven by a scripted source and clock.
import buttons
from check import check, done


class Script:
    def __init__(self):
        self.down = [False] * 4

    def pressed(self, i):
        return self.down[i]


src = Script()
b = buttons.Buttons(src)
events = []


def run(t0, t1, step=10):
    t = t0
    while t <= t1:
        e = b.poll(t)
        if e:
            events.append((t, buttons.NAMES[buttons.button_of(e)], buttons.kind_of(e)))
        t += step


run(0, 100)
src.down[2] = True  # SELECT pressed at 110 ...
run(110, 200)
src.down[2] = False  # ... released at 210: a short press
run(210, 300)
check("short press on release", events, [(240, "SELECT", buttons.SHORT)])
events.clear()
src.down[0] = True  # a bounce: 20 ms only
run(310, 320)
src.down[0] = False
run(330, 500)
check("a 20 ms bounce is ignored", events, [])
src.down[0] = True  # UP held from 510 to 1510: debounced at 540, long press at 1140,
run(510, 1510)  # repeats at 1290 and 1440, and no short press on release
src.down[0] = False
run(1520, 1700)
check("long press then repeats", events,
      [(1140, "UP", buttons.LONG), (1290, "UP", buttons.REPEAT), (1440, "UP", buttons.REPEAT)])
done()
