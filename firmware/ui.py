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

    def draw(self, ui):
        first = self.field - (ROWS - 3) if self.field > ROWS - 3 else 0
        for i in range(first, min(len(self.labels), first + ROWS)):
            y = TOP + (i - first) * LINE
            if i == self.field:
                ui.c.fill_rect(0, y, W, LINE, BLUE)
            ui.text(ui.t(self.labels[i]), 6, y, WHITE)
            ui.text(self.value_text(ui, i), 120, y, YELLOW)

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
            ("renal", lambda ui: ui.push(RenalEntry())),
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
            out[4] = ui.t("table") + ": " + ui.t("no_table")
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
    title = "renal"
    labels = ("age", "sex", "weight", "height", "scr", "policy", "dialysis", "calculate")

    def value_text(self, ui, i):
        p = ui.patient
        if i == 0:
            return str(p.age) + " y"
        if i == 1:
            return ui.t("female" if p.female else "male")
        if i == 2:
            return fmt.fixed(p.weight, 1) + " kg"
        if i == 3:
            return fmt.fixed(p.height, 1) + " cm"
        if i == 4:
            return scr_text(p.scr_nmol, ui.scr_unit)
        if i == 5:
            return body.POLICY_NAMES[p.policy]
        if i == 6:
            return ui.t("yes" if p.dialysis else "no")
        return ""

    def change(self, ui, i, sign, big):
        p = ui.patient
        if i == 0:
            p.age = clamp(p.age + sign * (5 if big else 1), AGE[3], AGE[4])
        elif i == 1:
            p.female = 1 - p.female
        elif i == 2:
            p.weight = clamp(p.weight + sign * (50 if big else 5), WEIGHT[3], WEIGHT[4])
        elif i == 3:
            p.height = clamp(p.height + sign * (50 if big else 10), HEIGHT[3], HEIGHT[4])
        elif i == 4:
            step = NMOL_UMOL if ui.scr_unit == UMOL_L else NMOL_MG_DL
            p.scr_nmol = snap_scr(p.scr_nmol + sign * step * (10 if big else 1), ui.scr_unit)
        elif i == 5:
            p.policy = (p.policy + sign) % len(body.POLICY_NAMES)
        elif i == 6:
            p.dialysis = not p.dialysis

    confirmed = 0  # a creatinine outside the plausible range, confirmed by calculating again

    def done(self, ui):
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


class RenalResult(Screen):
    title = "renal"
    keys = "keys_result"

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


class SafeScreen(Screen):
    """A clear state instead of a crash or a blank display."""

    keys = "keys_back"

    def __init__(self, title, line1, line2, detail=""):
        self.title = title
        self.lines = (line1, line2)
        self.detail = detail  # e.g. the field and limit of a refused value

    def draw(self, ui):
        ui.c.fill_rect(0, TOP, W, 2 * LINE, RED)
        ui.text(ui.t(self.lines[0]), 6, TOP, WHITE)
        ui.text(ui.t(self.lines[1]), 6, TOP + LINE, WHITE)
        y = TOP + 2 * LINE
        for line in ui.wrap(self.detail, W - 12)[:3]:
            ui.text(line, 6, y, YELLOW)
            y += LINE


