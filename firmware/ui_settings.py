"""The table's details, and the settings: language, creatinine unit, date and time."""

import clock
from canvas import GREY, RED, WHITE
from ui import CLOCK_SET, LINE, TOP, Form, Screen, clamp, snap_scr
from ui_text import EN, ZH

SCR_UNITS = ("mg/dL", "µmol/L")


class TableInfo(Screen):
    title = "table"
    keys = "keys_back"

    def draw(self, ui):
        t = ui.table()
        if t is None:
            ui.text(ui.t("no_table"), 6, TOP, RED)
            return
        ui.text(t.id + " " + ui.t("version") + " " + str(t.version), 6, TOP, WHITE)
        ui.text(ui.t("effective") + " " + clock.iso(t.effective * 1440)[:10], 6, TOP + LINE, WHITE)
        ui.text(ui.t("expires") + " " + clock.iso(t.expires * 1440)[:10], 6, TOP + 2 * LINE,
                RED if ui.table_expired() else WHITE)
        # The name of the trusted key that verified the signature, not the table's own
        # approver text (anyone compiling a table can write that).
        ui.text(ui.t("approver") + ": " + (t.signer[0] if t.signer else "-"), 6, TOP + 3 * LINE, GREY)
        ui.text("sha256 " + ("%02x" * 8) % tuple(t.sha[:8]), 6, TOP + 4 * LINE, GREY)


class Settings(Form):
    """Language, creatinine unit, and the date and time (a Pico's clock stops with its
    power, so the nurse sets it here: SELECT on the last row)."""

    title = "settings"
    labels = ("language", "scr_unit", "clock")

    def value_text(self, ui, i):
        if i == 0:
            return ui.t("lang_name")
        if i == 1:
            return SCR_UNITS[ui.scr_unit]
        m = ui.now()
        return clock.iso(m)[5:].replace("T", " ") if m >= CLOCK_SET else ui.t("clock_unset")

    def change(self, ui, i, sign, big):
        if i == 0:
            ui.lang = ZH if ui.lang == EN else EN
        else:
            ui.scr_unit = 1 - ui.scr_unit
            if ui.patient.scr_nmol is not None:  # an entered value, onto the new unit's grid
                ui.patient.scr_nmol = snap_scr(ui.patient.scr_nmol, ui.scr_unit)
        ui.save_settings()

    def done(self, ui):
        ui.push(ClockEntry(ui.now()))


def days_in_month(y, m):
    return clock.days_from_civil(y + (m == 12), m % 12 + 1, 1) - clock.days_from_civil(y, m, 1)


class ClockEntry(Form):
    title = "clock"
    labels = ("year", "month", "day", "hour", "minute", "save")

    def __init__(self, now):
        Form.__init__(self)
        if now < CLOCK_SET:
            now = clock.days_from_civil(2026, 1, 1) * 1440  # an unset clock: start somewhere near
        days = now // 1440
        self.v = list(clock.civil_from_days(days)) + [(now % 1440) // 60, now % 60]

    def value_text(self, ui, i):
        if i < 5:
            return ("%04d" if i == 0 else "%02d") % self.v[i]
        return ""

    def change(self, ui, i, sign, big):
        v = self.v
        step = (10 if i == 4 else 5) if big else 1
        if i == 0:
            v[0] = clamp(v[0] + sign, clock.SET_YEAR, 2099)
        elif i == 1:
            v[1] = (v[1] - 1 + sign) % 12 + 1
        elif i == 2:
            v[2] = (v[2] - 1 + sign * step) % days_in_month(v[0], v[1]) + 1
        elif i == 3:
            v[3] = (v[3] + sign * step) % 24
        else:
            v[4] = (v[4] + sign * step) % 60
        v[2] = min(v[2], days_in_month(v[0], v[1]))

    def done(self, ui):
        v = self.v
        ui.set_clock(clock.days_from_civil(v[0], v[1], v[2]) * 1440 + v[3] * 60 + v[4])
        ui.stack.pop()


