"""The handheld in a web page on 127.0.0.1: the live screen and its four buttons.

The screens are the firmware's own (firmware/ui.py) running on MicroPython through
mmrenal.sim, with the example dose table signed and installed in its flash folder.
Keys: the page's buttons, or the keyboard (arrow up/down or a/b, Enter or x, Escape
or Backspace or y; hold Shift for a long press). `?keys=X,X,A` presses keys on load.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from mmrenal import sim

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mmrenal handheld</title>
<style>
body { background: #20252b; color: #ddd; font-family: sans-serif; text-align: center; }
#case { display: inline-block; margin-top: 24px; padding: 20px 28px; border-radius: 22px;
        background: #3a4048; box-shadow: 0 6px 18px #000a; }
#screen { width: 480px; height: 270px; image-rendering: pixelated; border: 4px solid #111; }
.row { display: flex; justify-content: space-between; margin-top: 14px; }
button { width: 96px; height: 44px; font-size: 18px; border-radius: 10px; border: none;
         background: #cfd6de; cursor: pointer; }
button:active { background: #9fb0c2; }
p { color: #9aa; font-size: 13px; }
</style></head>
<body>
<div id="case">
  <img id="screen" src="/screen.png" alt="handheld screen">
  <div class="row">
    <button data-k="A">A &#9650;</button><button data-k="B">B &#9660;</button>
    <button data-k="X">X &#10003;</button><button data-k="Y">Y &#8617;</button>
  </div>
</div>
<p>Keys: &uarr; or a (up), &darr; or b (down), Enter or x (select), Esc or y (back);
hold a button (or Shift) for a long press.</p>
<script>
const img = document.getElementById("screen");
let busy = Promise.resolve();
function press(k, long) {
  busy = busy.then(() => fetch("/key?k=" + k + (long ? "&long=1" : ""), {method: "POST"}))
             .then(() => { img.src = "/screen.png?t=" + Date.now(); });
  return busy;
}
for (const b of document.querySelectorAll("button")) {
  let t0 = 0;
  b.addEventListener("mousedown", () => { t0 = Date.now(); });
  b.addEventListener("mouseup", () => press(b.dataset.k, Date.now() - t0 > 600));
}
const map = {ArrowUp: "A", a: "A", ArrowDown: "B", b: "B", Enter: "X", x: "X",
             Escape: "Y", Backspace: "Y", y: "Y"};
document.addEventListener("keydown", (e) => {
  const k = map[e.key] || map[e.key.toLowerCase()];
  if (k) { e.preventDefault(); press(k, e.shiftKey); }
});
const keys = new URLSearchParams(location.search).get("keys");
if (keys) { for (const k of keys.split(",")) { press(k.split(":")[0], k.endsWith(":long")); } }
</script>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server: WebSim

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = urlparse(self.path).path
        if path == "/":
            self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        elif path == "/screen.png":
            self._send(200, self.server.png(), "image/png")
        elif path == "/text":
            self._send(200, json.dumps(self.server.text(), ensure_ascii=False).encode(),
                       "application/json")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path != "/key" or q.get("k", [""])[0] not in sim.KEYS:
            self._send(400, b"key must be A, B, X or Y", "text/plain")
            return
        self.server.key(q["k"][0] + (":long" if q.get("long") == ["1"] else ""))
        self._send(204, b"", "text/plain")


class WebSim(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, with_table: bool = True):
        super().__init__(("127.0.0.1", port), Handler)
        self.flash = Path(tempfile.mkdtemp(prefix="mmrenal-websim-"))
        # The live page follows the computer's clock; the demo patient's records end now.
        sim.prepare_flash(self.flash, with_table, demo=True, now=sim.minutes(dt.datetime.now()))
        self.sim = sim.Sim(self.flash, clock=None)
        self.lock = threading.Lock()  # one UI, one request at a time
        self.tmp = self.flash / ".screen.png"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def key(self, spec: str) -> None:
        with self.lock:
            self.sim.key(spec)

    def png(self) -> bytes:
        with self.lock:
            return self.sim.png(self.tmp).read_bytes()

    def text(self) -> dict:
        with self.lock:
            return self.sim.screen()

    def server_close(self) -> None:
        super().server_close()
        self.sim.close()
        shutil.rmtree(self.flash, ignore_errors=True)


def serve(port: int) -> int:
    srv = WebSim(port)
    print(f"the handheld is at {srv.url}  (Ctrl-C to stop)", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0
