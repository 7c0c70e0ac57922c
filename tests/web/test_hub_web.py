"""The hub dashboard over a hub database filled by ingest with three simulated sites' days."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from hub_sites import DAY, MINUTES, OPEN, day_messages, offline_event, site_config
from monitor.db.users import add_user
from monitor.hub.store import ingest, open_hub_db
from monitor.hub.web import create_hub_app
from monitor.ops.delivery import AlertEvent
from monitor.ops.hubmessages import alert_message, info_message

NOW = OPEN + 60 * (MINUTES - 4)  # a minute after the last health snapshot of DAY
SITES = ("xa-01", "xa-02", "xa-03")
COUNTERS = {"xa-01": 1, "xa-02": 3, "xa-03": 2}  # named counters in the fields tu-phap, dia-chinh, lao-dong


@pytest.fixture
def client(tmp_path: Path):
    db = open_hub_db(tmp_path / "hub.db")
    with db.conn:
        for i, site in enumerate(SITES):
            for _t, msg in day_messages(site, seed=i, counters=COUNTERS[site]):
                ingest(db, msg.topic, msg.payload.encode(), NOW)
        for msg in acknowledged_alert():
            ingest(db, msg.topic, msg.payload.encode(), NOW)
        # xa-03 fell silent at noon: its newest health snapshot is old
        db.conn.execute("update health set at = ? where site = 'xa-03'", [OPEN + 4 * 3600])
        add_user(db, "huyen", "a long passphrase", "viewer", now=NOW)
    db.conn.close()
    app = create_hub_app(tmp_path / "hub.db", {"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "t",
                                                "CLOCK": lambda: NOW})
    c = app.test_client()
    assert c.post("/login", data={"username": "huyen", "password": "a long passphrase"}).status_code == 302
    c.db = tmp_path / "hub.db"
    return c


def acknowledged_alert():
    """xa-02's camera down since 16:00, acknowledged at 16:10 by an officer with a comment (the ack arrives first)."""
    raised = offline_event("raised", "cam2", "Quầy 2", NOW - 1560, NOW - 1260)
    acked = AlertEvent("acknowledged", replace(raised.alert, ack_by="can-bo", ack_at=NOW - 960,
                                                  ack_comment="Đã gọi kỹ thuật"), "Quầy 2")
    return [alert_message("xa-02", acked), alert_message("xa-02", raised)]


def waits_of(client, site: str, field: str | None = None) -> list[float]:
    """Every stored wait of a site's counters (of one field when given)."""
    conn = open_hub_db(client.db)
    try:
        sql = "select waits from report_rows where site = ?" + (" and field = ?" if field else "")
        rows = conn.execute(sql, [site, *([field] if field else [])]).fetchall()
        return [w for (text,) in rows for w in json.loads(text)]
    finally:
        conn.conn.close()


def test_dashboard_needs_a_login(tmp_path: Path) -> None:
    app = create_hub_app(tmp_path / "hub.db", {"TESTING": True, "SECRET_KEY": "t"})
    assert app.test_client().get("/").status_code in (302, 401)


def test_sites_table_shows_state_alerts_and_todays_figures(client) -> None:
    page = client.get(f"/?from={DAY}&to={DAY}").get_data(as_text=True)
    for site in SITES:
        assert f'data-site="{site}"' in page and f"UBND {site}" in page
    row = page.split('data-site="xa-01"')[1].split("</tr>")[0]
    assert "trực tuyến" in row  # Vietnamese by default
    served = len(waits_of(client, "xa-01"))
    assert f"<td>{served}</td>" in row
    assert "mất kết nối" in page.split('data-site="xa-03"')[1].split("</tr>")[0]


def test_site_page_links_to_the_sites_own_ui_and_lists_its_counters(client) -> None:
    page = client.get(f"/site/xa-02?from={DAY}&to={DAY}").get_data(as_text=True)
    assert 'href="http://xa-02.local:8000"' in page
    assert f'href="http://xa-02.local:8000/reports?by=office&amp;period=day&amp;date={DAY}"' in page
    assert 'href="http://xa-02.local:8000/alerts"' in page
    for name in ("Quầy 1 – Tư pháp", "Quầy 2 – Địa chính", "Quầy 3 – Lao động"):
        assert f'data-counter="{name}"' in page
    office = page.split('class="hub-office"')[1]
    assert "<td>quay-2</td><td>Quầy 2 – Địa chính</td><td>Địa chính</td><td>sanh</td>" in office
    assert "<td>sanh</td><td>Sảnh chờ</td><td>cam1/queue</td><td>quay-1, quay-2, quay-3</td>" in office
    assert client.get("/site/nowhere").status_code == 404


def test_site_page_has_figures_per_field_from_the_fields_citizens(client) -> None:
    page = client.get(f"/site/xa-03?from={DAY}&to={DAY}&target=10").get_data(as_text=True)
    for field in ("tu-phap", "dia-chinh"):
        waits = waits_of(client, "xa-03", field)
        row = page.split(f'data-field="{field}"')[1].split("</tr>")[0]
        assert f"<td>{len(waits)}</td>" in row
        assert f"<td>{100 * sum(w > 600 for w in waits) / len(waits):.0f} %</td>" in row
    assert 'data-field="lao-dong"' not in page  # xa-03 has two counters: no labour counter


