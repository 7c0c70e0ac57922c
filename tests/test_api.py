"""The JSON API under /api/v1: its OpenAPI document, the documented shapes, roles, and 4xx on bad parameters."""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from typing import Any

import pytest

from monitor.counters.reports import build_report, render_report
from monitor.db.store import connect
from test_web_events import (DAY, NEWEST_FIRST, TZ, app, client, client_as, site,  # noqa: F401  (fixtures)
                             template_site)
from webui.events import FILTER_FIELDS

EIGHT = int(datetime.combine(DAY, time(8, 0), tzinfo=TZ).timestamp())

# (path with a query that works, lowest role, the documented path, its response schema)
CALLS = [
    ("/api/v1/events?limit=5&camera=quay-1", "supervisor", "/events"),
    ("/api/v1/events/ev-001", "supervisor", "/events/{event_id}"),
    ("/api/v1/cameras", "supervisor", "/cameras"),
    ("/api/v1/occupancy?camera=quay-1&from=2026-11-24T08:00&to=2026-11-24T09:00", "supervisor", "/occupancy"),
    ("/api/v1/occupancy/now?camera=quay-1", "supervisor", "/occupancy/now"),
    ("/api/v1/reports?from=2026-11-24&to=2026-11-24", "viewer", "/reports"),
    ("/api/v1/openapi.json", "viewer", "/openapi.json"),
]


@pytest.fixture
def doc(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return json.loads(r.data)


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node
        for part in node["$ref"][2:].split("/"):
            doc = doc[part]
        node = doc
    return node


def check(doc: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$") -> None:
    """A small OpenAPI 3.0 schema check: types, nullable, required, properties, items, enums."""
    schema = resolve(doc, schema)
    if value is None:
        assert schema.get("nullable"), f"{where}: null but not nullable"
        return
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}
    kind = schema.get("type")
    if kind:
        assert isinstance(value, kinds[kind]) and not (kind in ("integer", "number") and isinstance(value, bool)), \
            f"{where}: {value!r} is not {kind}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if kind == "object":
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                check(doc, props[key], item, f"{where}.{key}")
            elif isinstance(extra, dict):
                check(doc, extra, item, f"{where}.{key}")
            else:
                assert extra is True or not props, f"{where}: undocumented key {key}"
    if kind == "array":
        for i, item in enumerate(value):
            check(doc, schema.get("items", {}), item, f"{where}[{i}]")


# ---------------------------------------------------------------- the OpenAPI document


def test_openapi_lists_every_api_route(app, doc):
    assert doc["openapi"].startswith("3.0.") and doc["servers"] == [{"url": "/api/v1"}]
    rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule)[len("/api/v1"):]
             for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")}
    assert set(doc["paths"]) == rules
    assert {p for _, _, p in CALLS} | {"/tickets"} == rules  # and every route is exercised (tickets: test_tickets_api)


