"""Compiled dose tables: the binary the handheld reads, approver keys and signatures.

Layout (docs/table-format.md): a 64-byte header (magic, format, table version, dates,
body length, CRC32 and SHA-256 of the body), the body (strings in both languages,
sources, drugs, bands, doses) and, once signed, a trailer with the approver's key id
and an RSASSA-PKCS1-v1_5 SHA-256 signature over header and body. The device verifies
with firmware/signature.py; the host signs and verifies with `cryptography`.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import struct
from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mmrenal import tables

MAGIC = b"MMRT"
# Format 2 (issue 13) adds the dose check's data: frequency codes and cycle days per dose,
# product strengths and the dosing source per drug, limits and the BSA cap per rule, and
# fresh_hours and the table's BSA cap, and the Chinese of every rule's `where` and of
# the drug's `dosing_where`, and (issue 14) the patient code pattern and the
# laboratories (before any format-2 table shipped). Devices read format 2
# only and refuse format 1 with the reason (firmware/dosetable.py read_header).
FORMAT = 2
HEADER = 64
SIG_MAGIC = b"SG"
EPOCH = dt.date(2000, 1, 1)
KEY_BITS = 3072
NO_EDGE = 0xFFFF
STATUS = {"standard": 0, "adjusted": 1, "uncertain": 2}
UNIT = {"mg": 0, "mg/m2": 1, "mg/kg": 2, "cells": 3}
KEYED = {"crcl": 0, "egfr": 1}
POLICY = {"actual": 0, "ideal": 1, "adjusted": 2, "bmi": 3, "pharmacy": 4}
FORM = {"": 0, "capsule": 1, "tablet": 2, "vial": 3}
NO_SOURCE = 0xFF


class BinError(ValueError):
    pass


class _Strings:
    def __init__(self):
        self.blob = bytearray()
        self.seen: dict[str, tuple[int, int]] = {}

    def ref(self, s: str) -> bytes:
        if s not in self.seen:
            data = s.encode("utf-8")
            if len(self.blob) + len(data) > 0xFFFF or len(data) > 0xFFFF:
                raise BinError("string table above 64 KB")
            self.seen[s] = (len(self.blob), len(data))
            self.blob += data
        return struct.pack("<HH", *self.seen[s])


def _x100(d: Decimal | None) -> int:
    if d is None:
        return 0
    v = d * 100
    if v != int(v) or not 0 <= v < 2**32:
        raise BinError(f"amount {d} needs more than 2 decimals or is too large")
    return int(v)


def _dose(s: _Strings, d: tables.Dose) -> bytes:
    cycle_en, cycle_zh = tables.cycle_text(d.cycle_days, d.cycle_length)
    out = (s.ref(d.regimen) + struct.pack("<IIIbB", _x100(d.amount), _x100(d.amount_max),
                                          _x100(d.amount_then), d.scale, UNIT[d.unit])
           + s.ref(d.frequency) + s.ref(tables.FREQUENCY_ZH[d.frequency]))
    out += struct.pack("<BBB", tables.FREQUENCY_CODE[d.frequency], d.cycle_length,
                       len(d.cycle_days))
    out += b"".join(struct.pack("<BB", a, b) for a, b in d.cycle_days)
    return out + s.ref(cycle_en) + s.ref(cycle_zh)


def _source(t: tables.Table, key: str) -> int:
    return list(t.sources).index(key) if key else NO_SOURCE


def _band(s: _Strings, t: tables.Table, drug: tables.Drug, b: tables.Band) -> bytes:
    lo = 0 if b.lo is None else int(b.lo * 10)
    hi = NO_EDGE if b.hi is None else int(b.hi * 10)
    doses = [] if b.status == "uncertain" else drug.effective_doses(b)
    lim = t.rule_limits(drug, b)
    out = struct.pack("<HHBB", lo, hi, STATUS[b.status], 1 if b.dialysis else 0)
    out += s.ref(b.timing) + s.ref(tables.TIMING_ZH[b.timing])
    out += struct.pack("<B", _source(t, b.source)) + s.ref(b.where) + s.ref(b.where_zh)
    out += s.ref(b.note_en) + s.ref(b.note_zh)
    out += struct.pack("<HHHH", lim.tolerance, lim.soft, lim.hard, _x100(lim.bsa_cap))
    out += struct.pack("<B", len(doses))
    return out + b"".join(_dose(s, d) for d in doses)


def _product(s: _Strings, t: tables.Table, d: tables.Drug) -> bytes:
    out = struct.pack("<B", _source(t, d.dosing_source)) + s.ref(d.dosing_where)
    out += s.ref(d.dosing_where_zh)
    p = d.product
    if p is None:
        return out + struct.pack("<BB", 0, NO_SOURCE) + s.ref("") + struct.pack("<B", 0)
    out += struct.pack("<BB", FORM[p.form], _source(t, p.source)) + s.ref(p.where)
    return out + struct.pack("<B", len(p.strengths)) + b"".join(
        struct.pack("<I", _x100(x)) for x in p.strengths)


def compile_table(t: tables.Table) -> bytes:
    """The unsigned binary of a checked table."""
    s = _Strings()
    rec = bytearray()
    for text in (t.id, t.title_en, t.title_zh, t.author, t.approver):
        rec += s.ref(text)
    rec += struct.pack("<B", POLICY[t.weight_policy])
    rec += struct.pack("<HH", t.fresh_hours, _x100(t.limits.bsa_cap))
    # [codes]: the pattern as written, compiled for the device's matcher, the laboratories
    atoms = tables.compile_code_pattern(t.patient_codes) if t.patient_codes else ""
    rec += s.ref(t.patient_codes) + s.ref(atoms) + s.ref(",".join(t.labs))
    rec += struct.pack("<B", len(t.sources))
    for key, (en, zh) in t.sources.items():
        rec += s.ref(key) + s.ref(en) + s.ref(zh)
    rec += struct.pack("<B", len(t.drugs))
    for d in t.drugs:
        rec += s.ref(d.inn) + s.ref(d.zh) + s.ref(",".join(d.aliases))
        rec += s.ref(d.route) + s.ref(tables.ROUTE_ZH.get(d.route, ""))
        rec += s.ref(d.note_en) + s.ref(d.note_zh) + struct.pack("<B", KEYED[d.keyed_to])
        rec += _product(s, t, d)
        rec += struct.pack("<B", len(d.standard)) + b"".join(_dose(s, x) for x in d.standard)
        rules = sorted(d.bands, key=lambda b: b.lo) + ([d.dialysis] if d.dialysis else [])
        rec += struct.pack("<B", len(rules)) + b"".join(_band(s, t, d, b) for b in rules)
    body = struct.pack("<I", len(s.blob)) + bytes(s.blob) + bytes(rec)
    header = MAGIC + struct.pack(
        "<HHIIIII", FORMAT, HEADER, t.version, (t.effective - EPOCH).days,
        (t.expires - EPOCH).days, len(body), binascii.crc32(body) & 0xFFFFFFFF,
    ) + hashlib.sha256(body).digest() + b"\0\0\0\0"
    assert len(header) == HEADER
    return header + body


def split(data: bytes) -> tuple[bytes, bytes]:
    """(header + body, signature trailer) of a table file."""
    if len(data) < HEADER or data[:4] != MAGIC:
        raise BinError("not a dose table")
    blen = struct.unpack_from("<I", data, 20)[0]
    return data[: HEADER + blen], data[HEADER + blen :]


# --- keys and signatures ---------------------------------------------------------


def keygen(out_dir: Path, name: str) -> tuple[Path, Path]:
    """An approver key pair: NAME.key (private, PEM, owner-only) and NAME.pub.pem."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    priv = out_dir / f"{name}.key"
    pub = out_dir / f"{name}.pub.pem"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    priv.chmod(0o600)
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def _modulus(pub) -> bytes:
    n = pub.public_numbers().n
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def key_id(pub) -> bytes:
    return hashlib.sha256(_modulus(pub)).digest()[:8]


