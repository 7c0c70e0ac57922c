"""Hostile HTTP parameters (hypothesis) on every GET route, and schemathesis on /api/v1/openapi.json:
a 4xx for what is wrong, never a 5xx or an exception (TESTING=True lets exceptions through to the test)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.site.config import load_config
from sectest import NOW, ROUTE_TABLE, build_site, secret_env
from webtest import log_in
from webui import create_app

PARAM_NAMES = ["camera", "zone", "date", "date_from", "date_to", "time_from", "time_to", "min_length", "reviewed",
               "page", "limit", "from", "to", "format", "period", "counter", "user", "action", "download", "next"]
ODD = st.sampled_from([
    "", "0", "-1", "1e309", "NaN", "inf", "99999999999999999999999", str(2**63), "0x10", "1_000", "²", "٣",
    "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "31/02/2026", "2026-11-24T25:00", "2026-11-24T08:00+99:00",
    "24:00", "23:60", "-01:00", "\x00", "a\x00b", "%00", "../../etc/passwd", "..%2f..", "quay-1\x00", "ẞ漢字🙂",
    "\u202e", "\ufeff", " ", "<script>", "' OR 1=1 --", "x" * 10_000, "yes", "no", "csv", "html", "json", "day", "month",
])
VALUES = st.one_of(ODD, st.text(max_size=40), st.integers().map(str), st.dates().map(str),
                   st.floats(allow_nan=True).map(str))
# /live/<camera>.mjpeg streams for seconds by design; its camera argument goes through the same lookup as .jpg.
ROUTES = sorted(e for e, (method, _, _) in ROUTE_TABLE.items() if method == "GET" and e != "live.mjpeg")
FUZZ_EXAMPLES = 300  # ~20 s here; each example is one request
SCHEMA_EXAMPLES = 25  # per operation and generation mode (8 operations x 2 modes)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzzsite")
    with secret_env():
        build_site(folder)
        config = load_config(folder / "cameras.yaml")
    return create_app(config, {"TESTING": True, "CLOCK": lambda: NOW})


@pytest.fixture(scope="module")
def admin(app):
    client = app.test_client()
    log_in(client, "admin")
    return client


def _path_with(endpoint: str, segment: str, app) -> str:  # noqa: ANN001 - flask app
    """The route's URL with each <variable> replaced by the fuzzed segment (percent-encoded)."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return re.sub(r"<[^>]+>", quote(segment, safe="") or "x", rule.rule)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ROUTES), segment=VALUES,
       params=st.dictionaries(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=8)), VALUES, max_size=5))
def test_fuzzed_parameters_never_give_a_server_error(app, admin, endpoint, segment, params):
    path = _path_with(endpoint, segment, app)
    with admin.get(path, query_string=params) as r:
        assert r.status_code < 500, (path, params, r.get_data(as_text=True)[:300])


@pytest.mark.parametrize("endpoint", ROUTES)
def test_huge_and_binary_query_strings_are_refused_cleanly(app, admin, endpoint):
    path = _path_with(endpoint, "e1", app)
    for query in ("page=" + "9" * 5000, "date_from=%ff%fe&date_to=%00", "from=%C0%AF&to=%ED%A0%80", "a=" + "%00" * 3000):
        with admin.get(f"{path}?{query}") as r:
            assert r.status_code < 500, (path, query)


# ---------------------------------------------------------------- schemathesis


def test_openapi_operations_never_give_a_server_error(app, admin):
    import schemathesis
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    cookie = admin.get_cookie("session").value
    # The document itself needs a login: fetch it with the session, then let schemathesis call the app in-process.
    schema = schemathesis.openapi.from_dict(admin.get("/api/v1/openapi.json").get_json())
    schema.app = app
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=SCHEMA_EXAMPLES, deadline=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case) -> None:  # noqa: ANN001 - schemathesis Case
                response = case.call(cookies={"session": cookie})
                assert response.status_code < 500, (case.path, case.query, response.text[:300])
                if mode is GenerationMode.POSITIVE:
                    # status, content type and body match the schema. Not positive_data_acceptance: OpenAPI
                    # cannot say "date_to on or after date_from", "a zone of that camera" or "a real date",
                    # so schema-valid requests may rightly get a 400 naming the parameter.
                    case.validate_response(response, excluded_checks=[positive_data_acceptance])

            check()