def test_index_pools_a_fields_citizens_across_sites(client) -> None:
    resp = client.get(f"/export.csv?from={DAY}&to={DAY}&by=district_field")
    rows = {r["field"]: r for r in csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff")))}
    assert set(rows) == {"tu-phap", "dia-chinh", "lao-dong"}
    waits = [w for s in SITES for w in waits_of(client, s, "dia-chinh")]  # xa-02 and xa-03
    assert int(rows["dia-chinh"]["served"]) == len(waits) and rows["dia-chinh"]["site"] == ""
    assert float(rows["dia-chinh"]["mean_wait_s"]) == pytest.approx(sum(waits) / len(waits), abs=0.001)
    page = client.get(f"/?from={DAY}&to={DAY}").get_data(as_text=True)
    assert f"<td>{len(waits)}</td>" in page.split('data-field="dia-chinh"')[1].split("</tr>")[0]
    assert client.get("/export.csv?by=camera").status_code == 400


def test_acknowledged_alert_shows_who_when_and_why(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "1 (1 đã xác nhận)" in page.split('data-site="xa-02"')[1].split("</tr>")[0]
    site = client.get("/site/xa-02").get_data(as_text=True)
    row = site.split('class="alert-acknowledged"')[1].split("</tr>")[0]
    assert "can-bo: Đã gọi kỹ thuật" in row and "16:" in row and "camera_offline" in row


def test_csv_export_matches_the_stored_waits(client) -> None:
    resp = client.get(f"/export.csv?from={DAY}&to={DAY}&target=10")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["site"] for r in rows] == list(SITES)
    waits = waits_of(client, "xa-02")
    row = rows[1]
    assert int(row["served"]) == len(waits)
    assert float(row["mean_wait_s"]) == pytest.approx(sum(waits) / len(waits), abs=0.001)
    assert float(row["over_target"]) == pytest.approx(sum(w > 600 for w in waits) / len(waits), abs=0.001)


def test_html_export_has_the_csv_figures_in_a_standalone_page(client) -> None:
    query = f"from={DAY}&to={DAY}&target=10"
    rows = list(csv.DictReader(io.StringIO(client.get(f"/export.csv?{query}").get_data(as_text=True).lstrip("\ufeff"))))
    resp = client.get(f"/export.html?{query}")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert "'sha256-" in resp.headers["Content-Security-Policy"]  # its one inline stylesheet, by hash
    page = resp.get_data(as_text=True)
    assert "<link" not in page and "<style>" in page
    for row in rows:
        cells = page.split(f'data-site="{row["site"]}"')[1].split("</tr>")[0]
        assert f"UBND {row['site']}" in cells and f"<td>{row['served']}</td>" in cells
        waits = waits_of(client, row["site"])
        assert f"<td>{100 * sum(w > 600 for w in waits) / len(waits):.0f} %</td>" in cells
        mean = round(sum(waits) / len(waits))
        assert f"<td>{mean // 60}:{mean % 60:02d}</td>" in cells


def test_html_export_of_one_site_lists_its_counters_in_english(client) -> None:
    client.post("/language", data={"language": "en"})
    page = client.get(f"/export.html?site=xa-02&from={DAY}&to={DAY}").get_data(as_text=True)
    assert "District hub" in page and '<td class="t">Quầy 3 – Lao động</td><td class="t">Labour</td>' in page
    assert page.count('data-site="xa-02"') == 3 and 'data-site="xa-01"' not in page
    assert client.get("/export.pdf").status_code == 404
    assert client.get("/export.html?from=2026-12-05&to=2026-12-01").status_code == 400


def test_period_form_links_both_exports(client) -> None:
    page = client.get(f"/site/xa-01?from={DAY}&to={DAY}").get_data(as_text=True)
    assert "/export.csv?" in page and "/export.html?" in page and "site=xa-01" in page


def test_weekly_ranking_orders_sites_by_mean_wait(client) -> None:
    page = client.get(f"/ranking?week={DAY}").get_data(as_text=True)
    order = [p.split('"')[0] for p in page.split('data-site="')[1:]]
    means = {s: sum(waits_of(client, s)) / len(waits_of(client, s)) for s in SITES}
    assert order == sorted(SITES, key=means.get)


@pytest.mark.parametrize("query, expected", [
    ("from=2026-13-01", "is not a date"), ("from=2026-12-05&to=2026-12-01", "is after"),
    ("target=abc", "not a number"), ("target=0", "more than 0"),
])
def test_bad_parameters_give_400_naming_them(client, query: str, expected: str) -> None:
    resp = client.get(f"/?{query}")
    assert resp.status_code == 400 and expected in resp.get_data(as_text=True)


def test_language_switch_to_english(client) -> None:
    client.post("/language", data={"language": "en"})
    assert "Weekly ranking" in client.get("/").get_data(as_text=True)
    assert client.post("/language", data={"language": "fr"}).status_code == 400


def test_a_site_url_that_is_not_http_is_no_link(client) -> None:
    bad = next(m for _t, m in day_messages("xa-04", seed=4) if m.id.startswith("info/"))
    payload = bad.payload.replace("http://xa-04.local:8000", "javascript:alert(1)")
    db = open_hub_db(client.db)
    with db.conn:
        assert ingest(db, bad.topic, payload.encode(), NOW) == "stored"
    db.conn.close()
    page = client.get("/site/xa-04").get_data(as_text=True)
    assert "javascript:" not in page and "drill-down" not in page


def csv_rows(client, query: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(client.get(f"/export.csv?{query}").get_data(as_text=True).lstrip("\ufeff"))))


