"""The bedside screens: a stack of screens driven by four logical buttons.

UP and DOWN move or change a value (a long press repeats with a bigger step), SELECT
confirms, BACK returns. Every screen is drawn whole on the canvas from the UI's state;
the canvas sends only the rows that changed. Doses come from the active table through
dosing.dose_for, and an uncertain band is shown as words, never as a number. No dose
is shown from an expired table or without a set clock (its expiry cannot be judged).
The doses (ui_dose), table and settings (ui_settings) and FLC (ui_flc) screens are
imported when first opened, so a board holds only the code in use.
"""

from array import array

import audit
import body
import buttons
import clock
import dosing
import fmt
import kdigo
import renal
import ui_text
from canvas import AMBER, BLACK, BLUE, DARK, GREY, RED, WHITE, YELLOW
from limits import AGE, HEIGHT, SCR_NMOL_HIGH, SCR_NMOL_LOW, WEIGHT, InputError
from ui_text import EN, ZH

LINE = 19
TOP = 20
W = 240
H = 135
FOOT = H - 17  # the key-hint bar
ROWS = 5  # list rows between the title bar and the key-hint bar
CLOCK_SET = clock.days_from_civil(clock.SET_YEAR, 1, 1) * 1440
NMOL_MG_DL = 884  # nmol/L per 0.01 mg/dL (88.4 umol/L per mg/dL)
NMOL_UMOL = 1000
SCR_UMOL_LOW = 9000  # 9 umol/L: the first whole umol/L at or above 0.10 mg/dL
MG_DL = 0
UMOL_L = 1
SETTINGS = "settings.txt"  # on the flash: "language unit"
SCR_PLAUSIBLE_LOW = 26520  # 0.30 mg/dL: below it, ask whether the unit is right
SCR_PLAUSIBLE_HIGH = 1326000  # 15.00 mg/dL (1,326 umol/L): above it, the same
DRAWN_BACK = 7 * 1440  # a creatinine's draw time may be entered up to a week back


