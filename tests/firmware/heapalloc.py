# The bedside calculations allocate nothing: run them with the heap locked (MicroPython),
# as tests/micropython/heapalloc.py does upstream. Under CPython the same code runs
# unlocked so the printed results can be compared across engines.
import kdigo
import renal
from check import check, done

try:
    from micropython import heap_lock, heap_unlock
except ImportError:

    def heap_lock():
        pass

    def heap_unlock():
        pass


r = renal.Renal()
a = kdigo.Aki()
times = [0, 1440, 2880, 4320, 0, 0, 0, 0]
values = [88400, 99450, 150280, 182104, 0, 0, 0, 0]
cases = (
    (18, 0, 250, 1200, 8840, 0),
    (18, 1, 3000, 2300, 8840, 1),
    (110, 0, 3000, 2300, 2210000, 2),
    (110, 1, 250, 1200, 2210000, 3),
    (67, 1, 580, 1600, 123760, 3),
    (72, 0, 815, 1750, 229840, 4),
    (45, 1, 1200, 1550, 70720, 4),
)
out = [0] * (len(cases) * 7)
aki = [0, 0]


def run():
    # Locals only: a new module global would allocate a dict entry.
    kdigo.stage(a, times, values, 4, False)
    aki[0] = a.stage
    aki[1] = a.criterion
    k = 0
    for age, female, w, h, scr, policy in cases:
        renal.assess(r, age, female, w, h, scr, policy, 120, False, a.stage)
        out[k] = r.crcl_x10
        out[k + 1] = r.egfr_x10
        out[k + 2] = r.bsa_x100
        out[k + 3] = r.weight_x10
        out[k + 4] = r.basis
        out[k + 5] = r.warnings
        out[k + 6] = 1 if r.imwg else 0
        k += 7
    return k


k = 0
locked_ok = False
heap_lock()
try:
    k = run()
    locked_ok = True
except MemoryError:
    pass
heap_unlock()
check("no allocation with the heap locked", locked_ok, True)
check("cases computed", k, len(cases) * 7)
print("aki", aki)
for i in range(len(cases)):
    print(cases[i], out[i * 7 : i * 7 + 7])
done()