def rename(client, site: str, vi: str, en: str, at: float) -> None:
    """The site's info message of site time `at`, naming dia-chinh (vi, en)."""
    msg = info_message(site_config(site, COUNTERS[site], {"dia-chinh": (vi, en)}), site, None, at)
    db = open_hub_db(client.db)
    with db.conn:
        assert ingest(db, msg.topic, msg.payload.encode(), NOW) == "stored"
    db.conn.close()


def field_cell(page: str, field: str) -> str:
    """The first cell of a field's row: its name."""
    return page.split(f'data-field="{field}">')[1].split("<td>")[1].split("</td>")[0]


def test_fields_are_shown_by_name_in_the_viewers_language(client) -> None:
    assert field_cell(client.get("/").get_data(as_text=True), "dia-chinh") == "Địa chính"
    assert {r["field"]: r["field_name"] for r in csv_rows(client, "by=district_field")}["lao-dong"] == "Lao động"
    client.post("/language", data={"language": "en"})
    assert field_cell(client.get("/").get_data(as_text=True), "dia-chinh") == "Land"
    assert field_cell(client.get("/site/xa-03").get_data(as_text=True), "tu-phap") == "Justice"
    assert {(r["site"], r["field_name"]) for r in csv_rows(client, "site=xa-02&by=field")} == {
        ("xa-02", "Justice"), ("xa-02", "Land"), ("xa-02", "Labour")}


def test_the_newest_naming_of_a_field_is_the_districts_and_each_site_keeps_its_own(client) -> None:
    rename(client, "xa-03", "Đất đai", "Land registry", OPEN + 3600)
    rename(client, "xa-02", "Địa chính – Xây dựng", "Land and building", OPEN + 7200)
    rename(client, "xa-03", "Tên cũ", "Old name", OPEN + 1800)  # an older info arriving late changes nothing
    assert field_cell(client.get("/").get_data(as_text=True), "dia-chinh") == "Địa chính – Xây dựng"
    assert field_cell(client.get("/site/xa-03").get_data(as_text=True), "dia-chinh") == "Đất đai"
    rename(client, "xa-03", "Đất đai", "Land registry", OPEN + 9000)
    client.post("/language", data={"language": "en"})
    assert field_cell(client.get("/").get_data(as_text=True), "dia-chinh") == "Land registry"
    assert field_cell(client.get("/site/xa-02").get_data(as_text=True), "dia-chinh") == "Land and building"


def test_weekly_ranking_per_field_orders_the_fields_sites_by_mean_wait(client) -> None:
    page = client.get(f"/ranking?week={DAY}&target=10").get_data(as_text=True)
    rows = csv_rows(client, f"from={DAY}&to={DAY}&target=10&by=field&ranked=1")
    for field in ("tu-phap", "dia-chinh", "lao-dong"):
        table = page.split(f'class="hub-field-ranking" data-field="{field}"')[1].split("</table>")[0]
        order = [p.split('"')[0] for p in table.split('data-field-site="')[1:]]
        sites = [s for s in SITES if waits_of(client, s, field)]
        assert order == sorted(sites, key=lambda s: sum(waits_of(client, s, field)) / len(waits_of(client, s, field)))
        mine = [r for r in rows if r["field"] == field]
        assert [(r["rank"], r["site"]) for r in mine] == [(str(i + 1), s) for i, s in enumerate(order)]
        waits = waits_of(client, order[0], field)
        assert float(mine[0]["over_target"]) == pytest.approx(sum(w > 600 for w in waits) / len(waits), abs=0.001)
        assert f"<td>{len(waits)}</td>" in table.split("</tr>")[1]
    assert {r["field_name"] for r in rows} == {"Tư pháp", "Địa chính", "Lao động"}
    assert "<th>Hạng</th>" in client.get(f"/export.html?from={DAY}&to={DAY}&by=field&ranked=1").get_data(as_text=True)
    for bad in ("ranked=2", "ranked=1&by=counter", "ranked=1&by=field&site=xa-01"):
        assert client.get(f"/export.csv?{bad}").status_code == 400