def load_public(path: Path):
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise BinError(f"{path}: not an RSA public key")
    return key


def device_key_line(pub, name: str, role: str = "dev") -> str:
    """The line the device's trusted-keys file holds for a key (firmware/signature.py).
    role "approver" (`mmrenal table trust`) signs tables for patient use; "dev" (the
    default: the simulator, the demo, benchmarks, tests) verifies, but every dose from
    a table it signed shows the DRAFT banner."""
    if role not in ("approver", "dev"):
        raise BinError(f"key role {role!r}: approver or dev")
    return f"{key_id(pub).hex()} {pub.public_numbers().e} {_modulus(pub).hex()} role:{role} {name}"


def sign(data: bytes, private_key_path: Path) -> bytes:
    """The table with (a new) approver signature trailer."""
    key = serialization.load_pem_private_key(Path(private_key_path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise BinError(f"{private_key_path}: not an RSA private key")
    signed, _ = split(data)
    sig = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    return signed + SIG_MAGIC + key_id(key.public_key()) + struct.pack("<H", len(sig)) + sig


def verify(data: bytes, public_keys: list) -> tuple[bool, str]:
    """(ok, reason) for an intact table signed by one of the keys."""
    try:
        signed, trailer = split(data)
    except BinError as e:
        return False, str(e)
    blen = struct.unpack_from("<I", data, 20)[0]
    body = data[HEADER : HEADER + blen]
    if len(body) != blen:
        return False, "truncated: body shorter than its header says"
    if binascii.crc32(body) & 0xFFFFFFFF != struct.unpack_from("<I", data, 24)[0]:
        return False, "CRC32 of the body does not match"
    if hashlib.sha256(body).digest() != data[28:60]:
        return False, "SHA-256 of the body does not match"
    if not trailer:
        return False, "not signed"
    if len(trailer) < 12 or trailer[:2] != SIG_MAGIC:
        return False, "damaged signature block"
    kid, slen = trailer[2:10], struct.unpack_from("<H", trailer, 10)[0]
    if len(trailer) != 12 + slen:
        return False, "damaged signature block (length)"
    for pub in public_keys:
        if key_id(pub) == kid:
            try:
                pub.verify(trailer[12:], signed, padding.PKCS1v15(), hashes.SHA256())
            except Exception:
                return False, "the signature does not verify"
            return True, f"signed by key {kid.hex()}"
    return False, f"signed by key {kid.hex()}, which is not among the given public keys"
