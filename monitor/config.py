"""The cameras.yaml schema (pydantic models), load_config() with line-numbered errors, redact()."""

from __future__ import annotations

import os
import re
import types
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "Camera",
    "Config",
    "ConfigError",
    "Defaults",
    "EventSettings",
    "MotionSettings",
    "OpeningHours",
    "Site",
    "Storage",
    "Streams",
    "Zone",
    "expand_env",
    "load_config",
    "redact",
    "summary",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ZoneKind = Literal["staff_seat", "service_spot", "waiting_area", "motion"]
Role = Literal["main", "sub"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/]*@")
_SECRET_QUERY = re.compile(
    r"([?&;])([^=&#;?]*(?:pass|pwd|token|key|secret)[^=&#;]*)=([^&#;]*)", re.IGNORECASE
)


class ConfigError(ValueError):
    """cameras.yaml is invalid; .problems holds one `FILE:LINE: path: message` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


# ---------------------------------------------------------------- field checks


def _check_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            "must be a slug of 1-32 lowercase letters, digits, '-' or '_' "
            f"starting with a letter or digit, got {value!r}"
        )
    return value


def _check_point(point: tuple[float, float]) -> tuple[float, float]:
    for c in point:
        if not 0.0 <= c <= 1.0:
            raise ValueError(f"coordinates must be between 0 and 1, got {c:g}")
    return point


def _check_polygon(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(points)}")
    twice_area = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1])
    )
    if abs(twice_area) < 1e-9:
        raise ValueError("the polygon has zero area (points are repeated or on one line)")
    return points


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a known IANA time zone (for example Asia/Ho_Chi_Minh)"
        ) from None
    return name


def _parse_period(text: str) -> tuple[time, time]:
    m = _PERIOD.match(text.strip())
    if not m:
        raise ValueError(f"expected HH:MM-HH:MM (24-hour clock), got {text!r}")
    h0, m0, h1, m1 = (int(g) for g in m.groups())
    return time(h0, m0), time(h1, m1)


def _check_period(text: str) -> str:
    start, end = _parse_period(text)
    if start >= end:
        raise ValueError(f"start must be before end (periods cannot cross midnight), got {text!r}")
    return text.strip()


def _check_no_overlap(periods: list[str]) -> list[str]:
    spans = sorted((_parse_period(p), p) for p in periods)
    for (a, text_a), (b, text_b) in zip(spans, spans[1:]):
        if b[0] < a[1]:
            raise ValueError(f"periods {text_a!r} and {text_b!r} overlap")
    return periods


def _check_stream(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("expected an rtsp:// or rtsps:// URL or a file path, got an empty string")
    m = _SCHEME.match(value)
    if not m:
        return value  # a file path
    if m.group(1).lower() not in ("rtsp", "rtsps"):
        raise ValueError(
            f"expected an rtsp:// or rtsps:// URL or a file path, got {redact(value)!r}"
        )
    authority = value[m.end():].split("/", 1)[0].rpartition("@")[2]
    if not authority.split(":", 1)[0] and not authority.startswith("["):
        raise ValueError(f"the URL has no host: {redact(value)!r}")
    return value


def _or_empty(factory: type) -> Any:
    """A before-validator reading None as empty: `zones:` with nothing after it is None in YAML."""
    return lambda value: factory() if value is None else value


Slug = Annotated[str, AfterValidator(_check_slug)]
Point = Annotated[tuple[float, float], AfterValidator(_check_point)]
Polygon = Annotated[list[Point], AfterValidator(_check_polygon)]
Period = Annotated[str, AfterValidator(_check_period)]
StreamSource = Annotated[str, AfterValidator(_check_stream)]
Fraction01 = Annotated[float, Field(gt=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


# ---------------------------------------------------------------- site and storage


class OpeningHours(_Model):
    """Days and daily periods when the counters are staffed."""

    days: list[Day] = Field(default_factory=lambda: list(DAYS[:5]), description="Working days, a subset of mon..sun.")
    periods: Annotated[list[Period], AfterValidator(_check_no_overlap)] = Field(
        default_factory=lambda: ["07:30-11:30", "13:30-17:00"], description="Daily HH:MM-HH:MM periods, non-overlapping."
    )

    def is_open(self, dt: datetime, tz: ZoneInfo | None = None) -> bool:
        """Whether dt falls in opening hours.

        A naive dt is read as site-local wall-clock time. An aware dt is converted to `tz` when
        given (Site.is_open passes the site zone), else its own wall-clock time is used.
        """
        if dt.tzinfo is not None and tz is not None:
            dt = dt.astimezone(tz)
        if DAYS[dt.weekday()] not in self.days:
            return False
        now = dt.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in map(_parse_period, self.periods))


class Site(_Model):
    """The office being monitored."""

    name: str = Field(description="Office name shown in the UI and reports.")
    timezone: Annotated[str, AfterValidator(_check_timezone)] = Field("Asia/Ho_Chi_Minh", description="IANA time zone.")
    language: Literal["vi", "en"] = Field("vi", description="UI and report language.")
    opening_hours: OpeningHours = Field(default_factory=OpeningHours, description="When the counters are open.")

    @property
    def tz(self) -> ZoneInfo:
        """The site time zone."""
        return ZoneInfo(self.timezone)

    def is_open(self, dt: datetime) -> bool:
        """Whether dt (aware, or naive in site-local time) is within opening hours."""
        return self.opening_hours.is_open(dt, self.tz)


class Storage(_Model):
    """Where clips and the database live."""

    recordings: Path = Field(Path("recordings"), description="Clip folder; relative to the YAML file's folder.")
    database: Path = Field(Path("onestop.db"), description="SQLite file; relative to the YAML file's folder.")


# ---------------------------------------------------------------- detection settings


class MotionSettings(_Model):
    """Motion detection parameters (see detect/motion.py)."""

    pixel_threshold: int = Field(25, ge=1, le=255, description="Grey-level difference for a changed pixel.")
    min_area: float = Field(0.003, gt=0, lt=1, description="Fraction of the unmasked frame that must change.")
    lighting_guard: float = Field(0.45, gt=0, le=1, description="A larger changed fraction at once is lighting.")
    background_alpha: float = Field(0.05, gt=0, lt=1, description="Running-average background learning rate.")

    @model_validator(mode="after")
    def _guard_above_area(self) -> MotionSettings:
        if self.lighting_guard <= self.min_area:
            raise PydanticCustomError(
                "guard",
                "lighting_guard ({guard}) must be larger than min_area ({area}), or no motion could ever be reported",
                {"guard": self.lighting_guard, "area": self.min_area},
            )
        return self


class EventSettings(_Model):
    """How motion becomes events."""

    min_length_s: float = Field(1.0, ge=0, le=600, description="Motion must last this long to become an event.")
    merge_gap_s: float = Field(4.0, ge=0, le=600, description="Motion gaps shorter than this are merged.")


class Defaults(_Model):
    """Detection and recording settings for every camera (cameras may override any key)."""

    detect_fps: float = Field(5, gt=0, le=30, description="Frames per second analysed.")
    detect_width: int = Field(320, ge=64, le=1280, description="Width of the grey detection frame in pixels.")
    pre_roll_s: float = Field(5, ge=0, le=60, description="Seconds kept before an event.")
    post_roll_s: float = Field(10, ge=0, le=120, description="Seconds recorded after motion stops.")
    max_clip_s: float = Field(300, ge=10, le=3600, description="Longest clip in seconds.")
    motion: MotionSettings = Field(default_factory=MotionSettings, description="Motion detection.")
    events: EventSettings = Field(default_factory=EventSettings, description="Event building.")


def _partial(model: type[BaseModel], name: str, nested: dict[str, type[BaseModel]]) -> Any:
    """A copy of `model` whose fields are all optional, keeping their bounds and descriptions."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        base = nested.get(field_name, info.annotation)
        annotation = Annotated[base, *info.metadata] if info.metadata else base
        fields[field_name] = (annotation | None, Field(default=None, description=info.description))
    return create_model(name, __base__=_Model, __doc__=f"Partial {model.__name__}.", **fields)


