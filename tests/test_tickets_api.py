"""POST /api/v1/tickets against a real app and SQLite file: the feed token, partial acceptance, idempotence."""

from __future__ import annotations

import pytest

from monitor.db.store import open_db
from monitor.db.tickets import ticket_events
from monitor.site.config import load_config
from test_tickets import CONFIG, NOW, at
from webtest import add_accounts, log_in
from webui import create_app

TOKEN = "kiosk-t0ken-8d2f"


@pytest.fixture
def app(tmp_path):
    path = tmp_path / "cameras.yaml"
    path.write_text(CONFIG.replace("{id: kiosk, clock_skew_s: 60}", "{id: kiosk, clock_skew_s: 60, token: '${KIOSK_TOKEN}'}"),
                    encoding="utf-8")
    secrets = tmp_path / "cameras.secrets.env"
    secrets.write_text(f"KIOSK_TOKEN={TOKEN}\n", encoding="utf-8")
    secrets.chmod(0o600)
    config = load_config(path)
    db = open_db(config.storage.database)
    add_accounts(db)
    db.conn.close()
    return create_app(config, {"TESTING": True, "CLOCK": lambda: NOW, "SECRET_KEY": "test"})


def post(app, body, token: str | None = TOKEN, **kw):  # noqa: ANN001, ANN201
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().post("/api/v1/tickets", json=body, headers=headers, **kw)


def stored(app) -> list:  # noqa: ANN001
    return ticket_events(open_db(app.config["DATABASE"]), at(0), at(23, 59))


def test_good_items_are_stored_and_each_bad_one_is_named(app):
    body = {"events": [
        {"ticket": "A1", "event": "issued", "time": "2026-11-24T08:00:00", "field": "tu-phap", "number": "001"},
        {"ticket": "A1", "event": "called", "time": "2026-11-24T08:09:00+07:00", "counter": "quay-1"},
        {"ticket": "A1", "event": "service_start", "time": at(8, 9, 10), "counter": "quay-2"},
        {"ticket": "A2", "event": "service_end", "time": at(8, 30), "counter": "quay-1"},
        {"ticket": "A3", "event": "issued", "time": NOW + 3600},
        "not an object",
    ]}
    r = post(app, body)
    assert r.status_code == 422 and r.is_json
    assert r.json["stored"] == 2 and r.json["feed"] == "kiosk"
    assert r.json["errors"] == [
        "item 2: ticket A1 service_start: unknown counter 'quay-2' (known: quay-1)",
        "item 3: ticket A2 service_end: out of order: no issued event for this ticket yet (send issued first)",
        "item 4: ticket A3 issued: time 2026-11-24 18:00:00 is 3600 s in the future; the feed's clock is off by "
        "more than clock_skew_s=60",
        "item 5: expected an object with ticket, event and time, got str",
    ]
    assert [(e.ticket, e.event, e.counter) for e in stored(app)] == [("A1", "issued", None), ("A1", "called", "quay-1")]


def test_resending_is_idempotent(app):
    body = [{"ticket": "B1", "event": "issued", "time": at(9)},
            {"ticket": "B1", "event": "called", "time": at(9, 5), "counter": "quay-1"}]
    assert post(app, body).json == {"feed": "kiosk", "stored": 2, "duplicates": 0, "errors": []}
    again = post(app, body)
    assert again.status_code == 200 and again.json["stored"] == 0 and again.json["duplicates"] == 2
    assert len(stored(app)) == 2
    assert post(app, {"ticket": "B1", "event": "service_start", "time": at(9, 6), "counter": "quay-1"}).status_code == 200


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x"])
def test_without_the_feed_token_nothing_is_stored(app, token):
    r = post(app, {"ticket": "C1", "event": "issued", "time": at(9)}, token=token)
    assert r.status_code == 401 and r.is_json and "Bearer" in r.json["error"]
    assert stored(app) == []


def test_a_logged_in_admin_without_the_token_gets_401(app):
    client = app.test_client()
    log_in(client, "admin")
    r = client.post("/api/v1/tickets", json={"ticket": "C1", "event": "issued", "time": at(9)})
    assert r.status_code == 401 and stored(app) == []


@pytest.mark.parametrize("data", [b"{not json", b"[]", b"42", b'"x"'])
def test_a_body_that_is_not_events_is_one_line_400(app, data):
    r = app.test_client().post("/api/v1/tickets", data=data, content_type="application/json",
                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400 and "\n" not in r.json["error"]


def test_too_many_items_is_413(app):
    r = post(app, [{"ticket": str(i), "event": "issued", "time": at(9)} for i in range(5001)])
    assert r.status_code == 413 and stored(app) == []


def test_the_overview_names_counters_as_configured(app):
    client = app.test_client()
    log_in(client, "supervisor")
    page = client.get("/overview/counters").get_data(as_text=True)
    assert "Quầy 1 – Tư pháp" in page and "Camera quầy · ngoi" not in page


def test_an_unset_feed_token_variable_is_one_line_at_load(tmp_path):
    from monitor.site.config import ConfigError

    path = tmp_path / "cameras.yaml"
    path.write_text(CONFIG.replace("{id: kiosk, clock_skew_s: 60}", "{id: kiosk, token: '${NO_SUCH_TOKEN_VAR}'}"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "NO_SUCH_TOKEN_VAR" in text)
    assert err.value.problems == [f"{path}:{line}: tickets.feeds[0].token: environment variable NO_SUCH_TOKEN_VAR is not set"]


def test_the_reports_api_gives_the_office_report_to_a_viewer(app):
    post(app, [{"ticket": "D1", "event": "issued", "time": at(9)},
               {"ticket": "D1", "event": "service_start", "time": at(9, 4), "counter": "quay-1"},
               {"ticket": "D1", "event": "service_end", "time": at(9, 10), "counter": "quay-1"}])
    client = app.test_client()
    log_in(client, "viewer")
    doc = client.get("/api/v1/reports?from=2026-11-24&to=2026-11-24&by=office").json
    counter = next(r for r in doc["rows"] if r["level"] == "counter" and r["hour"] is None)
    assert (counter["name"], counter["source"], counter["served"], counter["mean_wait_s"], counter["camera_served"]) == \
        ("Quầy 1 – Tư pháp", "tickets", 1, 240.0, 0)  # no camera samples that day: the camera saw nobody
    agree = next(r for r in doc["rows"] if r["level"] == "agreement")
    assert (agree["served_diff"], agree["matched"]) == (-1, 0)
    assert client.get("/api/v1/reports?from=2026-11-24&to=2026-11-24&by=zone").status_code == 400
