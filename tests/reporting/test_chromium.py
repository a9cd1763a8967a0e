"""The HTML opens in headless Chromium, renders a screenshot and logs no console errors."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from survchurn._io import atomic_write_text

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str:
    for name in _BROWSERS:
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium); "
                "the browser check of the HTML report is skipped")


@pytest.mark.parametrize("which", ["en", "zh", "demo"])
def test_html_opens_in_headless_chromium(which, request, tmp_path):
    exe = _browser()
    html = request.getfixturevalue(f"html_{which}")
    page = atomic_write_text(tmp_path / f"report_{which}.html", html)
    shot = tmp_path / "shot.png"
    cmd = [
        exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--no-first-run", "--no-default-browser-check",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600",
        "--enable-logging=stderr", "--v=0", f"--screenshot={shot}", page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    log = proc.stdout + proc.stderr
    assert shot.is_file() and shot.stat().st_size > 10_000, log[-2000:]
    assert shot.read_bytes()[:4] == b"\x89PNG"
    console = [line for line in log.splitlines()
               if re.search(r"Uncaught|ERROR:CONSOLE|Content.Security.Policy|Refused to", line)]
    assert console == [], console