MotionOverride = _partial(MotionSettings, "MotionOverride", {})
EventOverride = _partial(EventSettings, "EventOverride", {})
DefaultsOverride = _partial(Defaults, "DefaultsOverride", {"motion": MotionOverride, "events": EventOverride})


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- cameras


class Zone(_Model):
    """A polygon of the image with a meaning (staff seat, service spot, waiting area)."""

    id: Slug = Field(description="Slug, unique within the camera.")
    kind: ZoneKind = Field(description="staff_seat | service_spot | waiting_area | motion.")
    points: Polygon = Field(description="Polygon of >= 3 [x, y] points, normalised 0..1.")
    person_height: tuple[Fraction01, Fraction01] | None = Field(
        None, description="[near, far] standing person height / frame height at the zone's bottom / top edge."
    )


class Streams(_Model):
    """Where the video comes from."""

    main: StreamSource = Field(description="rtsp:// or rtsps:// URL, or a file path.")
    sub: StreamSource | None = Field(None, description="Optional low-resolution stream used for detection.")
    loop: bool = Field(False, description="File sources only: restart at the end.")


class Camera(_Model):
    """One camera and what to watch in its picture."""

    id: Slug = Field(description="Slug, unique in the file.")
    name: str = Field(description="Human name shown in the UI.")
    enabled: bool = Field(True, description="Disabled cameras are not started.")
    streams: Streams = Field(description="Main (recorded) and optional sub (detection) streams.")
    username: str | None = Field(None, description="RTSP user; may be ${ENV_VAR}.")
    password: str | None = Field(None, description="RTSP password; should be an ${ENV_VAR} reference.")
    detect: Annotated[DefaultsOverride, BeforeValidator(_or_empty(dict))] = Field(  # type: ignore[valid-type]
        default_factory=DefaultsOverride, description="Per-camera overrides of `defaults`."
    )
    masks: Annotated[list[Polygon], BeforeValidator(_or_empty(list))] = Field(
        default_factory=list, description="Polygons ignored by detection."
    )
    zones: Annotated[list[Zone], BeforeValidator(_or_empty(list))] = Field(
        default_factory=list, description="Zones watched for occupancy."
    )

    _base_dir: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _unique_zone_ids(self) -> Camera:
        _raise_duplicates([z.id for z in self.zones], "zones", "zone")
        return self

    def settings(self, defaults: Defaults) -> Defaults:
        """`defaults` deep-merged with this camera's `detect` overrides."""
        over = self.detect.model_dump(exclude_unset=True, exclude_none=True)
        if not over:
            return defaults
        return Defaults.model_validate(_deep_merge(defaults.model_dump(), over))

    def is_file(self, role: Role) -> bool:
        """Whether the stream of this role is a file path (not an RTSP URL)."""
        value = getattr(self.streams, role)
        return value is not None and not _SCHEME.match(value)

    def stream_url(self, role: Role, base_dir: Path | None = None) -> str | None:
        """The openable URL or absolute file path of a stream, with ${VAR}s and credentials filled in.

        base_dir defaults to the YAML file's folder (set by load_config), else the working folder.
        """
        value = getattr(self.streams, role)
        if value is None:
            return None
        value = expand_env(value)
        if not _SCHEME.match(value):
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = (base_dir or self._base_dir or Path.cwd()) / path
            return str(path.resolve())
        if self.username is None:
            return value
        scheme, rest = value.split("://", 1)
        if "@" in rest.split("/", 1)[0]:
            return value  # the URL already carries credentials
        userinfo = quote(expand_env(self.username), safe="")
        if self.password is not None:
            userinfo += ":" + quote(expand_env(self.password), safe="")
        return f"{scheme}://{userinfo}@{rest}"


