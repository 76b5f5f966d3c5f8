"""The device's one time source: whole minutes since 2000-01-01 00:00.

On the board the time comes from machine.RTC (set by the host, `mpremote rtc --set` or
the protocol's set_clock); where there is no RTC (CPython) the host clock is used.
Dates are turned into day numbers with integer civil-calendar arithmetic, so the
result does not depend on the port's epoch.
"""

import time

try:
    import machine

    _rtc = machine.RTC()
except (ImportError, AttributeError):
    _rtc = None

SET_YEAR = 2025  # an RTC earlier than this was never set (a Pico starts at 2021-01-01)


def days_from_civil(y, m, d):
    """Days from 2000-01-01 to y-m-d (proleptic Gregorian), integers only."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 730425  # 730425: days from 0000-03-01 to 2000-01-01


def civil_from_days(z):
    """(y, m, d) for a day number from days_from_civil()."""
    z += 730425
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return y, m, d


def _now_tuple():
    if _rtc is not None:
        y, mo, d, _, h, mi, s, _ = _rtc.datetime()
        return y, mo, d, h, mi, s
    t = time.localtime()
    return t[0], t[1], t[2], t[3], t[4], t[5]


def now():
    """Minutes since 2000-01-01 00:00 by the device clock."""
    y, mo, d, h, mi, _ = _now_tuple()
    return days_from_civil(y, mo, d) * 1440 + h * 60 + mi


def is_set():
    return _now_tuple()[0] >= SET_YEAR


def iso(minutes):
    """'2026-11-26T08:30' for a minute count."""
    days = minutes // 1440
    rest = minutes - days * 1440
    y, m, d = civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d" % (y, m, d, rest // 60, rest % 60)


def set_clock(minutes):
    """Set the RTC to a minute count (seconds zero). False where there is no RTC."""
    if _rtc is None:
        return False
    days = minutes // 1440
    rest = minutes - days * 1440
    y, m, d = civil_from_days(days)
    weekday = (days + 5) % 7  # 2000-01-01 was a Saturday; Monday is 0
    _rtc.datetime((y, m, d, weekday, rest // 60, rest % 60, 0, 0))
    return True
