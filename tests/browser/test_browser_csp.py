"""The Content-Security-Policy in a real browser: headless Chromium loads every page over real HTTP (waitress)
and its console must report no CSP violation (an inline script, style or handler the policy blocked)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from browserkit import browser, wait_for  # noqa: F401 - browser is the fixture (its console log is kept)
from support import free_port, require_chromium
from monitor.site.config import load_config
from sectest import NOW, build_site, secret_env
from webtest import ACCOUNTS, PASSWORD
from webui import create_app

PAGES = ("/", "/live", "/events", "/events/e1", "/timeline?camera=quay-1&counter=cho&date=2026-11-24",
         "/recordings?camera=quay-1&date=2026-11-24",
         "/reports", "/reports?period=week&date=2026-11-24", "/audit", "/events/nope",
         "/reports/download?from=2026-11-24&to=2026-11-24&format=html", "/cases", "/notice",
         "/compliance/week?date=2026-11-24", "/cameras/quay-1/zones")
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """The web app of the test site under waitress on a free port, in a thread of this process."""
    require_chromium()
    from waitress import create_server

    folder = tmp_path_factory.mktemp("cspsite")
    with secret_env():
        build_site(folder)
        config = load_config(folder / "cameras.yaml")
    app = create_app(config, {"CLOCK": lambda: NOW})
    srv = create_server(app, host="127.0.0.1", port=free_port(), threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.effective_port}"
    finally:
        # closed in the server's own loop thread: closed from here, its select() could get a file
        # descriptor that was just closed (EBADF in the thread, seen once in a full run)
        def close_all() -> None:
            for dispatcher in list(srv._map.values()):
                try:
                    dispatcher.close()
                except OSError:
                    pass  # the trigger, closed already with the server

        srv.trigger.pull_trigger(close_all)
        thread.join(10)
        srv.task_dispatcher.shutdown()
        assert not thread.is_alive(), "the test server's loop did not end"


def _violations(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if any(w in e["message"] for w in CSP_WORDS)]


def test_no_page_triggers_a_csp_violation(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server + "/login")
    browser.find_element(By.NAME, "username").send_keys(ACCOUNTS["admin"])
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    # the click returns before the browser has followed the redirect: wait for it, do not race it
    wait_for(browser, "the page after login", lambda d: "/login" not in d.current_url)
    found = {"/login": _violations(browser)}
    for path in PAGES:
        browser.get(server + path)
        browser.execute_script("return document.readyState")
        found[path] = _violations(browser)
    # the policy is really enforced: an inline script added now is refused and reported
    browser.get(server + "/reports")
    browser.execute_script("const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
                           "document.body.appendChild(s);")
    assert browser.execute_script("return window.ran") is None
    assert _violations(browser), "an inline script ran or was not reported: is the CSP header sent?"
    assert not any(found.values()), {p: v for p, v in found.items() if v}
