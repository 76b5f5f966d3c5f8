"""The dose screens: the drug list, the dose for this patient with its status in words
and colour, the rule's citation, and the check of a prescribed dose."""

import buttons
import dosing
from canvas import AMBER, BLACK, GREEN, GREY, RED, WHITE, YELLOW
from ui import FOOT, LINE, ROWS, TOP, Form, Menu, Screen, W, amount, clamp, sig_step
from ui_text import ZH

PRESCRIBED_MAX = 99999999  # as the protocol's `prescribed` field


class Drugs(Menu):
    def __init__(self, table):
        items = []
        for inn, _ in table.drugs:
            items.append((inn, _open_dose(inn)))
        Menu.__init__(self, "drugs", items)

    def labels(self, ui):
        t = ui.table()
        out = []
        for inn, _ in self.items:
            out.append(t.drug(inn)["zh"] if ui.lang == ZH else inn)
        return out


def _open_dose(inn):
    return lambda ui: ui.push(Dose(inn))


STATUS_COLOUR = {"standard": GREEN, "adjusted": AMBER, "uncertain": RED}


class Dose(Screen):
    title = "drugs"
    keys = "keys_dose"

    def __init__(self, inn):
        self.inn = inn
        self.result = None
        self.logged = 0  # 0 not yet, 1 written, -1 the audit log is full

    def draw(self, ui):
        r = self.result = ui.dose(self.inn)
        if not self.logged:
            self.logged = 1 if ui.audit_dose(r) else -1
        if self.logged < 0:
            ui.text(ui.t("audit_full"), 6, FOOT - LINE, RED)
        ui.text(r["drug_zh"] if ui.lang == ZH else r["drug"], 6, TOP, WHITE)
        ui.text(r["band"], 6, TOP + LINE, GREY)
        status = r["status"]
        ui.c.fill_rect(0, TOP + 2 * LINE, W, LINE, STATUS_COLOUR[status])
        ui.text(ui.t(status), 6, TOP + 2 * LINE, BLACK if status != "uncertain" else WHITE)
        y = TOP + 3 * LINE
        if status == "uncertain":
            ui.text(ui.t("ask"), 6, y, WHITE)
            return
        timing = timing_of(r, ui)
        for d in r["doses"][:1 if timing else 2]:
            ui.text(dose_line(d, ui.lang), 6, y, WHITE)
            y += LINE
        if timing:
            ui.text(timing, 6, y, YELLOW)

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        if b == buttons.SELECT:
            ui.push(Source(self.result or ui.dose(self.inn)))
        elif b == buttons.DOWN:
            r = self.result or ui.dose(self.inn)
            if r["doses"]:
                ui.push(DoseCheck(r))
            else:  # uncertain: nothing to check against, and no number to show
                ui.push(CheckResult(r, dosing.check_dose(r, 0, "mg", ""), 0))
        else:
            Screen.key(self, ui, ev)


def timing_of(r, ui):
    return r["timing_zh"] if ui.lang == ZH else r["timing"]


def dose_line(d, lang):
    s = (d["regimen"] + ": " if d["regimen"] else "") + amount(d["amount_x100"])
    if d["amount_max_x100"]:
        s += "-" + amount(d["amount_max_x100"])
    if d["amount_then_x100"]:
        s += "/" + amount(d["amount_then_x100"])
    s += (" x10^" + str(d["scale"]) if d["scale"] else "") + " " + d["unit"]
    if "absolute_x100" in d:
        s += " = " + amount(d["absolute_x100"]) + " mg"
    f = d["frequency_zh"] if lang == ZH else d["frequency"]
    return s + (" " + f if f else "")


