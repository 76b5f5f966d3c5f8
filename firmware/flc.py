"""Serum free light chains (FLC): the decline after treatment, in integers.

Renal recovery in cast nephropathy follows how fast the involved FLC falls; the early
target is a 60% reduction (about 60% by day 21 went with recovery in ~80%). Per patient
the tracker keeps the baseline (the last involved value at or before treatment start)
and the most recent RING samples, so adding a sample costs the same however long the
history: nothing is re-read from flash.

The day-21 status is worked out afresh from every sample kept (and the baseline) each
time it is asked, never remembered: a value that reached the target and then rose
again (a rebound after an extracorporeal session, a rise after day 21) reads "not on
track", with the reason. A rise smaller than the assay imprecision (15%) is not a trend.

Units: FLC in 0.01 mg/L, times in minutes since 2000-01-01, percentages in 0.1
percentage points, half-life in 0.1 h (and 0.01 h), the kappa/lambda ratio in 0.001. The half-life
is a least-squares fit of log2(FLC) against time (log2 in Q10, time in 0.1 h), with
sums of centred terms divided by n as they are added so that every value stays a small
int; r^2 (in 0.001) says how well the fit holds.
"""

from array import array

import fmt
from fixmath import exp2_q24, log2_q24, ratio, smuldiv
from limits import InputError

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


KAPPA = const(0)
LAMBDA = const(1)
CHAINS = ("kappa", "lambda")
EVENTS = ("", "chemo_start", "pe", "hco_hd", "hfr")
SESSION_KINDS = (2, 3, 4)  # extracorporeal: plasma exchange, high-cutoff HD, HFR
FLC = ("flc", "mg/L", 2, 10, 10000000)  # 0.10-100,000 mg/L in 0.01 mg/L
RING = const(48)  # recent samples kept per patient (a month of daily samples and sessions)
MAX_SESSIONS = const(16)
DAY = const(1440)
TARGET = const(600)  # 60.0% reduction
IMPRECISION = const(150)  # 15.0%: a smaller change is not a trend
WINDOW = const(60 * 1440)  # the fit looks at most 60 days back
NORMAL_RATIO = (260, 1650)
RENAL_RATIO = (370, 3100)
# Why the day-21 status is what it is (kinetics()["on_track_reason"]); the screens and
# the host show the words of ui_text.T["flc_r_" + reason].
ON_TRACK_REASONS = ("reached", "projected")
OFF_TRACK_REASONS = ("rebound_after_session", "rising_after_day21", "rising", "above_target",
                     "reached_late", "missed", "projected_late", "not_falling")
UNKNOWN_REASONS = ("no_start", "no_baseline", "too_few")


def check_code(code):
    """Patients are short codes (bed or study number), never names."""
    if not isinstance(code, str) or not 1 <= len(code) <= 12:
        raise InputError("patient", "a bed or study number of 1-12 characters")
    digit = False
    for ch in code:
        if "0" <= ch <= "9":
            digit = True
        elif not ("A" <= ch <= "Z" or ch == "-"):
            raise InputError("patient", repr(code) + ": use capitals, digits and '-' only "
                             "(a bed or study number, never a name)")
    if not digit:
        raise InputError("patient", repr(code) + " has no digit: patients are bed or study "
                         "numbers, never names")
    return code


