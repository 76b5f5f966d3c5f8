# Runs on MicroPython and CPython alike (firmware on the path): time per calculation
# and heap allocated per calculation, printed as "name us_per_call bytes_per_call".
import gc
import sys

from ticks import ticks_diff, ticks_us

import kdigo
import renal
import service
from crcl import crcl
from egfr import egfr


def mem():
    try:
        return gc.mem_alloc()
    except AttributeError:
        return -1  # CPython: no heap figure


r = renal.Renal()
a = kdigo.Aki()
T = [0, 1440, 2880, 4320]
V = [88400, 99450, 150280, 182104]
REQ = {"op": "crcl", "age": "67", "sex": "F", "weight": "58", "height": "160", "scr": "1.4",
       "scr_unit": "mg/dL", "weight_policy": "bmi"}


def f_assess():
    renal.assess(r, 67, 1, 580, 1600, 123760, 3, 120, False, 0)


def f_crcl():
    crcl(67, 1, 6654, 127, 123760)


def f_egfr():
    egfr(67, 1, 123760)


def f_kdigo():
    kdigo.stage(a, T, V, 4, False)


def f_request():
    service.handle(REQ)


N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
for name, fn in (("assess", f_assess), ("crcl", f_crcl), ("egfr", f_egfr), ("kdigo4", f_kdigo),
                 ("request", f_request)):
    fn()
    gc.collect()
    gc.disable()
    m0 = mem()
    fn()
    m1 = mem()
    gc.enable()
    t0 = ticks_us()
    for _ in range(N):
        fn()
    dt = ticks_diff(ticks_us(), t0)
    print(name, dt * 1000 // N, (m1 - m0) if m0 >= 0 else -1)