class DoseCheck(Form):
    """Check a prescribed single dose against the band, as a pump's dose-error
    reduction does: regimen (when the band has several), unit, amount, then check."""

    title = "check"

    def __init__(self, result):
        Form.__init__(self)
        self.result = result
        self.doses = result["doses"]
        self.reg = 0
        self.unit = 0
        self.amount = 0
        self.labels = ("regimen", "unit", "prescribed", "check") if len(self.doses) > 1 \
            else ("unit", "prescribed", "check")
        self._default()

    def units(self):
        d = self.doses[self.reg]
        return (d["unit"], "mg") if "absolute_x100" in d and d["unit"] != "mg" else (d["unit"],)

    def _default(self):
        # The band's own largest single dose in the unit chosen (the ceiling the check
        # compares with): the nurse moves from there to the order.
        self.amount = dosing.ceiling_in(self.doses[self.reg], self.units()[self.unit])

    def value_text(self, ui, i):
        key = self.labels[i]
        if key == "regimen":
            return self.doses[self.reg]["regimen"]
        if key == "unit":
            return self.units()[self.unit]
        if key == "prescribed":
            return amount(self.amount) + " " + self.units()[self.unit]
        return ""

    def change(self, ui, i, sign, big):
        key = self.labels[i]
        if key == "regimen":
            self.reg = (self.reg + sign) % len(self.doses)
            self.unit = 0
            self._default()
        elif key == "unit":
            self.unit = (self.unit + sign) % len(self.units())
            self._default()
        else:
            self.amount = clamp(self.amount + sign * sig_step(self.amount, big), 1, PRESCRIBED_MAX)

    def done(self, ui):
        d = self.doses[self.reg]
        verdict = dosing.check_dose(self.result, self.amount, self.units()[self.unit],
                                    d["regimen"])
        logged = ui.audit_dose(self.result, verdict, self.amount)
        ui.stack[-1] = CheckResult(self.result, verdict, self.amount, logged)


VERDICT = {dosing.WITHIN: ("within", GREEN, BLACK), dosing.ABOVE: ("above", RED, WHITE),
           dosing.NOT_CHECKABLE: ("not_checkable", AMBER, BLACK)}


class CheckResult(Screen):
    title = "check"
    keys = "keys_back"

    def __init__(self, result, verdict, prescribed_x100, logged=True):
        self.result = result
        self.verdict = verdict
        self.prescribed = prescribed_x100
        self.logged = logged  # False: the audit log was full

    def draw(self, ui):
        v = self.verdict
        r = self.result
        if not self.logged:
            ui.text(ui.t("audit_full"), 6, FOOT - LINE, RED)
        ui.text(r["drug_zh"] if ui.lang == ZH else r["drug"], 6, TOP, WHITE)
        word, bg, fg = VERDICT[v["verdict"]]
        ui.c.fill_rect(0, TOP + LINE, W, LINE, bg)
        ui.text(ui.t(word), 6, TOP + LINE, fg)
        y = TOP + 2 * LINE
        if v["ceiling_x100"] is None:
            ui.text(ui.t("ask"), 6, y, WHITE)
            return
        ui.text(ui.t("prescribed") + " " + amount(self.prescribed) + " " + v["unit"], 6, y, WHITE)
        ui.text(ui.t("table_max") + " " + amount(v["ceiling_x100"]) + " " + v["unit"], 6,
                y + LINE, WHITE)


class Source(Screen):
    """The rule's citation: where in the source first, then the source; UP/DOWN scroll."""

    title = "source"
    keys = "keys_scroll"

    def __init__(self, result):
        self.result = result
        self.top = 0
        self._lines = None  # wrapped once per language: wrapping measures every character
        self._lang = -1

    def lines(self, ui):
        if self._lang != ui.lang:
            r = self.result
            src = r["source_zh"] if ui.lang == ZH and r["source_zh"] else r["source"]
            self._lines = ui.wrap(r["where"], W - 8) + ui.wrap(src, W - 8)
            self._lang = ui.lang
        return self._lines

    def draw(self, ui):
        y = TOP
        lines = self.lines(ui)
        for i in range(self.top, len(lines)):
            if y > FOOT - LINE:
                break
            ui.text(lines[i], 4, y, YELLOW if i < self.top + 1 and self.top == 0 else WHITE)
            y += LINE

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        if b == buttons.DOWN:
            if self.top + ROWS < len(self.lines(ui)):
                self.top += 1
        elif b == buttons.UP:
            if self.top:
                self.top -= 1
        else:
            Screen.key(self, ui, ev)


