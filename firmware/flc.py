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
MAX_SCR = const(16)  # recent creatinine values kept per patient, for KDIGO
LAB_BYTES = const(8)  # a laboratory code is at most 8 bytes (check_lab)
# Laboratory codes kept per patient: serial samples come from one laboratory, so a
# patient's recent samples name a few; a sample from yet another while LAB_SLOTS others
# are in the ring is shown as "?" (and still flags "more than one laboratory").
LAB_SLOTS = const(8)
OTHER_LAB = const(255)
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


# --- codes, never names ----------------------------------------------------------------
# Patients are bed or study numbers and laboratories short codes: a name, a date of
# birth or a hospital number kept on the device would come back as a file name on every
# pull (hazard H-25). The institution sets the shape of its codes in the dose table
# ([codes]: docs/table-format.md "Codes"); whoever loads the table calls
# set_code_policy() (this core never imports the table store), and with no table the
# defaults below apply.
#
# The pattern is written as a tiny regular expression and compiled by the host
# (mmrenal.tables.compile_code_pattern) into atoms of 3 characters each: the kind (a
# literal character, or a class: 1 capitals, 2 digits, 4 '-', or'ed), the least and
# the most count; alternatives are separated by "|". The device only matches: no
# parser in its memory, no allocation while matching.
PATIENT_PATTERN = "[A-Z]{1,4}-[0-9]{1,6}"  # BED-12, ICU-4, S-10233
PATIENT_ATOMS = "\x01\x01\x04-\x01\x01\x02\x01\x06"  # PATIENT_PATTERN compiled
LAB_PATTERN = "[A-Z0-9]{1,6}"  # when the table lists no laboratories
LAB_ATOMS = "\x03\x01\x06"
MAX_CODE = const(12)  # characters of a patient code, whatever the pattern


def _has(kind, o):
    if kind > 7:
        return o == kind  # a literal character
    return (kind & 1 and 65 <= o <= 90) or (kind & 2 and 48 <= o <= 57) or (kind & 4 and o == 45)


def _fits_from(atoms, i, end, code, pos):
    # Greedy with backtracking, by index: codes have at most 12 characters and an
    # alternative a few atoms, so the search stays small.
    if i >= end:
        return pos == len(code)
    kind, least, most = ord(atoms[i]), ord(atoms[i + 1]), ord(atoms[i + 2])
    k = 0
    while k < most and pos + k < len(code) and _has(kind, ord(code[pos + k])):
        k += 1
    while k >= least:
        if _fits_from(atoms, i + 3, end, code, pos + k):
            return True
        k -= 1
    return False


def fits(atoms, code):
    """True when `code` (text) is one of the compiled pattern's codes."""
    if not isinstance(code, str) or len(code) > MAX_CODE:
        return False
    i = 0
    while i < len(atoms):
        end = atoms.find("|", i)
        end = len(atoms) if end < 0 else end
        if _fits_from(atoms, i, end, code, 0):
            return True
        i = end + 1
    return False


def shapes(atoms):
    """The pattern as example codes, shortest and longest of each alternative ("A-1 …
    ABCD-123456"): literals as written, capitals from A, digits from 1. The screens
    show it in place of the pattern, the same in both languages."""
    out = ""
    for alt in atoms.split("|"):
        ends = []
        for longest in (0, 1):
            s = ""
            for i in range(0, len(alt), 3):
                kind = ord(alt[i])
                pool = chr(kind) if kind > 7 else ("ABCDEFGHIJKLMNOPQRSTUVWXYZ" if kind & 1 else
                                                   "1234567890" if kind & 2 else "-")
                for k in range(ord(alt[i + 2 if longest else i + 1])):
                    s += pool[k % len(pool)]
            ends.append(s)
        out += (", " if out else "") + (ends[0] if ends[0] == ends[1] else ends[0] + " … " + ends[1])
    return out


_policy = [PATIENT_PATTERN, PATIENT_ATOMS, None]  # pattern, its atoms, listed laboratories


def set_code_policy(pattern=None, atoms=None, labs=None):
    """The active dose table's code policy (dosetable.Table.codes): its patient pattern
    and atoms ("" or None: the defaults) and its laboratories (empty or None: the
    default lab pattern). Called when a table is loaded or changed, with nothing when
    there is none."""
    if pattern and atoms:
        _policy[0], _policy[1] = pattern, atoms
    else:
        _policy[0], _policy[1] = PATIENT_PATTERN, PATIENT_ATOMS
    _policy[2] = tuple(labs) if labs else None


def code_policy():
    """(patient pattern, listed laboratories or None) in force."""
    return _policy[0], _policy[2]


