"""The /alerts page and the banner through Flask's test client on a real SQLite file: a supervisor
acknowledges an open alert with a comment; who and when are stored on the alert and in the audit log."""

from __future__ import annotations

import pytest

from monitor.db import audit as audit_store
from monitor.db.alerts import get_alert, open_alert
from monitor.db.store import connect
from sectest import NOW, build_site, secret_env
from webtest import csrf_token, log_in
from webui import create_app


@pytest.fixture
def site(tmp_path):
    with secret_env():
        config = build_site(tmp_path)
    db = connect(config.storage.database)
    with db.atomic():
        alert_id = open_alert(db, "unstaffed_queue", "quay-1", "quay-1", NOW - 300, NOW - 240, 3)
    db.conn.close()
    app = create_app(config, {"TESTING": True, "SECRET_KEY": "t", "CLOCK": lambda: NOW})
    return config, app, alert_id


def test_a_supervisor_sees_the_banner_and_acknowledges_with_a_comment(site):
    config, app, alert_id = site
    client = app.test_client()
    log_in(client, "supervisor")
    page = client.get("/events").get_data(as_text=True)
    assert 'class="alert-banner"' in page and "/alerts" in page
    page = client.get("/alerts").get_data(as_text=True)
    assert "Quầy 1" in page and f"/alerts/{alert_id}/ack" in page
    token = csrf_token(client, "/alerts")
    assert client.post(f"/alerts/{alert_id}/ack", data={"csrf_token": token, "comment": ""}).status_code == 400
    answer = client.post(f"/alerts/{alert_id}/ack", data={"csrf_token": token, "comment": "Gọi chị Lan về quầy"})
    assert answer.status_code == 302
    db = connect(config.storage.database, readonly=True)
    alert = get_alert(db, alert_id)
    (entry,) = audit_store.query(db, audit_store.AuditFilter(action="alert_ack"), 10)
    db.conn.close()
    assert (alert.ack_by, alert.ack_at, alert.ack_comment) == ("giam-sat", NOW, "Gọi chị Lan về quầy")
    assert alert.end is None  # acknowledging does not close: the condition does
    page = client.get("/alerts").get_data(as_text=True)
    assert 'class="alert-banner"' not in page and "giam-sat" in page
    assert (entry.user, entry.target, entry.detail, entry.t) == ("giam-sat", str(alert_id), "Gọi chị Lan về quầy", NOW)


def test_acknowledging_an_unknown_alert_is_404(site):
    _, app, _ = site
    client = app.test_client()
    log_in(client, "supervisor")
    token = csrf_token(client, "/alerts")
    assert client.post("/alerts/999/ack", data={"csrf_token": token, "comment": "x"}).status_code == 404


def test_viewers_get_no_banner(site):
    _, app, _ = site
    client = app.test_client()
    log_in(client, "viewer")
    assert 'class="alert-banner"' not in client.get("/reports").get_data(as_text=True)


def test_the_compliance_page_links_each_item_to_the_recordings_and_exports(site):
    from monitor.db.store import Writer, open_db
    from sectest import DAY, TZ
    from datetime import datetime, time

    config, app, _ = site
    opening = datetime.combine(DAY, time(7, 30), tzinfo=TZ).timestamp()
    writer = Writer(open_db(config.storage.database))
    writer.apply([{"type": "occupancy", "camera": "quay-1", "t": t, "zones": {
        "ghe": {"occupied": t >= opening + 600, "count": 1.0}, "cho": {"occupied": False, "count": 0.0}}}
        for t in range(int(opening), int(opening) + 900)])
    writer.db.conn.close()
    client = app.test_client()
    log_in(client, "supervisor")
    page = client.get("/compliance?date=2026-11-24").get_data(as_text=True)
    assert "07:40:00" in page  # first staffed 10 min after opening
    assert "/events?camera=quay-1&amp;date_from=2026-11-24&amp;date_to=2026-11-24&amp;time_from=07:35&amp;time_to=07:45" in page
    answer = client.get("/compliance?date=2026-11-24&format=csv")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    assert "quay-1,Quầy 1,first_staffed,07:40:00,10.0" in answer.get_data().decode("utf-8-sig")
    assert client.get("/compliance?date=2026-11-24&format=pdf").status_code == 400
    assert client.get("/compliance?date=24-11").status_code == 400


def test_the_compliance_page_says_when_the_camera_never_sees_an_officer(site):
    """Citizens at the counter's spot all morning and its staff seat never read occupied: not 'not staffed'."""
    from monitor.db.store import Writer, open_db
    from sectest import DAY, TZ
    from datetime import datetime, time

    config, app, _ = site
    opening = datetime.combine(DAY, time(7, 30), tzinfo=TZ).timestamp()
    writer = Writer(open_db(config.storage.database))
    writer.apply([{"type": "occupancy", "camera": "quay-1", "t": t, "zones": {
        "ghe": {"occupied": False, "count": 0.0}, "cho": {"occupied": (t - opening) % 600 < 300, "count": 1.0}}}
        for t in range(int(opening), int(opening) + 1800)])
    writer.db.conn.close()
    client = app.test_client()
    log_in(client, "supervisor")
    page = client.get("/compliance?date=2026-11-24").get_data(as_text=True)
    assert "Camera không thấy cán bộ" in page and "Không có cán bộ cả buổi" not in page  # the site speaks Vietnamese
    answer = client.get("/compliance?date=2026-11-24&format=csv").get_data().decode("utf-8-sig")
    assert "quay-1,Quầy 1,staff_hidden,07:30:00,0.0" in answer