class Config(_Model):
    """The whole cameras.yaml."""

    site: Site = Field(description="The office.")
    storage: Storage = Field(default_factory=Storage, description="Clip folder and database.")
    defaults: Defaults = Field(default_factory=Defaults, description="Settings for all cameras.")
    cameras: Annotated[list[Camera], BeforeValidator(_or_empty(list))] = Field(description="The cameras.")

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> Config:
        _raise_duplicates([c.id for c in self.cameras], "cameras", "camera")
        return self

    @property
    def path(self) -> Path:
        """The resolved YAML file this config was loaded from (cwd/cameras.yaml if built in code)."""
        return self._path if self._path is not None else Path.cwd() / "cameras.yaml"

    @path.setter
    def path(self, value: Path) -> None:
        self._path = Path(value)
        for camera in self.cameras:
            camera._base_dir = self._path.parent

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the YAML are resolved against."""
        return self.path.parent

    def camera(self, camera_id: str) -> Camera:
        """The camera with this id (KeyError if none)."""
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        raise KeyError(camera_id)


def _raise_duplicates(ids: list[str], field: str, what: str) -> None:
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


# ---------------------------------------------------------------- URLs and secrets


def expand_env(value: str) -> str:
    """Replace ${NAME} with os.environ[NAME]; ConfigError if a variable is not set."""

    def sub(m: re.Match[str]) -> str:
        try:
            return os.environ[m.group(1)]
        except KeyError:
            raise ConfigError([f"environment variable {m.group(1)} is not set"]) from None

    return _ENV_REF.sub(sub, value)


def redact(url: str) -> str:
    """The URL without user info and without the values of password/token/key query parameters."""
    url = _USERINFO.sub(r"\1***@", url)
    return _SECRET_QUERY.sub(r"\1\2=***", url)


def summary(config: Config) -> str:
    """A short human summary of the config for `onestop check-config`; never shows secrets."""
    enabled = sum(c.enabled for c in config.cameras)
    hours = config.site.opening_hours
    lines = [
        f"Site: {config.site.name}",
        f"Time zone: {config.site.timezone}   language: {config.site.language}",
        f"Opening hours: {', '.join(hours.days)}  {', '.join(hours.periods)}",
        f"Recordings: {config.storage.recordings}",
        f"Database: {config.storage.database}",
        f"Cameras: {len(config.cameras)} ({enabled} enabled, {len(config.cameras) - enabled} disabled)",
    ]
    id_w = max((len(c.id) for c in config.cameras), default=0)
    name_w = max((len(c.name) for c in config.cameras), default=0)
    for cam in config.cameras:
        main = _describe_stream(cam, "main")
        sub = _describe_stream(cam, "sub") if cam.streams.sub else "-"
        line = (
            f"  {cam.id:<{id_w}}  {cam.name:<{name_w}}  main={main}  sub={sub}"
            f"  zones: {len(cam.zones)}{_zone_kinds(cam.zones)}"
        )
        if not cam.enabled:
            line += "  (disabled)"
        lines.append(_scrub(line, cam))
    return "\n".join(lines)


def _describe_stream(cam: Camera, role: Role) -> str:
    # The configured text, not the expanded one: ${VAR}s stay names, credentials are never added.
    value = getattr(cam.streams, role)
    if cam.is_file(role):
        return value + (" (loop)" if cam.streams.loop else "")
    return redact(value)


def _zone_kinds(zones: list[Zone]) -> str:
    counts: dict[str, int] = {}
    for z in zones:
        counts[z.kind] = counts.get(z.kind, 0) + 1
    if not counts:
        return ""
    return " (" + ", ".join(k if n == 1 else f"{k} x{n}" for k, n in counts.items()) + ")"


def _scrub(text: str, cam: Camera) -> str:
    """Belt and braces: blank out the camera's password wherever it might still appear."""
    if not cam.password:
        return text
    secrets = {cam.password}
    try:
        secrets.add(expand_env(cam.password))
    except ConfigError:
        pass
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