def code_fits(code):
    return fits(_policy[1], code)


def code_shapes():
    return shapes(_policy[1])


def check_code(code):
    """Patients are codes of the institution's pattern (bed or study numbers), never
    names. Records under a code refused here stay readable and are pulled; no new
    record may use it (flcstore)."""
    if not code_fits(code):
        shown = repr(code) if isinstance(code, str) and len(code) <= 24 else "the code"
        raise InputError("patient", shown + " is not a code of this device's pattern "
                         + _policy[0] + " (" + code_shapes() + "): a bed or study number, "
                         "never a name, a date of birth or a hospital number")
    return code


def lab_fits(lab):
    """"" (no laboratory given), or a listed laboratory (else the default pattern)."""
    if not isinstance(lab, str):
        return False
    listed = _policy[2]
    return not lab or (lab in listed if listed else fits(LAB_ATOMS, lab))


def check_lab(lab):
    if not lab_fits(lab):
        listed = _policy[2]
        want = ("one of the table's laboratories: " + ", ".join(listed) if listed
                else "a laboratory code of pattern " + LAB_PATTERN + " (up to 6 capitals and digits)")
        shown = repr(lab) if isinstance(lab, str) and len(lab) <= 24 else "the code"
        raise InputError("lab", shown + " is not " + want + ", never a name")
    return lab


def ward_prefix(code):
    """Where a new code's entry starts on the screens: the capitals and dash of `code`
    (the newest patient's) when it fits, else the literal start of the pattern's first
    alternative ("ICU-" of "ICU-[0-9]{1,2}"), else ""."""
    atoms = _policy[1]
    if code and fits(atoms, code):
        return code[:code.rfind("-") + 1]
    s = ""
    i = 0
    while i + 2 < len(atoms) and ord(atoms[i]) > 7 and atoms[i] != "|" and \
            ord(atoms[i + 1]) == ord(atoms[i + 2]) == 1:
        s += atoms[i]
        i += 3
    return s


