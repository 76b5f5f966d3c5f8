"""The bedside screens: a stack of screens driven by four logical buttons.

UP and DOWN move or change a value (a long press repeats with a bigger step), SELECT
confirms, BACK returns. Every screen is drawn whole on the canvas from the UI's state;
the canvas sends only the rows that changed. Doses come from the active table through
dosing.dose_for, and an uncertain band is shown as words, never as a number.
"""

import body
import buttons
import dosing
import fmt
import renal
import ui_text
from canvas import AMBER, BLACK, BLUE, DARK, GREEN, GREY, RED, WHITE, YELLOW
from limits import AGE, HEIGHT, WEIGHT
from ui_text import EN, ZH

LINE = 19
TOP = 20
W = 240
H = 135


class Screen:
    title = "app"

    def draw(self, ui):
        pass

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.BACK and len(ui.stack) > 1:
            ui.stack.pop()


class Menu(Screen):
    """A list: UP/DOWN move the highlight, SELECT opens."""

    def __init__(self, title, items):
        self.title = title
        self.items = items  # (label bytes/str, action)
        self.sel = 0

    def labels(self, ui):
        return [label for label, _ in self.items]

    def draw(self, ui):
        labels = self.labels(ui)
        first = self.sel - 3 if self.sel > 3 else 0
        for i in range(first, min(len(labels), first + 5)):
            y = TOP + (i - first) * LINE
            if i == self.sel:
                ui.c.fill_rect(0, y, W, LINE, BLUE)
            ui.text(labels[i], 6, y, WHITE)

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        n = len(self.items)
        if b == buttons.UP:
            self.sel = (self.sel - 1) % n
        elif b == buttons.DOWN:
            self.sel = (self.sel + 1) % n
        elif b == buttons.SELECT and buttons.kind_of(ev) == buttons.SHORT:
            self.items[self.sel][1](ui)
        else:
            Screen.key(self, ui, ev)


class Home(Menu):
    def __init__(self):
        Menu.__init__(self, "app", [
            ("patient", lambda ui: ui.push(Patients(ui))),
            ("renal", lambda ui: ui.push(RenalEntry())),
            ("drugs", lambda ui: ui.open_drugs()),
            ("table", lambda ui: ui.push(TableInfo())),
            ("settings", lambda ui: ui.push(Settings())),
        ])

    def labels(self, ui):
        out = [ui.t(k) for k, _ in self.items]
        out[0] = ui.t("patient") + ": " + (ui.patient_code or ui.t("no_patient"))
        t = ui.table()
        out[3] = ui.t("table") + ": " + (t.id + " v" + str(t.version) if t else ui.t("no_table"))
        return out


class Patients(Menu):
    """Choose the patient (codes registered on the device, never names)."""

    def __init__(self, ui):
        codes = [p.code for p in ui.tracker.by_pid] if ui.tracker else []
        items = [(c, _choose(c)) for c in codes] + [("-", _choose(""))]
        Menu.__init__(self, "patient", items)


def _choose(code):
    def pick(ui):
        ui.patient_code = code
        ui.stack.pop()

    return pick


# Entry fields: (label key, attribute, spec or None, short step, long step)
FIELDS = (
    ("age", "age", AGE, 1, 5),
    ("sex", "female", None, 1, 1),
    ("weight", "weight", WEIGHT, 5, 50),
    ("height", "height", HEIGHT, 10, 50),
    ("scr", "scr", ("scr", "mg/dL", 2, 10, 2500), 1, 10),
    ("policy", "policy", None, 1, 1),
    ("dialysis", "dialysis", None, 1, 1),
    ("calculate", "", None, 0, 0),
)


