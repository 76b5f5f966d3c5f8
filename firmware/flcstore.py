"""The FLC records on the device: patients, samples, sessions and creatinine values
in the journal, replayed into the tracker (flc.Patient) at boot.

Records are acknowledged only once durable (journal.append). Entry limits refuse a
value outside its range with the field named; a sample dated before the patient's
latest one is refused unless sent again with confirm, so a typing slip in the date
cannot slip into the trend unnoticed.

A bed code names a bed, and beds get new occupants: registering a code that exists is
refused unless it is asked for as a new episode (a new person in this bed). The
episode record starts a fresh tracker for the code; the earlier person's records stay
in the journal (pulled to the host, marked with their episode) but are never replayed
into the new person's trend or creatinine series, and are not kept in memory.

Start-up is bounded: replay fills a fixed tracker per patient (flc.Patient allocates
its buffers once, and a discharged patient's tracker is reused), so the heap it takes
depends on the number of patients, never on the number of records (docs/flc.md).

Records have a life cycle. The host acknowledges a pull it has written safely to disk
(ack(through)); the journal is then rewritten without the records of every episode that
was closed (by a discharge, or by the next person in the bed) at or before that
sequence number, in one atomic step (a new file renamed over the old) that also writes
the acknowledgement. Nothing else is ever dropped: a record not acknowledged, or one
of a patient still on the device, stays. A discharge frees the patient's place at once
and their records' bytes at the next acknowledgement. Discharges (and so freeing space)
still fit when the journal is full: new records leave RESERVE bytes for them.
"""

import gc
import struct

import flc
import journal
from limits import MINUTES, InputError, check, check_scr_nmol

PATH = "flc.jnl"
MAX_BYTES = 180000  # >= 4,000 samples with 8-character lab codes
MAX_PATIENTS = 16

T_PATIENT = 1
T_SAMPLE = 2
T_EVENT = 3
T_SCR = 4
T_EPISODE = 5  # a new person under an existing code: same payload as T_PATIENT
T_DISCHARGE = 6  # the episode is closed on the device: pid, code
T_ACK = 7  # the host holds every record through a sequence number: through, still pending
T_OPEN = 8  # an episode whose earlier episodes were acknowledged and dropped: + episode number
# What an add_* returns instead of a sequence number when the same record is already
# there: a host that lost the answer to a durable append and sends it again gets "ok"
# and no second copy in the trend.
REPEAT = -1
TYPE_NAMES = ("", "patient", "sample", "event", "creatinine", "episode", "discharge")
# Bytes new patient records leave free so that every patient can still be discharged
# on a full journal (a discharge record: journal head and tail, pid, a 12-byte code).
RESERVE = MAX_PATIENTS * (journal.HEAD + journal.TAIL + 1 + 12)
FREE_SPACE = ("pull the records to a computer (mmrenal flc pull, which acknowledges "
              "them), then discharge the patients who have left (mmrenal flc discharge "
              "CODE, or Discharge on the FLC screen): their records are then removed")


class StorageFull(journal.Full):
    """The FLC journal has no room: nothing was written; the message says how to free it."""


def _keep_all(seq, rtype, payload):
    return True


def _opening(rtype):
    return rtype == T_PATIENT or rtype == T_EPISODE or rtype == T_OPEN


class Summary:
    """What the device keeps in memory for every patient from boot: the code, the
    episode, the chain, the treatment start and the sample count (the patient list and
    flc_list need no more). The trend itself (flc.Patient) is built from the journal
    when the patient is opened, and the few opened last are kept (Tracker.LOADED)."""

    def __init__(self, pid, code):
        self.pid = pid
        self.code = code
        self.reset(0, 0, 1)

    def reset(self, involved, t0, episode):
        self.involved = involved
        self.t0 = t0
        self.episode = episode
        self.count = 0
        self.last = -1

    def last_time(self):
        return self.last


