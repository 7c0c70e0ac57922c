"""The office model of cameras.yaml: counters and queues across cameras, their validation and the migration."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.counters.reports import counters as camera_counters
from monitor.site.config import ConfigError, load_config
from monitor.site.config import Zone
from monitor.site.office import derive_office, explicit_yaml, office_of, polygon_grid, seats_in_waiting_areas
from officesite import CAMERAS, GOOD

def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    return err.value.problems


def _line_of(text: str, needle: str, nth: int = -1) -> int:
    """1-based line of the nth line containing needle (default: the last)."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth if nth < 0 else nth - 1]


def test_explicit_office_resolves_counters_across_cameras_and_fields(tmp_path):
    office = office_of(load_config(_write(tmp_path, GOOD)))
    assert not office.derived
    assert [(c.id, c.seat, c.spot, c.queue) for c in office.counters] == [
        ("quay-1", ("quay-a", "seat-1"), ("quay-a", "spot-1"), "sanh"),
        ("quay-2", ("hall", "ghe"), ("quay-a", "spot-2"), "sanh"),  # seat on one camera, spot on another
    ]
    (queue,) = office.queues
    assert queue.areas == (("hall", "left"), ("hall", "right"), ("quay-a", "cho"))
    assert queue.counters == ("quay-1", "quay-2")  # quay-2 through its field
    assert office.counter("quay-1").name == "Quầy 1 – Tư pháp"
    assert office.fields == ["tu-phap", "dia-chinh"]


@pytest.mark.parametrize("replace, needle, message", [
    ("zone: seat-1}", "zone: nope}", "camera 'quay-a' has no zone 'nope' (staff_seat zones: seat-1, seat-2)"),
    ("{camera: quay-a, zone: spot-1}", "{camera: ghost, zone: spot-1}", "unknown camera 'ghost' (known: quay-a, hall)"),
    ("{camera: quay-a, zone: spot-2}", "{camera: quay-a, zone: seat-2}",
     "zone quay-a/seat-2 is a staff_seat zone; a service_spot zone is needed here"),
    ("{camera: hall, zone: ghe}", "{camera: quay-a, zone: seat-1}",
     "zone quay-a/seat-1 is already used by counters[0].staff_seat"),
    ("{camera: hall, zone: right}", "{camera: hall, zone: middle}",
     "waiting area hall/middle overlaps hall/left (queues[0].waiting_areas[0]) on 2.0% of the picture"),
    ("feeds: [quay-1, dia-chinh]", "feeds: [quay-1, dia-chinh, tu-phapp]",
     "queues[0].feeds[2]: 'tu-phapp' is neither a counter id (quay-1, quay-2) nor a field (dia-chinh, tu-phap)"),
])
def test_each_reference_problem_is_one_line_at_its_yaml_line(tmp_path, replace, needle, message):
    text = GOOD.replace(replace, needle, 1)
    assert text != GOOD
    (line,) = _problems(tmp_path, text)
    assert message in line
    assert line.startswith(f"{tmp_path / 'cameras.yaml'}:{_line_of(text, needle)}: "), line


def test_a_counter_fed_by_no_queue_is_reported_at_its_id(tmp_path):
    text = GOOD.replace("feeds: [quay-1, dia-chinh]", "feeds: [quay-1]")
    (line,) = _problems(tmp_path, text)
    assert f":{_line_of(text, '- id: quay-2')}: counters[1].id: counter 'quay-2' is fed by no queue: " \
           "add it (or its field 'dia-chinh') to a queue's feeds" in line


def test_a_duplicate_counter_id_is_reported_at_the_second(tmp_path):
    text = GOOD.replace("- id: quay-2\n", "- id: quay-1\n")
    (line,) = _problems(tmp_path, text)
    assert f":{_line_of(text, '- id: quay-1')}: counters[1].id: duplicate counter id 'quay-1'" in line


def test_edge_sharing_areas_do_not_overlap_but_covering_ones_do():
    assert not (polygon_grid([(0, 0), (0.5, 0), (0.5, 1), (0, 1)]) & polygon_grid([(0.5, 0), (1, 0), (1, 1), (0.5, 1)])).any()
    inner = polygon_grid([(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)])
    assert abs(inner.mean() - 0.04) < 0.002


