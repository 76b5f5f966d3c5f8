# Microsecond ticks on MicroPython and CPython alike, for the bench scripts here.
try:
    from time import ticks_diff, ticks_us  # noqa: F401
except ImportError:  # CPython
    from time import perf_counter_ns

    def ticks_us():
        return perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b