class RenalEntry(Screen):
    title = "renal"

    def __init__(self):
        self.field = 0

    def value_text(self, ui, i):
        label, attr, spec, _, _ = FIELDS[i]
        p = ui.patient
        if attr == "female":
            return ui.t("female" if p.female else "male")
        if attr == "policy":
            return body.POLICY_NAMES[p.policy]
        if attr == "dialysis":
            return ui.t("yes" if p.dialysis else "no")
        if not attr:
            return ""
        return fmt.fixed(getattr(p, attr), spec[2]) + " " + spec[1]

    def draw(self, ui):
        first = self.field - 2 if self.field > 2 else 0
        for i in range(first, min(len(FIELDS), first + 5)):
            y = TOP + (i - first) * LINE
            if i == self.field:
                ui.c.fill_rect(0, y, W, LINE, BLUE)
            ui.text(ui.t(FIELDS[i][0]), 6, y, WHITE)
            ui.text(self.value_text(ui, i), 120, y, YELLOW)

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        kind = buttons.kind_of(ev)
        label, attr, spec, small, big = FIELDS[self.field]
        p = ui.patient
        if b == buttons.SELECT and kind == buttons.SHORT:
            if not attr:
                ui.calculate()
                ui.push(RenalResult())
            else:
                self.field = (self.field + 1) % len(FIELDS)
        elif b in (buttons.UP, buttons.DOWN):
            sign = 1 if b == buttons.UP else -1
            if attr == "female":
                p.female = 1 - p.female
            elif attr == "dialysis":
                p.dialysis = not p.dialysis
            elif attr == "policy":
                p.policy = (p.policy + sign) % len(body.POLICY_NAMES)
            elif spec:
                step = small if kind == buttons.SHORT else big
                v = getattr(p, attr) + sign * step
                v = spec[3] if v < spec[3] else (spec[4] if v > spec[4] else v)  # stays in range
                setattr(p, attr, v)
        else:
            Screen.key(self, ui, ev)


class RenalResult(Screen):
    title = "renal"

    def draw(self, ui):
        r = ui.renal
        y = TOP
        ui.text(ui.t("crcl") + " " + fmt.fixed(r.crcl_x10, 1) + " mL/min", 6, y, WHITE)
        y += LINE
        ui.text(ui.t("egfr") + " " + fmt.fixed(r.egfr_x10, 1) + "  " + ui.t("bsa") + " "
                + fmt.fixed(r.bsa_x100, 2) + " m²", 6, y, WHITE)
        y += LINE
        ui.text(ui.t("weight_used") + " " + fmt.fixed(r.weight_x10, 1) + " kg ("
                + body.POLICY_NAMES[r.basis] + ")", 6, y, GREY)
        y += LINE
        if r.imwg:
            ui.text(ui.t("imwg"), 6, y, AMBER)
            y += LINE
        if r.warnings & renal.W_DIALYSIS:
            ui.text(ui.t("on_dialysis"), 6, y, RED)
        elif r.warnings & renal.W_AKI:
            ui.text(ui.t("aki"), 6, y, RED)

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.SELECT:
            ui.open_drugs()
        else:
            Screen.key(self, ui, ev)


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

    def __init__(self, inn):
        self.inn = inn
        self.result = None
        self.logged = 0  # 0 not yet, 1 written, -1 the audit log is full

    def draw(self, ui):
        r = self.result = ui.dose(self.inn)
        if not self.logged:
            self.logged = 1 if ui.audit_dose(r) else -1
        if self.logged < 0:
            ui.text(ui.t("audit_full"), 6, H - 2 * LINE, RED)
        ui.text(r["drug_zh"] if ui.lang == ZH else r["drug"], 6, TOP, WHITE)
        ui.text(r["band"], 6, TOP + LINE, GREY)
        status = r["status"]
        ui.c.fill_rect(0, TOP + 2 * LINE, W, LINE, STATUS_COLOUR[status])
        ui.text(ui.t(status), 6, TOP + 2 * LINE, BLACK if status != "uncertain" else WHITE)
        y = TOP + 3 * LINE
        if status == "uncertain":
            ui.text(ui.t("ask"), 6, y, WHITE)
            return
        for d in r["doses"][:1 if timing_of(r, ui) else 2]:
            ui.text(_dose_line(d, ui.lang), 6, y, WHITE)
            y += LINE
        timing = timing_of(r, ui)
        if timing:
            ui.text(timing, 6, y, YELLOW)
        if ui.table_expired():
            ui.text(ui.t("expired"), 130, y, RED)

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.SELECT:
            ui.push(Source(self.result or ui.dose(self.inn)))
        else:
            Screen.key(self, ui, ev)


