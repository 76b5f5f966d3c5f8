"""The handheld's UI without hardware: the same screens on the MicroPython unix port.

Commands on stdin, one per line; one answer line each on stdout:
  key NAME KIND   a button event, then a redraw (NAME: UP DOWN SELECT BACK; KIND: short
                  long repeat)
  frame PATH      draw, then write the 4-bit framebuffer and the palette to PATH
  text            draw, then answer with the text on the screen as JSON
  clock MINUTES   the device clock reads MINUTES (since 2000) until set again; 0 gives
                  an unset clock (a Pico after power-up). Without it, the host's clock.
  tick            the once-a-minute title-bar update; answers the rows it sent
  press NAME N    N presses of NAME alternating with its opposite (UP/DOWN), each
                  handled and the frame drawn and pushed: microseconds per press
  mem             bytes allocated (after a collection), free, and the canvas buffers
  quit
The flash folder (current directory) holds the dose table slots as on a board.
"""

import canvas  # first: its buffers need the largest free blocks of a fresh heap

_canvas = canvas.Canvas(canvas.NullDisplay())  # the rows go nowhere; frames are read

import json  # noqa: E402
import sys  # noqa: E402

import audit  # noqa: E402
import buttons  # noqa: E402
import clock  # noqa: E402
import flcstore  # noqa: E402
import tablestore  # noqa: E402
import text  # noqa: E402
import ui  # noqa: E402


def _count(word):
    """A positive whole number, or 0 for anything else (never an exception)."""
    return int(word) if word.isdigit() else 0


def main():
    c = _canvas
    store = tablestore.Store()
    store.boot()
    tracker = flcstore.Tracker()
    tracker.boot()
    log = audit.Audit()
    fixed = [None]  # a clock the host set, so screenshots do not change by the minute

    def now():
        return clock.now() if fixed[0] is None else fixed[0]

    def set_time(minutes):
        fixed[0] = minutes

    u = ui.UI(c, text.Writer(c), store, now, log, tracker, set_time)
    u.log = []
    kinds = {"short": buttons.SHORT, "long": buttons.LONG, "repeat": buttons.REPEAT}
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        if cmd == "quit":
            return
        if cmd == "key" and len(words) == 3 and words[1] in buttons.NAMES and words[2] in kinds:
            u.key(buttons.event(buttons.NAMES.index(words[1]), kinds[words[2]]))
            u.log.clear()
            u.draw()  # as the handheld does after every key: what is shown is audited
            print("ok")
        elif cmd == "time" and len(words) == 2 and _count(words[1]):
            # Render the current screen N times: microseconds per frame, and the heap
            # free afterwards.
            import gc
            import time

            n = int(words[1])
            u.draw()
            t0 = time.ticks_us()
            for _ in range(n):
                u.log.clear()
                u.draw()
            us = time.ticks_diff(time.ticks_us(), t0) // n
            gc.collect()
            print(json.dumps({"us": us, "heap_free": gc.mem_free()}))
        elif cmd == "clock" and len(words) == 2 and words[1].isdigit():
            fixed[0] = int(words[1])
            print("ok")
        elif cmd == "press" and len(words) == 3 and words[1] in ("UP", "DOWN") and _count(words[2]):
            import time

            b = buttons.NAMES.index(words[1])
            evs = (buttons.event(b, buttons.SHORT), buttons.event(1 - b, buttons.SHORT))
            n = int(words[2])
            t0 = time.ticks_us()
            for i in range(n):
                u.log.clear()
                u.key(evs[i & 1])  # there and back, so the screen stays where it was
                u.draw()
            print(time.ticks_diff(time.ticks_us(), t0) // n)
        elif cmd == "mem":
            import gc

            gc.collect()
            print(json.dumps({"alloc": gc.mem_alloc(), "free": gc.mem_free(),
                              "canvas": len(c.buf) + len(c.band) + len(c.lut),
                              "font_scratch": len(u.w.scratch)}))
        elif cmd == "tick":
            print(u.tick())
        elif cmd == "audit":
            print(json.dumps(log.pull(0, 100)))
        elif cmd in ("frame", "text"):
            u.log.clear()
            u.draw()
            if cmd == "frame":
                with open(words[1], "wb") as f:
                    f.write(c.buf)
                    f.write(c.lut)
                print("ok")
            else:
                print(json.dumps({"screen": type(u.stack[-1]).__name__, "text": u.log}))
        else:
            print("error: unknown command, or a number missing or malformed")


main()
