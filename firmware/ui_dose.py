"""The dose screens: the drug list, the dose for this patient with its status in words
and colour, the rule's citation, and the check of a prescribed dose."""

import buttons
import fmt
from canvas import AMBER, BLACK, GREEN, GREY, RED, WHITE, YELLOW
from ui import POLICY_WORDS, WEIGHT_WARNINGS, Menu, Scroll, amount
from ui_text import ZH


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


class Dose(Scroll):
    """The whole rule for this patient, never a part of it: status (provisional while
    creatinine changes), the table's state, every regimen with its first and later
    amounts (and mg for this patient), frequency, cycle days, timing, notes, the basis
    (kidney function, weight, creatinine and its age), warnings, the source and the
    table. UP/DOWN scroll; SELECT checks a prescribed dose."""

    title = "drugs"
    keys = "keys_dose"

    def __init__(self, inn):
        Scroll.__init__(self)
        self.inn = inn
        self.result = None
        self.logged = 0  # 0 not yet, 1 written, -1 the audit log is full

    def fixed(self, ui):
        r = self.result
        if r is None:
            r = self.result = ui.dose(self.inn)
            self.logged = 1 if ui.audit_dose(r) else -1
        status = r["status"]
        word = ui.t(status)
        if ui.aki() and status != "uncertain":  # a CrCl-keyed dose while creatinine changes
            word = ui.t("provisional") + " " + word
        rows = [(word, BLACK if status != "uncertain" else WHITE, STATUS_COLOUR[status])]
        banner = ui.table_mark()[1]
        if banner:
            rows.append((ui.t(banner), WHITE, RED))
        if ui.aki():
            rows.append((ui.t("aki_banner"), BLACK, AMBER))
        if self.logged < 0:
            rows.append((ui.t("audit_full"), WHITE, RED))
        return rows

    def body(self, ui):
        r = self.result
        zh = ui.lang == ZH
        out = [((r["drug_zh"] + "（" + r["route_zh"] + "）") if zh else
                (r["drug"] + " (" + r["route"] + ")"), WHITE),
               (r["band_zh"] if zh else r["band"], GREY)]
        if r["status"] == "uncertain":
            out.append((ui.t("ask"), WHITE))  # the source gives no dose: no number at all
        for d in r["doses"]:
            out += dose_lines(d, ui)
        if r["timing"]:
            out.append((ui.t("timing") + ": " + (r["timing_zh"] if zh else r["timing"]), YELLOW))
        note = r["note_zh"] if zh and r["note_zh"] else r["note"]
        if note:
            out.append((ui.t("note") + ": " + note, YELLOW))
        if r["strengths_x100"]:  # what the pharmacy can give: whole capsules or vials
            out.append((ui.t(r["form"] or "strengths") + ": "
                        + ", ".join(amount(x) for x in r["strengths_x100"]) + " mg", GREY))
        out += basis_lines(r, ui)
        out.append((ui.t("source") + ": " + (r["where_zh"] if zh else r["where"]), GREY))
        out.append((r["source_zh"] if zh and r["source_zh"] else r["source"], GREY))
        if r["dosing_where"]:  # the schedule (frequency, cycle days) has its own source
            out.append((ui.t("schedule") + ": " + (r["dosing_where_zh"] if zh else r["dosing_where"]),
                        GREY))
            out.append((r["dosing_source_zh"] if zh else r["dosing_source"], GREY))
        sha8, _ = ui.table_mark()
        t = ui.table()
        out.append((ui.t("table") + " " + t.id + " v" + str(t.version) + " " + sha8, GREY))
        return out

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.SELECT and buttons.kind_of(ev) == buttons.SHORT:
            ui.open("ui_check", "DoseCheck", self.result or ui.dose(self.inn))
        else:
            Scroll.key(self, ui, ev)


def dose_lines(d, ui):
    """One dose entry as the nurse reads it: first and later amounts in the table's
    unit, the same in mg for this patient, then how often and on which cycle days."""
    unit = unit_text(d)
    comma = "，" if ui.lang == ZH else ", "
    first = amount(d["amount_x100"]) + (("-" + amount(d["amount_max_x100"])) if d["amount_max_x100"] else "")
    if d["amount_then_x100"]:
        s = ui.t("first") + " " + first + " " + unit + comma + ui.t("then") + " " \
            + amount(d["amount_then_x100"]) + " " + unit
    else:
        s = first + " " + unit
    out = [((d["regimen"] + ": " if d["regimen"] else "") + s, WHITE)]
    if "absolute_x100" in d:
        a = amount(d["absolute_x100"]) + (("-" + amount(d["absolute_max_x100"])) if d["absolute_max_x100"] else "")
        if d["absolute_then_x100"]:
            a = ui.t("first") + " " + a + " mg" + comma + ui.t("then") + " " + amount(d["absolute_then_x100"]) + " mg"
        else:
            a += " mg"
        out.append(("= " + a + " " + ui.t("this_patient"), WHITE))
    zh = ui.lang == ZH
    how = (d["frequency_zh"] if zh else d["frequency"]) or ""
    cycle = (d["cycle_zh"] if zh else d["cycle"]) or ""
    if how or cycle:
        out.append((how + (comma if how and cycle else "") + cycle, WHITE))
    return out


def unit_text(d):
    u = d["unit"].replace("m2", "m²")
    return ("x10^" + str(d["scale"]) + " " + u) if d["scale"] else u


def basis_lines(r, ui):
    """What the dose rests on: the kidney function it was looked up with, the weight
    and body surface for per-kg and per-m2 amounts, the creatinine and its age, and
    the assessment's weight warnings."""
    rn = ui.renal
    if ui.patient.dialysis:
        out = [(ui.t("basis") + ": " + ui.t("on_dialysis"), GREY)]
    elif r["keyed_to"] == "egfr":
        out = [(ui.t("basis") + ": eGFR " + fmt.fixed(rn.egfr_x10, 1) + " mL/min/1.73 m²", GREY)]
    else:
        out = [(ui.t("basis") + ": CrCl " + fmt.fixed(rn.crcl_x10, 1) + " mL/min, "
                + fmt.fixed(rn.weight_x10, 1) + " kg " + ui.t(POLICY_WORDS[rn.basis])
                + " (" + ui.t("policy") + ": " + ui.t(POLICY_WORDS[rn.policy]) + ")", GREY)]
    units = [d["unit"] for d in r["doses"]]
    if "mg/kg" in units:
        out.append((ui.t("per_kg_actual") + " " + fmt.fixed(ui.patient.weight, 1) + " kg", GREY))
    if "mg/m2" in units:
        s = ui.t("bsa") + " " + fmt.fixed(r["bsa_used_x100"], 2) + " m²"
        if r["bsa_capped"]:
            s += " (" + ui.t("bsa_capped") + " " + fmt.fixed(rn.bsa_x100, 2) + " m²)"
        out.append((s, AMBER if r["bsa_capped"] else GREY))
    out.append((ui.drawn_text(), GREY))
    for bit, key in WEIGHT_WARNINGS:
        if rn.warnings & bit:
            out.append((ui.t(key), AMBER))
    return out