class Tracker:
    # Patients' trends held in memory at once (each ~1.7 KB on the 64-bit port): the
    # ones opened last; another is rebuilt from the journal when opened (one scan).
    LOADED = 3

    def __init__(self, path=PATH, max_bytes=MAX_BYTES):
        self.journal = journal.Journal(path, max_bytes) if path else None
        self.patients = {}  # code -> Summary, the patients on the device
        self.by_pid = []  # the same, in the order of their places (pid)
        self.slots = [None] * MAX_PATIENTS  # pid -> Summary or None (a free place)
        self._loaded = []  # flc.Patient trends, the most recently used first
        self._spare = []  # trends not in use, reused (allocated once)
        self.creatinine = CreatinineView(self)
        self.records = 0
        self.damaged_at_boot = []
        self.acked = 0  # the host holds every record through this sequence number
        self.pending = 0  # records not yet acknowledged by the host
        # Every record through this sequence number has been sent in a pull that
        # continued from the acknowledged point: the most an acknowledgement may cover,
        # so a host folder holding another device's records cannot remove unpulled ones.
        self.covered = 0
        self._free_summaries = [None] * MAX_PATIENTS

    # --- replay -----------------------------------------------------------------

    def boot(self):
        """Replay the journal into the patients' summaries (no trend is built: they are
        built when opened). Damaged records are reported (status "damaged") and
        skipped; the journal is then compacted so that new records follow good ones."""
        for s in self.by_pid:
            self._free_summaries[s.pid] = s
        for p in self._loaded:
            self._spare.append(p)
        self._loaded = []
        self.patients = {}
        self.by_pid = []
        self.slots = [None] * MAX_PATIENTS
        self.records = 0
        self.damaged_at_boot = []
        self.acked = 0
        self.pending = 0
        if self.journal:
            # Everything the tracker holds, allocated now, side by side, before a
            # replay's scraps can split the heap: start-up takes the same heap whatever
            # the journal holds (docs/flc.md, start-up heap budget).
            for pid in range(MAX_PATIENTS):
                if self._free_summaries[pid] is None:
                    self._free_summaries[pid] = Summary(pid, "")
            while len(self._spare) < self.LOADED:
                self._spare.append(flc.Patient(0, "", 0, 0))
            _remove(self.journal.path + ".new")  # a rewrite cut short by a power cut
            self.records = self.journal.scan(self._apply)
            if self.journal.bad:
                bad = self.journal.bad
                # At most 8 spans are listed (and how many there were): a badly
                # damaged journal must not fill the heap with its report.
                self.damaged_at_boot = [list(b) for b in bad[:8]]
                if len(bad) > 8:
                    self.damaged_at_boot.append([-1, len(bad)])
                self.journal.compact(_keep_all)
            gc.collect()  # the replay's scraps, before the link allocates its buffers
        self.covered = self.acked
        return self.records

    def _take(self, pid, code, involved, t0, episode):
        """Put a patient in place pid (a free place, or a code's next person)."""
        s = self.slots[pid]
        if s is None:
            s = self._free_summaries[pid]
            if s is None:
                s = Summary(pid, code)
            self._free_summaries[pid] = None
            s.code = code
            self.slots[pid] = s
            self.patients[code] = s
            i = len(self.by_pid)
            self.by_pid.append(s)
            while i and self.by_pid[i - 1].pid > pid:  # kept in place order
                self.by_pid[i] = self.by_pid[i - 1]
                i -= 1
            self.by_pid[i] = s
        s.reset(involved, t0, episode)
        if self.journal is None:
            self.trend(s)  # nothing to rebuild a trend from: a scratch tracker keeps each
        return s

    def _free(self, pid):
        s = self.slots[pid]
        self.slots[pid] = None
        self.patients.pop(s.code, None)
        self.by_pid.remove(s)
        self._free_summaries[pid] = s
        for p in self._loaded:
            if p.pid == pid:
                self._loaded.remove(p)
                self._spare.append(p)
                break

    def _apply(self, seq, rtype, payload):
        if rtype == T_ACK:
            self.acked, self.pending = struct.unpack_from("<II", payload, 0)
            return
        self.pending += 1
        pid = payload[0]
        if pid >= MAX_PATIENTS:
            return
        s = self.slots[pid]
        if rtype == T_PATIENT or rtype == T_EPISODE or rtype == T_OPEN:
            if rtype == T_OPEN:
                pid, involved, t0, ep = struct.unpack_from("<BBIH", payload, 0)
            else:
                pid, involved, t0 = struct.unpack_from("<BBI", payload, 0)
                ep = 1 if rtype == T_PATIENT else (s.episode + 1 if s else 2)
            if s is not None and rtype == T_PATIENT:
                s.t0 = t0  # the code registered again: its treatment start
                for p in self._loaded:
                    if p.pid == pid:
                        p.set_start(t0)
                return
            code = s.code if s else str(bytes(payload[8 if rtype == T_OPEN else 6:]), "utf-8")
            self._take(pid, code, involved, t0, ep)
            # A fresh trend: the earlier person's samples, sessions and creatinine are
            # not in it (they stay in the journal until acknowledged).
            for p in self._loaded:
                if p.pid == pid:
                    p.reset(involved, t0)
                    p.episode = ep
            return
        elif s is None:
            return
        elif rtype == T_SAMPLE:
            t = struct.unpack_from("<I", payload, 1)[0]
            s.count += 1
            if t > s.last:
                s.last = t
        elif rtype == T_EVENT:
            if payload[1] == 1:
                s.t0 = struct.unpack_from("<I", payload, 2)[0]
        elif rtype == T_DISCHARGE:
            if len(payload) == 1 or _same(payload, 1, s.code):
                self._free(pid)
            return
        for p in self._loaded:  # the trend in memory follows the new record
            if p.pid == pid:
                _into(p, rtype, payload)

    def trend(self, s):
        """The patient's trend (flc.Patient): kept in memory, or built from the journal."""
        for p in self._loaded:
            if p.pid == s.pid:
                if self._loaded[0] is not p:
                    self._loaded.remove(p)
                    self._loaded.insert(0, p)
                return p
        if self._spare:
            p = self._spare.pop()
        elif self.journal is None or len(self._loaded) < self.LOADED:
            p = flc.Patient(0, "", 0, 0)  # a scratch tracker keeps every trend
        else:
            p = self._loaded.pop()  # the least recently used
        p.pid = s.pid
        p.code = s.code
        p.reset(s.involved, s.t0)
        p.episode = s.episode
        if self.journal:
            pid = s.pid
            here = [False]  # the place is occupied at this point of the journal

            def visit(seq, rtype, payload):
                if rtype == T_ACK or payload[0] != pid:
                    return
                if rtype == T_DISCHARGE:
                    here[0] = False
                elif rtype == T_PATIENT and here[0]:
                    p.set_start(struct.unpack_from("<I", payload, 2)[0])
                elif _opening(rtype):
                    # Each person's trend starts afresh, as the records were added.
                    p.reset(payload[1], struct.unpack_from("<I", payload, 2)[0])
                    here[0] = True
                elif here[0]:
                    _into(p, rtype, payload)

            self.journal.scan(visit)
            p.episode = s.episode
        self._loaded.insert(0, p)
        return p

    def _record(self, rtype, payload, reserve=RESERVE):
        seq = 0
        if self.journal:
            try:
                seq = self.journal.append(rtype, payload, reserve)
            except journal.Full:
                if self.journal.bad:
                    self.journal.compact(_keep_all)  # reclaim damaged bytes, then try once more
                    try:
                        seq = self.journal.append(rtype, payload, reserve)
                    except journal.Full:
                        seq = 0
            if not seq:  # nothing was written: say so, and how to free space
                raise StorageFull(self.full_message())
        self._apply(seq, rtype, memoryview(payload))
        self.records += 1
        return seq

    def full_message(self):
        j = self.journal
        return (str(j.size) + " of " + str(j.max_bytes) + " bytes used, "
                + str(self.pending) + " records not yet pulled and acknowledged. To free "
                "space, " + FREE_SPACE)

    # --- entries ----------------------------------------------------------------

    def patient(self, code):
        """The patient's trend (flc.Patient), or a refusal naming the code."""
        return self.trend(self.summary(code))

    def summary(self, code):
        s = self.patients.get(code)
        if s is None:
            raise InputError("patient", repr(code) + " is not registered on this device")
        return s

    def check_new(self, code):
        """Refuse a code that could be a name, or a new code on a full device (the
        screens ask this before asking for the chain)."""
        flc.check_code(code)
        if code not in self.patients and len(self.by_pid) >= MAX_PATIENTS:
            raise InputError("patient", "the device holds " + str(MAX_PATIENTS)
                             + " patients at most: discharge a patient who has left first")

    def add_patient(self, code, involved, t0, new_episode=False):
        """Register a code, or with new_episode a new person under a code in use."""
        self.check_new(code)
        if involved not in (0, 1):
            raise InputError("involved", "kappa or lambda: choose the involved chain")
        if t0:
            check(MINUTES, t0)
        p = self.patients.get(code)
        if p is None:
            pid = self.slots.index(None)
            return self._record(T_PATIENT, struct.pack("<BBI", pid, involved, t0 or 0)
                                + code.encode())
        if not new_episode:
            raise InputError("patient", code + " is already registered (" + flc.CHAINS[p.involved]
                             + ", " + str(p.count) + " samples): a new person in this bed "
                             "needs new_episode; nothing was written")
        if p.episode > 1 and not p.count and p.involved == involved and p.t0 == (t0 or 0):
            full = self.trend(p)
            if not full.ns and not full.nscr:
                return REPEAT  # this new episode is there and still empty: a retry
        return self._record(T_EPISODE, struct.pack("<BBI", p.pid, involved, t0 or 0) + code.encode())

    def add_sample(self, code, t, kappa, lam, lab, confirm):
        s = self.summary(code)
        flc.check_code(code)  # read and pulled, but nothing new under a refused code
        check(MINUTES, t)
        check(("kappa",) + flc.FLC[1:], kappa)
        check(("lambda",) + flc.FLC[1:], lam)
        raw = flc.check_lab(lab).encode()  # the table's laboratories (flc.set_code_policy)
        if t <= s.last:
            # Not after the latest: it may be there already (a retry after a lost
            # answer), which only the trend can tell. A later one cannot be.
            p = self.trend(s)
            for i in range(p.n):
                if (p.times[i] == t and p.kappa[i] == kappa and p.lam[i] == lam
                        and p.same_lab(i, raw)):
                    return REPEAT  # already durable: a retry after a lost answer
            if t < s.last and not confirm:
                raise InputError("time", "earlier than this patient's latest sample: send it "
                                 "again with confirm to record it")
        return self._record(T_SAMPLE, struct.pack("<BIII", s.pid, t, kappa, lam) + raw)

    def add_event(self, code, kind, start, end):
        p = self.summary(code)
        flc.check_code(code)  # read and pulled, but nothing new under a refused code
        if not 1 <= kind < len(flc.EVENTS):
            raise InputError("event", "one of " + ", ".join(flc.EVENTS[1:]))
        check(MINUTES, start)
        if end:
            check(MINUTES, end)
            if end < start:
                raise InputError("end", "a session cannot end before it starts")
        if kind == 1:
            if p.t0 == start:
                return REPEAT
        elif self.trend(p).has_session(kind, start, end or start):
            return REPEAT
        return self._record(T_EVENT, struct.pack("<BBII", p.pid, kind, start, end or 0))

    def add_creatinine(self, code, t, nmol):
        p = self.patient(code)
        flc.check_code(code)  # read and pulled, but nothing new under a refused code
        check(MINUTES, t)
        check_scr_nmol(nmol)
        if p.has_creatinine(t, nmol):
            return REPEAT
        return self._record(T_SCR, struct.pack("<BII", p.pid, t, nmol))

    # --- life cycle -------------------------------------------------------------

    def discharge(self, code):
        """Close the patient's episode on the device: their place is free now, their
        records' bytes after the host has pulled and acknowledged them. Written into
        the reserve, so it works on a full journal."""
        p = self.summary(code)
        return self._record(T_DISCHARGE, struct.pack("<B", p.pid) + code.encode(), 0)

    def ack(self, through):
        """The host holds every record through `through` in a file: rewrite the journal
        without the records of the episodes closed by then (power-cut safe: a new file
        renamed over the old, with the acknowledgement in it). Returns the bytes freed."""
        j = self.journal
        if isinstance(through, bool) or not isinstance(through, int) or through < 0:
            raise InputError("through", "a sequence number the host has stored")
        if j is None:
            return 0
        if through > j.last_seq:
            raise InputError("through", str(through) + " is beyond the device's last record ("
                             + str(j.last_seq) + "): nothing was acknowledged")
        if through > self.covered:
            raise InputError("through", "records " + str(self.acked + 1) + "-" + str(through)
                             + " have not all been sent in a pull from sequence "
                             + str(self.acked) + ": pull from there, then acknowledge "
                             "(nothing was removed)")
        if through < self.acked:
            through = self.acked  # acknowledged before (a retry): never goes back
        # First pass: per place, the last closing record at or before `through` (a
        # discharge, or the next person's opening) and that opening's episode number.
        cut = [0] * MAX_PATIENTS
        cut_ep = [0] * MAX_PATIENTS
        ep = [0] * MAX_PATIENTS
        opened = [False] * MAX_PATIENTS

        def find(seq, rtype, payload):
            if rtype == T_ACK:
                return
            pid = payload[0]
            if pid >= MAX_PATIENTS:
                return
            if rtype == T_PATIENT and not opened[pid]:
                opened[pid] = True
                ep[pid] = 1
            elif rtype == T_EPISODE:
                ep[pid] += 1
            elif rtype == T_OPEN:
                opened[pid] = True
                ep[pid] = struct.unpack_from("<H", payload, 6)[0]
            elif rtype == T_DISCHARGE:
                opened[pid] = False
            if seq <= through and (rtype == T_DISCHARGE or (rtype != T_PATIENT and _opening(rtype))):
                cut[pid] = seq
                cut_ep[pid] = ep[pid]

        j.scan(find)
        pending = [0]

        def keep(seq, rtype, payload):
            if rtype == T_ACK:
                return False  # the new acknowledgement replaces it
            pid = payload[0]
            c = cut[pid] if pid < MAX_PATIENTS else 0
            if seq < c or (seq == c and rtype == T_DISCHARGE):
                return False  # a closed episode, all of it acknowledged
            if seq > through:
                pending[0] += 1
            if seq == c and rtype != T_OPEN:  # the opening that closed the dropped ones
                pid, involved, t0 = struct.unpack_from("<BBI", payload, 0)
                return (T_OPEN, struct.pack("<BBIH", pid, involved, t0, cut_ep[pid])
                        + bytes(payload[6:]))
            return True

        before = j.size
        j.compact(keep, lambda: (T_ACK, struct.pack("<II", through, pending[0])))
        self.acked = through
        self.covered = max(self.covered, through)
        self.pending = pending[0]
        return before - j.size

    # --- reading back -----------------------------------------------------------

    def pull(self, since, limit):
        """Records with seq > since, at most `limit`, as lists a host can store."""
        out = []
        codes = [None] * MAX_PATIENTS  # each place's code as the scan goes
        episode = [1] * MAX_PATIENTS  # and its occupant: counted on every record

        def visit(seq, rtype, payload):
            if rtype == T_ACK:
                return
            pid = payload[0]
            if pid >= MAX_PATIENTS:
                return
            if rtype == T_PATIENT or rtype == T_OPEN:
                if codes[pid] is None:
                    codes[pid] = str(bytes(payload[8 if rtype == T_OPEN else 6:]), "utf-8")
                    episode[pid] = 1
                if rtype == T_OPEN:
                    episode[pid] = struct.unpack_from("<H", payload, 6)[0]
            elif rtype == T_EPISODE:
                episode[pid] += 1
            code = codes[pid]
            if rtype == T_DISCHARGE:
                codes[pid] = None
            if seq <= since or len(out) >= limit or code is None:
                return
            ep = episode[pid]
            if _opening(rtype):
                pid, involved, t0 = struct.unpack_from("<BBI", payload, 0)
                kind = "episode" if rtype == T_EPISODE or (rtype == T_OPEN and ep > 1) else "patient"
                out.append([seq, kind, code, flc.CHAINS[involved], t0, ep])
            elif rtype == T_SAMPLE:
                pid, t, k, lam = struct.unpack_from("<BIII", payload, 0)
                out.append([seq, "sample", code, t, k, lam, str(bytes(payload[13:]), "utf-8"), ep])
            elif rtype == T_EVENT:
                pid, kind, start, end = struct.unpack_from("<BBII", payload, 0)
                out.append([seq, "event", code, flc.EVENTS[kind], start, end, ep])
            elif rtype == T_SCR:
                pid, t, nmol = struct.unpack_from("<BII", payload, 0)
                out.append([seq, "creatinine", code, t, nmol, ep])
            elif rtype == T_DISCHARGE:
                out.append([seq, "discharge", code, ep])

        if self.journal:
            self.journal.scan(visit)
            if since <= self.covered:
                # The caller sends at least all but the last of a full page (service
                # asks for one more than it sends, to know there is more).
                if len(out) < limit:
                    self.covered = self.journal.last_seq
                elif len(out) >= 2:
                    self.covered = max(self.covered, out[-2][0])
        return out

    def status(self):
        j = self.journal
        return {"patients": len(self.by_pid), "records": self.records,
                "samples": sum(p.count for p in self.by_pid),
                "bytes": j.size if j else 0, "capacity": j.max_bytes if j else 0,
                "reserve": RESERVE,
                "last_seq": j.last_seq if j else 0,
                "acked_through": self.acked, "not_acked": self.pending,
                "damaged": self.damaged_at_boot}


