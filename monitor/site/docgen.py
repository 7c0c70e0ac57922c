"""docs/configuration.md from the pydantic models of cameras.yaml: `python -m monitor.site.docgen > docs/configuration.md`.

Every field's dotted path, type, default and bounds come from the models and its meaning from the
field's description, so the reference cannot drift from the loader (tests/unit/test_docs.py compares).
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from monitor.site.config import Config, DefaultsOverride

HEADER = """# Configuration reference: `cameras.yaml`

Generated from the pydantic models in `monitor/site/config.py` by `python -m monitor.site.docgen >
docs/configuration.md`; do not edit by hand (`tests/unit/test_docs.py` fails when this file and the models
differ). Unknown fields are errors; `onestop check-config` names each problem with its YAML line.
Paths are relative to the YAML file's folder. Any string may hold `${ENV_VAR}` references, expanded
from the environment or from `cameras.secrets.env` next to the YAML file (see docs/operating.md);
passwords and tokens should always be such references. The commented example is `cameras.yaml` at
the repository root.
"""
# Models documented where they are first met, not expanded again (the per-camera overrides
# repeat `defaults`, field for field, with every field optional).
NOT_EXPANDED = {DefaultsOverride: "any `defaults` key, given only where this camera differs"}
_BOUNDS = ((annotated_types.Gt, ">"), (annotated_types.Ge, ">="), (annotated_types.Lt, "<"), (annotated_types.Le, "<="))


def _strip(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Annotated and Optional, and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional
            annotation = args[0]
        else:
            return annotation, optional


def type_name(annotation: Any) -> str:
    """A reader's name for a field type: `number`, `list of text`, `"vi" | "en"`."""
    annotation, optional = _strip(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        name = " \\| ".join(f"`{a}`" for a in args)
    elif origin is list:
        name = f"list of {type_name(args[0])}"
    elif origin is tuple:
        name = f"[{', '.join(type_name(a) for a in args)}]"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        name = "section"
    else:
        name = {float: "number", int: "whole number", str: "text", bool: "true/false", Path: "path"}.get(
            annotation, getattr(annotation, "__name__", str(annotation)))
    return f"{name}, optional" if optional else name


def _bounds(info: FieldInfo) -> str:
    found = [f"{sign} {getattr(m, type(m).__name__.lower())}" for m in info.metadata
             for kind, sign in _BOUNDS if isinstance(m, kind)]
    return " and ".join(found)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is None or value is PydanticUndefined:
        return "none"
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "empty"
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The section model a field holds (directly or as a list) and the path suffix for it."""
    annotation, _ = _strip(annotation)
    if typing.get_origin(annotation) is list:
        inner, _ = _strip(typing.get_args(annotation)[0])
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, "[]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    return None, ""


def rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(dotted path, type, default and bounds, description) of every field under a model, depth first."""
    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        sub, suffix = _model_of(info.annotation)
        description = (info.description or "").strip()
        if sub in NOT_EXPANDED:
            description += f" Holds {NOT_EXPANDED[sub]}."
        default = _default(info)
        bounds = _bounds(info)
        out.append((path + suffix, type_name(info.annotation), default + (f"; {bounds}" if bounds else ""), description))
        if sub is not None and sub not in NOT_EXPANDED:
            out += rows(sub, f"{path}{suffix}.")
    return out


def fields() -> list[str]:
    """Every documented dotted path (lists written `cameras[].zones[].kind`)."""
    return [path for path, *_ in rows(Config)]


def markdown() -> str:
    """The whole reference: one table per top-level section."""
    parts = [HEADER]
    for name, info in Config.model_fields.items():
        sub, suffix = _model_of(info.annotation)
        parts.append(f"## `{name}{suffix}`\n\n{(info.description or '').strip()}\n")
        table = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
        for path, kind, default, description in rows(sub, f"{name}{suffix}.") if sub else []:
            cell = description.replace("|", "\\|")
            table.append(f"| `{path}` | {kind} | {default} | {cell} |")
        parts.append("\n".join(table) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
