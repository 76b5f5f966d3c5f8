"""The audit log: every dose shown and every dose check, kept in its own journal.

A record holds the time, the patient code, the drug, the kidney-function inputs the
dose was looked up with, the table's version, and the result (status and the first
dose; for a check, the table's largest single dose in the unit checked and the amount
prescribed). A check record (type 6) also holds the verdict, the prescribed frequency
and cycle day, what was flagged, the regimen and, for an override (type 7), the reason
chosen. Check records written before those fields existed (type 2) stay readable and
pull with the new fields empty. Clock changes, acknowledged warnings and errors the
screens recovered from are noted too. The host pulls it by sequence number (`mmrenal
audit pull`). When the log is full the screens say so; the dose is still shown, because
withholding it would harm the patient more than a gap in the log.
"""

import struct

import dosing
import journal

PATH = "audit.jnl"
MAX_BYTES = 60000  # about 1,000 records
T_DOSE = 1
T_CHECK_1 = 2  # a check before issue 13: amounts only (read, never written again)
T_CLOCK = 3  # the clock set on the device: note "old -> new"
T_ERROR = 4  # an unhandled error the screens restarted from
T_ACK = 5  # a warning the nurse acknowledged (AKI: doses provisional), note "patient what"
T_CHECK = 6  # a check: amounts, verdict, frequency, cycle day, flags, regimen
T_OVERRIDE = 7  # a check given anyway (above the soft limit, or flagged), with the reason
T_TABLE = 8  # a table installed (activated), refused or reloaded: note "active a: ID vN sha8"
# A dose, check or override answered over the serial protocol (not shown on a screen):
# the same fields; "patient" is the request's, or empty when it named none.
T_LINK_DOSE = 9
T_LINK_CHECK = 10
T_LINK_OVERRIDE = 11
KINDS = ("", "dose", "check", "clock", "error", "ack", "check", "override", "table",
         "link dose", "link check", "link override")
NOTES = (T_CLOCK, T_ERROR, T_ACK, T_TABLE)
CHECKS = (T_CHECK, T_OVERRIDE, T_LINK_CHECK, T_LINK_OVERRIDE)
HEAD = "<IIHHBBBII"  # time, version, crcl, egfr, dialysis, status, unit, amount, checked
HEAD_LEN = 23
# verdict, frequency code, cycle day, flags, reason, then the regimen's and patient's lengths
CHECK = "<BBBBBBB"
CHECK_LEN = 7
STATUS = ("standard", "adjusted", "uncertain")
UNITS = ("", "mg", "mg/m2", "mg/kg", "cells")


