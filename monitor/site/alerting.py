"""The `alerts.rules`, `alerts.mqtt` and `alerts.email` sections of cameras.yaml (pydantic models).

Each rule is on or off with its thresholds; monitor/ops/rules.py evaluates them. Credentials are
${VAR} references, filled in from the environment or the secrets file when delivery starts.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from monitor.site.base import StrictModel as _Model

__all__ = ["AlertRules", "EmailSettings", "MqttSettings", "RULE_NAMES"]

_TOPIC_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # no MQTT wildcards (+ #) or level separators
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
MAX_MIN = 240  # thresholds in minutes stay under 4 h: the engine reads this much sample history at most


def _check_topic_part(value: str) -> str:
    if not _TOPIC_PART.match(value):
        raise ValueError(f"must be 1-64 letters, digits, '-' or '_' (no '/', '+' or '#'), got {value!r}")
    return value


def _check_address(value: str) -> str:
    if not _ADDRESS.match(value.strip()):
        raise ValueError(f"expected an e-mail address like name@example.org, got {value!r}")
    return value.strip()


Address = Annotated[str, AfterValidator(_check_address)]


class QueueLong(_Model):
    """A queue of at least min_people for at least for_s seconds."""

    enabled: bool = Field(True, description="Raise this alert.")
    min_people: int = Field(5, ge=1, le=200, description="People in the waiting area (rounded estimate).")
    for_s: float = Field(120, ge=0, le=MAX_MIN * 60, description="Seconds the queue must stay that long.")


class LongWait(_Model):
    """Someone waiting longer than max_wait_min (estimated from the queue's arrivals and the services started)."""

    enabled: bool = Field(True, description="Raise this alert.")
    max_wait_min: float = Field(20, gt=0, le=MAX_MIN, description="Minutes a citizen may wait.")


class UnstaffedQueue(_Model):
    """The counter's seat empty while people wait in its queue, for at least for_s seconds."""

    enabled: bool = Field(True, description="Raise this alert.")
    for_s: float = Field(120, ge=0, le=MAX_MIN * 60, description="Seconds the seat is empty with people waiting.")


class OfficerAway(_Model):
    """The officer away from the seat longer than max_away_min during opening hours."""

    enabled: bool = Field(True, description="Raise this alert.")
    max_away_min: float = Field(15, gt=0, le=MAX_MIN, description="Minutes the seat may stay empty.")


class LateStart(_Model):
    """A counter not staffed within after_min of the opening of a period."""

    enabled: bool = Field(True, description="Raise this alert.")
    after_min: float = Field(15, gt=0, le=MAX_MIN, description="Minutes after opening by which the seat must be taken.")


class LeftEarly(_Model):
    """The officer gone, without coming back, from before the last before_min of a period."""

    enabled: bool = Field(True, description="Raise this alert.")
    before_min: float = Field(30, gt=0, le=MAX_MIN, description="Minutes before closing that count as leaving early.")


class CameraOffline(_Model):
    """A camera not online for alerts.offline_after_s (the threshold stays where it always was)."""

    enabled: bool = Field(True, description="Raise this alert.")


def _or_empty(value: Any) -> Any:
    return {} if value is None else value


class AlertRules(_Model):
    """Every alert rule, each on or off with its thresholds."""

    queue_long: Annotated[QueueLong, BeforeValidator(_or_empty)] = Field(default_factory=QueueLong, description="Long queue.")
    long_wait: Annotated[LongWait, BeforeValidator(_or_empty)] = Field(default_factory=LongWait, description="Long wait.")
    unstaffed_queue: Annotated[UnstaffedQueue, BeforeValidator(_or_empty)] = Field(
        default_factory=UnstaffedQueue, description="Empty counter while people wait.")
    officer_away: Annotated[OfficerAway, BeforeValidator(_or_empty)] = Field(
        default_factory=OfficerAway, description="Officer away from the seat.")
    late_start: Annotated[LateStart, BeforeValidator(_or_empty)] = Field(
        default_factory=LateStart, description="Counter not staffed after opening.")
    left_early: Annotated[LeftEarly, BeforeValidator(_or_empty)] = Field(
        default_factory=LeftEarly, description="Counter left before closing.")
    camera_offline: Annotated[CameraOffline, BeforeValidator(_or_empty)] = Field(
        default_factory=CameraOffline, description="Camera offline.")


RULE_NAMES = tuple(AlertRules.model_fields)


class MqttSettings(_Model):
    """An MQTT broker that receives alerts on <prefix>/<site>/alerts and retained counter states."""

    host: str = Field(description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 with tls).")
    tls: bool = Field(False, description="Connect with TLS (the system's CA certificates).")
    username: str | None = Field(None, description="Broker user; may be ${ENV_VAR}.")
    password: str | None = Field(None, description="Broker password; should be ${ENV_VAR} (environment or secrets file).")
    topic_prefix: Annotated[str, AfterValidator(_check_topic_part)] = Field("onestop", description="First topic level.")
    site_id: Annotated[str, AfterValidator(_check_topic_part)] | None = Field(
        None, description="Second topic level; empty: made from site.name (accents dropped, lower case).")


class EmailSettings(_Model):
    """An SMTP server that mails each alert raised (STARTTLS unless starttls is false)."""

    host: str = Field(description="SMTP server host name or address.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (submission: 587).")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS before logging in (required for a password).")
    username: str | None = Field(None, description="SMTP user; may be ${ENV_VAR}.")
    password: str | None = Field(None, description="SMTP password; should be ${ENV_VAR} (environment or secrets file).")
    sender: Address = Field(description="From address.")
    to: Annotated[list[Address], Field(min_length=1)] = Field(description="Recipients.")
    cafile: str | None = Field(None, description="CA certificate file to verify the server with; empty: the system's.")

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> EmailSettings:
        if self.password is not None and not self.starttls:
            raise PydanticCustomError("cleartext", "a password is never sent without STARTTLS: set starttls: true", {})
        return self
