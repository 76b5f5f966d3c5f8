"""The audit log: every dose shown and every dose check, kept in its own journal.

A record holds the time, the patient code, the drug, the kidney-function inputs the
dose was looked up with, the table's version, and the result (status and the first
dose; for a check, the table's largest single dose in the unit checked and the amount
prescribed). Clock changes and errors the screens recovered from are noted too. The
host pulls it by sequence number (`mmrenal audit pull`). When the log is full the
screens say so; the dose is still shown, because withholding it would harm
the patient more than a gap in the log.
"""

import struct

import journal

PATH = "audit.jnl"
MAX_BYTES = 60000  # about 1,000 records
T_DOSE = 1
T_CHECK = 2
T_CLOCK = 3  # the clock set on the device: note "old -> new"
T_ERROR = 4  # an unhandled error the screens restarted from
KINDS = ("", "dose", "check", "clock", "error")
STATUS = ("standard", "adjusted", "uncertain")
UNITS = ("", "mg", "mg/m2", "mg/kg", "cells")


class Audit:
    def __init__(self, path=PATH, max_bytes=MAX_BYTES):
        self.journal = journal.Journal(path, max_bytes) if path else None
        self.full = False
        if self.journal:
            self.journal.scan(_skip)

    def record(self, kind, now, patient, result, crcl_x10, egfr_x10, dialysis, version,
               check=None, checked_x100=0):
        """Write one record; False (and .full) when there is no room. For a check, `check`
        is dosing.check_dose's answer: its unit and ceiling are what is recorded."""
        d = result["doses"][0] if result["doses"] else None
        unit = d["unit"] if d else ""
        amount = d["amount_x100"] if d else 0
        if check is not None:
            unit = check["unit"]
            amount = check["ceiling_x100"] or 0
        payload = struct.pack(
            "<IIHHBBBIIB", now, version, crcl_x10 or 0, egfr_x10 or 0, 1 if dialysis else 0,
            STATUS.index(result["status"]), UNITS.index(unit), amount, checked_x100,
            len(patient),
        ) + patient.encode()
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
            if seq <= since or len(out) >= limit:
                return
            if rtype >= T_CLOCK:  # the note goes in the status column
                now = struct.unpack_from("<I", p, 0)[0]
                out.append([seq, KINDS[rtype], now, "", "", 0, 0, False, 0,
                            str(bytes(p[4:]), "utf-8"), 0, "", 0])
                return
            now, version, crcl, egfr, dia, status, unit, amount, checked, plen = struct.unpack_from(
                "<IIHHBBBIIB", p, 0)
            patient = str(bytes(p[24:24 + plen]), "utf-8")
            drug = str(bytes(p[24 + plen:]), "utf-8")
            out.append([seq, KINDS[rtype], now, patient, drug, crcl, egfr, bool(dia), version,
                        STATUS[status], amount, UNITS[unit], checked])

        if self.journal:
            self.journal.scan(visit)
        return out


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
