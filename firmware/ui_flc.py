"""The FLC screens: a patient's involved free light chain over time, and entering a
sample, a session or treatment start, or a new patient code.

Everything written goes through flcstore.Tracker, so a screen entry is the same
durable, range-checked journal record as one sent by the host; a refused value or a
full journal is a clear screen, and nothing half-written is shown.
"""

import buttons
import clock
import flc
import fmt
import journal
import ui
from canvas import AMBER, BLUE, CYAN, GREEN, GREY, RED, WHITE, YELLOW
from fixmath import exp2_q24, log2_q24, ratio
from limits import InputError
from ui import LINE, TOP, Form, Menu, Screen, W, amount, clamp, sig_step

CHAIN = ("κ", "λ")
EVENT_KEYS = ("", "chemo_start", "pe", "hco_hd", "hfr")
# The chart's box: below the legend row, above the dates, right of the mg/L labels.
X0 = 42
X1 = W - 6
Y0 = TOP + LINE + 2
Y1 = ui.FOOT - LINE - 4


def _patient(u):
    return u.tracker.patient(u.patient_code)


def _record(u, t, write, earlier=None):
    """Run a tracker write of a record dated t (0: undated). A time in the future, a
    refusal or a full journal becomes a clear screen and nothing is written. The
    tracker's refusal of a sample dated before the latest goes to `earlier()` first,
    which returns True when it has handled it."""
    if t > u.now():
        u.safe("flc", "not_saved", "in_future")
        return False
    try:
        write()
    except InputError as e:
        if not (e.field == "time" and earlier and earlier()):
            u.safe("flc", "not_saved", "check_entry", e.field + ": " + e.message)
        return False
    except journal.Full:
        u.safe("flc", "storage_full", "storage_full_2")
        return False
    return True


class FlcMenu(Menu):
    def __init__(self, u):
        Menu.__init__(self, "flc", [
            ("flc_trend", lambda u: u.push(Trend(u))),
            ("add_sample", lambda u: u.push(SampleEntry(u))),
            ("add_event", lambda u: u.push(EventEntry(u))),
        ])


