"""cameras.yaml mutated hundreds of ways (hypothesis): it loads, or every problem is one line naming the file.
`onestop check-config` on a sample: exit 0 or 1, never a traceback."""

from __future__ import annotations

import copy
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.site.config import ConfigError, load_config

BASE_FILE = Path(__file__).resolve().parent.parent / "cameras.yaml"  # the documented example: valid
BASE_TEXT = BASE_FILE.read_text(encoding="utf-8")
BASE = yaml.safe_load(BASE_TEXT)
CHECK_CONFIG_TIMEOUT_S = 60  # a cold Python start on a loaded 2-core box


def fuzz(examples: int) -> settings:
    """Hypothesis settings of these tests: no per-example deadline (a loaded box is slow), a fixed budget."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ODD_VALUES = st.sampled_from([
    None, True, 0, -1, 2**63, -(2**70), 1e308, float("inf"), float("nan"), -0.0, "", " ", "x" * 5000,
    "${NOT_SET_ANYWHERE}", "${}", "$", "../../../etc/passwd", "/dev/null", "rtsp://", "rtsp://u:p@h:99999/x",
    "24:61-25:00", "07:30-07:30", "Ẽ漢字🙂", "\x00", "\t", "- a", "{a: 1}", "yes", "~", [], {}, [[0.1]], [[2, 2]] * 3,
    {"id": "x"}, [None], "Asia/Nowhere", "vi-VN",
])
VALUES = st.one_of(ODD_VALUES, st.integers(), st.floats(), st.text(max_size=30), st.booleans(),
                   st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=4),
                   st.dictionaries(st.text(max_size=8), st.integers(), max_size=3))


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p in _paths(BASE) if p]


def _parent(data: Any, path: tuple) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutated_data(draw: st.DrawFn) -> str:
    """The example's data with 1-4 keys deleted, retyped, or given odd values, dumped back to YAML."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent = _parent(data, path)
            parent[path[-1]]  # noqa: B018 - still there after an earlier deletion or retyping?
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(parent, (dict, list)):
            continue
        op = draw(st.sampled_from(["delete", "replace", "replace", "extra_key"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(VALUES)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """The example's text with 1-3 line edits: duplicated lines (duplicate keys), broken indentation, junk."""
    lines = BASE_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["duplicate", "indent", "dedent", "junk", "truncate", "tab", "drop_colon", "delete"]))
        line = lines[i]
        if op == "duplicate":
            lines.insert(i, line)
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 5)) + line
        elif op == "dedent":
            lines[i] = line.lstrip()
        elif op == "junk":
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + draw(st.text(min_size=1, max_size=10)) + line[at:]
        elif op == "truncate":
            lines[i] = line[: draw(st.integers(0, len(line)))]
        elif op == "tab":
            lines[i] = "\t" + line
        elif op == "drop_colon":
            lines[i] = line.replace(":", " ", 1)
        else:
            del lines[i]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="onestop-fuzz-") as d:
        yield Path(d)


def _write(folder: Path, text: str) -> Path:
    path = folder / "cameras.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def assert_loads_or_one_line_per_problem(path: Path) -> bool:
    """True when the file loads; False when ConfigError lists only single lines that name the file."""
    try:
        load_config(path)
    except ConfigError as err:
        assert err.problems, "a ConfigError without problems"
        for problem in err.problems:
            assert "\n" not in problem and "\r" not in problem, repr(problem)
            assert problem.startswith(str(path)), repr(problem)
            assert "Traceback" not in problem
        return False
    return True


def test_the_unmutated_example_loads(workdir):
    assert assert_loads_or_one_line_per_problem(_write(workdir, BASE_TEXT))


@fuzz(300)
@given(text=mutated_data())
def test_mutated_values_load_or_give_one_clear_line_each(workdir, text):
    assert_loads_or_one_line_per_problem(_write(workdir, text))


@fuzz(300)
@given(text=mutated_text())
def test_mutated_text_loads_or_gives_one_clear_line_each(workdir, text):
    assert_loads_or_one_line_per_problem(_write(workdir, text))


@fuzz(6)
@given(text=st.one_of(mutated_data(), mutated_text()))
def test_check_config_exits_0_or_1_without_a_traceback(workdir, text):
    path = _write(workdir, text)
    r = subprocess.run([sys.executable, "-m", "monitor.cli", "check-config", "-c", str(path)],
                       capture_output=True, text=True, timeout=CHECK_CONFIG_TIMEOUT_S, errors="replace")
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    if r.returncode == 1:
        assert all(line.startswith(str(path)) for line in r.stderr.splitlines()), r.stderr