# ---------------------------------------------------------------- loading


def load_config(path: str | Path) -> Config:
    """Read and validate cameras.yaml; ConfigError lists every problem with its file and line."""
    label = str(path)
    file = Path(path)
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
    except yaml.YAMLError as err:
        raise ConfigError([f"{label}: YAML error: {err}"]) from None

    if root is None:
        raise ConfigError([f"{label}: file is empty; expected a mapping with site and cameras"])
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise ConfigError([
            f"{label}:{root.start_mark.line + 1}: the top level must be a mapping "
            "with site, storage, defaults and cameras"
        ])

    problems = _duplicate_keys(label, root) + _missing_env(label, root, data)
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        problems += [_format_error(label, root, e) for e in err.errors(include_url=False)]
        raise ConfigError(_unique(problems)) from None
    if problems:
        raise ConfigError(problems)

    resolved = file.resolve()
    config.path = resolved
    for attr in ("recordings", "database"):
        value = getattr(config.storage, attr).expanduser()
        setattr(config.storage, attr, value if value.is_absolute() else resolved.parent / value)
    return config


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


Loc = tuple[Union[str, int], ...]


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
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(label: str, root: yaml.Node, loc: Loc, message: str) -> str:
    path = _dotted(loc)
    return f"{label}:{_node_line(root, loc)}: {path + ': ' if path else ''}{message}"


