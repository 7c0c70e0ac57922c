"""The optional `hub:` section of cameras.yaml: where the site publishes to the district hub (issue 15)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr

_SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # one MQTT topic level: no '/', '+', '#'
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def _check_broker(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"expected mqtt://host[:port] or mqtts://host[:port], got {value!r}")
    if parts.username or parts.password:
        raise ValueError("put the user name and password in hub.username and hub.password, not in the URL")
    try:
        parts.port
    except ValueError:
        raise ValueError(f"the port of {value!r} is not a number from 1 to 65535") from None
    return value


def _check_site_id(value: str) -> str:
    if not _SITE_ID.match(value):
        raise ValueError(f"must be 1-32 lowercase letters, digits, '-' or '_' (one MQTT topic level), got {value!r}")
    return value


class HubLink(BaseModel):
    """How this site publishes its figures to the district hub over MQTT."""

    model_config = ConfigDict(extra="forbid")

    broker: Annotated[str, AfterValidator(_check_broker)] = Field(
        description="The broker the site publishes to: mqtt://host:port, or mqtts:// for TLS (usually the commune broker)."
    )
    site_id: Annotated[str, AfterValidator(_check_site_id)] = Field(
        description="This site's id in the topics onestop/<site_id>/...; the broker account may publish only there."
    )
    site_url: str | None = Field(None, description="This site's own web UI as the district reaches it (drill-down link).")
    username: str | None = Field(None, description="Broker account; may be ${ENV_VAR}.")
    password: str | None = Field(None, description="Broker password; should be ${VAR} from the secrets file.")
    ca_file: Path | None = Field(None, description="CA certificate (PEM) the broker's certificate is checked against.")
    cert_file: Path | None = Field(None, description="Client certificate (PEM) when the broker asks for one.")
    key_file: Path | None = Field(None, description="The client certificate's private key (PEM).")
    keepalive_s: int = Field(60, ge=10, le=3600, description="MQTT keep-alive: how soon a dead link is noticed.")

    _secrets: dict[str, str] = PrivateAttr(default_factory=dict)  # the secrets file's values, set by load_config

    @property
    def host(self) -> str:
        """The broker's host name."""
        return urlsplit(self.broker).hostname or ""

    @property
    def port(self) -> int:
        """The broker's port (1883 for mqtt://, 8883 for mqtts:// unless given)."""
        parts = urlsplit(self.broker)
        return parts.port or DEFAULT_PORTS[parts.scheme]

    @property
    def tls(self) -> bool:
        """Whether the link uses TLS (mqtts://)."""
        return urlsplit(self.broker).scheme == "mqtts"

    def credentials(self, expand: Callable[[str, Mapping[str, str]], str]) -> tuple[str | None, str | None]:
        """(username, password) with ${VAR}s filled in by expand (config.expand_env: config.py imports this module)."""
        user = None if self.username is None else expand(self.username, self._secrets)
        password = None if self.password is None else expand(self.password, self._secrets)
        return user, password

    def resolve_paths(self, base: Path, secrets: Mapping[str, str]) -> None:
        """Make the TLS file paths absolute (relative to the YAML's folder) and keep the secrets for credentials()."""
        for attr in ("ca_file", "cert_file", "key_file"):
            value = getattr(self, attr)
            if value is not None and not value.expanduser().is_absolute():
                setattr(self, attr, base / value)
        self._secrets = dict(secrets)
