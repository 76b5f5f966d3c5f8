"""Dose tables on the device: check a compiled table, then look doses up in it.

The binary format is in docs/table-format.md; the host writes it
(host/mmrenal/tablebin.py). A table is used only after every check passed: length,
CRC32 and SHA-256 of the body, and the approver's signature over header and body.
Lookups never return a number for an `uncertain` band.
"""

import binascii
import hashlib
import struct

import signature
from fixmath import muldiv

MAGIC = b"MMRT"
FORMAT = 2  # format 1 (before cycle days, strengths and check limits) is refused, with why
HEADER = 64
SIG_MAGIC = b"SG"

STANDARD = 0
ADJUSTED = 1
UNCERTAIN = 2
STATUS_NAMES = ("standard", "adjusted", "uncertain")
UNIT_NAMES = ("mg", "mg/m2", "mg/kg", "cells")
UNIT_MG_M2 = 1
UNIT_MG_KG = 2
KEYED_NAMES = ("crcl", "egfr")
FORM_NAMES = ("", "capsule", "tablet", "vial")
NO_EDGE = 0xFFFF
NO_SOURCE = 0xFF


class TableError(ValueError):
    """A table that must not be used, with the reason."""


def read_header(data):
    """(table version, effective day, expires day, body length, crc, sha) or TableError."""
    if len(data) < HEADER:
        raise TableError("too short for a table header")
    if bytes(data[:4]) != MAGIC:
        raise TableError("not a dose table (bad magic)")
    fmt, hlen, version, eff, exp, blen, crc = struct.unpack_from("<HHIIIII", data, 4)
    if fmt != FORMAT or hlen != HEADER:
        raise TableError("table format " + str(fmt) + " is not supported: this device reads "
                         "format " + str(FORMAT) + " (compile the table with the current mmrenal)")
    return version, eff, exp, blen, crc, bytes(data[28:60])


def check(data, keys, require_signature=True):
    """Verify a whole table file; return its header fields or raise TableError."""
    version, eff, exp, blen, crc, sha = read_header(data)
    end = HEADER + blen
    if len(data) < end:
        raise TableError("truncated: body shorter than its header says")
    body = memoryview(data)[HEADER:end]
    if binascii.crc32(body) & 0xFFFFFFFF != crc:
        raise TableError("CRC32 of the body does not match")
    if hashlib.sha256(body).digest() != sha:
        raise TableError("SHA-256 of the body does not match")
    if not require_signature:
        return version, eff, exp, None  # host-side look-ups: integrity only
    digest = hashlib.sha256(memoryview(data)[:end]).digest()
    return version, eff, exp, _check_signature(bytes(data[end:]), digest, keys)


def _check_signature(trailer, digest, keys):
    """The signer (key name, role, key id hex) if `trailer` signs `digest` with a
    trusted key: the approver shown is this key's, never the table's own text."""
    if not trailer:
        raise TableError("not signed by an approver")
    if len(trailer) < 12 or trailer[:2] != SIG_MAGIC:
        raise TableError("damaged signature block")
    kid = trailer[2:10]
    slen = struct.unpack_from("<H", trailer, 10)[0]
    if len(trailer) != 12 + slen:
        raise TableError("damaged signature block (length)")
    key = keys.get(kid)
    if key is None:
        raise TableError("signed by an unknown approver key " + kid.hex())
    if not signature.verify(digest, trailer[12:], key[0], key[1]):
        raise TableError("approver signature does not verify")
    return key[2], key[3], kid.hex()


def check_file(path, keys, chunk=512):
    """check() for a table file, streamed in small chunks so that a standby table can
    be verified while the active one fills the RAM. Returns (version, effective,
    expires, signer, sha256 of the body); raises TableError or OSError."""
    buf = bytearray(chunk)
    with open(path, "rb") as f:
        head = f.read(HEADER)
        version, eff, exp, blen, crc, sha = read_header(head)
        whole = hashlib.sha256(head)
        body = hashlib.sha256()
        c = 0
        left = blen
        while left:
            n = f.readinto(buf)
            if not n:
                raise TableError("truncated: body shorter than its header says")
            if n > left:
                f.seek(HEADER + blen)
                n = left
            part = memoryview(buf)[:n]
            c = binascii.crc32(part, c)
            body.update(part)
            whole.update(part)
            left -= n
        trailer = f.read(12 + 1024)
    if c & 0xFFFFFFFF != crc:
        raise TableError("CRC32 of the body does not match")
    if body.digest() != sha:
        raise TableError("SHA-256 of the body does not match")
    return version, eff, exp, _check_signature(trailer, whole.digest(), keys), sha


