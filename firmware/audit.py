"""The audit log: every dose shown and every dose check, kept in its own journal.

A record holds the time, the patient code, the drug, the kidney-function inputs the
dose was looked up with, the table's version, and the result (status and the first
dose). The host pulls it by sequence number (`mmrenal audit pull`). When the log is
full the screens say so; the dose is still shown, because withholding it would harm
the patient more than a gap in the log.
"""

import struct

import journal

PATH = "audit.jnl"
MAX_BYTES = 60000  # about 1,000 records
T_DOSE = 1
T_CHECK = 2
KINDS = ("", "dose", "check")
STATUS = ("standard", "adjusted", "uncertain")
UNITS = ("", "mg", "mg/m2", "mg/kg", "cells")


class Audit:
    def __init__(self, path=PATH, max_bytes=MAX_BYTES):
        self.journal = journal.Journal(path, max_bytes) if path else None
        self.full = False
        if self.journal:
            self.journal.scan(_skip)

    def record(self, kind, now, patient, result, crcl_x10, egfr_x10, dialysis, version,
               checked_x100=0):
        """Write one record; False (and .full) when there is no room."""
        if self.journal is None:
            return True
        d = result["doses"][0] if result["doses"] else None
        payload = struct.pack(
            "<IIHHBBBIIB", now, version, crcl_x10 or 0, egfr_x10 or 0, 1 if dialysis else 0,
            STATUS.index(result["status"]), UNITS.index(d["unit"]) if d else 0,
            d["amount_x100"] if d else 0, checked_x100, len(patient),
        ) + patient.encode() + result["drug"].encode()
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
