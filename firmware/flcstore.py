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
"""

import struct

import flc
import journal
from limits import MINUTES, InputError, check, check_scr_nmol

PATH = "flc.jnl"
MAX_BYTES = 180000  # >= 4,000 samples with 8-character lab codes
MAX_PATIENTS = 16
MAX_LAB = 8

T_PATIENT = 1
T_SAMPLE = 2
T_EVENT = 3
T_SCR = 4
T_EPISODE = 5  # a new person under an existing code: same payload as T_PATIENT
# What an add_* returns instead of a sequence number when the same record is already
# there: a host that lost the answer to a durable append and sends it again gets "ok"
# and no second copy in the trend.
REPEAT = -1
TYPE_NAMES = ("", "patient", "sample", "event", "creatinine", "episode")


def _keep_all(seq, rtype, payload):
    return True


def _lab(lab):
    if not isinstance(lab, str) or len(lab) > MAX_LAB:
        raise InputError("lab", "a laboratory code of at most 8 characters")
    for ch in lab:
        if not ("A" <= ch <= "Z" or "0" <= ch <= "9" or ch == "-"):
            raise InputError("lab", repr(lab) + ": capitals, digits and '-' only")
    return lab


class Tracker:
    def __init__(self, path=PATH, max_bytes=MAX_BYTES):
        self.journal = journal.Journal(path, max_bytes) if path else None
        self.patients = {}  # code -> flc.Patient
        self.by_pid = []
        self.creatinine = {}  # code -> [(time, nmol)] recent values, for KDIGO
        self.records = 0
        self.damaged_at_boot = []

    # --- replay -----------------------------------------------------------------

    def boot(self):
        """Replay the journal. Damaged records are reported (status "damaged") and
        skipped; the journal is then compacted so that new records follow good ones."""
        self.patients = {}
        self.by_pid = []
        self.creatinine = {}
        self.records = 0
        self.damaged_at_boot = []
        if self.journal:
            self.records = self.journal.scan(self._apply)
            if self.journal.bad:
                self.damaged_at_boot = [list(b) for b in self.journal.bad]
                self.journal.compact(_keep_all)
        return self.records

    def _apply(self, seq, rtype, payload):
        if rtype == T_PATIENT:
            pid, involved, t0 = struct.unpack_from("<BBI", payload, 0)
            code = str(bytes(payload[6:]), "utf-8")
            if pid < len(self.by_pid):
                p = self.by_pid[pid]
                p.set_start(t0)
            else:
                p = flc.Patient(pid, code, involved, t0)
                self.by_pid.append(p)
                self.patients[code] = p
        elif rtype == T_EPISODE:
            pid, involved, t0 = struct.unpack_from("<BBI", payload, 0)
            if pid < len(self.by_pid):
                old = self.by_pid[pid]
                # A fresh tracker: the earlier person's samples, sessions and creatinine
                # are dropped from memory here (they stay in the journal).
                p = flc.Patient(pid, old.code, involved, t0)
                p.episode = old.episode + 1
                self.by_pid[pid] = p
                self.patients[old.code] = p
                self.creatinine.pop(old.code, None)
        elif rtype == T_SAMPLE:
            pid, t, k, lam = struct.unpack_from("<BIII", payload, 0)
            if pid < len(self.by_pid):
                self.by_pid[pid].add(t, k, lam, str(bytes(payload[13:]), "utf-8"))
        elif rtype == T_EVENT:
            pid, kind, start, end = struct.unpack_from("<BBII", payload, 0)
            if pid < len(self.by_pid):
                p = self.by_pid[pid]
                if kind == 1:
                    p.set_start(start)
                else:
                    p.add_session(kind, start, end)
        elif rtype == T_SCR:
            pid, t, nmol = struct.unpack_from("<BII", payload, 0)
            if pid < len(self.by_pid):
                lst = self.creatinine.setdefault(self.by_pid[pid].code, [])
                lst.append((t, nmol))
                if len(lst) > 16:
                    lst.pop(0)

    def _record(self, rtype, payload):
        seq = 0
        if self.journal:
            try:
                seq = self.journal.append(rtype, payload)
            except journal.Full:
                if not self.journal.bad:
                    raise
                self.journal.compact(_keep_all)  # reclaim damaged bytes, then try once more
                seq = self.journal.append(rtype, payload)  # journal.Full: nothing written
        self._apply(seq, rtype, memoryview(payload))
        self.records += 1
        return seq

    # --- entries ----------------------------------------------------------------

    def patient(self, code):
        p = self.patients.get(code)
        if p is None:
            raise InputError("patient", repr(code) + " is not registered on this device")
        return p

    def check_new(self, code):
        """Refuse a code that could be a name, or a new code on a full device (the
        screens ask this before asking for the chain)."""
        flc.check_code(code)
        if code not in self.patients and len(self.by_pid) >= MAX_PATIENTS:
            raise InputError("patient", "the device holds " + str(MAX_PATIENTS)
                             + " patients at most")

    def add_patient(self, code, involved, t0, new_episode=False):
        """Register a code, or with new_episode a new person under a code in use."""
        self.check_new(code)
        if involved not in (0, 1):
            raise InputError("involved", "kappa or lambda: choose the involved chain")
        if t0:
            check(MINUTES, t0)
        p = self.patients.get(code)
        if p is None:
            return self._record(T_PATIENT, struct.pack("<BBI", len(self.by_pid), involved, t0 or 0)
                                + code.encode())
        if not new_episode:
            raise InputError("patient", code + " is already registered (" + flc.CHAINS[p.involved]
                             + ", " + str(p.count) + " samples): a new person in this bed "
                             "needs new_episode; nothing was written")
        if (p.episode > 1 and not p.count and not p.sessions and p.involved == involved
                and p.t0 == (t0 or 0) and not self.creatinine.get(code)):
            return REPEAT  # this new episode is there and still empty: a retry
        return self._record(T_EPISODE, struct.pack("<BBI", p.pid, involved, t0 or 0) + code.encode())

    def add_sample(self, code, t, kappa, lam, lab, confirm):
        p = self.patient(code)
        check(MINUTES, t)
        check(("kappa",) + flc.FLC[1:], kappa)
        check(("lambda",) + flc.FLC[1:], lam)
        _lab(lab)
        for i in range(p.n):
            if (p.times[i] == t and p.kappa[i] == kappa and p.lam[i] == lam
                    and p.labs[i] == lab):
                return REPEAT  # already durable: a retry after a lost answer
        if p.n and t < p.last_time() and not confirm:
            raise InputError("time", "earlier than this patient's latest sample: send it "
                             "again with confirm to record it")
        return self._record(T_SAMPLE, struct.pack("<BIII", p.pid, t, kappa, lam) + lab.encode())

    def add_event(self, code, kind, start, end):
        p = self.patient(code)
        if not 1 <= kind < len(flc.EVENTS):
            raise InputError("event", "one of " + ", ".join(flc.EVENTS[1:]))
        check(MINUTES, start)
        if end:
            check(MINUTES, end)
            if end < start:
                raise InputError("end", "a session cannot end before it starts")
        if (kind == 1 and p.t0 == start) or (kind, start, end or start) in p.sessions:
            return REPEAT
        return self._record(T_EVENT, struct.pack("<BBII", p.pid, kind, start, end or 0))

    def add_creatinine(self, code, t, nmol):
        p = self.patient(code)
        check(MINUTES, t)
        check_scr_nmol(nmol)
        if (t, nmol) in self.creatinine.get(code, ()):
            return REPEAT
        return self._record(T_SCR, struct.pack("<BII", p.pid, t, nmol))

    # --- reading back -----------------------------------------------------------

    def pull(self, since, limit):
        """Records with seq > since, at most `limit`, as lists a host can store."""
        out = []
        episode = [1] * len(self.by_pid)  # each code's occupant as the scan goes

        def visit(seq, rtype, payload):
            pid = payload[0]
            if rtype == T_EPISODE and pid < len(episode):
                episode[pid] += 1  # counted on every record, pulled or not
            if seq <= since or len(out) >= limit or pid >= len(episode):
                return
            code = self.by_pid[pid].code
            ep = episode[pid]
            if rtype == T_PATIENT or rtype == T_EPISODE:
                pid, involved, t0 = struct.unpack_from("<BBI", payload, 0)
                out.append([seq, TYPE_NAMES[rtype], code, flc.CHAINS[involved], t0, ep])
            elif rtype == T_SAMPLE:
                pid, t, k, lam = struct.unpack_from("<BIII", payload, 0)
                out.append([seq, "sample", code, t, k, lam, str(bytes(payload[13:]), "utf-8"), ep])
            elif rtype == T_EVENT:
                pid, kind, start, end = struct.unpack_from("<BBII", payload, 0)
                out.append([seq, "event", code, flc.EVENTS[kind], start, end, ep])
            elif rtype == T_SCR:
                pid, t, nmol = struct.unpack_from("<BII", payload, 0)
                out.append([seq, "creatinine", code, t, nmol, ep])

        if self.journal:
            self.journal.scan(visit)
        return out

    def status(self):
        j = self.journal
        return {"patients": len(self.by_pid), "records": self.records,
                "samples": sum(p.count for p in self.by_pid),
                "bytes": j.size if j else 0, "capacity": j.max_bytes if j else 0,
                "last_seq": j.last_seq if j else 0,
                "damaged": self.damaged_at_boot}
