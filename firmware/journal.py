"""An append-only journal on flash that survives a power cut at any byte.

Each record: magic 0xA7, type, payload length (u16), sequence number (u32), payload,
and a CRC32 over everything after the magic. A record is acknowledged only after it
is written and flushed. Reading scans from the start: a record whose length, CRC or
sequence number is wrong (a torn tail after a power cut, a flipped bit) is reported
and skipped byte by byte until the next good record, so one bad record never hides
the ones after it and never stops boot. Compaction rewrites the live records into a
new file and renames it over the old one (atomic), which also drops damaged bytes.
Reads and appends use preallocated buffers.
"""

import binascii
import os
import struct

MAGIC = 0xA7
HEAD = 8  # magic, type, length, seq
TAIL = 4  # crc32
MAX_PAYLOAD = 64


class Full(Exception):
    """The journal has no room for the record: nothing was written."""


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return 0


class Journal:
    def __init__(self, path, max_bytes):
        self.path = path
        self.max_bytes = max_bytes
        self.last_seq = 0
        self.size = 0
        self.bad = []  # (offset, reason) of damaged bytes found by the last scan
        self._buf = bytearray(HEAD + MAX_PAYLOAD + TAIL)
        self._view = memoryview(self._buf)

    def scan(self, visit):
        """Call visit(seq, type, payload_view) for every good record, in order.
        The payload view is only valid during the call."""
        self.bad = []
        self.last_seq = 0
        self.size = _size(self.path)
        try:
            f = open(self.path, "rb")
        except OSError:
            return 0
        count = 0
        with f:
            off = 0
            bad_from = -1
            while off + HEAD + TAIL <= self.size:
                f.seek(off)
                ok = f.readinto(self._view[:HEAD]) == HEAD and self._buf[0] == MAGIC
                if ok:
                    rtype, n, seq = struct.unpack_from("<BHI", self._buf, 1)
                    ok = n <= MAX_PAYLOAD and off + HEAD + n + TAIL <= self.size and seq > self.last_seq
                if ok:
                    rest = self._view[HEAD:HEAD + n + TAIL]
                    ok = f.readinto(rest) == n + TAIL
                if ok:
                    crc = struct.unpack_from("<I", self._buf, HEAD + n)[0]
                    ok = binascii.crc32(self._view[1:HEAD + n]) & 0xFFFFFFFF == crc
                if not ok:
                    if bad_from < 0:
                        bad_from = off
                    off += 1
                    continue
                if bad_from >= 0:
                    self.bad.append((bad_from, off - bad_from))
                    bad_from = -1
                self.last_seq = seq
                visit(seq, rtype, self._view[HEAD:HEAD + n])
                count += 1
                off += HEAD + n + TAIL
            if bad_from >= 0 or off < self.size:
                start = bad_from if bad_from >= 0 else off
                self.bad.append((start, self.size - start))
        return count

    def _encode(self, seq, rtype, payload):
        n = len(payload)
        if n > MAX_PAYLOAD:
            raise ValueError("record payload too long")
        b = self._buf
        b[0] = MAGIC
        struct.pack_into("<BHI", b, 1, rtype, n, seq)
        b[HEAD:HEAD + n] = payload
        struct.pack_into("<I", b, HEAD + n, binascii.crc32(self._view[1:HEAD + n]) & 0xFFFFFFFF)
        return self._view[:HEAD + n + TAIL]

    def append(self, rtype, payload, reserve=0):
        """Write one record durably and return its sequence number, or raise Full. The
        last `reserve` bytes are kept for the records that free space (flcstore)."""
        record = self._encode(self.last_seq + 1, rtype, payload)
        if self.size + len(record) > self.max_bytes - reserve:
            raise Full("journal full: " + str(self.size) + " of " + str(self.max_bytes) + " bytes")
        with open(self.path, "ab") as f:
            f.write(record)
            f.flush()
        self.last_seq += 1
        self.size += len(record)
        return self.last_seq

    def compact(self, keep, tail=None):
        """Rewrite the journal with the records keep(seq, type, payload) accepts, keeping
        their sequence numbers; keep may instead return (type, payload) to write that
        record in another form. tail() may give one (type, payload) more, written last
        with the next sequence number. An atomic rename puts the new file in place, so a
        power cut at any byte leaves the old journal or the new one, whole. The last
        record is always kept, so sequence numbers never go back after a reboot."""
        tmp = self.path + ".new"
        out = open(tmp, "wb")
        written = [0]
        with out:

            last = self.last_seq

            def put(seq, rtype, payload):
                n = len(payload)
                rec = bytearray(HEAD + n + TAIL)
                rec[0] = MAGIC
                struct.pack_into("<BHI", rec, 1, rtype, n, seq)
                rec[HEAD:HEAD + n] = payload
                struct.pack_into("<I", rec, HEAD + n, binascii.crc32(memoryview(rec)[1:HEAD + n]) & 0xFFFFFFFF)
                out.write(rec)
                written[0] += len(rec)

            def copy(seq, rtype, payload):
                k = keep(seq, rtype, payload)
                if isinstance(k, tuple):
                    put(seq, k[0], k[1])
                elif k or seq == last:
                    put(seq, rtype, payload)

            self.scan(copy)
            self.last_seq = max(last, self.last_seq)
            if tail:
                rtype, payload = tail()
                put(self.last_seq + 1, rtype, payload)
                self.last_seq += 1
            out.flush()
        os.rename(tmp, self.path)
        self.size = written[0]
        self.bad = []
        return written[0]