class Patient:
    def __init__(self, pid, code, involved, t0):
        self.pid = pid
        self.code = code
        self.involved = involved
        self.t0 = t0  # treatment start, 0 if not recorded
        self.base_t = -1  # baseline sample time (-1: none yet)
        self.base_v = 0
        self.base_lab = ""
        self.first_t = -1  # the first sample, the baseline when t0 is unknown
        self.first_v = 0
        self.first_lab = ""
        self.times = array("i", [0] * RING)
        self.kappa = array("i", [0] * RING)
        self.lam = array("i", [0] * RING)
        self.labs = [""] * RING
        self.n = 0  # samples in the ring, oldest first
        self.count = 0  # samples ever added
        # The earliest sample at the 60% target: a fact of the history (kept when that
        # sample has left the ring), never the status itself (see day21()).
        self.reached_at = -1
        self.sessions = []  # (kind, start, end)
        self.episode = 1  # the bed's occupant: 2 after the first new person in this bed

    def involved_at(self, i):
        return self.kappa[i] if self.involved == KAPPA else self.lam[i]

    def last_time(self):
        return self.times[self.n - 1] if self.n else -1

    def add(self, t, kappa, lam, lab):
        """Insert a sample in time order (the oldest drops out of a full ring)."""
        n = self.n
        if n == RING:
            for i in range(1, RING):
                self.times[i - 1] = self.times[i]
                self.kappa[i - 1] = self.kappa[i]
                self.lam[i - 1] = self.lam[i]
                self.labs[i - 1] = self.labs[i]
            n -= 1
        i = n
        while i > 0 and self.times[i - 1] > t:
            self.times[i] = self.times[i - 1]
            self.kappa[i] = self.kappa[i - 1]
            self.lam[i] = self.lam[i - 1]
            self.labs[i] = self.labs[i - 1]
            i -= 1
        self.times[i] = t
        self.kappa[i] = kappa
        self.lam[i] = lam
        self.labs[i] = lab
        self.n = n + 1
        self.count += 1
        v = kappa if self.involved == KAPPA else lam
        old = self.baseline()
        if self.first_t < 0 or t < self.first_t:
            self.first_t, self.first_v, self.first_lab = t, v, lab
        if self.t0 and t <= self.t0 and t >= self.base_t:
            self.base_t, self.base_v, self.base_lab = t, v, lab
        b = self.baseline()
        if b != old:
            self.find_reached()  # measured against another baseline now
        elif b and t > self.base_or_first_t() and v * 5 <= b * 2:  # at most 40% left
            if self.reached_at < 0 or t < self.reached_at:
                self.reached_at = t

    def set_start(self, t0):
        """Treatment start (or a later correction): the baseline is re-found."""
        self.t0 = t0
        self.base_t = -1
        self.base_v = 0
        for i in range(self.n):
            if self.times[i] <= t0:
                self.base_t = self.times[i]
                self.base_v = self.involved_at(i)
                self.base_lab = self.labs[i]
        self.find_reached()

    def find_reached(self):
        """The earliest sample in the ring at the 60% target of the current baseline."""
        self.reached_at = -1
        b = self.baseline()
        if not b:
            return
        after = self.base_or_first_t()
        for i in range(self.n):
            if self.times[i] > after and self.involved_at(i) * 5 <= b * 2:
                self.reached_at = self.times[i]
                return

    def baseline(self):
        if self.t0:
            return self.base_v if self.base_t >= 0 else 0
        return self.first_v

    def base_or_first_t(self):
        return self.base_t if self.t0 else self.first_t

    def add_session(self, kind, start, end):
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(0)
        self.sessions.append((kind, start, end or start))


