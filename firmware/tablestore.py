"""The device's two table slots, and which one is active.

Installing writes the new table to the standby slot (the host copies it there), checks
it completely (length, CRC32, SHA-256, approver signature, version), then switches by
renaming a one-byte pointer file into place: a rename is atomic on LittleFS, so after
a power cut at any moment the pointer names the old slot or the new one, and each slot
holds a whole table or is refused by its checks. Boot checks the active slot again and
falls back to the other one if it no longer verifies.

Only the store ever reads a file into the table buffer: the device's serve path has
no way to name a file to look doses up in (a host engine reads its table files into
its own memory, firmware/serve.py), so the active table's bytes are always the ones
that passed every check, and each dose answer names them by their SHA-256 (sha8).
"""

import binascii
import gc
import os

import dosetable
import signature

SLOTS = ("a", "b")
POINTER = "table.act"
KEYS = "approvers.txt"
MAX_TABLE = 24576  # bytes: the signed example table, with its schedules, product strengths
# and both languages' citations, is about 16 KB; the rest is the pharmacy's room to add drugs

# One buffer for the active table, allocated when the firmware starts and reused by
# every load: a heap that has been in use for hours may have plenty of free memory but
# no single free block as large as a table. The store alone writes it (_read_slot).
_buf = bytearray(MAX_TABLE)

DRAFT = "draft"
EXPIRED = "expired"
NOT_EFFECTIVE = "not_effective"


def slot_file(slot):
    return "table_" + slot + ".bin"


def _other(slot):
    return "b" if slot == "a" else "a"


def sha8(table):
    """The first 8 hex digits of the table's body SHA-256: every dose names its table."""
    return binascii.hexlify(table.sha[:4]).decode()


def banner(table, today):
    """What every dose from `table` must carry: DRAFT when no approver key verified it
    (signed with a development key; or unsigned, which only a host look-up can be: the
    device's active table is always signed by a trusted key), else EXPIRED or
    NOT_EFFECTIVE by `today` (days since 2000-01-01; None when the clock is not set and
    the dates cannot be judged), else "". A draft is said first: it was never approved
    for patient use, whatever its dates."""
    signer = table.signer
    if signer is None or signer[1] != signature.APPROVER:
        return DRAFT
    if today is not None:
        if today > table.expires:
            return EXPIRED
        if today < table.effective:
            return NOT_EFFECTIVE
    return ""


def _read_slot(name):
    """The file's bytes, read into the shared table buffer (a view of it)."""
    size = os.stat(name)[6]
    if size > MAX_TABLE:
        raise dosetable.TableError("larger than the device's " + str(MAX_TABLE) + "-byte table buffer")
    gc.collect()
    view = memoryview(_buf)[:size]
    with open(name, "rb") as f:
        if f.readinto(view) != size:
            raise dosetable.TableError("could not read the whole file")
    return view


class Store:
    def __init__(self):
        self.table = None  # the active dosetable.Table, or None
        self.slot = None
        self.fallback = False  # the pointer named a slot that failed its checks
        self.problems = []  # why slots were refused, for the safe screen and the host
        self.keys = {}

    def pointer(self):
        try:
            with open(POINTER) as f:
                s = f.read(4).strip()
        except (OSError, UnicodeError):
            return None
        return s if s in SLOTS else None

    def load_slot(self, slot):
        """A checked Table from a slot, or raise (OSError, TableError). The file is
        verified streamed (signature included) before it is read into RAM whole."""
        name = slot_file(slot)
        _, _, _, signer, sha = dosetable.check_file(name, self.keys)
        self.table = None  # its bytes are about to be overwritten
        table = dosetable.Table(_read_slot(name), self.keys, require_signature=False)
        if table.sha != sha:  # the file changed between its check and its load
            raise dosetable.TableError("slot " + slot + " changed while it was loaded")
        table.signer = signer
        return table

    def intact(self):
        """True while the table buffer still holds the verified active table (its
        header names the body SHA-256 checked at load): a guard, since only this store
        writes the buffer."""
        t = self.table
        return t is not None and bytes(t.data[28:60]) == t.sha

    def boot(self):
        """Find the active table: the pointer's slot, else the other good one."""
        self.keys = signature.load_keys(KEYS)
        self.table = None
        self.slot = None
        self.problems = []
        named = self.pointer()
        first = named or "a"
        for slot in (first, _other(first)):
            try:
                self.table = self.load_slot(slot)
            except OSError:
                self.problems.append(slot + ": empty")
                continue
            except (dosetable.TableError, ValueError, IndexError) as e:
                self.problems.append(slot + ": " + str(e))
                continue
            self.slot = slot
            self.fallback = named is not None and slot != named
            return self.table
        return None

    def standby(self):
        return _other(self.slot) if self.slot else "a"

    def activate(self, slot, force=False):
        """Make the table in `slot` active. Raises TableError with the reason."""
        if slot not in SLOTS:
            raise dosetable.TableError("no slot " + repr(slot))
        if slot == self.slot:
            raise dosetable.TableError("slot " + slot + " is already the active one")
        try:
            version, _, _, _, sha = dosetable.check_file(slot_file(slot), self.keys)
        except OSError:
            raise dosetable.TableError("slot " + slot + " is empty") from None
        except (ValueError, IndexError) as e:
            raise dosetable.TableError(str(e)) from None
        old = self.table
        if old is not None and not force:
            if version < old.version:
                raise dosetable.TableError(
                    "version " + str(version) + " is older than the active version "
                    + str(old.version) + " (the host may force it)")
            if version == old.version and sha != old.sha:
                raise dosetable.TableError(
                    "version " + str(version) + " is active with different contents")
        with open(POINTER + ".new", "w") as f:
            f.write(slot)
        os.rename(POINTER + ".new", POINTER)
        new = self.load_slot(slot)
        self.table = new
        self.slot = slot
        self.fallback = False
        return new

    def describe(self, slot):
        """Info about a slot's table, or its problem (for `mmrenal table show`),
        without loading it: the active table may be using the RAM."""
        try:
            version, eff, exp, signer, sha = dosetable.check_file(slot_file(slot), self.keys)
            tid, author, claim = dosetable.meta_file(slot_file(slot))
        except OSError:
            return {"problem": "empty"}
        except (dosetable.TableError, ValueError, IndexError) as e:
            return {"problem": str(e)}
        return {"id": tid, "version": version, "effective": eff, "expires": exp,
                "sha256": sha.hex(), "author": author, "approver": signer[0],
                "approver_role": signer[1], "approver_key": signer[2], "approver_claim": claim}
