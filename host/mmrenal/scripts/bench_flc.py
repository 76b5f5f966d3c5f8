# Runs on MicroPython and CPython alike (firmware on the path), argv: FOLDER N.
# Writes a journal of N samples in FOLDER, then times a boot replay and one append,
# and reports the heap the tracker keeps (MicroPython only).
import os
import sys

from ticks import heap_free, ticks_diff, ticks_us

import flcstore

folder, n = sys.argv[1], int(sys.argv[2])
path = folder + "/flc.jnl"
try:
    os.remove(path)
except OSError:
    pass
tr = flcstore.Tracker(path)
tr.boot()
for p in range(8):
    tr.add_patient("BED-" + str(p + 1), p % 2, 14000000)
t0 = ticks_us()
for i in range(n):
    tr.add_sample("BED-" + str(i % 8 + 1), 14000000 + i * 10, 10000 + i, 2000, "LAB001", False)
print("append_us", ticks_diff(ticks_us(), t0) // n)
tr = None
before = heap_free()
t0 = ticks_us()
tr = flcstore.Tracker(path)
tr.boot()
print("replay_us", ticks_diff(ticks_us(), t0))
print("heap_bytes", (before - heap_free()) if before >= 0 else -1)
print("samples", tr.status()["samples"])
print("journal_bytes", tr.status()["bytes"])
