"""cameras.yaml problems as `FILE:LINE: path: message` lines: YAML reading, node lines, pydantic messages."""

from __future__ import annotations

import os
import re
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticCustomError

__all__ = [
    "ENV_REF",
    "ConfigError",
    "Loc",
    "duplicate_keys",
    "format_error",
    "missing_env",
    "problem",
    "raise_duplicates",
    "read_yaml",
]

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
Loc = tuple[Union[str, int], ...]


class ConfigError(ValueError):
    """cameras.yaml is invalid; .problems holds one `FILE:LINE: path: message` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


def raise_duplicates(ids: list[str], field: str, what: str) -> None:
    """A `duplicate_id` error at the second use of an id; format_error points at that id's line."""
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            # `at` lets the error mapper point at the second id's line, not the whole list.
            raise PydanticCustomError(
                "duplicate_id",
                "duplicate {what} id '{ident}' (first used by {field}[{first}])",
                {"what": what, "ident": ident, "field": field, "first": seen[ident],
                 "at": (field, i, "id")},
            )
        seen[ident] = i


def read_yaml(label: str, file: Path) -> tuple[yaml.MappingNode, dict[str, Any]]:
    """The YAML node tree (for line numbers) and the data of file; ConfigError if unreadable or not a mapping."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{label}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{label}: is a folder, expected a YAML file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{label}: is not UTF-8 text"]) from None
    except OSError as err:
        raise ConfigError([f"{label}: cannot read: {err.strerror}"]) from None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f":{mark.line + 1}" if mark else ""
        problem = err.problem or err.context or "cannot parse"
        raise ConfigError([f"{label}{where}: YAML syntax error: {problem}"]) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow (control characters)
        line = text.count("\n", 0, err.position) + 1
        raise ConfigError([f"{label}:{line}: YAML syntax error: character {err.character!r} is not allowed; "
                           "remove it (control characters cannot appear in YAML)"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{label}: YAML error: {_one_line(str(err))}"]) from None

    if root is None:
        raise ConfigError([f"{label}: file is empty; expected a mapping with site and cameras"])
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise ConfigError([
            f"{label}:{root.start_mark.line + 1}: the top level must be a mapping "
            "with site, storage, defaults and cameras"
        ])
    return root, data


# ---------------------------------------------------------------- YAML lines


def _node_line(root: yaml.Node, loc: Loc, key_line: bool = True) -> int:
    """1-based line of the YAML node at loc, or of its nearest existing ancestor.

    For a mapping value the key's line is used (a block value starts on the next line).
    """
    node, line = root, root.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node, line = v, (k.start_mark.line if key_line else v.start_mark.line)
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if not isinstance(part, int) and not str(part).isprintable():
            part = repr(str(part))  # a key holding a newline or a control character must not break the line
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _one_line(text: str) -> str:
    """Control characters escaped, so each problem stays one line whatever the file held."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def _problem(label: str, root: yaml.Node, loc: Loc, message: str) -> str:
    path = _dotted(loc)
    return f"{label}:{_node_line(root, loc)}: {path + ': ' if path else ''}{_one_line(message)}"


def problem(label: str, root: yaml.Node, loc: Loc, message: str) -> str:
    """One `FILE:LINE: path: message` line for a problem found after validation (cross-references)."""
    return _problem(label, root, loc, message)


