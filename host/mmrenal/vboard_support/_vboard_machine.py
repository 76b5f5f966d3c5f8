# The virtual board's `machine` module (installed into sys.modules by _vboot.py).
# RTC: board time = host time + an offset kept in CONTROL/rtc, so it survives a soft
# reset and is reset by a cold boot, as a Pico's is. Flash writes go through a
# counting wrapper so that the supervisor can cut the power after N bytes.
import builtins
import os
import time

_ctl = ""
_open = builtins.open
_budget = [None]  # bytes that may still be written before the power cut


def _read(name):
    try:
        with _open(_ctl + "/" + name) as f:
            return f.read()
    except OSError:
        return None


def _offset():
    v = _read("rtc")
    return int(v) if v else 0


def _signal(name):
    with _open(_ctl + "/" + name, "w") as f:
        f.write("1")
    while True:  # the supervisor kills this process; nothing more gets written
        time.sleep_ms(5)


def _armed():
    v = _read("cut_after")
    if v is not None:
        os.remove(_ctl + "/cut_after")
        _budget[0] = int(v)
    return _budget[0]


class _FlashFile:
    def __init__(self, f):
        self._f = f

    def write(self, b):
        left = _armed()
        if left is None:
            return self._f.write(b)
        n = len(b)
        if n < left:
            _budget[0] = left - n
            return self._f.write(b)
        if left:
            self._f.write(b[:left])
        self._f.flush()
        _signal("cut_now")

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __iter__(self):
        return iter(self._f)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _flash_open(path, mode="r", *args):
    f = _open(path, mode, *args)
    if "w" in mode or "a" in mode or "+" in mode or "x" in mode:
        return _FlashFile(f)
    return f


def install(ctl):
    global _ctl
    _ctl = ctl
    builtins.open = _flash_open


class RTC:
    def datetime(self, t=None):
        if t is None:
            tm = time.localtime(int(time.time()) + _offset())
            return (tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0)
        y, mo, d, wd, h, mi, s = t[:7]
        target = time.mktime((y, mo, d, h, mi, s, wd, 0))
        with _open(_ctl + "/rtc", "w") as f:
            f.write(str(int(target) - int(time.time())))


def soft_reset():
    raise SystemExit


def reset():
    _signal("reset_now")


def unique_id():
    return b"VBOARD01"


def freq(*args):
    return 125000000


def idle():
    time.sleep_ms(1)


def disable_irq():
    return 0


def enable_irq(state):
    pass