class Patient:
    def __init__(self):
        self.age = 60
        self.female = 1
        self.weight = 700
        self.height = 1650
        self.scr_nmol = 88400  # 1.00 mg/dL
        self.policy = body.ACTUAL
        self.dialysis = False


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
        self.stack = [Home()]
        self.log = None  # a list to collect the text drawn (tests, simulator)
        self.minute = -1  # the minute the header's clock shows
        self._aki = kdigo.Aki()
        self._times = array("i", [0] * 17)  # the 16 values a tracker keeps, and this one
        self._values = array("i", [0] * 17)

    def new_patient(self):
        """Entry defaults: the table's weight rule, creatinine on the chosen unit's grid."""
        p = Patient()
        t = self.table()
        if t is not None:
            p.policy = t.weight_policy
        p.scr_nmol = snap_scr(p.scr_nmol, self.scr_unit)
        return p

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

    def clock_set(self):
        return self.now() >= CLOCK_SET

    def table_expired(self):
        t = self.table()
        return bool(t and self.now() // 1440 > t.expires)

    def push(self, screen):
        self.stack.append(screen)

    def safe(self, title, line1, line2, detail=""):
        self.push(SafeScreen(title, line1, line2, detail))

    def open_drugs(self):
        t = self.table()
        if t is None:
            self.safe("drugs", "no_table", "no_table_2")
        elif not self.clock_set():
            self.safe("drugs", "clock_unset", "clock_unset_2")
        elif self.table_expired():
            self.safe("drugs", "expired", "expired_2")
        elif not self.computed:
            self.push(RenalEntry())
        else:
            self.open("ui_dose", "Drugs", t)

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
        self.patient_code = code

    def history(self, nmol):
        """The chosen patient's recorded creatinine (oldest first) and this value now,
        into the KDIGO scratch arrays; returns how many. Without a set clock the times
        mean nothing, so only this value."""
        n = 0
        now = self.now()
        series = self.tracker.creatinine.get(self.patient_code) if self.tracker else None
        if series and self.clock_set():
            for t, v in sorted(series):
                if t <= now and n < len(self._times) - 1:
                    self._times[n] = t
                    self._values[n] = v
                    n += 1
        self._times[n] = now
        self._values[n] = nmol
        return n + 1

    def calculate(self):
        """Assess the kidney function, with the KDIGO AKI stage from the chosen patient's
        recorded creatinine; the value entered is recorded for the next assessment. A
        refused combination is a clear screen."""
        p = self.patient
        try:
            n = self.history(p.scr_nmol)
            kdigo.stage(self._aki, self._times, self._values, n, p.dialysis)
            renal.assess(self.renal, p.age, p.female, p.weight, p.height, p.scr_nmol,
                         p.policy, 120, p.dialysis, self._aki.stage)
        except InputError as e:
            self.computed = False
            self.safe("renal", "out_of_range", "check_entry", e.field + ": " + e.message)
            return False
        self.computed = True
        self.record_creatinine(p.scr_nmol)
        return True

    def record_creatinine(self, nmol):
        """Keep the value for the patient's KDIGO series: once a day for an unchanged
        value, so recalculating does not flood the journal."""
        if not (self.tracker and self.patient_code and self.clock_set()):
            return
        series = self.tracker.creatinine.get(self.patient_code)
        now = self.now()
        if series:
            t, v = series[-1]
            if v == nmol and 0 <= now - t < 1440:
                return
        try:
            self.tracker.add_creatinine(self.patient_code, now, nmol)
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
        """The title bar: the screen's title, the patient's code and the time."""
        c = self.c
        c.fill_rect(0, 0, W, 18, DARK)
        screen = self.stack[-1]
        self.text(self.t(screen.title) if screen.title in ui_text.T else screen.title, 4, 0, WHITE)
        m = self.now()
        self.minute = m
        right = "%02d:%02d" % ((m % 1440) // 60, m % 60) if m >= CLOCK_SET else "--:--"
        x = W - 4 - self.w.width(right)
        self.text(right, x, 0, GREY if m >= CLOCK_SET else RED)
        if self.patient_code:  # every screen names the patient it is for
            x -= 8 + self.w.width(self.patient_code)
            self.text(self.patient_code, x, 0, YELLOW)
        if self.power and type(screen) is Home:  # room for it beside the short title
            self.power_text(x)

    def power_text(self, right):
        p = self.power()
        if p is None:
            return
        usb, mv = p
        if usb:
            s, colour = "USB", GREY
        else:
            # LiPo: about 3.4 V empty to 4.1 V full under load; a guide, not a gauge.
            pct = clamp((mv - 3400) * 100 // 700, 0, 100) // 10 * 10
            s, colour = str(pct) + "%", RED if pct <= 20 else GREY
        self.text(s, right - 8 - self.w.width(s), 0, colour)

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