def _duplicate_keys(label: str, root: yaml.Node) -> list[str]:
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


def _missing_env(label: str, root: yaml.Node, data: dict[str, Any]) -> list[str]:
    """Every ${VAR} in camera URLs and credentials must be set when the file is loaded."""
    problems: list[str] = []
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
            for name in _ENV_REF.findall(value) if isinstance(value, str) else ():
                if name not in os.environ:
                    message = f"environment variable {name} is not set"
                    problems.append(_problem(label, root, ("cameras", i, *loc), message))
    return problems


def _format_error(label: str, root: yaml.Node, err: Any) -> str:
    loc: Loc = tuple(err["loc"])
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "duplicate_id":
        loc = loc + tuple(ctx["at"])
    elif kind == "missing" and loc and isinstance(loc[-1], int):
        # A short fixed-length list ([near, far]): report the list, not its missing item.
        length = len(get_args(_unwrap(_type_at(loc[:-1]))))
        err = {**err, "type": "tuple_missing", "ctx": {"length": length}}
        loc = loc[:-1]
    return _problem(label, root, loc, _message(err, loc))


_TYPE_NAMES = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "text",
               "list": "a list", "tuple": "a list", "dict": "a mapping", "model": "a mapping", "path": "a path"}
_BOUNDS = {"greater_than": "greater than", "greater_than_equal": "at least",
           "less_than": "less than", "less_than_equal": "at most"}


def _shown(value: Any, loc: Loc) -> str:
    if any(part in ("password", "username") for part in loc):
        return "(hidden)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: Any, loc: Loc) -> str:
    """A short message for the common pydantic error types; pydantic's own text otherwise."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "tuple_missing":
        return f"expected a list of exactly {ctx['length']} values, got {_shown(value, loc)}"
    if kind == "extra_forbidden":
        valid = _valid_fields(loc[:-1])
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


def _valid_fields(loc: Loc) -> list[str]:
    """Field names of the model at loc (for 'unknown field' hints)."""
    tp = _unwrap(_type_at(loc))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _type_at(loc: Loc) -> Any:
    """The annotation of the config value at loc (None if loc leaves the schema)."""
    tp: Any = Config
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