class Patient:
    """One patient's tracker. Everything it holds is allocated here, once: the ring of
    recent samples, their laboratories (an index into the patient's few laboratory
    codes), the sessions and the recent creatinine values, all in arrays, so replaying
    a journal of any length at boot allocates nothing per record and the start-up heap
    is fixed by the number of patients (docs/flc.md: the start-up heap budget)."""

    def __init__(self, pid, code, involved, t0):
        self.pid = pid
        self.code = code
        self.times = array("i", [0] * RING)
        self.kappa = array("i", [0] * RING)
        self.lam = array("i", [0] * RING)
        self.lab_of = bytearray(RING)  # each ring sample's slot in lab_codes (OTHER_LAB: none)
        self.lab_codes = bytearray(LAB_SLOTS * LAB_BYTES)  # codes, 0-padded; a free slot is 0
        self.sess = array("i", [0] * (3 * MAX_SESSIONS))  # kind, start, end of each session
        self.scr = array("i", [0] * (2 * MAX_SCR))  # time, nmol/L of recent creatinine (KDIGO)
        self.episode = 1  # the bed's occupant: 2 after the first new person in this bed
        self.reset(involved, t0)

    def reset(self, involved, t0):
        """Empty the tracker for a new episode, keeping its buffers."""
        self.involved = involved
        self.t0 = t0  # treatment start, 0 if not recorded
        self.base_t = -1  # baseline sample time (-1: none yet)
        self.base_v = 0
        self.first_t = -1  # the first sample, the baseline when t0 is unknown
        self.first_v = 0
        self.n = 0  # samples in the ring, oldest first
        self.count = 0  # samples ever added
        # The earliest sample at the 60% target: a fact of the history (kept when that
        # sample has left the ring), never the status itself (see day21()).
        self.reached_at = -1
        self.ns = 0  # sessions kept, oldest first
        self.nscr = 0  # creatinine values kept, oldest first
        for i in range(LAB_SLOTS * LAB_BYTES):
            self.lab_codes[i] = 0

    # --- laboratories: a few codes per patient, each ring sample pointing at one ----

    def lab(self, i):
        """The laboratory code of ring sample i, as text (allocated when asked)."""
        s = self.lab_of[i]
        if s == OTHER_LAB:
            return "?"
        b = self.lab_codes
        o = s * LAB_BYTES
        e = o
        while e < o + LAB_BYTES and b[e]:
            e += 1
        return str(b[o:e], "utf-8")

    def _slot_is(self, s, lab):
        b = self.lab_codes
        o = s * LAB_BYTES
        n = len(lab)
        for j in range(LAB_BYTES):
            if b[o + j] != (lab[j] if j < n else 0):
                return False
        return True

    def same_lab(self, i, lab):
        """Ring sample i came from laboratory `lab` (bytes), compared without allocating."""
        s = self.lab_of[i]
        return s != OTHER_LAB and self._slot_is(s, lab)

    def _lab_slot(self, lab):
        """The slot of code `lab` (bytes): found, or written into a slot no ring sample
        uses; OTHER_LAB if the ring already holds LAB_SLOTS other laboratories."""
        free = OTHER_LAB
        for s in range(LAB_SLOTS):
            if self._slot_is(s, lab):
                return s
            if free == OTHER_LAB:
                used = False
                for i in range(self.n):
                    if self.lab_of[i] == s:
                        used = True
                        break
                if not used:
                    free = s
        if free != OTHER_LAB:
            o = free * LAB_BYTES
            n = len(lab)
            for j in range(LAB_BYTES):
                self.lab_codes[o + j] = lab[j] if j < n else 0
        return free

    @property
    def labs(self):
        return [self.lab(i) for i in range(self.n)]

    # --- sessions and creatinine ------------------------------------------------------

    @property
    def sessions(self):
        """(kind, start, end) of the sessions kept, oldest first (a list made when asked)."""
        v = self.sess
        return [(v[3 * i], v[3 * i + 1], v[3 * i + 2]) for i in range(self.ns)]

    def has_session(self, kind, start, end):
        v = self.sess
        for i in range(self.ns):
            if v[3 * i] == kind and v[3 * i + 1] == start and v[3 * i + 2] == end:
                return True
        return False

    def creatinine(self):
        v = self.scr
        return [(v[2 * i], v[2 * i + 1]) for i in range(self.nscr)]

    def has_creatinine(self, t, nmol):
        v = self.scr
        for i in range(self.nscr):
            if v[2 * i] == t and v[2 * i + 1] == nmol:
                return True
        return False

    def add_creatinine(self, t, nmol):
        v = self.scr
        if self.nscr == MAX_SCR:
            for i in range(2, 2 * MAX_SCR):
                v[i - 2] = v[i]
            self.nscr -= 1
        v[2 * self.nscr] = t
        v[2 * self.nscr + 1] = nmol
        self.nscr += 1

    def _move(self, dst, src):
        self.times[dst] = self.times[src]
        self.kappa[dst] = self.kappa[src]
        self.lam[dst] = self.lam[src]
        self.lab_of[dst] = self.lab_of[src]

    def involved_at(self, i):
        return self.kappa[i] if self.involved == KAPPA else self.lam[i]

    def last_time(self):
        return self.times[self.n - 1] if self.n else -1

    def add(self, t, kappa, lam, lab):
        """Insert a sample in time order (the oldest drops out of a full ring). `lab` is
        bytes (a view of the journal record at replay) or text."""
        n = self.n
        if n == RING:
            for i in range(1, RING):
                self._move(i - 1, i)
            n -= 1
        i = n
        while i > 0 and self.times[i - 1] > t:
            self._move(i, i - 1)
            i -= 1
        self.times[i] = t
        self.kappa[i] = kappa
        self.lam[i] = lam
        self.n = n + 1
        if isinstance(lab, str):
            lab = lab.encode()
        self.lab_of[i] = OTHER_LAB  # not a slot in use while the slot is chosen
        self.lab_of[i] = self._lab_slot(lab)
        self.count += 1
        v = kappa if self.involved == KAPPA else lam
        old = self.baseline()
        if self.first_t < 0 or t < self.first_t:
            self.first_t, self.first_v = t, v
        if self.t0 and t <= self.t0 and t >= self.base_t:
            self.base_t, self.base_v = t, v
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
        v = self.sess
        if self.ns == MAX_SESSIONS:
            for i in range(3, 3 * MAX_SESSIONS):
                v[i - 3] = v[i]
            self.ns -= 1
        i = 3 * self.ns
        v[i] = kind
        v[i + 1] = start
        v[i + 2] = end or start
        self.ns += 1


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
        lab = p.lab(j)
        if lab not in labs:
            labs.append(lab)
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
        v = p.sess
        for k in range(0, 3 * p.ns, 3):
            if v[k] in SESSION_KINDS and v[k + 2] > since and v[k + 1] < last:
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
    v = p.sess
    for k in range(p.ns):
        kind = v[3 * k]
        start = v[3 * k + 1]
        end = v[3 * k + 2]
        if kind not in SESSION_KINDS:
            continue
        nxt = v[3 * k + 4] if k + 1 < p.ns else 0x3FFFFFFF
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
