"""The cameras.yaml schema (pydantic models), load_config() with line-numbered errors, redact()."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, tzinfo
from functools import lru_cache
from pathlib import Path
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitor.site.base import Slug
from monitor.site.base import StrictModel as _Model
from monitor.site.errors import (
    ENV_REF,
    ConfigError,
    duplicate_keys,
    format_error,
    missing_env,
    problem,
    raise_duplicates,
    read_yaml,
)
from monitor.records import Interval, merge_intervals
from monitor.site.alerting import AlertRules, EmailSettings, MqttSettings
from monitor.site.office import CounterSpec, FieldSpec, QueueSpec, TicketSettings, office_problems
from monitor.site.secrets import read_secrets, secrets_path
from monitor.site.hublink import HubLink
from monitor.site.recording import RECORDING_HELP, RecordingMode
from monitor.site.privacy import Privacy

__all__ = [
    "Alerts",
    "Camera",
    "Config",
    "ConfigError",
    "Defaults",
    "EventSettings",
    "Metrics",
    "MotionSettings",
    "OpeningHours",
    "Retention",
    "Site",
    "Storage",
    "Streams",
    "Zone",
    "expand_env",
    "load_config",
    "redact",
    "scrub_password",
    "summary",
    "with_credentials",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ZoneKind = Literal["staff_seat", "service_spot", "waiting_area", "motion"]
Role = Literal["main", "sub"]

_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/]*@")
_SECRET_QUERY = re.compile(
    r"([?&;])([^=&#;?]*(?:pass|pwd|token|key|secret)[^=&#;]*)=([^&#;]*)", re.IGNORECASE
)


# ---------------------------------------------------------------- field checks


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
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        raise ValueError(
            f"{name[:60]!r} is not a known IANA time zone (for example Asia/Ho_Chi_Minh)"
        ) from None
    return name


@lru_cache(maxsize=64)
def _parse_period(text: str) -> tuple[time, time]:
    """The one parser of an HH:MM-HH:MM period (cached: each distinct text is parsed once)."""
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


Point = Annotated[tuple[float, float], AfterValidator(_check_point)]
Polygon = Annotated[list[Point], AfterValidator(_check_polygon)]
Period = Annotated[str, AfterValidator(_check_period)]
StreamSource = Annotated[str, AfterValidator(_check_stream)]
Fraction01 = Annotated[float, Field(gt=0, le=1)]


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

    def spans(self, day: date, tz: tzinfo) -> list[Interval]:
        """Unix-second intervals of the opening periods on one local day, in order; empty on a closed day."""
        if DAYS[day.weekday()] not in self.days:
            return []
        def at(t: time) -> float:
            return datetime.combine(day, t, tzinfo=tz).timestamp()

        return merge_intervals([Interval(at(start), at(end)) for start, end in map(_parse_period, self.periods)], 0)


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


def _check_webhook(value: str) -> str:
    value = value.strip()
    m = _SCHEME.match(value)
    if not m or m.group(1).lower() not in ("http", "https") or not value[m.end():].split("/", 1)[0]:
        raise ValueError(f"expected an http:// or https:// URL with a host, got {redact(value)!r}")
    return value


class Alerts(_Model):
    """The alert rules, when a camera counts as offline, and where alerts are sent besides the log and the web UI."""

    offline_after_s: float = Field(
        300, ge=10, le=86400, description="Alert when a camera has not been online for this many seconds."
    )
    webhook_url: Annotated[str, AfterValidator(_check_webhook)] | None = Field(
        None, description="Optional http(s) URL that receives each alert and recovery as a JSON POST; may be ${ENV_VAR}."
    )
    rules: Annotated[AlertRules, BeforeValidator(_or_empty(dict))] = Field(
        default_factory=AlertRules, description="The alert rules, each on or off with its thresholds.")
    mqtt: MqttSettings | None = Field(None, description="Optional MQTT broker for alerts and counter states.")
    email: EmailSettings | None = Field(None, description="Optional SMTP server that mails each alert raised.")


class Metrics(_Model):
    """Access to the Prometheus /metrics endpoint."""

    token: str | None = Field(
        None, description="Bearer token scrapers must send; should be ${ENV_VAR}. Unset: loopback scrapers only."
    )
class Retention(_Model):
    """How long each kind of data is kept, and the disk budget of the recordings."""

    clips_days: float = Field(30, gt=0, le=3650, description="Events older than this are deleted with their clips and thumbnails.")
    continuous_days: float = Field(7, gt=0, le=3650, description="Continuous-recording segments (cameras with `recording: opening_hours` or `always`) older than this are deleted, unless held.")
    samples_days: float = Field(14, gt=0, le=3650, description="Per-second occupancy samples older than this are deleted (minute roll-ups stay).")
    rollups_days: float = Field(400, gt=0, le=3650, description="Per-minute occupancy roll-ups older than this are deleted.")
    reports_days: float = Field(400, gt=0, le=3650, description="Cached report rows and daily report files older than this are deleted.")
    max_recordings_gb: float | None = Field(None, gt=0, description="Segments, clips and thumbnails use at most this many GB: the oldest continuous segments go first, then the oldest event clips; held footage never. Empty: no cap.")
    min_free_gb: float = Field(2.0, ge=0, description="While the recordings disk has less free space than this, the oldest continuous segments are deleted, then the oldest event clips; held footage never.")
    pause_free_mb: float = Field(200, ge=0, description="Below this free space no new clip is started (recording paused, detection goes on).")
    interval_min: float = Field(60, gt=0, le=1440, description="Minutes between two retention runs of the supervisor.")

    @model_validator(mode="after")
    def _rollups_outlive_samples(self) -> Retention:
        if self.rollups_days < self.samples_days:
            raise PydanticCustomError(
                "retention",
                "rollups_days ({rollups}) must be at least samples_days ({samples}): the roll-ups are what remains of old samples",
                {"rollups": self.rollups_days, "samples": self.samples_days},
            )
        return self


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
    detect_width: int = Field(320, ge=64, le=1280, description="Width of the grey detection frame in pixels (the height keeps the aspect).")
    pre_roll_s: float = Field(5, ge=0, le=60, description="Seconds kept before an event.")
    post_roll_s: float = Field(10, ge=0, le=120, description="Seconds recorded after motion stops.")
    max_clip_s: float = Field(300, ge=10, le=3600, description="Longest clip in seconds.")
    segment_s: float = Field(60, ge=2, le=600, description="Continuous recording: a segment is cut at the first keyframe after this many seconds.")
    audio: Literal["aac", "keep", "drop"] = Field(
        "aac", description="Camera audio in clips: 'aac' keeps AAC and transcodes G.711 (PCMA/PCMU) to AAC; "
        "'keep' keeps AAC and leaves other codecs out (no CPU for audio); 'drop' records no audio.")
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
    kind: ZoneKind = Field(description=(
        "staff_seat: the officer's chair; service_spot: where the citizen being served sits or stands; "
        "waiting_area: the queue (a people count); motion: motion only. See docs/glossary.md."))
    points: Polygon = Field(description="Polygon of >= 3 [x, y] points, normalised 0..1.")
    person_height: tuple[Fraction01, Fraction01] | None = Field(
        None, description="[near, far] standing person height / frame height at the zone's bottom / top edge."
    )
    seated: bool = Field(True, description=(
        "waiting_area and service_spot: people sit here (chairs). On a waiting area, false for a standing "
        "queue or a walkway: only people of standing size count there, so objects the size of a seated person "
        "(cones, bags) do not. On a service spot, false for a counter where citizens stand: then someone "
        "standing there occupies it; where they sit, someone standing by (queueing, passing) does not."))

    @model_validator(mode="after")
    def _seated_on_waiting_areas(self) -> Zone:
        if not self.seated and self.kind not in ("waiting_area", "service_spot"):
            raise ValueError(f"zone {self.id!r}: seated applies to waiting_area and service_spot zones only, not {self.kind}")
        return self


class Streams(_Model):
    """Where the video comes from."""

    main: StreamSource = Field(description="rtsp:// or rtsps:// URL, or a file path.")
    sub: StreamSource | None = Field(
        None, description="Optional low-resolution stream used for detection; the main stream is then never decoded.")
    loop: bool = Field(False, description="File sources only: restart at the end (the demo).")


class Camera(_Model):
    """One camera and what to watch in its picture."""

    id: Slug = Field(description="Slug, unique in the file.")
    name: str = Field(description="Human name shown in the UI.")
    enabled: bool = Field(True, description="Disabled cameras are not started.")
    recording: RecordingMode = Field("events", description=RECORDING_HELP)
    streams: Streams = Field(description="Main (recorded) and optional sub (detection) streams.")
    username: str | None = Field(None, description="RTSP user; may be ${ENV_VAR}.")
    password: str | None = Field(None, description="RTSP password; should be an ${ENV_VAR} reference.")
    detect: Annotated[DefaultsOverride, BeforeValidator(_or_empty(dict))] = Field(  # type: ignore[valid-type]
        default_factory=DefaultsOverride, description="Per-camera overrides of `defaults`."
    )
    masks: Annotated[list[Polygon], BeforeValidator(_or_empty(list))] = Field(
        default_factory=list, description="Polygons ignored by detection."
    )
    privacy_masks: Annotated[list[Polygon], BeforeValidator(_or_empty(list))] = Field(
        default_factory=list, description=(
            "Polygons blurred in every exported clip and in the viewer role's live view (a window, a screen).")
    )
    zones: Annotated[list[Zone], BeforeValidator(_or_empty(list))] = Field(
        default_factory=list, description="Zones watched for occupancy."
    )

    _base_dir: Path | None = PrivateAttr(default=None)
    _secrets: dict[str, str] = PrivateAttr(default_factory=dict)  # the secrets file's values, set by load_config

    @model_validator(mode="after")
    def _unique_zone_ids(self) -> Camera:
        raise_duplicates([z.id for z in self.zones], "zones", "zone")
        return self

    def with_heights(self, heights: dict[str, tuple[float, float]]) -> Camera:
        """This camera with these zones' person_height (id -> (near, far)) replaced: the correction of the person
        detector's height check (tiles.scaled_heights; monitor.counters.analyze.detect_checked, monitor.camera.worker)."""
        zones = [z.model_copy(update={"person_height": heights[z.id]}) if z.id in heights else z for z in self.zones]
        return self.model_copy(update={"zones": zones})

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
        value = expand_env(value, self._secrets)
        if not _SCHEME.match(value):
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = (base_dir or self._base_dir or Path.cwd()) / path
            return str(path.resolve())
        if self.username is None:
            return value
        password = None if self.password is None else expand_env(self.password, self._secrets)
        return with_credentials(value, expand_env(self.username, self._secrets), password)


