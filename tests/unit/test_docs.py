"""The docs against the code: every `onestop` command cited exists (and every command is documented),
every config field cited exists, docs/configuration.md is what the models generate, and every code
name cited in docs/architecture.md (module paths, dotted names, functions and classes) exists."""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from functools import cache
from pathlib import Path

import click
import pytest

from monitor.cli import main as cli
from monitor.site import docgen
from monitor.site.config import Config

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
CONFIG_SECTIONS = tuple(Config.model_fields)  # site, storage, defaults, ..., cameras

_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_COMMAND = re.compile(r"(?:^|(?<=[\s$/]))onestop[ \t]+([a-z][a-z-]*)(?:[ \t]+([a-z][a-z-]*))?", re.M)
_CONFIG_PATH = re.compile(rf"(?:{'|'.join(CONFIG_SECTIONS)})(?:\[\])?(?:\.[a-z_]+(?:\[\])?)+")
_FILE = re.compile(r"\.(db|yaml|yml|env|json|csv|html|py|log|txt|mp4|jpg)$")
_CALL = re.compile(r"(?<![\w.])\.?([A-Za-z_][A-Za-z0-9_]*)\(")
_CAMEL = re.compile(r"(?<![\w.])([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+)\b")
_MODULE = re.compile(r"(?:monitor|webui)(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_PATH = re.compile(r"(?<![/\w.-])[\w.-]+(?:/[\w.-]*)+")  # not URL paths such as /api/v1/


def code_of(path: Path) -> list[str]:
    """The code spans and fenced blocks of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return _FENCE.findall(text) + _SPAN.findall(_FENCE.sub("", text))


def commands() -> dict[str, set[str]]:
    """Top-level command -> its subcommands (empty for a plain command), from the click group."""
    return {name: set(cmd.commands) if isinstance(cmd, click.Group) else set() for name, cmd in cli.commands.items()}


@cache
def defined_names() -> frozenset[str]:
    """Every function, class, method and module-level or class-level name defined in monitor/ and webui/."""
    names: set[str] = set(dir(builtins))
    for pkg in ("monitor", "webui"):
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return frozenset(names)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_cited_commands_exist(doc):
    known = commands()
    bad = []
    for code in code_of(doc):
        for name, sub in _COMMAND.findall(code):
            if name not in known:
                bad.append(f"onestop {name}")
            elif known[name] and sub and sub not in known[name]:
                bad.append(f"onestop {name} {sub}")
    assert not bad, f"{doc.name} cites commands the click group lacks: {sorted(set(bad))}"


def test_every_command_is_documented_in_operating():
    text = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    missing = [f"onestop {name} {sub}".strip() for name, subs in commands().items() for sub in (sorted(subs) or [""])
               if f"onestop {name} {sub}".strip() not in text]
    assert not missing, f"docs/operating.md does not mention {missing}"


def test_configuration_doc_is_generated_from_the_models():
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == docgen.markdown(), "run: .venv/bin/python -m monitor.site.docgen > docs/configuration.md"


def test_configuration_doc_lists_every_field():
    fields = docgen.fields()
    assert {"site.name", "retention.clips_days", "cameras[].zones[].kind", "cameras[].streams.sub"} <= set(fields)
    assert len(fields) == len(set(fields))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_cited_config_fields_exist(doc):
    fields = {f.replace("[]", "") for f in docgen.fields()}  # `cameras.zones` and `cameras[].zones` alike
    cited = {code.strip() for code in code_of(doc) if _CONFIG_PATH.fullmatch(code.strip())
             and not _FILE.search(code.strip())}  # cameras.yaml, cameras.secrets.env, hub.db: files
    assert cited or doc.name not in ("operating.md",), "no config field cited: is the pattern still right?"
    bad = sorted(c for c in cited if c.replace("[]", "") not in fields)
    assert not bad, f"{doc.name} cites config fields the models lack: {bad}"


def _module_exists(dotted: str) -> bool:
    """Whether a dotted name is a module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _path_exists(token: str) -> bool:
    token = token.rstrip("/")
    return any((base / token).exists() for base in (ROOT, ROOT / "monitor", ROOT / "webui"))


def missing_names(codes: list[str]) -> list[str]:
    """The code names of the given spans that do not exist (paths, dotted modules, calls, CamelCase names)."""
    missing = []
    for code in codes:
        for token in _PATH.findall(code):
            if token.endswith((".py", ".js", ".css", ".html", "/")) and not token.startswith(("http", "recordings")) \
                    and not _path_exists(token):
                missing.append(token)
        missing += [m for m in _MODULE.findall(code) if not _module_exists(m)]
        names = set(_CALL.findall(code)) | set(_CAMEL.findall(code))
        missing += sorted(n for n in names if n not in defined_names())
    return missing


def test_architecture_names_exist():
    missing = missing_names(code_of(ARCHITECTURE))
    assert not missing, f"docs/architecture.md cites names that do not exist: {sorted(set(missing))}"


def test_test_modules_are_grouped_by_kind():
    """Every test module sits in one of the kind folders the docs describe (conftest.py and helpers at tests/)."""
    tests = ROOT / "tests"
    loose = sorted(p.name for p in tests.glob("test_*.py"))
    kinds = {p.parent.name for p in tests.rglob("test_*.py")} - {"tests"}
    assert not loose, f"move these into tests/<kind>/: {loose}"
    assert kinds <= {"unit", "web", "e2e", "browser", "fuzz"}, kinds
    operating = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    assert all(f"`tests/{kind}/`" in operating for kind in kinds)


def test_helpers_come_from_support_not_conftest():
    """conftest.py holds fixtures; a module importing it gets a second copy of it under another name."""
    found = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "tests").rglob("*.py"))
             if re.search(r"^\s*(from conftest import|import conftest)", p.read_text(encoding="utf-8"), re.M)]
    assert not found, f"import the helpers from support.py: {found}"


def test_the_name_check_catches_stale_names():
    stale = ["`open_stream(url)`", "`StreamReader`", "`run_worker(camera, queue)`", "`monitor/camera/nothing.py`",
             "`monitor.db.store.no_such_function`"]
    assert missing_names(stale) == ["open_stream", "StreamReader", "run_worker", "monitor/camera/nothing.py",
                                    "monitor.db.store.no_such_function"]
    assert missing_names(["`StreamSource(url, label)`", "`monitor/camera/sources.py`", "`monitor.db.store.open_db`"]) == []