def meta_file(path):
    """id, author and approver of a table file without loading it (for the standby)."""
    with open(path, "rb") as f:
        f.seek(HEADER)
        slen = struct.unpack("<I", f.read(4))[0]
        f.seek(HEADER + 4 + slen)
        refs = f.read(4 * 5)
        out = []
        for i in (0, 3, 4):  # id, author, approver
            off, n = struct.unpack_from("<HH", refs, 4 * i)
            f.seek(HEADER + 4 + off)
            out.append(str(f.read(n), "utf-8"))
    return out


class Table:
    """A checked table, parsed into an index of drugs; strings decoded on demand."""

    def __init__(self, data, keys, require_signature=True):
        # signer: (name, role, key id) of the trusted key that verified it; None when
        # the signature was not checked (host look-ups: never the device's active table)
        self.version, self.effective, self.expires, self.signer = check(
            data, keys, require_signature)
        self.data = data
        self.sha = bytes(data[28:60])  # data may be a view of the reused table buffer
        body_len = struct.unpack_from("<I", data, 20)[0]
        self._end = HEADER + body_len
        p = HEADER
        slen = struct.unpack_from("<I", data, p)[0]
        self._strings = HEADER + 4
        p = self._strings + slen
        self.id, p = self._str(p)
        self.title_en, p = self._str(p)
        self.title_zh, p = self._str(p)
        self.author, p = self._str(p)
        self.approver, p = self._str(p)  # the table's own claim, free text: not shown as its approver
        self.weight_policy = data[p]
        fresh_hours, self.bsa_cap_x100 = struct.unpack_from("<HH", data, p + 1)
        # How long a kidney-function result may be used for a dose; 0 BSA cap: none.
        self.fresh_minutes = fresh_hours * 60
        p += 5
        # The institution's codes ([codes]): the patient pattern as written and as the
        # host compiled it (flc's atoms; "": the default), and the laboratories,
        # comma-separated ("": none listed). `codes` is what the composition hands to
        # flc.set_code_policy when this table becomes active.
        self.patient_codes, p = self._str(p)
        self.patient_atoms, p = self._str(p)
        labs, p = self._str(p)
        self.labs = tuple(labs.split(",")) if labs else ()
        self.codes = (self.patient_codes, self.patient_atoms, self.labs)
        for alt in self.patient_atoms.split("|") if self.patient_atoms else ():
            if not alt or len(alt) % 3:
                raise TableError("patient code pattern: damaged atoms")
        self.sources = []
        n = data[p]
        p += 1
        for _ in range(n):
            key, p = self._str(p)
            en, p = self._str(p)
            zh, p = self._str(p)
            self.sources.append((key, en, zh))
        n = data[p]
        p += 1
        self.drugs = []  # (inn, offset of the drug record)
        self.names = {}  # every name and alias, lower case -> index in drugs
        for i in range(n):
            start = p
            inn, p = self._str(p)
            zh, p = self._str(p)
            aliases, p = self._str(p)
            self.drugs.append((inn, start))
            for name in [inn, zh] + (aliases.split(",") if aliases else []):
                self.names[name.lower()] = i
            p = self._skip_drug_rest(p)
        if p != self._end:
            raise TableError("body layout does not match its length")

    # --- decoding ---------------------------------------------------------------

    def _str(self, p):
        off, n = struct.unpack_from("<HH", self.data, p)
        a = self._strings + off
        return str(self.data[a:a + n], "utf-8"), p + 4

    def _skip_drug_rest(self, p):
        p += 4 * 4 + 1  # route en/zh, note en/zh, keyed_to
        p = self._product(p, None)
        n = self.data[p]
        p += 1
        for _ in range(n):
            p = self._dose(p, None)
        n = self.data[p]
        p += 1
        for _ in range(n):
            p = self._band(p, None)
        return p

    def _product(self, p, out):
        """The dosing source and where (English, Chinese), then the product: form,
        source, where, strengths (0.01 mg)."""
        data = self.data
        n = data[p + 15]
        if out is not None:
            out["dosing_source"] = data[p]
            out["dosing_where"] = self._str(p + 1)[0]
            out["dosing_where_zh"] = self._str(p + 5)[0]
            out["form"] = FORM_NAMES[data[p + 9]]
            out["product_source"] = data[p + 10]
            out["product_where"] = self._str(p + 11)[0]
            out["strengths_x100"] = [struct.unpack_from("<I", data, p + 16 + 4 * i)[0]
                                     for i in range(n)]
        return p + 16 + 4 * n

    def _dose(self, p, out):
        data = self.data
        runs = data[p + 28]
        q = p + 29 + 2 * runs
        if out is not None:
            amount, amax, then = struct.unpack_from("<III", data, p + 4)
            days = []
            for i in range(runs):
                days.append((data[p + 29 + 2 * i], data[p + 30 + 2 * i]))
            out.append({"regimen": self._str(p)[0], "amount_x100": amount,
                        "amount_max_x100": amax, "amount_then_x100": then,
                        "scale": struct.unpack_from("<b", data, p + 16)[0],
                        "unit": UNIT_NAMES[data[p + 17]],
                        "frequency": self._str(p + 18)[0], "frequency_zh": self._str(p + 22)[0],
                        "frequency_code": data[p + 26], "cycle_length": data[p + 27],
                        "cycle_days": days, "cycle": self._str(q)[0],
                        "cycle_zh": self._str(q + 4)[0]})
        return q + 8

    def _band(self, p, out):
        lo, hi = struct.unpack_from("<HH", self.data, p)
        status = self.data[p + 4]
        flags = self.data[p + 5]
        q = p + 6
        timing_en, q = self._str(q)
        timing_zh, q = self._str(q)
        source = self.data[q]
        q += 1
        where, q = self._str(q)
        where_zh, q = self._str(q)
        note_en, q = self._str(q)
        note_zh, q = self._str(q)
        tol, soft, hard, bsa_cap = struct.unpack_from("<HHHH", self.data, q)
        q += 8
        n = self.data[q]
        q += 1
        doses = []
        for _ in range(n):
            q = self._dose(q, doses)
        if out is not None:
            out.append({"lo_x10": lo, "hi_x10": hi, "status": status, "dialysis": bool(flags & 1),
                        "timing": timing_en, "timing_zh": timing_zh, "source": source,
                        "where": where, "where_zh": where_zh, "note": note_en, "note_zh": note_zh,
                        "doses": doses,
                        "tolerance_pct": tol, "soft_pct": soft, "hard_pct": hard,
                        "bsa_cap_x100": bsa_cap})
        return q

    def drug(self, name):
        """The whole record of a drug by INN, Chinese name or alias; None if unknown."""
        i = self.names.get(name.strip().lower())
        if i is None:
            return None
        p = self.drugs[i][1]
        inn, p = self._str(p)
        zh, p = self._str(p)
        aliases, p = self._str(p)
        route_en, p = self._str(p)
        route_zh, p = self._str(p)
        note_en, p = self._str(p)
        note_zh, p = self._str(p)
        keyed = self.data[p]
        p += 1
        out = {"inn": inn, "zh": zh, "aliases": aliases, "route": route_en, "route_zh": route_zh,
               "note": note_en, "note_zh": note_zh, "keyed_to": KEYED_NAMES[keyed]}
        p = self._product(p, out)
        std = []
        n = self.data[p]
        p += 1
        for _ in range(n):
            p = self._dose(p, std)
        bands = []
        n = self.data[p]
        p += 1
        for _ in range(n):
            p = self._band(p, bands)
        out["standard"] = std
        out["bands"] = bands
        return out

    def info(self):
        """The table's facts for the host. "approver" is the name of the trusted key that
        verified the signature ("" when none did); "approver_claim" is the table's own
        approver text, which anyone compiling a table can write."""
        signer = self.signer or ("", "", "")
        return {"id": self.id, "version": self.version, "effective": self.effective,
                "expires": self.expires, "sha256": binascii.hexlify(self.sha).decode(),
                "author": self.author, "approver": signer[0], "approver_role": signer[1],
                "approver_key": signer[2], "approver_claim": self.approver,
                "title": self.title_en,
                "title_zh": self.title_zh, "drugs": len(self.drugs),
                "patient_codes": self.patient_codes, "patient_atoms": self.patient_atoms,
                "labs": list(self.labs)}  # codes: "" and [] are the device's defaults


