"""The dose check of a prescribed dose, as a smart pump's drug library checks one.

DoseCheck(result) takes a dosing.dose_for result and starts empty: nothing is
prefilled, every field shows "--" and the check is refused until each is entered
(regimen when the rule has several, unit, amount, and the frequency and cycle day when
the rule gives them). CheckResult shows the verdict in words and colour; a dose above
the soft limit, or one that does not match the rule's frequency, cycle day or
capsules, can be given only after an override with a reason chosen from a short list;
a dose above the hard limit is REFUSED, with no override. Every check and every
override is written to the audit log with its inputs.
"""

import buttons
import dosing
from canvas import AMBER, BLACK, GREEN, RED, WHITE, YELLOW
from ui import Form, Menu, Scroll, amount, clamp, sig_step
from ui_text import ZH

PRESCRIBED_MAX = 99999999  # as the protocol's `prescribed` field
EMPTY = "--"


def unit_text(d, unit):
    """A unit as the amount reads: cells carry their power of ten (x10^8 cells)."""
    return ("x10^" + str(d["scale"]) + " " + unit) if d["scale"] and unit == d["unit"] else unit


def _start(ceiling):
    """Where an empty amount starts on its first press: the power of ten at or below
    the rule's dose, so the order is a few presses away. The field itself opens empty:
    a prefilled dose invites checking the table against itself. (The start equals the
    rule's dose only when that is a power of ten, such as 10 mg.)"""
    s = 1
    while ceiling and s * 10 <= ceiling:
        s *= 10
    return s


class DoseCheck(Form):
    title = "check"

    def __init__(self, result):
        Form.__init__(self)
        self.result = result
        self.doses = result["doses"]
        self.reg = 0 if len(self.doses) == 1 else None
        self.unit = None
        self.amount = None
        self.freq = None  # index in dosing.FREQUENCIES
        self.day = None
        self.missing = False  # a check was asked for with a field still empty
        self._reset()

    def dose(self):
        return self.doses[self.reg if self.reg is not None else 0]

    def units(self):
        d = self.dose()
        return (d["unit"], "mg") if "absolute_x100" in d and d["unit"] != "mg" else (d["unit"],)

    def _reset(self):
        """After a regimen is chosen: the rows it needs, and everything after it empty
        (a unit with one choice is no choice and is shown)."""
        d = self.dose() if self.reg is not None else None
        several = len(self.doses) > 1
        freq = d["frequency_code"] if d else any(x["frequency_code"] for x in self.doses)
        cycle = d["cycle_length"] if d else any(x["cycle_length"] for x in self.doses)
        self.labels = ((("regimen",) if several else ()) + ("unit", "prescribed")
                       + (("frequency",) if freq else ()) + (("cycle_day",) if cycle else ())
                       + ("check",))
        self.unit = 0 if d is not None and len(self.units()) == 1 else None
        self.amount = None
        self.freq = None
        self.day = None

    def value_text(self, ui, i):
        key = self.labels[i]
        if key == "check":
            return ui.t("enter_all") if self.missing and self._empty() >= 0 else ""
        if self._value(key) is None:
            return EMPTY
        if key == "regimen":
            return self.dose()["regimen"]
        if key == "unit":
            return self.units()[self.unit]
        if key == "prescribed":
            return amount(self.amount) + " " + unit_text(self.dose(), self.units()[self.unit])
        if key == "frequency":
            return ui.t("freq" + str(dosing.FREQUENCIES[self.freq][0]))
        return str(self.day) + " / " + str(self.dose()["cycle_length"])

    def change(self, ui, i, sign, big):
        key = self.labels[i]
        if key == "regimen":
            self.reg = (0 if sign > 0 else len(self.doses) - 1) if self.reg is None \
                else (self.reg + sign) % len(self.doses)
            self._reset()
        elif self.reg is None:
            return  # nothing else means anything until the regimen is chosen
        elif key == "unit":
            n = len(self.units())
            self.unit = (0 if sign > 0 else n - 1) if self.unit is None else (self.unit + sign) % n
            self.amount = None  # an amount means nothing in another unit
        elif key == "prescribed":
            if self.unit is None:
                return
            if self.amount is None:
                self.amount = _start(dosing.ceiling_in(self.dose(), self.units()[self.unit]))
            else:
                self.amount = clamp(self.amount + sign * sig_step(self.amount, big), 1,
                                    PRESCRIBED_MAX)
        elif key == "frequency":
            n = len(dosing.FREQUENCIES)
            self.freq = (0 if sign > 0 else n - 1) if self.freq is None else (self.freq + sign) % n
        elif key == "cycle_day":
            n = self.dose()["cycle_length"]
            self.day = (1 if sign > 0 else n) if self.day is None else \
                clamp(self.day + sign * (7 if big else 1), 1, n)

    def _empty(self):
        """The first row still empty, or -1."""
        for i in range(len(self.labels) - 1):
            if self._value(self.labels[i]) is None:
                return i
        return -1

    def _value(self, key):
        if key == "regimen":
            return self.reg
        if key == "unit":
            return self.unit
        if key == "prescribed":
            return self.amount
        if key == "frequency":
            return self.freq
        return self.day

    def done(self, ui):
        i = self._empty()
        if i >= 0:
            self.missing = True
            self.field = i
            return
        d = self.dose()
        freq = dosing.FREQUENCIES[self.freq][0] if self.freq is not None else None
        check = dosing.check_dose(self.result, self.amount, self.units()[self.unit],
                                  d["regimen"], freq, self.day)
        ui.stack[-1] = CheckResult(self.result, check, self.amount)

    def draw(self, ui):
        if not self.doses:
            # An uncertain rule: nothing to enter and nothing to check against. Its
            # result (words, no number) takes this screen's place and is audited.
            ui.stack[-1] = CheckResult(self.result, dosing.check_dose(self.result, 0, "mg", ""), 0)
            ui.stack[-1].draw(ui)
            return
        Form.draw(self, ui)

    def value_colour(self, ui, i, value):
        # the rows still empty in red once a check was refused for them
        return RED if self.missing and (value == EMPTY or i == len(self.labels) - 1) else YELLOW