class Audit:
    def __init__(self, path=PATH, max_bytes=MAX_BYTES):
        self.journal = journal.Journal(path, max_bytes) if path else None
        self.full = False
        if self.journal:
            self.journal.scan(_skip)

    def record(self, kind, now, patient, result, crcl_x10, egfr_x10, dialysis, version,
               check=None, checked_x100=0, link=False):
        """Write one record; False (and .full) when there is no room. For a check, `check`
        is dosing.check_dose's answer: its unit, ceiling, verdict, the prescribed
        frequency and cycle day, its flags and regimen are recorded; a check that carries
        an override reason (dosing.override) is written as an override. `link`: answered
        over the serial protocol (the link kinds)."""
        d = result["doses"][0] if result["doses"] else None
        unit = d["unit"] if d else ""
        amount = d["amount_x100"] if d else 0
        if check is not None:
            unit = check["unit"]
            amount = check["ceiling_x100"] or 0
        payload = struct.pack(HEAD, now, version, crcl_x10 or 0, egfr_x10 or 0,
                              1 if dialysis else 0, STATUS.index(result["status"]),
                              UNITS.index(unit), amount, checked_x100)
        pat = patient.encode()
        if check is None:
            if link:
                kind = T_LINK_DOSE
            payload += struct.pack("<B", len(pat)) + pat
        else:
            kind = T_OVERRIDE if check["override"] else T_CHECK
            if link:
                kind += T_LINK_CHECK - T_CHECK
            flags = 0
            for i in range(len(dosing.FLAGS)):
                if dosing.FLAGS[i] in check["flags"]:
                    flags |= 1 << i
            reason = dosing.REASONS.index(check["override"]) + 1 if check["override"] else 0
            reg = _cut(check["regimen"] or "", 12)
            payload += struct.pack(CHECK, dosing.VERDICTS.index(check["verdict"]),
                                   check["frequency"] or 0, check["cycle_day"] or 0, flags,
                                   reason, len(reg), len(pat)) + reg + pat
        # A record is at most journal.MAX_PAYLOAD bytes: a longer drug name is cut, so
        # the log never stops a dose from being shown.
        return self._append(kind, payload + _cut(result["drug"], journal.MAX_PAYLOAD - len(payload)))

    def note(self, kind, now, text):
        """A clock change or an error: the time and a short text (cut to fit)."""
        return self._append(kind, struct.pack("<I", now) + _cut(text, journal.MAX_PAYLOAD - 4))

    def _append(self, kind, payload):
        if self.journal is None:
            return True
        try:
            self.journal.append(kind, payload)
        except journal.Full:
            self.full = True
            return False
        return True

    def pull(self, since, limit):
        out = []

        def visit(seq, rtype, p):
            # A row: seq, kind, time, patient, drug, crcl, egfr, dialysis, table version,
            # status, amount, unit, checked amount, then (checks) verdict, frequency,
            # cycle day, flags, override reason, regimen ("" and 0 for other records).
            if seq <= since or len(out) >= limit or rtype >= len(KINDS):
                return
            if rtype in NOTES:  # the note goes in the status column
                now = struct.unpack_from("<I", p, 0)[0]
                out.append([seq, KINDS[rtype], now, "", "", 0, 0, False, 0,
                            str(bytes(p[4:]), "utf-8"), 0, "", 0, "", "", 0, "", "", ""])
                return
            now, version, crcl, egfr, dia, status, unit, amount, checked = struct.unpack_from(
                HEAD, p, 0)
            verdict = freq = flags = reason = reg = ""
            day = 0
            q = HEAD_LEN
            if rtype in CHECKS:
                v, f, day, fl, why, rlen, plen = struct.unpack_from(CHECK, p, q)
                q += CHECK_LEN
                verdict = dosing.VERDICTS[v]
                freq = dosing.frequency_name(f)
                for i in range(len(dosing.FLAGS)):
                    if fl & (1 << i):
                        flags += (";" if flags else "") + dosing.FLAGS[i]
                reason = dosing.REASONS[why - 1] if why else ""
                reg = str(bytes(p[q:q + rlen]), "utf-8")
                q += rlen
            else:
                plen = p[q]
                q += 1
            patient = str(bytes(p[q:q + plen]), "utf-8")
            drug = str(bytes(p[q + plen:]), "utf-8")
            out.append([seq, KINDS[rtype], now, patient, drug, crcl, egfr, bool(dia), version,
                        STATUS[status], amount, UNITS[unit], checked, verdict, freq, day, flags,
                        reason, reg])

        if self.journal:
            self.journal.scan(visit)
        return out


_shared = None


def shared():
    """The device's one Audit (screens and serial link alike): two objects appending to
    the same journal would each count sequence numbers of their own."""
    global _shared
    if _shared is None:
        _shared = Audit()
    return _shared


def link_note(kind, text):
    """A note ("clock", "table", "error") for a request of the serial link; never raises
    (the answer matters more than its note)."""
    try:
        import clock

        return shared().note(KINDS.index(kind), clock.now(), text)
    except Exception:
        return False


def link_dose(patient, result, crcl_x10, egfr_x10, dialysis, version, prescribed_x100):
    """A dose (or check: result["check"]) answered over the serial link; False when it
    could not be written (full log), never an exception: the dose is still answered."""
    if not isinstance(patient, str) or len(patient) > 16:
        patient = ""
    try:
        import clock

        return shared().record(T_DOSE, clock.now(), patient, result, crcl_x10, egfr_x10,
                               dialysis, version, result.get("check"), prescribed_x100, True)
    except Exception:
        return False


def _skip(seq, rtype, payload):
    pass


def _cut(text, room):
    """text as UTF-8 in at most `room` bytes, never splitting a character."""
    b = text.encode()
    if len(b) <= room:
        return b
    while room and (b[room] & 0xC0) == 0x80:
        room -= 1
    return b[:room]