def two_figures(x100):
    """A positive value in hundredths as text with two significant figures:
    85 -> '0.85', 420 -> '4.2', 1236 -> '12', 12360 -> '120' (a half-life in 0.01 h)."""
    step = 1
    while x100 * 2 >= step * 199:  # at this step it would round to three digits
        step *= 10
    v = (x100 + step // 2) // step
    if step >= 100:
        return str(v * (step // 100))
    return fmt.fixed(v, 2 if step == 1 else 1)


def change_x10(old, new):
    """(new - old) / old in 0.1 percentage points."""
    return smuldiv(new - old, 1000, old)


# Scratch for fit(): each point's time (0.1 h from the first) and log2 value (Q10),
# computed once in the first pass and reused in the second.
_ft = array("i", [0] * RING)
_fy = array("i", [0] * RING)


def fit(p, since):
    """Least-squares log2-linear fit over the ring's involved values at or after `since`
    (and within WINDOW of the latest). (n, half_life_x10 or 0 if not falling,
    r2_x1000, slope info for projection) or None with fewer than 3 points."""
    last = p.last_time()
    lo = since
    if last - WINDOW > lo:
        lo = last - WINDOW
    first = -1
    n = 0
    st = 0
    sy = 0
    y0 = 0
    for i in range(p.n):
        if p.times[i] < lo:
            continue
        y = log2_q24(p.involved_at(i)) >> 14  # Q10
        if first < 0:
            first = p.times[i]
            y0 = y
        _ft[n] = (p.times[i] - first) // 6  # 0.1 h
        _fy[n] = y - y0
        st += _ft[n]
        sy += _fy[n]
        n += 1
    if n < 3:
        return None
    tm = (st + n // 2) // n
    ym = smuldiv(sy, 1, n)
    sxx = 0
    sxy = 0
    syy = 0
    for i in range(n):
        dt = _ft[i] - tm
        dy = _fy[i] - ym
        sxx += ratio(dt * dt, 1, n, 1)
        sxy += smuldiv(dt, dy, n)
        syy += ratio(dy * dy, 1, n, 1)
    if sxx == 0:
        return None
    r2 = 1000
    if syy:
        b1000 = ratio(-sxy if sxy < 0 else sxy, 1000, sxx, 1)
        r2 = ratio(b1000, -sxy if sxy < 0 else sxy, syy, 1)
    half = half100 = 0
    if sxy < 0 and ratio(sxx, 1024, 1000000, 1) < -sxy:  # falling, half-life < 100,000 h
        half = ratio(sxx, 1024, -sxy, 1)
        half100 = ratio(sxx, 10240, -sxy, 1)  # 0.01 h, for "0.85 h"
    # The fitted log2 value at the latest sample (Q10, relative to the first point).
    y_last = ym + smuldiv(sxy, (last - first) // 6 - tm, sxx)
    return n, half, r2, first, y0, y_last, half100


def kinetics(p, now):
    """Everything the FLC screen and the host report show, as a dict of integers."""
    out = {"patient": p.code, "involved": CHAINS[p.involved], "samples": p.count,
           "treatment_start": p.t0 or None, "episode": p.episode}
    if not p.n:
        return out
    i = p.n - 1
    latest = p.involved_at(i)
    unin = p.lam[i] if p.involved == KAPPA else p.kappa[i]
    out["latest_time"] = p.times[i]
    out["latest_x100"] = latest
    out["dflc_x100"] = latest - unin
    kl = ratio(p.kappa[i], 1000, p.lam[i], 1)
    out["kl_ratio_x1000"] = kl
    out["kl_normal"] = NORMAL_RATIO[0] <= kl <= NORMAL_RATIO[1]
    out["kl_renal_range"] = RENAL_RATIO[0] <= kl <= RENAL_RATIO[1]
    base = p.baseline()
    out["baseline_x100"] = base or None
    out["baseline_time"] = p.base_or_first_t() if base else None
    out["reduction_x10"] = change_x10(base, latest) * -1 if base else None
    if i:
        ch = change_x10(p.involved_at(i - 1), latest)
        out["last_change_x10"] = ch
        out["trend"] = ("no change" if -IMPRECISION < ch < IMPRECISION
                        else ("falling" if ch < 0 else "rising"))
    labs = []
    for j in range(p.n):
        if p.labs[j] not in labs:
            labs.append(p.labs[j])
    out["labs"] = labs
    out["labs_differ"] = len(labs) > 1  # serial samples should come from one laboratory
    f = fit(p, (p.t0 + 1) if p.t0 else 0)
    out["reached_60_at"] = p.reached_at if p.reached_at >= 0 else None
    out["half_life_x10"] = None
    out["half_life_x100"] = None
    out["fit_points"] = None  # fewer than 3 samples for the fit: "not enough data"
    out["projected_60"] = None
    if f:
        n, half, r2, first, y0, y_last, half100 = f
        out["fit_points"] = n
        out["fit_r2_x1000"] = r2
        out["fit_from"] = first
        out["fit_latest_x100"] = exp2_q24((y_last + y0) << 14)  # the fitted value now
        out["half_life_x10"] = half or None
        out["half_life_x100"] = half100 or None
        if base and half and latest * 5 > base * 2:  # not at the target now: when?
            y60 = (log2_q24(ratio(base, 2, 5, 1)) >> 14) - y0
            if y_last > y60:
                tenths = ratio(y_last - y60, half, 1024, 1)  # 0.1 h to the target
                out["projected_60"] = p.times[i] + tenths * 6
            else:  # the fitted line is there already (the latest sample is noise above it)
                out["projected_60"] = p.times[i]
    on_track, why = day21(p, out["projected_60"], f is not None)
    out["on_track_day21"] = on_track
    out["on_track_reason"] = why
    # The involved chain is the clonal one, high at diagnosis: a sample with it below
    # the other chain may mean the chain (or the values) were entered the wrong way round.
    doubt = 0
    for j in range(p.n):
        if p.involved_at(j) < (p.lam[j] if p.involved == KAPPA else p.kappa[j]):
            doubt += 1
    out["chain_doubt"] = doubt
    out["sessions"] = sessions(p)
    out["now"] = now
    return out


def day21(p, projected, fitted):
    """(on_track, reason) for a 60% reduction by treatment start + 21 days: True, False
    or None (cannot be judged), worked out from the samples kept and the baseline each
    time, so nothing reached once stays "on track" after the value rose again."""
    if not p.t0:
        return None, "no_start"
    b = p.baseline()
    if not b:
        return None, "no_baseline"
    i = p.n - 1
    last = p.times[i]
    if last <= p.t0:
        return None, "too_few"
    day21 = p.t0 + 21 * DAY
    v = p.involved_at(i)
    # The lowest value since treatment start before the latest (the baseline counts),
    # and the time of the sample before it: a session after that made the low point.
    low = b
    since = p.base_t
    before = p.base_t
    for j in range(i):
        t = p.times[j]
        if t > p.t0 and p.involved_at(j) < low:
            low = p.involved_at(j)
            since = before
        before = t
    if change_x10(low, v) >= IMPRECISION:  # risen from the low by more than the assay noise
        for kind, start, end in p.sessions:
            if kind in SESSION_KINDS and end > since and start < last:
                return False, "rebound_after_session"
        return False, ("rising_after_day21" if last > day21 else "rising")
    reached = p.reached_at
    if v * 5 <= b * 2:  # at the target now
        return (True, "reached") if 0 <= reached <= day21 else (False, "reached_late")
    if 0 <= reached <= day21:
        return False, "above_target"  # reached in time, above it again
    if last >= day21:
        return False, "missed"
    if projected is None:
        return (False, "not_falling") if fitted else (None, "too_few")
    return (True, "projected") if projected <= day21 else (False, "projected_late")


def sessions(p):
    """Per extracorporeal session: the fall it brought and the rebound by the next
    sample, from the samples around it ([kind, start, end, removal_x10, rebound_x10])."""
    out = []
    for k in range(len(p.sessions)):
        kind, start, end = p.sessions[k]
        if kind not in SESSION_KINDS:
            continue
        nxt = p.sessions[k + 1][1] if k + 1 < len(p.sessions) else 0x3FFFFFFF
        pre = post = after = -1
        for i in range(p.n):
            t = p.times[i]
            if t <= start:
                pre = i
            elif t >= end and post < 0:
                post = i
            elif post >= 0 and after < 0 and t > p.times[post] and t < nxt:
                after = i
        removal = rebound = None
        if pre >= 0 and post >= 0 and p.times[post] < nxt:
            removal = -change_x10(p.involved_at(pre), p.involved_at(post))
            if after >= 0:
                rebound = change_x10(p.involved_at(post), p.involved_at(after))
        out.append([EVENTS[kind], start, end, removal, rebound])
    return out