# verdict -> (words, bar colour, text colour); "above" beyond the soft limit is red
VERDICT = {dosing.WITHIN: ("within", GREEN, BLACK), dosing.ABOVE: ("above", AMBER, BLACK),
           dosing.FLAGGED: ("flagged", AMBER, BLACK), dosing.REFUSED: ("refused", RED, WHITE),
           dosing.NOT_CHECKABLE: ("not_checkable", AMBER, BLACK)}


class CheckResult(Scroll):
    """The verdict in words and colour, the amounts compared, and what was flagged
    (wrapped, scrolling under the verdict). `logged` None: the check is written to the
    audit log when first drawn."""

    title = "check"

    def __init__(self, result, check, prescribed_x100, logged=None):
        Scroll.__init__(self)
        self.result = result
        self.verdict = check
        self.prescribed = prescribed_x100
        self.logged = logged  # False: the audit log was full
        self._keys()

    def _keys(self):
        v = self.verdict
        self.keys = "keys_override" if v["override_needed"] and not v["override"] else "keys_scroll"

    def fixed(self, ui):
        v = self.verdict
        r = self.result
        if self.logged is None:
            self.logged = ui.audit_dose(r, v, self.prescribed)
        word, bg, fg = VERDICT[v["verdict"]]
        if v["limit"] == "soft":
            word, bg, fg = "above_soft", RED, WHITE
        return ((r["drug_zh"] if ui.lang == ZH else r["drug"], WHITE, None), (ui.t(word), fg, bg))

    def body(self, ui):
        """The rows below the verdict: what matters first (the log full, an override),
        then the amounts, then each flag. No number at all when nothing was compared."""
        v = self.verdict
        zh = ui.lang == ZH
        out = []
        if not self.logged:
            out.append((ui.t("audit_full"), RED))
        if v["override"]:
            out.append((ui.t("overridden") + " " + ui.t(_reason_key(v["override"])), AMBER))
        if v["ceiling_x100"] is None:
            out.append((ui.t("ask"), WHITE))
            return out
        d = self.result["doses"][0]
        for x in self.result["doses"]:
            if x["regimen"] == v["regimen"]:
                d = x
        u = " " + unit_text(d, v["unit"])
        out.append((ui.t("prescribed") + " " + amount(self.prescribed) + u, WHITE))
        out.append((ui.t("table_max") + " " + amount(v["ceiling_x100"]) + u, WHITE))
        if v["verdict"] == dosing.REFUSED:
            out.append((ui.t("hard_limit") + " " + amount(v["hard_x100"]) + u, RED))
        elif v["limit"] == "soft":
            out.append((ui.t("soft_limit") + " " + amount(v["soft_x100"]) + u, RED))
        for f in v["flags"]:
            if f == dosing.FLAG_FREQUENCY:
                text = ui.t("flag_frequency") + " " + (d["frequency_zh"] if zh else d["frequency"])
            elif f == dosing.FLAG_CYCLE_DAY:
                text = ui.t("flag_day") + " " + (d["cycle_zh"] if zh else d["cycle"])
            else:
                text = ui.t("flag_strength")
            out.append((text, AMBER))
        return out

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        v = self.verdict
        if b == buttons.SELECT and v["override_needed"] and not v["override"]:
            ui.push(Override(self))
        else:
            Scroll.key(self, ui, ev)

    def overridden(self, ui, reason):
        """The override with its reason, written to the audit log as a record of its own."""
        v = dict(self.verdict)
        dosing.override(v, reason)
        self.verdict = v
        self.logged = ui.audit_dose(self.result, v, self.prescribed)
        self._keys()
        self._stamp = None  # the rows now say it was overridden


def _reason_key(reason):
    return "reason" + str(dosing.REASONS.index(reason))


class Override(Menu):
    """Why the dose is given anyway: one reason from a short list, then back to the
    result, which now says OVERRIDDEN and why."""

    def __init__(self, parent):
        items = []
        for reason in dosing.REASONS:
            items.append((_reason_key(reason), _choose(parent, reason)))
        Menu.__init__(self, "override", items)


def _choose(parent, reason):
    def choose(ui):
        parent.overridden(ui, reason)
        ui.stack.pop()
    return choose