def duplicate_keys(label: str, root: yaml.Node) -> list[str]:
    """PyYAML keeps the last of two equal keys silently; report them instead."""
    problems: list[str] = []

    def walk(node: yaml.Node, loc: Loc) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in seen:
                        path = _dotted(loc + (k.value,))
                        problems.append(f"{label}:{k.start_mark.line + 1}: {path}: duplicate key")
                    seen.add(k.value)
                    walk(v, loc + (k.value,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, loc + (i,))

    walk(root, ())
    return problems


def missing_env(label: str, root: yaml.Node, data: dict[str, Any], known: Any = ()) -> list[str]:
    """Every ${VAR} in camera URLs and credentials, the alert webhook, the metrics and ticket-feed tokens must be set at load.

    Set means in the environment or among the `known` names (the secrets file).
    """
    problems: list[str] = []
    for section, key in (("alerts", "webhook_url"), ("metrics", "token")):  # secrets kept in the environment
        value = data.get(section).get(key) if isinstance(data.get(section), dict) else None
        for name in ENV_REF.findall(value) if isinstance(value, str) else ():
            if name not in os.environ:
                problems.append(_problem(label, root, (section, key), f"environment variable {name} is not set"))
    hub = data.get("hub") if isinstance(data.get("hub"), dict) else {}
    for key in ("username", "password"):  # the broker account: environment or secrets file
        value = hub.get(key)
        for name in ENV_REF.findall(value) if isinstance(value, str) else ():
            if name not in os.environ and name not in known:
                problems.append(_problem(label, root, ("hub", key), f"environment variable {name} is not set"))
    tickets = data.get("tickets")
    feeds = tickets.get("feeds") if isinstance(tickets, dict) else None
    for i, feed in enumerate(feeds if isinstance(feeds, list) else []):
        value = feed.get("token") if isinstance(feed, dict) else None
        for name in ENV_REF.findall(value) if isinstance(value, str) else ():
            if name not in os.environ and name not in known:
                problems.append(_problem(label, root, ("tickets", "feeds", i, "token"), f"environment variable {name} is not set"))
    cameras = data.get("cameras")
    if not isinstance(cameras, list):
        return problems
    for i, cam in enumerate(cameras):
        if not isinstance(cam, dict):
            continue
        streams = cam.get("streams") if isinstance(cam.get("streams"), dict) else {}
        fields: list[tuple[Loc, Any]] = [(("streams", r), streams.get(r)) for r in ("main", "sub")]
        fields += [((key,), cam.get(key)) for key in ("username", "password")]
        for loc, value in fields:
            for name in ENV_REF.findall(value) if isinstance(value, str) else ():
                if name not in os.environ and name not in known:
                    message = f"environment variable {name} is not set"
                    problems.append(_problem(label, root, ("cameras", i, *loc), message))
    return problems


def format_error(label: str, root: yaml.Node, err: Any, schema: type[BaseModel]) -> str:
    """One problem line for one pydantic error of validating `schema` (the root model) against root's data."""
    loc: Loc = tuple(err["loc"])
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "duplicate_id":
        loc = loc + tuple(ctx["at"])
    elif kind == "missing" and loc and isinstance(loc[-1], int):
        # A short fixed-length list ([near, far]): report the list, not its missing item.
        length = len(get_args(_unwrap(_type_at(schema, loc[:-1]))))
        err = {**err, "type": "tuple_missing", "ctx": {"length": length}}
        loc = loc[:-1]
    return _problem(label, root, loc, _message(err, loc, schema))


_TYPE_NAMES = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "text",
               "list": "a list", "tuple": "a list", "dict": "a mapping", "model": "a mapping", "path": "a path"}
_BOUNDS = {"greater_than": "greater than", "greater_than_equal": "at least",
           "less_than": "less than", "less_than_equal": "at most"}


def _shown(value: Any, loc: Loc) -> str:
    if any(part in ("password", "username") for part in loc):
        return "(hidden)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: Any, loc: Loc, schema: type[BaseModel]) -> str:
    """A short message for the common pydantic error types; pydantic's own text otherwise."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "tuple_missing":
        return f"expected a list of exactly {ctx['length']} values, got {_shown(value, loc)}"
    if kind == "extra_forbidden":
        valid = _valid_fields(schema, loc[:-1])
        hint = f" (valid: {', '.join(valid)})" if valid else ""
        return f"unknown field {loc[-1]!r}{hint}"
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        return f"{value!r} is not one of {', '.join(options)}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind == "duplicate_id":
        return err["msg"]
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()))
        return f"must be {_BOUNDS[kind]} {limit:g}, got {_shown(value, loc)}"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        if ctx.get("field_type") == "Tuple":
            return f"expected a list of exactly {n} values, got {_shown(value, loc)}"
        word = "at least" if kind == "too_short" else "at most"
        return f"expected {word} {n} items, got {ctx.get('actual_length')}"
    for prefix, name in _TYPE_NAMES.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            return f"expected {name}, got {_shown(value, loc)}"
    return err["msg"]


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _valid_fields(schema: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the model at loc (for 'unknown field' hints)."""
    tp = _unwrap(_type_at(schema, loc))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _type_at(schema: type[BaseModel], loc: Loc) -> Any:
    """The annotation of the config value at loc (None if loc leaves the schema)."""
    tp: Any = schema
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            args = get_args(tp)
            if get_origin(tp) not in (list, tuple) or not args:
                return None
            tp = args[part] if get_origin(tp) is tuple and part < len(args) else args[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        else:
            return None
    return tp
