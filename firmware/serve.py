"""The host engines' entry point: the device protocol over stdin/stdout (a pipe).

Host engines also look doses up in a table file that a request names ("table_path":
`mmrenal dose` with the example table, or --table). The file is read into a buffer
of the host's own, never into the device's table buffer, and checked for integrity
only (the host holds no trusted keys): its answers say "verified": false and carry
the DRAFT banner. This file never goes to a board (deploy.HOST_ONLY); a board starts
main.py, whose serve path refuses "table_path".
"""

import tablestore  # noqa: I001 (first: both table buffers come from the fresh heap)

# The host's own buffer for table files, allocated before the rest of the firmware is
# loaded: the MicroPython engine has a Pico-sized heap, in which no table-sized block
# may be free later. It is never the device's table buffer (tablestore._buf).
_file_buf = bytearray(tablestore.MAX_TABLE)

import os  # noqa: E402

import dosetable  # noqa: E402
import protocol  # noqa: E402
import service  # noqa: E402
from limits import InputError  # noqa: E402


def table_file(path):
    """A checked Table from a file, in memory of its own; InputError if refused."""
    try:
        size = os.stat(path)[6]
        if size > tablestore.MAX_TABLE:  # the same limit as the device's
            raise InputError("table", "refused: larger than the device's "
                             + str(tablestore.MAX_TABLE) + "-byte table buffer")
        data = memoryview(_file_buf)[:size]
        with open(path, "rb") as f:
            if f.readinto(data) != size:
                raise OSError("short read")
    except OSError:
        raise InputError("table_path", "cannot read " + path) from None
    try:
        # Read afresh for every request (the Table lives for one answer): no cached
        # table can go stale when the file is rebuilt.
        return dosetable.Table(data, {}, require_signature=False)
    except (dosetable.TableError, ValueError, IndexError) as e:
        raise InputError("table", "refused: " + str(e)) from None


service.allow_table_files(table_file)
protocol.serve(hello=False)
