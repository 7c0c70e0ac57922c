"""Remake docs/screenshots/hub-dashboard.png and hub-site.png: the hub dashboard over 20 simulated sites
(one day each) and one site's page.

Usage: .venv/bin/python scripts/hub_screenshot.py [--out docs/screenshots]

Each site's day comes from tests/hub_sites.py (the real message builders) through the real ingest:
one to three named counters per site in the fields tư pháp, địa chính and lao động; two sites fall
silent at 14:00; one site's camera is down with its alert open and acknowledged. The dashboard runs
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

from dataclasses import replace  # noqa: E402

from hub_sites import MINUTES, OPEN, day_messages, offline_event  # noqa: E402
from monitor.db.users import add_user  # noqa: E402
from monitor.hub.store import ingest, open_hub_db  # noqa: E402
from monitor.hub.web import create_hub_app  # noqa: E402
from monitor.ops.delivery import AlertEvent  # noqa: E402
from monitor.ops.hubmessages import alert_message  # noqa: E402
from support import CHROMEDRIVER, CHROMIUM, free_port  # noqa: E402

NAMES = ("Thị trấn Yên Minh", "Bạch Đích", "Du Già", "Du Tiến", "Đông Minh", "Đường Thượng", "Hữu Vinh",
         "Lao và Chải", "Lũng Hồ", "Mậu Duệ", "Mậu Long", "Na Khê", "Ngam La", "Ngọc Long", "Phú Lũng",
         "Sủng Thài", "Sủng Tráng", "Thắng Mố", "Xã mẫu 19", "Xã mẫu 20")
NOW = OPEN + 60 * (MINUTES - 4)  # 16:26: a minute after the last health snapshot of the day
SILENT = {6, 14}  # these sites' newest health snapshot is from 14:00
PASSWORD = "screenshot passphrase"
TARGET_MIN = 10  # the simulated waits run to 15 minutes: a 10-minute target shows the over-target share


def build(path: Path) -> None:
    """The hub database: 20 sites' days, two silent, one camera down with its alert open and acknowledged."""
    db = open_hub_db(path)
    with db.conn:
        for i, name in enumerate(NAMES):
            site = f"xa-{i + 1:02d}"
            for _t, msg in day_messages(site, seed=i, counters=i % 3 + 1):
                ingest(db, msg.topic, msg.payload.encode(), NOW)
            db.conn.execute("update sites set name = ? where site = ?", [name, site])
        raised = offline_event("raised", "cam1", "Quầy 1", NOW - 900, NOW - 600)
        acked = AlertEvent("acknowledged", replace(raised.alert, ack_by="can-bo-xa", ack_at=NOW - 300,
                                                      ack_comment="Đã báo kỹ thuật viên huyện"), "Quầy 1")
        for msg in (alert_message("xa-03", raised), alert_message("xa-03", acked)):
            ingest(db, msg.topic, msg.payload.encode(), NOW)
        db.conn.execute("update health set down = 1, cameras = json_set(cameras, '$[0].state', 'offline'),"
                        " at = ? where site = 'xa-03'", [NOW - 60])
        for i in SILENT:
            db.conn.execute("update health set at = ? where site = ?", [OPEN + 6.5 * 3600, f"xa-{i + 1:02d}"])
        add_user(db, "huyen", PASSWORD, "viewer", now=NOW)
    db.conn.close()


def shoot(path: Path, out: Path) -> None:
    """Serve the dashboard, log in with chromium, and save the whole sites page and xa-03's page."""
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
        for page, name in (("/", "hub-dashboard.png"), ("/site/xa-03", "hub-site.png")):
            browser.set_window_size(1600, 1000)
            browser.get(f"{base}{page}?from=2026-11-25&to=2026-12-01&target={TARGET_MIN}")
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(1600, min(int(height) + 120, 3600))
            browser.save_screenshot(str(out / name))
    finally:
        browser.quit()
        server.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder of the two PNG files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp) / "hub.db")
        shoot(Path(tmp) / "hub.db", args.out)
    print(args.out)


if __name__ == "__main__":
    main()
