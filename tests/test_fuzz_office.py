"""The office sections of cameras.yaml mutated hundreds of ways: the file loads, or each problem is one line
naming the file (never a traceback), whatever references, kinds or types the mutation breaks."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from test_fuzz_config import VALUES, _parent, _paths, _write, assert_loads_or_one_line_per_problem, fuzz
from test_office import GOOD

OFFICE = yaml.safe_load(GOOD + "tickets:\n  feeds: [{id: kiosk}]\n")
# the office sections, and the camera zones they point at (renaming or retyping a zone breaks a reference)
PATHS = [p for p in _paths(OFFICE) if p and (p[0] in ("counters", "queues", "tickets") or "zones" in p)]
ZONE_IDS = st.sampled_from(["seat-1", "spot-1", "seat-2", "spot-2", "cho", "left", "right", "middle", "ghe", "nope"])
KINDS = st.sampled_from(["staff_seat", "service_spot", "waiting_area", "motion"])


@st.composite
def mutated_office(draw: st.DrawFn) -> str:
    """The office with 1-4 values replaced (odd values, other zone ids or kinds), keys deleted or added."""
    data = copy.deepcopy(OFFICE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent = _parent(data, path)
            parent[path[-1]]  # noqa: B018 - still there after an earlier change?
        except (KeyError, IndexError, TypeError):
            continue
        op = draw(st.sampled_from(["delete", "replace", "zone", "kind", "extra_key"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(VALUES)
        elif op == "zone":
            parent[path[-1]] = draw(ZONE_IDS)
        elif op == "kind":
            parent[path[-1]] = draw(KINDS)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="onestop-fuzz-office-") as d:
        yield Path(d)


def test_the_unmutated_office_loads(workdir):
    assert assert_loads_or_one_line_per_problem(_write(workdir, yaml.safe_dump(OFFICE, allow_unicode=True)))


@fuzz(300)
@given(text=mutated_office())
def test_mutated_office_loads_or_gives_one_clear_line_each(workdir, text):
    assert_loads_or_one_line_per_problem(_write(workdir, text))
