# Microsecond ticks and free heap on MicroPython and CPython alike, for the bench
# scripts here.
import gc

try:
    from time import ticks_diff, ticks_us  # noqa: F401
except ImportError:  # CPython
    from time import perf_counter_ns

    def ticks_us():
        return perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b


def heap_free():
    """Free heap after a collection; -1 on CPython, which has no such figure."""
    gc.collect()
    try:
        return gc.mem_free()
    except AttributeError:
        return -1
