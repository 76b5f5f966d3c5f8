"""Serve service.handle() over stdin/stdout, one JSON object per line.

The host's MicroPython engine runs this file on the unix port; a line that is not
JSON gets an error answer and the loop goes on.
"""

import sys

import service

try:
    import ujson as json
except ImportError:
    import json

_MAX_LINE = 4096


def main():
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        if len(line) > _MAX_LINE:
            out = {"ok": False, "field": "request", "error": "request longer than 4096 bytes"}
        else:
            try:
                req = json.loads(line)
            except ValueError:
                req = None
                out = {"ok": False, "field": "request", "error": "not valid JSON"}
            if req is not None:
                out = service.handle(req)
        sys.stdout.write(json.dumps(out))
        sys.stdout.write("\n")
        try:
            sys.stdout.flush()
        except AttributeError:
            pass


main()