class Config(_Model):
    """The whole cameras.yaml."""

    site: Site = Field(description="The office.")
    storage: Storage = Field(default_factory=Storage, description="Clip folder and database.")
    defaults: Defaults = Field(default_factory=Defaults, description="Settings for all cameras.")
    retention: Retention = Field(default_factory=Retention, description="Retention and disk budget.")
    cameras: Annotated[list[Camera], BeforeValidator(_or_empty(list))] = Field(description="The cameras.")
    alerts: Alerts = Field(default_factory=Alerts, description="Alert rules and where alerts go (web UI, webhook, MQTT, e-mail).")
    metrics: Metrics = Field(default_factory=Metrics, description="Prometheus /metrics access.")
    fields: Annotated[list[FieldSpec], BeforeValidator(_or_empty(list))] = Field(
        default_factory=list, description="Display names of the fields (lĩnh vực) counters and tickets name by slug."
    )
    counters: list[CounterSpec] | None = Field(
        None, description="Named counters (monitor/site/office.py). Unset: derived from each camera's zones."
    )
    queues: list[QueueSpec] | None = Field(None, description="Waiting areas on any cameras and the counters they feed.")
    tickets: TicketSettings = Field(default_factory=TicketSettings, description="Queue-ticket feeds.")
    hub: HubLink | None = Field(None, description="Optional: publish figures, alerts and health to the district hub.")
    privacy: Privacy = Field(default_factory=Privacy, description="What the printed recording notice says (/notice).")

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> Config:
        raise_duplicates([c.id for c in self.cameras], "cameras", "camera")
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


