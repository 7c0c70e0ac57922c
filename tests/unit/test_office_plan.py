"""The office simulator's plan and files without rendering: fields, ticket numbers, zones as floor footprints, the kiosk export."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from monitor.simulate.model import point_in_polygon
from monitor.simulate.officeplan import CAMERAS, COUNTERS, build_office, camera_zones
from monitor.simulate.officesim import OfficeSimConfig, office_truth, office_yaml, tickets_csv
from monitor.site.config import Config
from monitor.site.office import office_of

SEED, SECONDS = 3, 240.0


@pytest.fixture(scope="module")
def plan():  # noqa: ANN201 - (Hall, OfficeStory)
    return build_office(SEED, SECONDS)


def test_citizens_are_called_only_by_counters_of_their_field_and_numbered_per_field(plan) -> None:
    _, story = plan
    served = [c for c in story.citizens if c.counter is not None]
    assert served, "the seed serves nobody in four minutes: the test could not fail"
    for c in served:
        assert COUNTERS[c.counter - 1].field == story.field_of[c.actor.id], c.ticket
    for letter, field in (("A", "tu-phap"), ("B", "dia-chinh")):
        mine = sorted((c for c in story.citizens if story.field_of[c.actor.id] == field), key=lambda c: c.arrival_s)
        assert [c.ticket for c in mine] == [f"{letter}{n:03d}" for n in range(1, len(mine) + 1)]
    assert {t for _, t, _ in story.calls} <= {c.ticket for c in story.citizens}  # the display shows the final numbers


def test_zones_are_floor_footprints_under_the_chairs(plan) -> None:
    hall, _ = plan
    for cam in CAMERAS:
        zones = {z["id"]: z for z in camera_zones(hall, cam.id)}
        for c in COUNTERS:
            if c.camera != cam.id:
                continue
            for kind, chair in (("staff", hall.staff_seats[c.index]), ("citizen", hall.service_seats[c.index])):
                u, v = cam.camera.normalised([[chair.x, chair.y, 0.0]])[0]
                assert point_in_polygon((float(u), float(v)), zones[f"{c.id}-{kind}"]["points"]), (cam.id, c.id, kind)
    office = office_of(Config.model_validate(office_yaml(hall)))
    assert [q.areas for q in office.queues] == [(("sanh", "cho-tu-phap"),), (("sanh", "cho-dia-chinh"),)]
    assert office.field_label("dia-chinh", "en") == "Land – construction"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_kiosk_export_loops_numbers_and_keeps_the_still_waiting_for_the_last_loop(plan) -> None:
    hall, story = plan
    truth = office_truth(hall, story, OfficeSimConfig(minutes=SECONDS / 60, seed=SEED))
    waiting = [c for c in truth["citizens"] if c["called_s"] is None]
    called = len(truth["citizens"]) - len(waiting)
    assert waiting and called
    one = _rows(tickets_csv(truth, datetime(2026, 11, 24, 8, 0)))
    assert len(one) == len(truth["citizens"])
    three = _rows(tickets_csv(truth, datetime(2026, 11, 24, 8, 0), loops=3, first=501))
    assert len(three) == 3 * called + len(waiting)
    assert [int(r["ticket"][1:]) for r in three] == list(range(501, 501 + len(three)))
    assert sum(r["status"] == "waiting" for r in three) == len(waiting)  # the last loop's only
    first_served = next(r for r in one if r["service_start"])
    again = next(r for r in three[called:] if r["service_start"] and r["field"] == first_served["field"])
    start = datetime.strptime(first_served["service_start"], "%H:%M:%S")
    later = datetime.strptime(again["service_start"], "%H:%M:%S")
    assert (later - start).total_seconds() == pytest.approx(SECONDS, abs=1)  # the next loop, one video later
