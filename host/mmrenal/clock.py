"""Times as the handheld keeps them: whole minutes since 2000-01-01 00:00.

MicroPython boards count from 2000; minutes keep a lifetime of dates inside a 31-bit
small int. Naive ISO 8601 times are taken as written (ward clock time); times with an
offset are converted to UTC first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(2000, 1, 1)


def to_minutes(text: str) -> int:
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise ValueError(f"{text!r} is not an ISO 8601 time such as 2026-11-26T08:30") from e
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    if t < EPOCH:
        raise ValueError(f"{text!r} is before 2000-01-01")
    return int((t - EPOCH).total_seconds() // 60)


def from_minutes(minutes: int) -> str:
    return (EPOCH + timedelta(minutes=minutes)).isoformat(timespec="minutes")


def now_minutes() -> int:
    return to_minutes(datetime.now().isoformat(timespec="minutes"))