class Trend(Screen):
    """Two pages, DOWN and UP between them. The summary: the latest involved FLC, the
    reduction, the day-21 status with its reason (flc.day21, worked out afresh from the
    samples each time), the half-life and any warning (a sample with the involved chain
    below the other, samples from different laboratories). The chart: the involved FLC
    on a log scale (mg/L) against dates, with the baseline (grey), the 60% reduction
    target (green, 40% of baseline), day 21 of treatment (grey, upright),
    extracorporeal sessions (blue ticks) and the latest dFLC."""

    title = "flc"

    def __init__(self, u):
        self.p = _patient(u)
        self.page = 0

    @property
    def keys(self):
        if not self.p.n:
            return "keys_back"
        return "keys_chart" if self.page else "keys_trend"

    def key(self, u, ev):
        b = buttons.button_of(ev)
        if b == buttons.DOWN:
            self.page = 1
        elif b == buttons.UP:
            self.page = 0
        else:
            Screen.key(self, u, ev)

    def draw(self, u):
        p = self.p = _patient(u)  # the code's current person (the host may start another)
        if not p.n:
            u.text(u.t("no_samples"), 6, TOP, WHITE)
            return
        k = flc.kinetics(p, u.now())
        if self.page:
            self.chart(u, k)
        else:
            self.summary(u, k)

    def summary(self, u, k):
        p = self.p
        mine = CHAIN[p.involved]
        u.text(mine + " " + amount(k["latest_x100"]) + " mg/L", 6, TOP, WHITE)
        if k["reduction_x10"] is not None:
            red = u.t("reduction") + " " + fmt.fixed(k["reduction_x10"], 1) + "%"
            u.text(red, W - 6 - u.w.width(red), TOP, WHITE)
        on = k["on_track_day21"]
        why = k["on_track_reason"]
        colour = GREY if on is None else (GREEN if on else RED)
        u.text(u.t("day21_open" if on is None else ("on_track" if on else "off_track")),
               6, TOP + LINE, colour)
        reason = u.t("flc_r_" + why)
        if why == "reached":
            reason += " " + _md(k["reached_60_at"])
        elif why == "projected":
            reason += " " + _md(k["projected_60"])
        u.text(reason, 6, TOP + 2 * LINE, colour)
        half = k["half_life_x100"]
        if half:
            half = flc.two_figures(half) + " h"
        else:
            half = u.t("not_enough_data" if k["fit_points"] is None else "flc_r_not_falling")
        u.text(u.t("half_life") + " " + half, 6, TOP + 3 * LINE, WHITE)
        if k["chain_doubt"]:
            warn = u.t("chain_doubt").format(i=mine, u=CHAIN[1 - p.involved])
        elif k["labs_differ"]:
            warn = u.t("labs_differ")
        else:
            return
        u.text(warn, 6, TOP + 4 * LINE, AMBER)

    def chart(self, u, k):
        p = self.p
        c = u.c
        n = p.n
        u.text(CHAIN[p.involved] + " mg/L " + u.t("flc_log"), 6, TOP, YELLOW)
        d = "dFLC " + amount(k["dflc_x100"]) + " mg/L"  # involved minus uninvolved, latest
        u.text(d, W - 6 - u.w.width(d), TOP, CYAN)
        t0 = p.times[0]
        if p.t0 and p.t0 < t0:
            t0 = p.t0
        t1 = p.times[n - 1]
        day21 = p.t0 + 21 * flc.DAY if p.t0 else 0
        if day21 > t1:
            t1 = day21
        if t1 <= t0:
            t1 = t0 + flc.DAY
        base = p.baseline()
        target = ratio(base, 2, 5, 1) if base else 0
        lo = hi = log2_q24(p.involved_at(0)) >> 14
        for i in range(n):
            y = log2_q24(p.involved_at(i)) >> 14
            lo = y if y < lo else lo
            hi = y if y > hi else hi
        if target:
            yt = log2_q24(target) >> 14
            lo = yt if yt < lo else lo
            yb = log2_q24(base) >> 14
            hi = yb if yb > hi else hi
        if hi - lo < 1024:  # at least a doubling tall, so noise does not look like a trend
            mid = (hi + lo) // 2
            lo = mid - 512
            hi = mid + 512

        def px(t):
            return X0 + ratio(t - t0, X1 - X0, t1 - t0, 1)

        def py(v):
            return Y1 - ratio((log2_q24(v) >> 14) - lo, Y1 - Y0, hi - lo, 1)

        c.rect(X0 - 2, Y0 - 2, X1 - X0 + 5, Y1 - Y0 + 5, GREY)
        # The value axis: mg/L at the top and bottom of the box (log scale).
        for q, y in ((hi, Y0 - 3), (lo, Y1 - u.w.height + 3)):
            s = _axis(exp2_q24(q << 14))
            u.text(s, X0 - 4 - u.w.width(s), y, GREY)
        # The time axis: the dates at its ends, and day 21 where there is room.
        y = Y1 + 3
        left = _md(t0)
        right = _md(t1)
        u.text(left, X0 - 2, y, GREY)
        u.text(right, X1 + 2 - u.w.width(right), y, GREY)
        if day21:
            x = px(day21)
            for yy in range(Y0, Y1, 4):
                c.vline(x, yy, 2, GREY)
            s = u.t("day_21")
            w = u.w.width(s)
            x -= w // 2
            if day21 == t1:  # the axis ends at day 21: say so beside its date
                x = X1 - 4 - u.w.width(right) - w
            if X0 + u.w.width(left) + 2 < x < X1 - u.w.width(right) - w:
                u.text(s, x, y, GREY)
        if base:
            _dashed(c, py(base), GREY)
            yt = py(target)
            _dashed(c, yt, GREEN)
            u.text("60%", X1 - 28, yt - 17 if yt - 17 >= Y0 else yt + 1, GREEN)
        for kind, start, _ in p.sessions:
            if kind in flc.SESSION_KINDS and t0 <= start <= t1:
                c.vline(px(start), Y1 - 6, 7, BLUE)
        x_prev = y_prev = -1
        for i in range(n):
            x = px(p.times[i])
            y = py(p.involved_at(i))
            if x_prev >= 0:
                c.line(x_prev, y_prev, x, y, YELLOW)
            c.fill_rect(x - 1, y - 1, 3, 3, WHITE)
            x_prev, y_prev = x, y
        c.touch(TOP, ui.FOOT)


def _dashed(c, y, colour):
    for x in range(X0, X1 - 30, 6):
        c.hline(x, y, 3, colour)


def _axis(x100):
    """An axis value in 0.01 mg/L as two significant figures in a few characters."""
    s = flc.two_figures(x100)
    return s[:-3] + "k" if len(s) > 4 and s.endswith("000") else s