def timing_of(r, ui):
    return r["timing_zh"] if ui.lang == ZH else r["timing"]


def _amount(x100):
    return fmt.fixed(x100, 2).rstrip("0").rstrip(".") if x100 % 100 else str(x100 // 100)


def _dose_line(d, lang):
    s = (d["regimen"] + ": " if d["regimen"] else "") + _amount(d["amount_x100"])
    if d["amount_max_x100"]:
        s += "-" + _amount(d["amount_max_x100"])
    if d["amount_then_x100"]:
        s += "/" + _amount(d["amount_then_x100"])
    s += (" x10^" + str(d["scale"]) if d["scale"] else "") + " " + d["unit"]
    if "absolute_x100" in d:
        s += " = " + _amount(d["absolute_x100"]) + " mg"
    f = d["frequency_zh"] if lang == ZH else d["frequency"]
    return s + (" " + f if f else "")


class Source(Screen):
    """The rule's citation: where in the source first, then the source; UP/DOWN scroll."""

    title = "source"

    def __init__(self, result):
        self.result = result
        self.top = 0

    def lines(self, ui):
        r = self.result
        src = r["source_zh"] if ui.lang == ZH and r["source_zh"] else r["source"]
        return ui.wrap(r["where"], W - 8) + ui.wrap(src, W - 8)

    def draw(self, ui):
        y = TOP
        lines = self.lines(ui)
        for i in range(self.top, len(lines)):
            if y > H - 2 * LINE:
                break
            ui.text(lines[i], 4, y, YELLOW if i < self.top + 1 and self.top == 0 else WHITE)
            y += LINE

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        if b == buttons.DOWN:
            if self.top + 5 < len(self.lines(ui)):
                self.top += 1
        elif b == buttons.UP:
            if self.top:
                self.top -= 1
        else:
            Screen.key(self, ui, ev)


class TableInfo(Screen):
    title = "table"

    def draw(self, ui):
        t = ui.table()
        if t is None:
            ui.text(ui.t("no_table"), 6, TOP, RED)
            return
        import clock

        ui.text(t.id + " " + ui.t("version") + " " + str(t.version), 6, TOP, WHITE)
        ui.text(ui.t("expires") + " " + clock.iso(t.expires * 1440)[:10], 6, TOP + LINE, WHITE)
        ui.text(ui.t("approver") + ": " + t.approver, 6, TOP + 2 * LINE, GREY)
        ui.text("sha256 " + ("%02x" * 8) % tuple(t.sha[:8]), 6, TOP + 3 * LINE, GREY)


class Settings(Screen):
    title = "settings"

    def draw(self, ui):
        ui.c.fill_rect(0, TOP, W, LINE, BLUE)
        ui.text(ui.t("language") + ": " + ui.t("lang_name"), 6, TOP, WHITE)

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        if b in (buttons.UP, buttons.DOWN, buttons.SELECT):
            ui.lang = ZH if ui.lang == EN else EN
        else:
            Screen.key(self, ui, ev)


class SafeScreen(Screen):
    """A clear state instead of a crash or a blank display."""

    def __init__(self, title, line1, line2):
        self.title = title
        self.lines = (line1, line2)

    def draw(self, ui):
        ui.c.fill_rect(0, TOP, W, 2 * LINE, RED)
        ui.text(ui.t(self.lines[0]), 6, TOP, WHITE)
        ui.text(ui.t(self.lines[1]), 6, TOP + LINE, WHITE)


class Patient:
    def __init__(self):
        self.age = 60
        self.female = 1
        self.weight = 700
        self.height = 1650
        self.scr = 100  # 0.01 mg/dL
        self.policy = body.ACTUAL
        self.dialysis = False


class UI:
    def __init__(self, canvas, writer, store, now=None, audit=None, tracker=None):
        self.c = canvas
        self.w = writer
        self.store = store  # tablestore.Store (or anything with .table)
        self.now = now  # callable giving minutes, for the expiry check and the audit log
        self.audit = audit  # audit.Audit: every dose shown is logged
        self.tracker = tracker  # flcstore.Tracker: the registered patient codes
        self.patient_code = ""
        self.lang = EN
        self.patient = Patient()
        self.renal = renal.Renal()
        self.computed = False
        self.stack = [Home()]
        self.log = None  # a list to collect the text drawn (tests, simulator)
        t = self.table()
        if t is not None:
            self.patient.policy = t.weight_policy

    def t(self, key):
        return ui_text.t(key, self.lang)

    def text(self, s, x, y, color):
        if self.log is not None:
            self.log.append(s)
        return self.w.text(s, x, y, color)

    def wrap(self, s, width):
        lines = []
        line = ""
        for ch in s:
            if self.w.width(line + ch) > width:
                cut = line.rfind(" ")
                if cut > 10 and ch != " ":
                    lines.append(line[:cut])
                    line = line[cut + 1:] + ch
                else:
                    lines.append(line)
                    line = "" if ch == " " else ch
            else:
                line += ch
        if line:
            lines.append(line)
        return lines

    def table(self):
        return self.store.table if self.store else None

    def table_expired(self):
        t = self.table()
        return bool(t and self.now and self.now() // 1440 > t.expires)

    def push(self, screen):
        self.stack.append(screen)

    def open_drugs(self):
        t = self.table()
        if t is None:
            self.push(SafeScreen("drugs", "no_table", "no_table_2"))
        elif not self.computed:
            self.push(RenalEntry())
        else:
            self.push(Drugs(t))

    def calculate(self):
        p = self.patient
        renal.assess(self.renal, p.age, p.female, p.weight, p.height, p.scr * 884, p.policy,
                     120, p.dialysis, 0)
        self.computed = True

    def dose(self, inn):
        r = self.renal
        return dosing.dose_for(self.table(), inn, r.crcl_x10, r.egfr_x10, self.patient.dialysis,
                               r.bsa_x100, self.patient.weight)

    def audit_dose(self, result):
        """Log a dose shown; False when the audit log is full."""
        if self.audit is None:
            return True
        import audit

        r = self.renal
        return self.audit.record(audit.T_DOSE, self.now() if self.now else 0, self.patient_code,
                                 result, r.crcl_x10, r.egfr_x10, self.patient.dialysis,
                                 self.table().version)

    def key(self, ev):
        self.stack[-1].key(self, ev)

    def draw(self):
        c = self.c
        c.fill(BLACK)
        c.fill_rect(0, 0, W, 18, DARK)
        screen = self.stack[-1]
        self.text(self.t(screen.title) if screen.title in ui_text.T else screen.title, 4, 0, WHITE)
        other = ui_text.T["lang_name"][1 - self.lang]  # the language SETTINGS switches to
        self.text(other, W - 4 - self.w.width(other), 0, GREY)
        try:
            screen.draw(self)
        except Exception as e:  # never a blank screen or a crash: a safe screen instead
            import sys

            sys.print_exception(e, sys.stderr)  # logged, the screen stays readable
            self.stack = [Home(), SafeScreen("app", "error", "ask")]
            c.fill(BLACK)
            self.stack[-1].draw(self)
        c.fill_rect(0, H - 17, W, 17, DARK)
        self.text(self.t("keys"), 4, H - 18, GREY)
        c.touch(0, H)
        return c.push()
