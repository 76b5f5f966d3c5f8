"""Approver signatures on dose tables: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017).

Verification is one modular exponentiation with the public exponent (65537: 17
multiplications), which MicroPython's arbitrary-precision integers do in well under a
second even on an RP2040; no maths library is needed. The expected encoded message is
built in full and compared as a whole, so no field of the signature is ever parsed.
This module runs only at install and boot, never in a calculation, so its big
integers are allowed here.
"""

import hashlib

# DER prefix of DigestInfo for SHA-256 (RFC 8017, section 9.2, note 1).
_SHA256_PREFIX = bytes(
    (0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
     0x05, 0x00, 0x04, 0x20)
)


def key_id(n_bytes):
    """First 8 bytes of SHA-256 of the modulus: names a key in tables and key files."""
    return hashlib.sha256(n_bytes).digest()[:8]


def _int(b):
    return int.from_bytes(b, "big")


def _bytes(value, length):
    return value.to_bytes(length, "big")


def verify(digest, sig, n_bytes, e):
    """True if `sig` is the PKCS#1 v1.5 signature of the SHA-256 `digest` under (n, e)."""
    k = len(n_bytes)
    if len(digest) != 32 or len(sig) != k or k < 256:
        return False
    n = _int(n_bytes)
    s = _int(sig)
    if s >= n:
        return False
    em = _bytes(pow(s, e, n), k)
    t = _SHA256_PREFIX + digest
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return em == expected


# What a trusted key may sign. An approver key (installed by `mmrenal table trust`)
# signs tables for patient use; a development key (made by the simulator, the demo,
# the benchmarks and tests) verifies as well, so the whole install path can be
# exercised, but every dose from a table it signed carries the DRAFT banner.
APPROVER = "approver"
DEV = "dev"
_ROLE = "role:"


def load_keys(path):
    """Trusted keys from a text file, one per line: 'key_id_hex e modulus_hex role:ROLE
    name' (ROLE: approver or dev). A line without 'role:' was written before keys had
    roles, when `mmrenal table trust` was the only way to add one: an approver key.
    Returns {key id: (modulus, e, name, role)}."""
    keys = {}
    try:
        f = open(path)
    except OSError:
        return keys
    with f:
        for line in f:
            parts = line.strip().split(" ", 3)
            if len(parts) < 3 or parts[0].startswith("#"):
                continue
            try:
                n_bytes = bytes.fromhex(parts[2])
                kid = key_id(n_bytes)
                if kid.hex() != parts[0]:
                    continue  # a damaged line never becomes a trusted key
                rest = parts[3] if len(parts) > 3 else ""
                role = APPROVER
                if rest.startswith(_ROLE):
                    word, _, rest = rest.partition(" ")
                    role = word[len(_ROLE):]  # anything but "approver" counts as a draft
                keys[kid] = (n_bytes, int(parts[1]), rest, role)
            except ValueError:
                continue
    return keys