# ---------------------------------------------------------------- URLs and secrets


def expand_env(value: str, fallback: Mapping[str, str] | None = None) -> str:
    """Replace ${NAME} with os.environ[NAME], else fallback[NAME] (the secrets file); ConfigError if unset."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in os.environ:
            return os.environ[name]
        if fallback and name in fallback:
            return fallback[name]
        raise ConfigError([f"environment variable {name} is not set"])

    return ENV_REF.sub(sub, value)


def with_credentials(url: str, username: str, password: str | None) -> str:
    """An rtsp URL with user[:password]@ inserted (percent-encoded), unless it already carries some."""
    scheme, rest = url.split("://", 1)
    if "@" in rest.split("/", 1)[0]:
        return url  # the URL already carries credentials
    userinfo = quote(username, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    return f"{scheme}://{userinfo}@{rest}"


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
    if config.hub is not None:  # the broker URL carries no credentials (hublink refuses them)
        lines.insert(-1, f"Hub: publishes as {config.hub.site_id} to {config.hub.broker}")
    id_w = max((len(c.id) for c in config.cameras), default=0)
    name_w = max((len(c.name) for c in config.cameras), default=0)
    for cam in config.cameras:
        main = _describe_stream(cam, "main")
        sub = _describe_stream(cam, "sub") if cam.streams.sub else "-"
        line = (
            f"  {cam.id:<{id_w}}  {cam.name:<{name_w}}  main={main}  sub={sub}"
            f"  zones: {len(cam.zones)}{_zone_kinds(cam.zones)}"
        )
        if cam.recording != "events":
            line += f"  recording: {cam.recording}"
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


def scrub_password(text: str, cam: Camera) -> str:
    """text with the camera's password (as written and as expanded) blanked out."""
    return _scrub(text, cam)