def band_for(drug, value_x10, on_dialysis):
    """The band that applies: the dialysis entry on dialysis, else the one holding the
    renal value (0.1 units, lower edge included, upper excluded)."""
    for band in drug["bands"]:
        if band["dialysis"]:
            if on_dialysis:
                return band
            continue
        if on_dialysis:
            continue
        if value_x10 >= band["lo_x10"] and (band["hi_x10"] == NO_EDGE or value_x10 < band["hi_x10"]):
            return band
    return None


def absolute(dose, bsa_x100, weight_x10):
    """The dose for this patient in 0.01 mg: per m2 x BSA, per kg x actual weight.
    (amount, amount_max, amount_then), or None when the dose is already absolute or the
    body size is unknown."""
    unit = UNIT_NAMES.index(dose["unit"])
    if unit == UNIT_MG_M2 and bsa_x100:
        f, d = bsa_x100, 100
    elif unit == UNIT_MG_KG and weight_x10:
        f, d = weight_x10, 10
    else:
        return None
    return (muldiv(dose["amount_x100"], f, d), muldiv(dose["amount_max_x100"], f, d),
            muldiv(dose["amount_then_x100"], f, d))


def ceiling_x100(dose):
    """The largest single amount a dose entry allows (range top or subsequent dose)."""
    return max(dose["amount_x100"], dose["amount_max_x100"], dose["amount_then_x100"])
