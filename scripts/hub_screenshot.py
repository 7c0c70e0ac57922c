"""Remake docs/screenshots/hub-dashboard.png: the hub dashboard over 20 simulated sites (one day each).

Usage: .venv/bin/python scripts/hub_screenshot.py [--out docs/screenshots/hub-dashboard.png]

Each site's day comes from tests/hub_sites.py (the real message builders) through the real ingest;
two sites fall silent at 14:00 and one site's camera is down with its alert open. The dashboard runs
under waitress on a free port and a headless Debian chromium takes the page (needs chromium and
chromium-driver, as the browser tests do).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hub_sites import MINUTES, OPEN, day_messages, offline_event  # noqa: E402
from monitor.db.users import add_user  # noqa: E402
from monitor.hub.store import ingest, open_hub_db  # noqa: E402
from monitor.hub.web import create_hub_app  # noqa: E402
from monitor.ops.hubmessages import alert_message  # noqa: E402
from support import CHROMEDRIVER, CHROMIUM, free_port  # noqa: E402

NAMES = ("Thị trấn Yên Minh", "Bạch Đích", "Du Già", "Du Tiến", "Đông Minh", "Đường Thượng", "Hữu Vinh",
         "Lao và Chải", "Lũng Hồ", "Mậu Duệ", "Mậu Long", "Na Khê", "Ngam La", "Ngọc Long", "Phú Lũng",
         "Sủng Thài", "Sủng Tráng", "Thắng Mố", "Xã mẫu 19", "Xã mẫu 20")
NOW = OPEN + 60 * (MINUTES - 4)  # 16:26: a minute after the last health snapshot of the day
SILENT = {6, 14}  # these sites' newest health snapshot is from 14:00
PASSWORD = "screenshot passphrase"


def build(path: Path) -> None:
    """The hub database: 20 sites' days, two silent, one camera down with its alert open."""
    db = open_hub_db(path)
    with db.conn:
        for i, name in enumerate(NAMES):
            site = f"xa-{i + 1:02d}"
            for _t, msg in day_messages(site, seed=i):
                ingest(db, msg.topic, msg.payload.encode(), NOW)
            db.conn.execute("update sites set name = ? where site = ?", [name, site])
        down = alert_message("xa-03", offline_event("raised", "cam1", "Quầy 1", NOW - 900, NOW - 600))
        ingest(db, down.topic, down.payload.encode(), NOW)
        db.conn.execute("update health set down = 1, cameras = json_set(cameras, '$[0].state', 'offline'),"
                        " at = ? where site = 'xa-03'", [NOW - 60])
        for i in SILENT:
            db.conn.execute("update health set at = ? where site = ?", [OPEN + 6.5 * 3600, f"xa-{i + 1:02d}"])
        add_user(db, "huyen", PASSWORD, "viewer", now=NOW)
    db.conn.close()


def shoot(path: Path, out: Path) -> None:
    """Serve the dashboard, log in with chromium, and save the whole sites page."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from waitress.server import create_server

    app = create_hub_app(path, {"CLOCK": lambda: NOW, "SECRET_KEY": "screenshot"})
    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port)
    threading.Thread(target=server.run, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1600,1000"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        base = f"http://127.0.0.1:{port}"
        browser.get(f"{base}/login")
        browser.find_element("name", "username").send_keys("huyen")
        browser.find_element("name", "password").send_keys(PASSWORD)
        browser.find_element("css selector", "form.login button").click()
        browser.get(f"{base}/?from=2026-11-25&to=2026-12-01")
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1600, min(int(height) + 120, 3000))
        browser.save_screenshot(str(out))
    finally:
        browser.quit()
        server.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "hub-dashboard.png")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "hub.db")
        shoot(Path(tmp) / "hub.db", args.out)
    print(args.out)


if __name__ == "__main__":
    main()
