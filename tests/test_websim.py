"""The handheld's web page, in a real headless browser (Debian's chromium): the page's
own JavaScript sends the keys, and the firmware's screens answer."""

from __future__ import annotations

import shutil
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from mmrenal import websim

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def server():
    srv = websim.WebSim(0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def browse(url: str, shot, profile) -> None:
    assert CHROMIUM, "Debian's chromium is needed: make test installs it when run as root"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                    "--window-size=700,500", "--virtual-time-budget=8000",
                    f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)


@pytest.mark.req("R-SIM-01")
def test_page_keys_reach_the_firmware(server, tmp_path):
    shot = tmp_path / "page.png"
    from mmrenal import sim

    browse(server.url + "?keys=" + ",".join(sim.TO_RESULT), shot, tmp_path / "profile")
    screen = server.text()
    assert screen["screen"] == "RenalResult", screen
    assert "CrCl 32.2 mL/min" in screen["text"]  # 67 y woman, 58 kg, 160 cm, 1.40 mg/dL
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    assert img.size == (700, 500)
    assert len(img.getcolors(1 << 20)) > 10  # the case, the screen, the buttons


@pytest.mark.req("R-SIM-01")
def test_screen_and_bad_requests(server):
    png = urllib.request.urlopen(server.url + "screen.png", timeout=30).read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    req = urllib.request.Request(server.url + "key?k=Q", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    assert server.server_address[0] == "127.0.0.1"  # never on another interface