def test_openapi_operations_are_complete_and_refs_resolve(doc):
    text = json.dumps(doc)
    for ref in re.findall(r'"\$ref": "([^"]+)"', text):
        resolve(doc, {"$ref": ref})
    for path, item in doc["paths"].items():
        if "post" in item:  # POST /tickets: token-authenticated, no session (test_tickets_api.py)
            assert {"200", "400", "401", "422"} <= set(item["post"]["responses"]), path
            continue
        op = item["get"]
        assert op["summary"] and {"200", "400", "401", "403"} <= set(op["responses"]), path
        schema = resolve(doc, op["responses"]["200"]["content"]["application/json"]["schema"])
        assert schema["type"] in ("object", "array"), path
        for name in re.findall(r"{(\w+)}", path):
            assert {"name": name, "in": "path"}.items() <= next(
                p for p in op["parameters"] if p["name"] == name).items()
    documented = [p["name"] for p in doc["paths"]["/events"]["get"]["parameters"]]
    assert documented == [*FILTER_FIELDS, "before", "after", "page", "limit"]
    assert resolve(doc, doc["components"]["responses"]["BadRequest"])["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("url, role, path", CALLS, ids=[p for _, _, p in CALLS])
def test_responses_match_the_documented_shapes(client, doc, url, role, path):
    r = client.get(url)
    assert r.status_code == 200 and r.is_json, r.data[:200]
    schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    check(doc, schema, r.get_json())


@pytest.mark.parametrize("url, status", [("/api/v1/events?camera=nope", 400), ("/api/v1/events/nope", 404),
                                         ("/api/v1/no-such-route", 404)])
def test_errors_match_the_documented_error_shape(client, doc, url, status):
    r = client.get(url)
    assert r.status_code == status and r.is_json
    check(doc, {"$ref": "#/components/schemas/Error"}, r.get_json())


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize("url, minimum, _path", CALLS, ids=[p for _, _, p in CALLS])
@pytest.mark.parametrize("role", [None, "viewer", "supervisor", "admin"], ids=lambda r: r or "anonymous")
def test_api_roles(client_as, role, url, minimum, _path):
    r = client_as(role).get(url)
    assert r.is_json
    if role is None:
        assert r.status_code == 401 and r.get_json() == {"error": "login required"}
    elif role == "viewer" and minimum != "viewer":
        assert r.status_code == 403 and "error" in r.get_json()
    else:
        assert r.status_code == 200


# ---------------------------------------------------------------- contents


def test_event_fields(client):
    ev = client.get("/api/v1/events/ev-001").get_json()
    assert ev["camera"] == "quay-1" and ev["zones"] == ["ghe"] and ev["length"] == 15.0
    assert ev["clip_url"] == "/events/ev-001/clip.mp4" and ev["thumbnail_url"] == "/events/ev-001/thumbnail.jpg"
    assert ev["url"] == "/events/ev-001" and ev["reviewed"] is False
    other = client.get("/api/v1/events/ev-003").get_json()
    assert other["reviewed"] and other["reviewed_by"] == "quan-tri" and other["note"] == "ghi chú ev-003"
    assert other["clip_url"] is None and other["thumbnail_url"] is None  # its clip is still recording


def test_events_echo_filters_and_paging(client):
    body = client.get("/api/v1/events?camera=quay-2&limit=10&page=2&zone=").get_json()
    assert body["filters"] == {"camera": "quay-2"} and body["page"] == 2 and body["limit"] == 10
    expected = [e.id for e in NEWEST_FIRST if e.camera == "quay-2"][10:20]
    assert [e["id"] for e in body["events"]] == expected and body["has_next"]


def test_occupancy_minutes_and_now(client):
    body = client.get("/api/v1/occupancy?camera=quay-1&zone=hang&from=2026-11-24T08:00&to=2026-11-24T08:02").get_json()
    assert body["from"] == EIGHT and body["to"] == EIGHT + 120 and list(body["zones"]) == ["hang"]
    first, second = body["zones"]["hang"]
    assert (first["minute"], first["samples"], first["occupied_s"], first["count_max"]) == (EIGHT, 60, 30, 2.0)
    assert (second["minute"], second["samples"], second["count_mean"]) == (EIGHT + 60, 30, 4.0)
    whole_day = client.get("/api/v1/occupancy?camera=quay-1&from=2026-11-24&to=2026-11-24").get_json()
    assert set(whole_day["zones"]) == {"ghe", "cho", "hang"} and whole_day["zones"]["cho"] == []
    assert len(whole_day["zones"]["ghe"]) == 2 and whole_day["to"] - whole_day["from"] == 86400
    utc = client.get("/api/v1/occupancy?camera=quay-1&zone=ghe&from=2026-11-24T01:00:00%2B00:00"
                     "&to=2026-11-24T01:01:00Z").get_json()
    assert [m["minute"] for m in utc["zones"]["ghe"]] == [EIGHT]  # 01:00 UTC is 08:00 in Hanoi
    now = client.get("/api/v1/occupancy/now?camera=quay-1").get_json()
    assert now == {"camera": "quay-1", "zones": {"ghe": {"t": EIGHT + 89, "occupied": True, "count": 1.0},
                                                 "hang": {"t": EIGHT + 89, "occupied": True, "count": 4.0}}}
    assert client.get("/api/v1/occupancy/now?camera=quay-2").get_json() == {"camera": "quay-2", "zones": {}}


def test_reports_are_the_report_json(client_as, site):
    body = client_as("viewer").get("/api/v1/reports?from=2026-11-24&to=2026-11-24&camera=quay-1").get_json()
    db = connect(site.storage.database, readonly=True)
    expected = json.loads(render_report(build_report(site, db, DAY, DAY, "quay-1"), "json", "vi"))
    db.conn.close()
    del body["generated_at"], expected["generated_at"]
    assert body == expected and body["camera"] == "quay-1" and body["date_from"] == "2026-11-24"


# ---------------------------------------------------------------- bad parameters: 4xx JSON, never 5xx

BAD = [
    ("/api/v1/events?limit=0", "limit"), ("/api/v1/events?limit=501", "limit"), ("/api/v1/events?limit=abc", "limit"),
    ("/api/v1/events?limit=1&page=100002", "page"), ("/api/v1/events?page=%F0%9F%98%80", "page"),
    ("/api/v1/events?date_from=2026-02-29", "date_from"), ("/api/v1/events?zone=%00", "zone"),
    ("/api/v1/occupancy", "camera"), ("/api/v1/occupancy?camera=nope", "camera"),
    ("/api/v1/occupancy?camera=quay-1&zone=cua", "zone"),
    ("/api/v1/occupancy?camera=quay-1&from=yesterday", "from"),
    ("/api/v1/occupancy?camera=quay-1&from=2026-11-24T25:00", "from"),
    ("/api/v1/occupancy?camera=quay-1&from=0001-01-01T00:00", "from"),
    ("/api/v1/occupancy?camera=quay-1&to=9999-12-31", "to"),
    ("/api/v1/occupancy?camera=quay-1&to=" + "9" * 300, "to"),
    ("/api/v1/occupancy?camera=quay-1&from=2026-11-24T09:00&to=2026-11-24T08:00", "to"),
    ("/api/v1/occupancy?camera=quay-1&from=2026-01-01&to=2026-11-24", "to"),
    ("/api/v1/occupancy/now", "camera"), ("/api/v1/occupancy/now?camera=Qu%E1%BA%A7y", "camera"),
    ("/api/v1/reports", "from"), ("/api/v1/reports?from=2026-11-24", "to"),
    ("/api/v1/reports?from=24/11/2026&to=2026-11-24", "from"), ("/api/v1/reports?from=2026-11-24&to=20261124", "to"),
    ("/api/v1/reports?from=2026-11-24&to=2026-11-24&camera=nope", "camera"),
    ("/api/v1/reports?from=2026-11-25&to=2026-11-24", "first day"),
    ("/api/v1/reports?from=2020-01-01&to=2026-11-24", "days"),
]


@pytest.mark.parametrize("url, name", BAD, ids=[u.split("/api/v1/")[1][:60] for u, _ in BAD])
def test_bad_parameters_are_400_json(client_as, url, name):
    role = "viewer" if "/reports" in url else "supervisor"
    r = client_as(role).get(url)
    assert r.status_code == 400 and r.is_json
    assert name in r.get_json()["error"] and "\n" not in r.get_json()["error"]


@pytest.mark.parametrize("event_id", ["nope", "ev-001'; --", "sự-kiện", "x" * 2000])
def test_unknown_event_is_404_json(client, event_id):
    r = client.get(f"/api/v1/events/{event_id}")
    assert r.status_code == 404 and "error" in r.get_json()