def test_a_waiting_area_over_a_seat_was_drawn_around_the_people():
    """office-4c's counter 1 and waiting area as score.py gives them: drawn on the floor, the area covers neither
    footprint; drawn around the people (its top edge up at 0.21), it covers both."""
    seat = Zone(id="seat", kind="staff_seat", points=[(0.2773, 0.2974), (0.3256, 0.2974), (0.3357, 0.2695), (0.2902, 0.2695)])
    spot = Zone(id="spot", kind="service_spot", points=[(0.25, 0.3554), (0.3, 0.3554), (0.31, 0.3157), (0.26, 0.3157)])
    floor = Zone(id="hall", kind="waiting_area", points=[(0, 0.8477), (0, 0.9882), (1, 0.9882), (1, 0.8477),
                                                          (0.8148, 0.4659), (0.1852, 0.4659)])
    body = Zone(id="hall", kind="waiting_area", points=[(1, 0.3458), (1, 0.9882), (0, 0.9882), (0, 0.3458),
                                                         (0.1253, 0.2132), (0.8747, 0.2132)])
    assert seats_in_waiting_areas([seat, spot, floor]) == []
    assert seats_in_waiting_areas([seat, spot, body]) == [("hall", "seat"), ("hall", "spot")]
    edge = Zone(id="edge", kind="waiting_area", points=[(0, 0.3356), (1, 0.3356), (1, 1), (0, 1)])  # a half of the spot
    assert seats_in_waiting_areas([spot, edge]) == []  # its edge through a footprint: not covered
    assert seats_in_waiting_areas([seat, spot]) == []


def test_a_schema_error_in_the_sections_names_the_field(tmp_path):
    text = GOOD.replace("    field: tu-phap\n", "    field: tu-phap\n    colour: red\n")
    (line,) = _problems(tmp_path, text)
    assert f":{_line_of(text, 'colour')}: counters[0].colour: unknown field 'colour'" in line


def test_queues_without_counters_is_an_error(tmp_path):
    (line,) = _problems(tmp_path, CAMERAS + "queues:\n  - {id: q, name: Q, waiting_areas: [{camera: hall, zone: left}], feeds: [x]}\n")
    assert "queues: queues need a counters: section" in line


def test_without_sections_counters_are_derived_exactly_as_the_reports_pair_them(tmp_path):
    config = load_config(_write(tmp_path, CAMERAS))
    office = office_of(config)
    assert office.derived
    legacy = [(c.camera, c.seat, c.spot, c.queue) for cam in config.cameras for c in camera_counters(cam)]
    derived = [(c.spot[0], c.seat[1], c.spot[1], _queue_zone(office, c.queue)) for c in office.counters]
    assert derived == legacy
    assert [c.id for c in office.counters] == ["quay-a-spot-1", "quay-a-spot-2"]
    assert [q.counters for q in office.queues] == [("quay-a-spot-1", "quay-a-spot-2")]


def _queue_zone(office, queue_id):  # noqa: ANN001, ANN202
    queue = next((q for q in office.queues if q.id == queue_id), None)
    return queue.areas[0][1] if queue else None


def test_the_printed_sections_load_back_to_the_same_office(tmp_path):
    config = load_config(_write(tmp_path, CAMERAS))
    derived = derive_office(config.cameras)
    pasted = load_config(_write(tmp_path, CAMERAS + explicit_yaml(derived) + "\n"))
    assert office_of(pasted).counters == derived.counters
    assert office_of(pasted).queues == derived.queues


def test_check_config_prints_the_equivalent_sections(tmp_path):
    path = _write(tmp_path, CAMERAS)
    result = CliRunner().invoke(main, ["check-config", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert "counters:\n  - id: quay-a-spot-1\n" in result.output
    assert "    feeds: [quay-a-spot-1, quay-a-spot-2]" in result.output


def test_check_config_lists_explicit_counters(tmp_path):
    result = CliRunner().invoke(main, ["check-config", "-c", str(_write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    assert "quay-2  Quầy 2 – Địa chính  field=dia-chinh  seat=hall/ghe  spot=quay-a/spot-2  queue=sanh" in result.output


FIELDS = """\
fields:
  - {id: tu-phap, name: "Tư pháp – hộ tịch", name_en: "Justice and civil status"}
  - {id: dia-chinh, name: "Địa chính – xây dựng"}
"""


def test_fields_give_display_names_in_vi_and_en_and_unlisted_fields_keep_their_id(tmp_path):
    office = office_of(load_config(_write(tmp_path, GOOD + FIELDS.replace("  - {id: dia-chinh", "  - {id: ho-tich"))))
    assert office.field_label("tu-phap") == "Tư pháp – hộ tịch"
    assert office.field_label("tu-phap", "en") == "Justice and civil status"
    assert office.field_label("dia-chinh", "en") == "dia-chinh"  # a counter's field that fields: does not list
    assert office.field_label(None) == ""
    both = office_of(load_config(_write(tmp_path, GOOD + FIELDS)))
    assert both.field_label("dia-chinh", "en") == "Địa chính – xây dựng"  # no name_en: the Vietnamese name


def test_a_duplicate_field_id_is_one_line_at_its_yaml_line(tmp_path):
    text = GOOD + FIELDS.replace("{id: dia-chinh", "{id: tu-phap")
    (line,) = _problems(tmp_path, text)
    assert f":{_line_of(text, 'Địa chính – xây dựng')}: fields[1].id: duplicate field id 'tu-phap'" in line
