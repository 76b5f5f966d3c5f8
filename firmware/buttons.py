"""Debounced buttons with short press, long press and repeat, from any button source.

A source is anything with pressed(index) -> bool (real pins through board.py, a test's
script, the simulator's keyboard). poll(now_ms) returns one event code or 0; nothing
is allocated. Events fire on release for a short press, at LONG_MS for a long press,
then every REPEAT_MS while held (for fast number entry).
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


SHORT = const(1)
LONG = const(2)
REPEAT = const(3)
DEBOUNCE_MS = const(30)
LONG_MS = const(600)
REPEAT_MS = const(150)
# Logical buttons (Pimoroni A/B/X/Y): up, down, select, back.
UP = const(0)
DOWN = const(1)
SELECT = const(2)
BACK = const(3)
NAMES = ("UP", "DOWN", "SELECT", "BACK")


def event(button, kind):
    return button * 4 + kind


def button_of(ev):
    return ev >> 2


def kind_of(ev):
    return ev & 3


class Buttons:
    def __init__(self, source, count=4):
        self.source = source
        self.count = count
        self.state = bytearray(count)  # debounced: 1 pressed
        self.changed = [0] * count  # time of the last raw change
        self.raw = bytearray(count)
        self.since = [0] * count  # time the debounced press began
        self.fired = bytearray(count)  # long or repeat already sent for this press
        self.next_repeat = [0] * count

    def poll(self, now):
        for i in range(self.count):
            r = 1 if self.source.pressed(i) else 0
            if r != self.raw[i]:
                self.raw[i] = r
                self.changed[i] = now
            if r != self.state[i] and now - self.changed[i] >= DEBOUNCE_MS:
                self.state[i] = r
                if r:
                    self.since[i] = now
                    self.fired[i] = 0
                else:
                    if not self.fired[i]:
                        return event(i, SHORT)
            if self.state[i]:
                held = now - self.since[i]
                if not self.fired[i] and held >= LONG_MS:
                    self.fired[i] = 1
                    self.next_repeat[i] = now + REPEAT_MS
                    return event(i, LONG)
                if self.fired[i] and now >= self.next_repeat[i]:
                    self.next_repeat[i] = now + REPEAT_MS
                    return event(i, REPEAT)
        return 0