def clamp(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


def sig_step(v, big):
    """A step that changes the third significant digit of v (the tenth of the second
    with a long press), so a lab value of any size is reached in a few presses."""
    s = 1
    while s * 1000 <= v:
        s *= 10
    return s * 10 if big else s


def snap_scr(nmol, unit):
    """Creatinine onto the grid of a unit (0.01 mg/dL or 1 umol/L), so the value shown
    is the value computed with."""
    if unit == UMOL_L:
        return clamp((nmol + NMOL_UMOL // 2) // NMOL_UMOL * NMOL_UMOL, SCR_UMOL_LOW, SCR_NMOL_HIGH)
    return clamp((nmol + NMOL_MG_DL // 2) // NMOL_MG_DL * NMOL_MG_DL, SCR_NMOL_LOW, SCR_NMOL_HIGH)


def scr_text(nmol, unit):
    if unit == UMOL_L:
        return str(nmol // NMOL_UMOL) + " µmol/L"
    return fmt.fixed((nmol + NMOL_MG_DL // 2) // NMOL_MG_DL, 2) + " mg/dL"  # exact on its grid


def amount(x100):
    """0.01 units as the shortest exact decimal: 1000 -> '10', 250 -> '2.5'."""
    return fmt.fixed(x100, 2).rstrip("0").rstrip(".") if x100 % 100 else str(x100 // 100)


class Screen:
    title = "app"
    keys = "keys"  # the key-hint line for this screen

    def draw(self, ui):
        pass

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.BACK and len(ui.stack) > 1:
            ui.stack.pop()


class Menu(Screen):
    """A list: UP/DOWN move the highlight, SELECT opens."""

    def __init__(self, title, items):
        self.title = title
        self.items = items  # (label key or text, action)
        self.sel = 0

    def labels(self, ui):
        return [ui.t(k) if k in ui_text.T else k for k, _ in self.items]

    def colour(self, ui, i):
        return WHITE

    def draw(self, ui):
        labels = self.labels(ui)
        first = self.sel - (ROWS - 2) if self.sel > ROWS - 2 else 0
        for i in range(first, min(len(labels), first + ROWS)):
            y = TOP + (i - first) * LINE
            if i == self.sel:
                ui.c.fill_rect(0, y, W, LINE, BLUE)
            ui.text(labels[i], 6, y, self.colour(ui, i))

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


class Form(Screen):
    """Fields one per row: UP/DOWN change the highlighted value (a long press takes a
    bigger step and repeats), SELECT goes to the next field, and SELECT on the last row
    (the action) does the form's work."""

    keys = "keys_form"
    labels = ()  # label keys; the last is the action

    def __init__(self):
        self.field = 0

    def value_text(self, ui, i):
        return ""

    def change(self, ui, i, sign, big):
        pass

    def done(self, ui):
        pass

    def value_colour(self, ui, i, value):
        return YELLOW

    def draw(self, ui):
        first = self.field - (ROWS - 3) if self.field > ROWS - 3 else 0
        for i in range(first, min(len(self.labels), first + ROWS)):
            y = TOP + (i - first) * LINE
            if i == self.field:
                ui.c.fill_rect(0, y, W, LINE, BLUE)
            ui.text(ui.t(self.labels[i]), 6, y, WHITE)
            value = self.value_text(ui, i)
            # the value column, or further left for a long value, never past the edge
            ui.text(value, min(120, W - 4 - ui.w.width(value)), y, self.value_colour(ui, i, value))

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        kind = buttons.kind_of(ev)
        if b == buttons.SELECT and kind == buttons.SHORT:
            if self.field == len(self.labels) - 1:
                self.done(ui)
            else:
                self.field += 1
        elif b in (buttons.UP, buttons.DOWN) and self.field < len(self.labels) - 1:
            self.change(ui, self.field, 1 if b == buttons.UP else -1, kind != buttons.SHORT)
        else:
            Screen.key(self, ui, ev)


class Home(Menu):
    def __init__(self):
        Menu.__init__(self, "app", [
            ("patient", lambda ui: ui.push(Patients(ui))),
            ("renal", lambda ui: ui.open_renal()),
            ("drugs", lambda ui: ui.open_drugs()),
            ("flc", lambda ui: ui.open_flc()),
            ("table", lambda ui: ui.open("ui_settings", "TableInfo")),
            ("settings", lambda ui: ui.open("ui_settings", "Settings")),
        ])

    def labels(self, ui):
        out = Menu.labels(self, ui)
        out[0] = ui.t("patient") + ": " + (ui.patient_code or ui.t("no_patient"))
        t = ui.table()
        if t is None:
            out[4] = ui.t("no_table")
        else:
            out[4] = (ui.t("table") + " v" + str(t.version) + " " + ui.t("to") + " "
                      + clock.iso(t.expires * 1440)[:10])
        # Settings in both languages, so a reader of either finds the language switch.
        out[5] += " · " + ui_text.T["settings"][1 - ui.lang]
        return out

    def colour(self, ui, i):
        if i == 0 and ui.patient_code:
            return YELLOW
        if i == 4 and (ui.table() is None or ui.table_expired()):
            return RED
        return WHITE


class Patients(Menu):
    """Choose the patient (codes registered on the device, never names), or add one."""

    def __init__(self, ui, then=None):
        self.then = then  # what to open once a patient is chosen
        codes = [p.code for p in ui.tracker.by_pid] if ui.tracker else []
        items = [(c, _choose(c)) for c in codes]
        if ui.tracker:
            items.append(("new_patient", lambda ui: ui.open_flc_screen("NewPatient")))
        items.append(("-", _choose("")))
        Menu.__init__(self, "patient", items)


def _choose(code):
    def pick(ui):
        ui.choose_patient(code)
        then = ui.stack.pop().then
        if then and code:
            then(ui)

    return pick


class RenalEntry(Form):
    """The kidney-function entries of the chosen patient. Every field starts empty ("--")
    and blocks the result until entered: nothing about a patient is assumed. The first
    UP or DOWN on an empty number shows a starting point (START) that the nurse then
    moves to the patient's value; the creatinine's draw time starts at the clock. A long
    SELECT on any row calculates (the draw time and the table's weight rule are rows a
    nurse seldom changes)."""

    title = "renal"
    labels = ("age", "sex", "weight", "height", "scr", "dialysis", "drawn", "policy", "calculate")
    # Where a number starts on its first press: mid-range for an adult with myeloma, so
    # a typical value is a few presses away. Shown at once; never used unless moved to.
    AGE_START = 65
    WEIGHT_START = 700  # 70.0 kg
    HEIGHT_START = 1650  # 165.0 cm
    SCR_START = 88400  # 1.00 mg/dL (88 umol/L on that grid)

    def entries(self, ui):
        """The patient's values by row (None: not entered)."""
        p = ui.patient
        return {"age": p.age, "sex": p.female, "weight": p.weight, "height": p.height,
                "scr": p.scr_nmol, "dialysis": p.dialysis}

    def value_text(self, ui, i):
        p = ui.patient
        key = self.labels[i]
        if key == "drawn":
            return when_text(ui, p.drawn if p.drawn is not None else ui.now())
        if key == "policy":
            return ui.t(POLICY_WORDS[p.policy])
        v = self.entries(ui).get(key, 0)
        if v is None:
            return "--"
        if key == "age":
            return str(v) + " " + ui.t("years")
        if key == "sex":
            return ui.t("female" if v else "male")
        if key == "weight":
            return fmt.fixed(v, 1) + " kg"
        if key == "height":
            return fmt.fixed(v, 1) + " cm"
        if key == "scr":
            return scr_text(v, ui.scr_unit)
        if key == "dialysis":
            return ui.t("yes" if v else "no")
        return ""

    def change(self, ui, i, sign, big):
        p = ui.patient
        key = self.labels[i]
        if key == "age":
            p.age = self.AGE_START if p.age is None else clamp(p.age + sign * (5 if big else 1), AGE[3], AGE[4])
        elif key == "sex":
            p.female = 1 if sign > 0 else 0  # UP female, DOWN male
        elif key == "weight":
            p.weight = self.WEIGHT_START if p.weight is None else clamp(
                p.weight + sign * (50 if big else 5), WEIGHT[3], WEIGHT[4])
        elif key == "height":
            p.height = self.HEIGHT_START if p.height is None else clamp(
                p.height + sign * (50 if big else 10), HEIGHT[3], HEIGHT[4])
        elif key == "scr":
            if p.scr_nmol is None:
                p.scr_nmol = snap_scr(self.SCR_START, ui.scr_unit)
            else:
                step = NMOL_UMOL if ui.scr_unit == UMOL_L else NMOL_MG_DL
                p.scr_nmol = snap_scr(p.scr_nmol + sign * step * (10 if big else 1), ui.scr_unit)
        elif key == "dialysis":
            p.dialysis = sign > 0  # UP yes, DOWN no
        elif key == "drawn":
            now = ui.now()
            t = (p.drawn if p.drawn is not None else now - now % 15) + sign * (60 if big else 15)
            p.drawn = clamp(t, now - DRAWN_BACK, now)  # never in the future
        elif key == "policy":
            p.policy = (p.policy + sign) % len(body.POLICY_NAMES)

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.SELECT and buttons.kind_of(ev) == buttons.LONG:
            self.done(ui)
        else:
            Form.key(self, ui, ev)

    confirmed = 0  # a creatinine outside the plausible range, confirmed by calculating again

    def done(self, ui):
        values = self.entries(ui)
        gaps = [k for k in self.labels if k in values and values[k] is None]
        if gaps:
            self.field = self.labels.index(gaps[0])  # back on the first one to enter
            ui.safe("renal", "not_entered", "enter_each", ", ".join(ui.t(k) for k in gaps))
            return
        nmol = ui.patient.scr_nmol
        if (nmol < SCR_PLAUSIBLE_LOW or nmol > SCR_PLAUSIBLE_HIGH) and self.confirmed != nmol:
            # Most often the other unit's number (a umol/L value typed as mg/dL stops at
            # 25 mg/dL; a mg/dL value typed as umol/L is below 30): say it, both units.
            self.confirmed = nmol
            ui.safe("renal", "scr_check_unit", "calculate_again",
                    scr_text(nmol, MG_DL) + " = " + scr_text(snap_scr(nmol, UMOL_L), UMOL_L))
            return
        if ui.calculate():
            ui.push(RenalResult())


class Scroll(Screen):
    """Fixed rows that never scroll away (a status or warning a nurse must not miss),
    then lines that UP/DOWN scroll, so a screen can hold the whole of a rule, never a
    part of it. Subclasses give fixed(ui) -> [(text, fg, bg or None)] and body(ui) ->
    [(text, colour)]; the body is wrapped once per language and minute (its ages)."""

    keys = "keys_scroll"

    def __init__(self):
        self.top = 0
        self.rows = ROWS
        self._lines = None
        self._stamp = None

    def fixed(self, ui):
        return ()

    def body(self, ui):
        return ()

    def lines(self, ui):
        stamp = (ui.lang, ui.now())
        if self._stamp != stamp:
            out = []
            for text, colour in self.body(ui):
                for part in ui.wrap(text, W - 16):
                    out.append((part, colour))
            self._lines = out
            self._stamp = stamp
        return self._lines

    def draw(self, ui):
        y = TOP
        for text, fg, bg in self.fixed(ui):
            if bg is not None:
                ui.c.fill_rect(0, y, W, LINE, bg)
            ui.text(text, 6, y, fg)
            y += LINE
        lines = self.lines(ui)
        self.rows = rows = (FOOT - y) // LINE
        self.top = min(self.top, max(0, len(lines) - rows))
        first = y
        for i in range(self.top, min(len(lines), self.top + rows)):
            ui.text(lines[i][0], 6, y, lines[i][1])
            y += LINE
        if len(lines) > rows:  # a scroll bar: there is more than the rows show
            h = rows * LINE
            ui.c.fill_rect(W - 4, first, 3, h, DARK)
            ui.c.fill_rect(W - 4, first + h * self.top // len(lines), 3,
                           max(4, h * rows // len(lines)), GREY)

    def key(self, ui, ev):
        b = buttons.button_of(ev)
        if b == buttons.DOWN:
            if self.top + self.rows < len(self.lines(ui)):
                self.top += 1
        elif b == buttons.UP:
            if self.top:
                self.top -= 1
        else:
            Screen.key(self, ui, ev)


class RenalResult(Scroll):
    """The assessment with its basis: the weight and rule CG used, the creatinine with
    its draw time and age, and every warning."""

    title = "renal"
    keys = "keys_result"

    def fixed(self, ui):
        # Above the numbers, never scrolled away: the reason the CrCl is not valid.
        if ui.renal.warnings & renal.W_DIALYSIS:
            return ((ui.t("on_dialysis"), WHITE, RED),)
        if ui.aki():
            return ((ui.t("aki"), WHITE, RED),)
        return ()

    def body(self, ui):
        r = ui.renal
        out = [(ui.t("crcl") + " " + fmt.fixed(r.crcl_x10, 1) + " mL/min", WHITE),
               (ui.t("egfr") + " " + fmt.fixed(r.egfr_x10, 1) + " mL/min/1.73 m²", WHITE),
               (ui.t("weight_used") + " " + fmt.fixed(r.weight_x10, 1) + " kg ("
                + ui.t(POLICY_WORDS[r.basis]) + ")", GREY),
               (ui.t("bsa") + " " + fmt.fixed(r.bsa_x100, 2) + " m²", GREY),
               (ui.drawn_text(), GREY)]
        if r.imwg:
            out.append((ui.t("imwg"), AMBER))
        for bit, key in WEIGHT_WARNINGS:
            if r.warnings & bit:
                out.append((ui.t(key), AMBER))
        return out

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.SELECT:
            ui.open_drugs()
        else:
            Scroll.key(self, ui, ev)


# The weight rules and the weight used (body.POLICY_NAMES order), as words.
POLICY_WORDS = ("wt_actual", "wt_ideal", "wt_adjusted", "wt_bmi", "wt_pharmacy")
# The renal assessment's warnings about the weight Cockcroft-Gault used, as words.
WEIGHT_WARNINGS = ((renal.W_SHORT, "w_short"), (renal.W_IDEAL_OVER_ACTUAL, "w_ideal_over_actual"))


def when_text(ui, m):
    """A time of day with its date, as the ward reads it: '11-26 07:00'."""
    s = clock.iso(m)
    return s[5:10] + " " + s[11:16]


class SafeScreen(Screen):
    """A clear state instead of a crash or a blank display."""

    keys = "keys_back"

    def __init__(self, title, line1, line2, detail=""):
        self.title = title
        self.lines = (line1, line2)
        self.detail = detail  # e.g. the field and limit of a refused value

    def draw(self, ui):
        # What happened and what to do, on red, wrapped (never cut at the edge); then
        # the detail in the rows left.
        y = TOP
        for key in self.lines:
            for line in ui.wrap(ui.t(key), W - 12):
                ui.c.fill_rect(0, y, W, LINE, RED)
                ui.text(line, 6, y, WHITE)
                y += LINE
        for line in ui.wrap(self.detail, W - 12)[:(FOOT - y) // LINE]:
            ui.text(line, 6, y, YELLOW)
            y += LINE


class AkiAck(Screen):
    """Creatinine is changing: Cockcroft-Gault overstates kidney function, so the
    CrCl-keyed doses that follow are provisional. The nurse acknowledges it once per
    patient and day (audited) before the drug list opens."""

    title = "drugs"
    keys = "keys_ack"

    def draw(self, ui):
        ui.c.fill_rect(0, TOP, W, LINE, RED)
        ui.text(ui.t("aki_banner"), 6, TOP, WHITE)
        y = TOP + LINE
        for line in ui.wrap(ui.t("aki_ack_text").format(s=ui.key_names[2]), W - 12)[:3]:
            ui.text(line, 6, y, YELLOW)
            y += LINE

    def key(self, ui, ev):
        if buttons.button_of(ev) == buttons.SELECT and buttons.kind_of(ev) == buttons.SHORT:
            ui.acknowledge_aki()
            ui.stack.pop()
            ui.open_drugs()
        else:
            Screen.key(self, ui, ev)


class Patient:
    """What the nurse entered for the chosen patient: None until entered, never a
    default (a value right for one patient is a hazard for the next)."""

    def __init__(self, policy):
        self.age = None
        self.female = None
        self.weight = None
        self.height = None
        self.scr_nmol = None
        self.drawn = None  # when the creatinine's blood was drawn; None: the clock now
        self.policy = policy  # the institution's weight rule (the table's), not a patient fact
        self.dialysis = None


class UI:
    def __init__(self, canvas, writer, store, now=None, audit=None, tracker=None,
                 set_time=None, key_names=("A", "B", "X", "Y"), power=None):
        self.c = canvas
        self.w = writer
        self.store = store  # tablestore.Store (or anything with .table)
        self.now = now or clock.now  # minutes, for expiry, the audit log and FLC samples
        self.set_time = set_time or clock.set_clock
        self.audit = audit  # audit.Audit: every dose shown or checked is logged
        self.tracker = tracker  # flcstore.Tracker: patients and their FLC samples
        self.key_names = key_names  # the board's labels for UP, DOWN, SELECT, BACK
        self.power = power  # board.power, where the board can read it
        self.patient_code = ""
        self.lang = EN
        self.scr_unit = MG_DL
        self.load_settings()
        self.patient = self.new_patient()
        self.renal = renal.Renal()
        self.computed = False
        self.drawn = 0  # when the blood of the result's creatinine was drawn
        self.rising = False  # creatinine up 0.3 mg/dL on the past week's lowest
        self.aki_ack = None  # (patient code, day) the AKI warning was acknowledged
        self.stack = [Home()]
        self.log = None  # a list to collect the text drawn (tests, simulator)
        self.minute = -1  # the minute the header's clock shows
        self._aki = kdigo.Aki()
        self._times = array("i", [0] * 17)  # the 16 values a tracker keeps, and this one
        self._values = array("i", [0] * 17)

    def new_patient(self):
        """Empty entries, with the institution's weight rule from the table."""
        t = self.table()
        return Patient(t.weight_policy if t is not None else body.ACTUAL)

    def load_settings(self):
        """Language and creatinine unit as last chosen: a ward reading Chinese, or a lab
        reporting umol/L, should not have to choose again after every power-up."""
        try:
            with open(SETTINGS) as f:
                words = f.read(32).split()
            lang = int(words[0])
            unit = int(words[1])
        except (OSError, ValueError, IndexError):
            return  # none saved yet, or unreadable: the defaults
        if lang in (EN, ZH) and unit in (MG_DL, UMOL_L):
            self.lang = lang
            self.scr_unit = unit

    def save_settings(self):
        """Written beside and renamed over the old file, so a power cut leaves the old
        settings or the new, never a torn file (which would read as the defaults)."""
        import os

        try:
            with open(SETTINGS + ".tmp", "w") as f:
                f.write("%d %d\n" % (self.lang, self.scr_unit))
            os.rename(SETTINGS + ".tmp", SETTINGS)
        except OSError:
            pass  # a full flash: the choice holds until the power goes

    def t(self, key):
        return ui_text.t(key, self.lang)

    def text(self, s, x, y, color):
        if self.log is not None:
            self.log.append(s)
        return self.w.text(s, x, y, color)

    def wrap(self, s, width):
        """Lines of s no wider than width, broken at the last space when one is near
        (a long word, or Chinese without spaces, breaks at any character). Widths are
        added up a character at a time, so a long note costs one slice per line, not a
        string per character."""
        lines = []
        a = 0  # where the line starts in s (characters)
        sp = -1  # the line's last space, -1 for none
        w = 0  # width of s[a:i]
        w_sp = 0  # width of s[a:sp + 1]
        i = 0
        for ch in s:
            cw = self.w.width(ch)
            if w + cw > width:
                if sp - a > 10 and ch != " ":
                    lines.append(s[a:sp])
                    a = sp + 1
                    w -= w_sp
                else:
                    lines.append(s[a:i])
                    a = i + 1 if ch == " " else i
                    w = 0
                sp = -1
                if ch == " ":
                    i += 1
                    continue
            if ch == " ":
                sp = i
                w_sp = w + cw
            w += cw
            i += 1
        if a < i:
            lines.append(s[a:])
        return lines

    def table(self):
        return self.store.table if self.store else None

    def clock_set(self):
        return self.now() >= CLOCK_SET

    def table_expired(self):
        t = self.table()
        return bool(t and self.now() // 1440 > t.expires)

    def table_mark(self):
        """(sha8, banner) for the dose screens: the first 8 hex digits of the active
        table's body SHA-256, and "" or the ui_text key of the banner every dose from
        it carries: "draft" (signed with a development key; an unsigned table is never
        active on the device), "expired", "not_effective" (dates judged only with the
        clock set). ("", "") without a table."""
        import tablestore

        t = self.table()
        if t is None:
            return "", ""
        return tablestore.sha8(t), tablestore.banner(t, self.now() // 1440 if self.clock_set() else None)

    def push(self, screen):
        self.stack.append(screen)

    def safe(self, title, line1, line2, detail=""):
        self.push(SafeScreen(title, line1, line2, detail))

    def open_renal(self):
        """Kidney function is always for a chosen patient: its result feeds the doses
        and the patient's creatinine record."""
        if not self.patient_code:
            self.push(Patients(self, lambda ui: ui.open_renal()))
        else:
            self.push(RenalEntry())

    def open_drugs(self):
        """The drug list, only for a chosen patient with a current kidney-function
        result from a table in force; an AKI warning is acknowledged first, once per
        patient and day."""
        t = self.table()
        if t is None:
            self.safe("drugs", "no_table", "no_table_2")
        elif not self.clock_set():
            self.safe("drugs", "clock_unset", "clock_unset_2")
        elif self.table_expired():
            self.safe("drugs", "expired", "expired_2")
        elif not self.patient_code or not self.computed:
            self.open_renal()
        elif self.stale():
            # Not usable for a dose: the creatinine must be entered again (with its
            # draw time); the other entries stay for the nurse to check on the way.
            why = self.stale()
            self.computed = False
            self.patient.scr_nmol = self.patient.drawn = None
            self.push(RenalEntry())
            self.safe("drugs", "stale", why)
        elif self.aki() and self.aki_ack != (self.patient_code, self.now() // 1440):
            self.push(AkiAck())
        else:
            self.open("ui_dose", "Drugs", t)

    def stale(self):
        """'' while the result may be used for a dose; else the reason it may not:
        older than the table's freshness limit, or a newer creatinine on record."""
        now = self.now()
        if now - self.drawn > self.table().fresh_minutes:
            return "stale_old"
        series = self.tracker.creatinine.get(self.patient_code) if self.tracker else None
        if series:
            for t, _ in series:
                if self.drawn < t <= now:
                    return "stale_newer"
        return ""

    def aki(self):
        """Creatinine changing: KDIGO stage 1 or more, or rising. Cockcroft-Gault needs
        a steady state, so CrCl-keyed doses are provisional."""
        return self.computed and (self._aki.stage >= 1 or self.rising) \
            and not self.patient.dialysis

    def acknowledge_aki(self):
        self.aki_ack = (self.patient_code, self.now() // 1440)
        self.note(audit.T_ACK, self.patient_code + " AKI: CG unreliable, doses provisional")

    def drawn_text(self):
        """The result's creatinine, when its blood was drawn and how long ago."""
        age = (self.now() - self.drawn) // 60
        return (self.t("scr") + " " + scr_text(self.patient.scr_nmol, self.scr_unit) + " "
                + self.t("drawn") + " " + when_text(self, self.drawn) + " ("
                + (str(age) + " h" if age else "<1 h") + ")")

    def open_flc(self):
        if self.tracker is None:
            self.safe("flc", "no_flc", "ask")
        elif not self.patient_code:
            self.push(Patients(self, lambda ui: ui.open_flc()))
        else:
            self.open_flc_screen("FlcMenu")

    def open_flc_screen(self, name):
        self.open("ui_flc", name, self)

    def open(self, module, name, *args):
        """Push screen `name` of `module`, importing it on first use."""
        self.push(getattr(__import__(module), name)(*args))

    def set_clock(self, minutes):
        old = self.now()
        self.set_time(minutes)
        self.note(audit.T_CLOCK, clock.iso(old) + " -> " + clock.iso(minutes))

    def note(self, kind, text):
        if self.audit is not None:
            try:
                self.audit.note(kind, self.now(), text)
            except Exception:  # noqa: BLE001 - the note must never stop the screens
                pass

    def choose_patient(self, code):
        """Another patient: the kidney-function entries and result start afresh, so no
        dose is shown under one code from another patient's values."""
        if code != self.patient_code:
            self.patient = self.new_patient()
            self.computed = False
            self.rising = False
        self.patient_code = code

    def history(self, nmol, drawn):
        """The chosen patient's recorded creatinine drawn before this one (oldest first)
        and this value at its draw time, into the KDIGO scratch arrays; returns how
        many. Without a set clock the times mean nothing, so only this value. Also
        notes whether creatinine is rising: up 0.3 mg/dL (26.5 umol/L, KDIGO's step)
        on the lowest value of the week before, however slowly."""
        n = 0
        low = nmol
        series = self.tracker.creatinine.get(self.patient_code) if self.tracker else None
        if series and self.clock_set():
            for t, v in sorted(series):
                if t < drawn and n < len(self._times) - 1:
                    self._times[n] = t
                    self._values[n] = v
                    n += 1
                    if drawn - t <= 7 * 1440 and v < low:
                        low = v
        self._times[n] = drawn
        self._values[n] = nmol
        self.rising = nmol - low >= kdigo.RISE_NMOL
        return n + 1

    def calculate(self):
        """Assess the kidney function, with the KDIGO AKI stage from the chosen patient's
        recorded creatinine; the value entered is recorded for the next assessment. A
        refused combination is a clear screen."""
        p = self.patient
        drawn = p.drawn if p.drawn is not None else self.now()
        try:
            n = self.history(p.scr_nmol, drawn)
            kdigo.stage(self._aki, self._times, self._values, n, p.dialysis)
            renal.assess(self.renal, p.age, p.female, p.weight, p.height, p.scr_nmol,
                         p.policy, 120, p.dialysis, self._aki.stage)
        except InputError as e:
            self.computed = False
            self.safe("renal", "out_of_range", "check_entry", e.field + ": " + e.message)
            return False
        self.computed = True
        self.drawn = drawn
        self.record_creatinine(p.scr_nmol, drawn)
        return True

    def record_creatinine(self, nmol, drawn):
        """Keep the value at its draw time for the patient's KDIGO series (the store
        answers a repeat of the same sample without writing it twice)."""
        if not (self.tracker and self.patient_code and self.clock_set()):
            return
        try:
            self.tracker.add_creatinine(self.patient_code, drawn, nmol)
        except Exception:  # noqa: BLE001 - a full journal must not hide the result
            pass

    def dose(self, inn):
        r = self.renal
        return dosing.dose_for(self.table(), inn, r.crcl_x10, r.egfr_x10, self.patient.dialysis,
                               r.bsa_x100, self.patient.weight)

    def audit_dose(self, result, check=None, prescribed_x100=0):
        """Log a dose shown or checked; False when the audit log is full."""
        if self.audit is None:
            return True
        r = self.renal
        return self.audit.record(audit.T_CHECK if check else audit.T_DOSE, self.now(),
                                 self.patient_code, result, r.crcl_x10, r.egfr_x10,
                                 self.patient.dialysis, self.table().version, check,
                                 prescribed_x100)

    def fail(self, e):
        """An unhandled error: logged, and the screens restart at a safe screen."""
        import sys

        sys.print_exception(e, sys.stderr)
        self.note(audit.T_ERROR, type(e).__name__ + ": " + str(e))
        self.stack = [Home(), SafeScreen("app", "error", "ask")]

    def key(self, ev):
        try:
            self.stack[-1].key(self, ev)
        except Exception as e:  # never a crash: a safe screen instead
            self.fail(e)

    def header(self):
        """The title bar: the screen's title, the patient's code and the time. The right
        side is laid out first and the title cut to the room left of it (ending in "…"),
        so a long title never runs into the patient's code or the clock."""
        c = self.c
        c.fill_rect(0, 0, W, 18, DARK)
        screen = self.stack[-1]
        m = self.now()
        self.minute = m
        right = "%02d:%02d" % ((m % 1440) // 60, m % 60) if m >= CLOCK_SET else "--:--"
        x_clock = W - 4 - self.w.width(right)
        x = x_clock
        if self.patient_code:  # every screen names the patient it is for
            x -= 8 + self.w.width(self.patient_code)
        x_code = x
        power = self.power_label() if self.power and type(screen) is Home else None
        if power:
            x -= 8 + self.w.width(power[0])
        title = self.t(screen.title) if screen.title in ui_text.T else screen.title
        self.text(self.fit(title, x - 8 - 4), 4, 0, WHITE)
        self.text(right, x_clock, 0, GREY if m >= CLOCK_SET else RED)
        if self.patient_code:
            self.text(self.patient_code, x_code, 0, YELLOW)
        if power:
            self.text(power[0], x, 0, power[1])

    def fit(self, s, width):
        """s, or as much of it as fits in width pixels followed by "…"."""
        if self.w.width(s) <= width:
            return s
        n = len(s)
        while n and self.w.width(s[:n] + "…") > width:
            n -= 1
        cut = s[:n].rstrip() + "…"
        return cut if self.w.width(cut) <= width else ""

    def power_label(self):
        """USB, or the battery's level, and its colour; None where the board cannot say."""
        p = self.power()
        if p is None:
            return None
        usb, mv = p
        if usb:
            return "USB", GREY
        # LiPo: about 3.4 V empty to 4.1 V full under load; a guide, not a gauge.
        pct = clamp((mv - 3400) * 100 // 700, 0, 100) // 10 * 10
        return str(pct) + "%", RED if pct <= 20 else GREY

    def draw(self):
        c = self.c
        c.fill(BLACK)
        try:
            self.header()
            self.stack[-1].draw(self)
        except Exception as e:  # never a blank screen or a crash: a safe screen instead
            self.fail(e)
            c.fill(BLACK)
            self.header()
            self.stack[-1].draw(self)
        c.fill_rect(0, FOOT, W, H - FOOT, DARK)
        n = self.key_names
        hint = self.t(self.stack[-1].keys).format(u=n[0], d=n[1], s=n[2], b=n[3])
        self.text(hint, 4, FOOT - 1, GREY)
        c.touch(0, H)
        return c.push()

    def tick(self):
        """Once a minute, redraw only the title bar: 18 rows sent instead of 135."""
        if self.now() == self.minute:
            return 0
        self.header()
        return self.c.push()