def _md(m):
    return clock.iso(m)[5:10]  # month-day: the year is in the sample forms


def _date(m):
    return clock.iso(m)[:10]


def _time(m):
    return clock.iso(m)[11:]


def _shift(m, i, sign, big):
    """Date rows move by a day (a week held), time rows by 15 minutes (an hour held)."""
    if i == 0:
        return m + sign * (7 if big else 1) * flc.DAY
    return m + sign * (60 if big else 15)


class SampleEntry(Form):
    """A sample: when the blood was drawn (the clock's time until changed; the record
    keeps the draw time, not when it was typed), kappa and lambda, both empty ("--")
    until entered: a value's first press starts from the patient's latest (10 mg/L
    for a first sample), never saved unless the nurse moved to it. The laboratory code
    is the one of the patient's latest sample (the host can enter another). Involved
    below the other chain asks first: the chain, or the two values, may be the wrong
    way round."""

    title = "add_sample"
    labels = ("drawn_on", "drawn_at", "kappa", "lambda", "save")

    def __init__(self, u):
        Form.__init__(self)
        self.p = _patient(u)
        now = u.now()
        self.t = now - now % 15
        n = self.p.n
        self.kappa = self.lam = None  # not entered
        self.starts = (self.p.kappa[n - 1], self.p.lam[n - 1]) if n else (1000, 1000)
        lab = self.p.labs[n - 1] if n else ""
        use_table_codes(u)
        self.lab = lab if flc.lab_fits(lab) else ""  # a laboratory no longer listed: none
        self.confirm = False
        self.chain_seen = False  # involved below the other chain, said once

    def value_text(self, u, i):
        if i == 0:
            return _date(self.t)
        if i == 1:
            return _time(self.t)
        v = self.kappa if i == 2 else self.lam if i == 3 else 0
        if v is None:
            return "--"
        return amount(v) + " mg/L" if i in (2, 3) else ""

    def change(self, u, i, sign, big):
        lo, hi = flc.FLC[3], flc.FLC[4]
        if i < 2:
            self.t = _shift(self.t, i, sign, big)
            self.confirm = False
        elif i == 2:
            k = self.kappa
            self.kappa = self.starts[0] if k is None else clamp(k + sign * sig_step(k, big), lo, hi)
            self.chain_seen = False
        else:
            v = self.lam
            self.lam = self.starts[1] if v is None else clamp(v + sign * sig_step(v, big), lo, hi)
            self.chain_seen = False

    def done(self, u):
        if self.kappa is None or self.lam is None:
            self.field = 2 if self.kappa is None else 3
            u.safe("flc", "not_entered", "enter_each", u.t("kappa" if self.kappa is None else "lambda"))
            return
        mine = self.p.involved
        inv, other = (self.kappa, self.lam) if mine == flc.KAPPA else (self.lam, self.kappa)
        if inv < other and not self.chain_seen and self.t <= u.now():
            self.chain_seen = True  # said once; Save again records it
            u.safe("flc", "chain_check", "save_again", CHAIN[mine] + " " + amount(inv) + " < "
                   + CHAIN[1 - mine] + " " + amount(other) + " mg/L")
            return

        def earlier():
            if self.confirm:
                return False
            self.confirm = True  # said once; Save again records it
            u.safe("flc", "earlier_sample", "save_again")
            return True

        if _record(u, self.t, lambda: u.tracker.add_sample(u.patient_code, self.t, self.kappa,
                                                           self.lam, self.lab, self.confirm),
                   earlier):
            u.stack[-1] = Trend(u)


class EventEntry(Form):
    """Treatment start, or an extracorporeal session (plasma exchange, high-cutoff
    haemodialysis, HFR) with its length in half hours."""

    title = "add_event"
    labels = ("event", "date", "time", "duration", "save")

    def __init__(self, u):
        Form.__init__(self)
        now = u.now()
        self.t = now - now % 15
        self.kind = 1
        self.half_hours = 8

    def value_text(self, u, i):
        if i == 0:
            return u.t(EVENT_KEYS[self.kind])
        if i == 1:
            return _date(self.t)
        if i == 2:
            return _time(self.t)
        if i == 3:
            return "—" if self.kind == 1 else fmt.fixed(self.half_hours * 5, 1) + " h"
        return ""

    def change(self, u, i, sign, big):
        if i == 0:
            self.kind = (self.kind - 1 + sign) % 4 + 1
        elif i < 3:
            self.t = _shift(self.t, i - 1, sign, big)
        elif self.kind != 1:
            self.half_hours = clamp(self.half_hours + sign * (4 if big else 1), 1, 48)

    def done(self, u):
        end = 0 if self.kind == 1 else self.t + self.half_hours * 30
        if _record(u, self.t, lambda: u.tracker.add_event(u.patient_code, self.kind, self.t, end)):
            u.stack[-1] = Trend(u)


CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"


def ward_prefix(u):
    """The letters and dash of the newest patient's code ("BED-" of "BED-12") when it
    fits the code pattern, else the start every code of the pattern shares ("ICU-" of
    "ICU-[0-9]{1,2}"): a ward's codes share them, so a new code starts there and BACK
    clears what does not fit. A code, never a patient fact: it is on the screen, and
    every character is the nurse's to change."""
    pts = u.tracker.by_pid if u.tracker else ()
    return [CODE_CHARS.index(ch) for ch in flc.ward_prefix(pts[-1].code if pts else "")]


def use_table_codes(u):
    """The active table's code policy for the tracker (flc.set_code_policy): the
    defaults when there is no table. The composition sets it when a table loads; the
    screens that take a code set it again, so they never ask with another table's."""
    t = u.table()
    flc.set_code_policy(*(t.codes if t else ()))


class NewPatient(Form):
    """A bed or study number, never a name: UP/DOWN pick the last character, SELECT adds
    one, a long SELECT goes on to the involved chain, which starts unchosen ("--"):
    nothing is assumed about a patient. A code in use is a bed with a new person only
    when Save is pressed twice; it then starts a new episode (flcstore), the earlier
    person's records kept apart."""

    title = "new_patient"
    labels = ("code", "chain", "save")

    def __init__(self, u):
        Form.__init__(self)
        use_table_codes(u)
        self.code = ward_prefix(u) + [0]  # indexes into CODE_CHARS
        self.chain = -1  # not chosen yet
        self.new_person = False  # a code in use, and the nurse said once it is a new person

    @property
    def keys(self):
        return "keys_code" if self.field == 0 else "keys_form"

    def text_code(self):
        return "".join(CODE_CHARS[i] for i in self.code)

    def value_text(self, u, i):
        if i == 0:
            return self.text_code() + "_"
        if i == 1:
            return "--" if self.chain < 0 else u.t(flc.CHAINS[self.chain])  # "κ kappa", "κ 轻链"
        return ""

    def change(self, u, i, sign, big):
        self.new_person = False
        if i == 0:
            self.code[-1] = (self.code[-1] + sign) % len(CODE_CHARS)
        elif self.chain < 0:
            self.chain = flc.LAMBDA if sign > 0 else flc.KAPPA
        else:
            self.chain = 1 - self.chain

    def key(self, u, ev):
        b = buttons.button_of(ev)
        kind = buttons.kind_of(ev)
        if self.field == 0 and b == buttons.SELECT:
            if kind == buttons.LONG:
                self.field = 1
            elif kind == buttons.SHORT and len(self.code) < 12:
                self.code.append(self.code[-1])
                self.new_person = False
        elif self.field == 0 and b == buttons.BACK and kind == buttons.SHORT and len(self.code) > 1:
            self.code.pop()
            self.new_person = False
        else:
            Form.key(self, u, ev)

    def done(self, u):
        code = self.text_code()
        # The fields' problems in their order: the code (not of the table's pattern: it
        # could be a name; a full device), then the chain, then a code in use. The
        # pattern is shown as example codes, the same in both languages.
        if not flc.code_fits(code):
            u.safe("new_patient", "not_saved", "code_pattern", flc.code_shapes())
            return
        if not _record(u, 0, lambda: u.tracker.check_new(code)):
            return
        if self.chain < 0:
            self.field = 1  # back from the warning on the chain's row
            u.safe("new_patient", "not_saved", "choose_chain")
            return
        in_use = code in u.tracker.patients
        if in_use and not self.new_person:
            self.new_person = True  # said once; Save again starts the new episode
            u.safe("new_patient", "bed_in_use", "new_person", code + " " + u.t("kept_apart"))
            return
        if _record(u, 0, lambda: u.tracker.add_patient(code, self.chain, 0, in_use)):
            u.stack.pop()  # this form
            chooser = u.stack.pop()  # the patient chooser it came from
            if in_use:  # the same code, another person: the kidney entries start afresh too
                u.choose_patient("")
            u.choose_patient(code)
            if chooser.then:
                chooser.then(u)
