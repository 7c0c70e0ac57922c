"""The weekly staffing-compliance page and its CSV/HTML files through Flask's test client on a real SQLite file."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from monitor.db import audit as audit_store
from monitor.db.store import Writer, connect, open_db
from sectest import DAY, NOW, TZ, build_site, secret_env
from webtest import log_in
from webui import create_app


@pytest.fixture
def client(tmp_path):
    with secret_env():
        config = build_site(tmp_path)
    opening = datetime.combine(DAY, time(7, 30), tzinfo=TZ).timestamp()
    writer = Writer(open_db(config.storage.database))  # Tuesday: seated from 07:50 (20 min late) to 07:55
    writer.apply([{"type": "occupancy", "camera": "quay-1", "t": t, "zones": {
        "ghe": {"occupied": t >= opening + 1200, "count": 1.0}, "cho": {"occupied": False, "count": 0.0}}}
        for t in range(int(opening), int(opening) + 1500)])
    writer.db.conn.close()
    app = create_app(config, {"TESTING": True, "SECRET_KEY": "t", "CLOCK": lambda: NOW})
    client = app.test_client()
    log_in(client, "supervisor")
    client.db_path = config.storage.database
    return client


def test_the_week_page_and_files_sum_the_days(client):
    page = client.get("/compliance/week?date=2026-11-26").get_data(as_text=True)  # a Thursday: the same week
    assert "23/11/2026" in page and "29/11/2026" in page
    r = client.get("/compliance/week?date=2026-11-24&format=csv")
    assert r.status_code == 200 and 'filename="compliance-week-2026-11-23.csv"' in r.headers["Content-Disposition"]
    lines = r.get_data().decode("utf-8-sig").splitlines()
    # 5 open days; late and left early on Tuesday; every other period of Mon-Fri nobody: 9 periods not staffed
    assert "quay-1,Quầy 1,5,1,1,9,0,0,0,0" in lines
    html = client.get("/compliance/week?date=2026-11-24&format=html")
    assert html.status_code == 200 and "<td>Quầy 1</td><td>5</td><td>1</td>" in html.get_data(as_text=True)
    assert client.get("/compliance/week?format=xls").status_code == 400
    assert client.get("/compliance/week?date=2026-13-01").status_code == 400
    db = connect(client.db_path, readonly=True)
    exports = audit_store.query(db, audit_store.AuditFilter(action="export"), 10)
    db.conn.close()
    assert sorted(e.detail for e in exports) == ["csv", "html"] and exports[0].target == "compliance week 2026-11-23"
    assert 'href="/compliance/week?date=2026-11-24"' in client.get("/compliance?date=2026-11-24").get_data(as_text=True)