# --- the protocol's life-cycle requests (service.OPS) ----------------------------------


def op_ack(tr, req):
    """flc_ack {"through": seq}: the host has written every record through seq to disk
    (mmrenal flc pull sends it after fsync); closed episodes' records are then removed."""
    freed = tr.ack(req.get("through"))
    out = tr.status()
    out["ok"] = True
    out["freed_bytes"] = freed
    return out


def op_discharge(tr, req):
    """flc_discharge {"patient": code}: the episode is closed on the device."""
    code = req.get("patient")
    if not isinstance(code, str):
        raise InputError("patient", "missing: the patient's code")
    try:
        seq = tr.discharge(code)
    except journal.Full:
        raise InputError("storage", "storage full even for a discharge: pull the records "
                         "(mmrenal flc pull acknowledges them), then discharge again") from None
    return {"ok": True, "seq": seq, "not_acked": tr.pending,
            "note": "the place is free now; the records stay on the device until a pull "
                    "has acknowledged them, then their space is freed"}


def _into(p, rtype, payload):
    """One sample, session, start or creatinine record into a trend (flc.Patient)."""
    if rtype == T_SAMPLE:
        pid, t, k, lam = struct.unpack_from("<BIII", payload, 0)
        p.add(t, k, lam, payload[13:])
    elif rtype == T_EVENT:
        pid, kind, start, end = struct.unpack_from("<BBII", payload, 0)
        if kind == 1:
            p.set_start(start)
        else:
            p.add_session(kind, start, end)
    elif rtype == T_SCR:
        pid, t, nmol = struct.unpack_from("<BII", payload, 0)
        p.add_creatinine(t, nmol)


class CreatinineView:
    """tracker.creatinine: each patient's recent creatinine values [(time, nmol)] as
    recorded, read from the patient's fixed arrays (a list is made only when asked)."""

    def __init__(self, tracker):
        self._t = tracker

    def get(self, code, default=None):
        s = self._t.patients.get(code)
        if s is None:
            return default
        p = self._t.trend(s)
        return p.creatinine() if p.nscr else default

    def __getitem__(self, code):
        v = self.get(code)
        if v is None:
            raise KeyError(code)
        return v

    def __contains__(self, code):
        return self.get(code) is not None


def _same(payload, off, code):
    b = code.encode()
    return len(payload) - off == len(b) and bytes(payload[off:]) == b


def _remove(path):
    import os

    try:
        os.remove(path)
    except OSError:
        pass
