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
from canvas import BLUE, GREEN, GREY, RED, WHITE, YELLOW
from fixmath import log2_q24, ratio
from limits import InputError
from ui import LINE, TOP, Form, Menu, Screen, W, amount, clamp, sig_step

CHAIN = ("κ", "λ")
EVENT_KEYS = ("", "chemo_start", "pe", "hco_hd", "hfr")
# The chart's box: between the value row and the status row.
X0 = 6
X1 = W - 6
Y0 = TOP + LINE + 2
Y1 = ui.FOOT - LINE - 3


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
    """The involved FLC on a log scale against time, with the baseline (grey), the 60%
    reduction target (green, 40% of baseline), day 21 of treatment (grey, upright) and
    extracorporeal sessions (blue ticks); below: half-life and the day-21 status."""

    title = "flc"
    keys = "keys_back"

    def __init__(self, u):
        self.p = _patient(u)

    def draw(self, u):
        p = self.p
        if not p.n:
            u.text(u.t("no_samples"), 6, TOP, WHITE)
            return
        k = flc.kinetics(p, u.now())
        top = CHAIN[p.involved] + " " + amount(k["latest_x100"]) + " mg/L"
        u.text(top, 6, TOP, WHITE)
        if k["reduction_x10"] is not None:
            red = u.t("reduction") + " " + fmt.fixed(k["reduction_x10"], 1) + "%"
            u.text(red, W - 6 - u.w.width(red), TOP, WHITE)
        self.chart(u, k)
        y = ui.FOOT - LINE
        half = k["half_life_x10"]
        u.text("t½ " + (fmt.fixed(half, 1) + " h" if half else "—"), 6, y, WHITE)
        on = k["on_track_day21"]
        if on is None:  # no start date, or no sample before it to measure from
            word = "day21_no_baseline" if p.t0 else "day21_unknown"
        else:
            word = "on_track" if on else "off_track"
        s = u.t(word)
        u.text(s, W - 6 - u.w.width(s), y, GREY if on is None else (GREEN if on else RED))

    def chart(self, u, k):
        p = self.p
        c = u.c
        n = p.n
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
        if day21:
            x = px(day21)
            for y in range(Y0, Y1, 4):
                c.vline(x, y, 2, GREY)
        if base:
            _dashed(c, py(base), GREY)
            y = py(target)
            _dashed(c, y, GREEN)
            u.text("60%", X1 - 28, y - 17 if y - 17 >= Y0 else y + 1, GREEN)
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
        c.touch(Y0 - 2, Y1 + 3)


def _dashed(c, y, colour):
    for x in range(X0, X1 - 30, 6):
        c.hline(x, y, 3, colour)


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
    """A sample: when it was drawn, kappa and lambda. The laboratory code is the one of
    the patient's latest sample (the host can enter another)."""

    title = "add_sample"
    labels = ("date", "time", "kappa", "lambda", "save")

    def __init__(self, u):
        Form.__init__(self)
        self.p = _patient(u)
        now = u.now()
        self.t = now - now % 15
        n = self.p.n
        self.kappa = self.p.kappa[n - 1] if n else 1000  # from the latest, or 10 mg/L
        self.lam = self.p.lam[n - 1] if n else 1000
        self.lab = self.p.labs[n - 1] if n else ""
        self.confirm = False

    def value_text(self, u, i):
        if i == 0:
            return _date(self.t)
        if i == 1:
            return _time(self.t)
        if i == 2:
            return amount(self.kappa) + " mg/L"
        if i == 3:
            return amount(self.lam) + " mg/L"
        return ""

    def change(self, u, i, sign, big):
        lo, hi = flc.FLC[3], flc.FLC[4]
        if i < 2:
            self.t = _shift(self.t, i, sign, big)
            self.confirm = False
        elif i == 2:
            self.kappa = clamp(self.kappa + sign * sig_step(self.kappa, big), lo, hi)
        else:
            self.lam = clamp(self.lam + sign * sig_step(self.lam, big), lo, hi)

    def done(self, u):
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


class NewPatient(Form):
    """A bed or study number, never a name: UP/DOWN pick the last character, SELECT adds
    one, a long SELECT goes on to the involved chain."""

    title = "new_patient"
    labels = ("code", "chain", "save")

    def __init__(self, u):
        Form.__init__(self)
        self.code = [0]  # indexes into CODE_CHARS
        self.chain = 0

    @property
    def keys(self):
        return "keys_code" if self.field == 0 else "keys_form"

    def text_code(self):
        return "".join(CODE_CHARS[i] for i in self.code)

    def value_text(self, u, i):
        if i == 0:
            return self.text_code() + "_"
        if i == 1:
            return CHAIN[self.chain] + " " + flc.CHAINS[self.chain]
        return ""

    def change(self, u, i, sign, big):
        if i == 0:
            self.code[-1] = (self.code[-1] + sign) % len(CODE_CHARS)
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
        elif self.field == 0 and b == buttons.BACK and kind == buttons.SHORT and len(self.code) > 1:
            self.code.pop()
        else:
            Form.key(self, u, ev)

    def done(self, u):
        code = self.text_code()
        if _record(u, 0, lambda: u.tracker.add_patient(code, self.chain, 0)):
            u.stack.pop()  # this form
            chooser = u.stack.pop()  # the patient chooser it came from
            u.choose_patient(code)
            if chooser.then:
                chooser.then(u)