def _scrub(text: str, cam: Camera) -> str:
    """Belt and braces: blank out the camera's password wherever it might still appear."""
    if not cam.password:
        return text
    secrets = {cam.password}
    try:
        secrets.add(expand_env(cam.password, cam._secrets))
    except ConfigError:
        pass
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


# ---------------------------------------------------------------- loading


def load_config(path: str | Path, secrets: Mapping[str, str] | None = None) -> Config:
    """Read and validate cameras.yaml; ConfigError lists every problem with its file and line.

    ${NAME}s are looked up in the environment, then in `secrets` (default: the secrets file next to the YAML).
    """
    label = str(path)
    file = Path(path)
    root, data = read_yaml(label, file)
    secrets = dict(read_secrets(secrets_path(file)) if secrets is None else secrets)

    problems = duplicate_keys(label, root) + missing_env(label, root, data, secrets)
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        problems += [format_error(label, root, e, Config) for e in err.errors(include_url=False)]
        raise ConfigError(_unique(problems)) from None
    problems += [problem(label, root, loc, message) for loc, message in office_problems(config)]
    if problems:
        raise ConfigError(problems)

    resolved = file.resolve()
    config.path = resolved
    for attr in ("recordings", "database"):
        value = getattr(config.storage, attr).expanduser()
        setattr(config.storage, attr, value if value.is_absolute() else resolved.parent / value)
    for camera in config.cameras:
        camera._secrets = secrets
    if config.hub is not None:
        config.hub.resolve_paths(resolved.parent, secrets)
    return config


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
