# Civil-date arithmetic of the device clock against dates anyone can check.
import clock
from check import check, done

check("2000-01-01 is day 0", clock.days_from_civil(2000, 1, 1), 0)
check("2000-03-01 after a leap February", clock.days_from_civil(2000, 3, 1), 60)
check("2001-01-01", clock.days_from_civil(2001, 1, 1), 366)
check("1999-12-31", clock.days_from_civil(1999, 12, 31), -1)
# 2026-11-26: 26 whole years (7 leap: 2000, 04, 08, 12, 16, 20, 24) = 9497 days,
# plus Jan-Oct 2026 (304 days) plus 25.
check("2026-11-26", clock.days_from_civil(2026, 11, 26), 26 * 365 + 7 + 304 + 25)
check("2100-03-01 (2100 not leap)", clock.days_from_civil(2100, 3, 1) - clock.days_from_civil(2100, 2, 28), 1)
bad = 0
for z in range(-800, 60000, 7):
    y, m, d = clock.civil_from_days(z)
    if clock.days_from_civil(y, m, d) != z:
        bad += 1
check("round trip over 165 years", bad, 0)
check("iso", clock.iso(clock.days_from_civil(2026, 11, 26) * 1440 + 8 * 60 + 30), "2026-11-26T08:30")
done()
