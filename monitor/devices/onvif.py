"""ONVIF cameras: device information, media profiles -> RTSP and snapshot URIs, clock offset, discovery.

One class (`OnvifDevice`) wraps one camera through onvif-zeep-async; every error the library, zeep
or aiohttp can raise is translated once, at that boundary, into `AuthFailed`, `CameraUnavailable`
or `NotOnvif` with a one-line message naming host:port and what to check. URIs handed out never
carry credentials. `probe()`, `discover()` and `pick_streams()` are the sync entry points for the
CLI and Flask views (each runs its own event loop: do not call them from inside one).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape as xml_escape

from monitor.site.config import redact
from monitor.devices.wsdiscovery import DISCOVER_TIMEOUT_S, MULTICAST_GROUP, WS_DISCOVERY_PORT, Discovered, probe_network

log = logging.getLogger(__name__)

__all__ = [
    "DISCOVER_TIMEOUT_S", "PROBE_TIMEOUT_S", "AuthFailed", "CameraUnavailable", "DeviceProbe", "Discovered",
    "NotOnvif", "OnvifDevice", "OnvifError", "Profile", "discover", "pick_streams", "probe", "strip_userinfo",
]

# A LAN camera answers each SOAP call in well under a second; a probe makes about eight calls and
# cheap firmwares stall for a second or two on the first, so 10 s covers them without hanging a page.
PROBE_TIMEOUT_S = 10.0
DEFAULT_PORT = 80  # the ONVIF device service listens on the camera's HTTP port unless configured
# GetSystemDateAndTime gives whole seconds (truncated): half a second is the mean lost to truncation.
CLOCK_TRUNCATION_S = 0.5
H264 = "H264"
H265 = "H265"
VIDEO_ENCODINGS = (H264, H265)  # what the worker records and decodes (JPEG/MPEG4 profiles are skipped)
# An H.264 profile at least this large is preferred as main over a larger H.265 one: every browser plays
# its clips. A smaller one (a 640x360 sub-stream) is not: then the H.265 main is recorded.
MAIN_H264_MIN_PIXELS = 1280 * 720
H265_MAIN_NOTE = ("the main stream is H.265: clips are recorded as H.265, and browsers without H.265 (most "
                  "Chrome and Firefox on PCs) play an H.264 copy made when a clip is first watched (about 30 s "
                  "of CPU per minute of clip). Set the camera's main stream to H.264 to avoid it.")
MAX_REASON_CHARS = 120  # a camera's own fault text is quoted, but one line must stay one line
AUTH_WORDS = re.compile(r"not\s*authori[sz]ed|unauthori[sz]ed|authenticat|password|credential", re.IGNORECASE)
STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@<>\"']*@")
LIBRARY_LOGGERS = ("onvif", "zeep", "aiohttp")  # they log whole SOAP bodies at DEBUG


class _SecretFilter(logging.Filter):
    """Masks the passwords of open devices, and user info in any URL, in the library's log records."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: Counter[str] = Counter()
        self._lock = threading.Lock()  # Flask serves probes from several threads

    def add(self, secret: str) -> None:
        """Start masking secret (counted: several devices may share a password)."""
        with self._lock:
            self.secrets[secret] += 1

    def remove(self, secret: str) -> None:
        """Stop masking secret once no open device uses it."""
        with self._lock:
            self.secrets[secret] -= 1
            if self.secrets[secret] <= 0:
                del self.secrets[secret]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message when it holds a secret; never drop it."""
        text = record.getMessage()
        masked = URL_USERINFO.sub(r"\1***@", text)
        for secret in list(self.secrets):
            masked = masked.replace(secret, "***").replace(xml_escape(secret), "***")
        if masked != text:
            record.msg, record.args = masked, None
        return True


SECRET_FILTER = _SecretFilter()


class OnvifError(Exception):
    """A camera could not be probed; str() is one line for the user."""


class AuthFailed(OnvifError):
    """The camera rejected the user name or password."""


class CameraUnavailable(OnvifError):
    """Nothing answered: host unreachable, connection refused, or no answer in time."""


class NotOnvif(OnvifError):
    """Something answered, but not as an ONVIF device."""


@dataclass(frozen=True)
class Profile:
    """One media profile: a video encoder configuration and its stream URIs (never with credentials)."""

    token: str
    name: str
    width: int
    height: int
    encoding: str
    fps: float | None
    rtsp_uri: str | None
    snapshot_uri: str | None

    @property
    def pixels(self) -> int:
        """Width times height, to rank profiles."""
        return self.width * self.height

    @property
    def is_h265(self) -> bool:
        return self.encoding in (H265, "HEVC")


@dataclass(frozen=True)
class DeviceProbe:
    """What `probe()` learned about one camera."""

    host: str
    port: int
    manufacturer: str
    model: str
    serial: str
    firmware: str
    profiles: list[Profile]
    time_offset_s: float | None  # camera clock minus ours; positive when the camera is ahead

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the `onestop probe --json` output)."""
        return asdict(self)


def strip_userinfo(uri: str | None) -> str | None:
    """The URI without user:password@ and with secret query values masked (see config.redact)."""
    if not uri:
        return None
    parts = urlsplit(uri)
    if parts.username is not None or parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        uri = urlunsplit(parts._replace(netloc=host))
    return redact(uri)


def hostport(host: str, port: int) -> str:
    """host:port for messages, with IPv6 literals in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _one_line(text: object, secret: str = "") -> str:
    line = " ".join(str(text).split())
    if secret:
        line = line.replace(secret, "***")
    return line if len(line) <= MAX_REASON_CHARS else line[: MAX_REASON_CHARS - 1] + "…"


def _is_auth_fault(err: BaseException) -> bool:
    subcodes = [str(getattr(code, "localname", code)) for code in getattr(err, "subcodes", None) or []]
    return any("NotAuthorized" in code for code in subcodes) or bool(AUTH_WORDS.search(str(err)))


def _library_errors() -> dict[str, tuple[type[BaseException], ...]]:
    """The exceptions onvif-zeep-async lets through, named once, grouped by what they mean."""
    import aiohttp
    import lxml.etree
    import zeep.exceptions

    _onvif_camera_class()  # the guarded first import of the library
    from onvif.exceptions import ONVIFAuthError, ONVIFError

    return {
        "fault": (zeep.exceptions.Fault,),
        "auth": (ONVIFAuthError,),
        "transport": (zeep.exceptions.TransportError,),
        "timeout": (TimeoutError, aiohttp.ServerTimeoutError),
        "connect": (aiohttp.ClientConnectorError, ConnectionError),
        "network": (aiohttp.ClientError, OSError),
        "garbage": (zeep.exceptions.Error, lxml.etree.LxmlError, ONVIFError, AttributeError, TypeError, ValueError),
    }


def translate(err: BaseException, host: str, port: int, timeout: float, password: str = "") -> OnvifError:
    """Our one-line error for whatever the library, zeep or aiohttp raised while talking to host:port."""
    where = hostport(host, port)
    kinds = _library_errors()
    if isinstance(err, OnvifError):
        return err
    if isinstance(err, kinds["auth"]) or (isinstance(err, kinds["fault"]) and _is_auth_fault(err)):
        return AuthFailed(f"{where}: the camera rejected the user name or password; check them on the camera's web page")
    if isinstance(err, kinds["fault"]) and getattr(err, "code", None) is None:
        # zeep read an answer that parses as XML but holds no SOAP fault code: a web page, not ONVIF
        return NotOnvif(f"{where}: answered with a web page, not ONVIF; check the port is the camera's ONVIF "
                        "port and that ONVIF is enabled on the camera")
    if isinstance(err, kinds["fault"]):
        return OnvifError(f"{where}: the camera refused the request ({_one_line(err, password)}); "
                          "check that the user has the operator or administrator role")
    if isinstance(err, kinds["transport"]):
        if getattr(err, "status_code", 0) == 401:
            return AuthFailed(f"{where}: the camera rejected the user name or password (HTTP 401); check them")
        return NotOnvif(f"{where}: answered, but not as an ONVIF device ({_one_line(err, password)}); "
                        "check the port is the camera's ONVIF port and that ONVIF is enabled on the camera")
    if isinstance(err, kinds["timeout"]):
        return CameraUnavailable(f"{where}: no answer within {timeout:g} s; check the address, "
                                 "or allow a slow camera more time")
    if isinstance(err, kinds["connect"]):
        return CameraUnavailable(f"{where}: cannot connect ({_connect_reason(err)}); check the address, the ONVIF "
                                 "port (often 80, 8000 or 8899) and that the camera is powered and on this network")
    if isinstance(err, kinds["network"]):
        return CameraUnavailable(f"{where}: the connection failed ({_one_line(err, password)}); "
                                 "check the address and the network")
    if isinstance(err, kinds["garbage"]):
        return NotOnvif(f"{where}: the answer is not a usable ONVIF reply ({_one_line(err, password)}); "
                        "check the port is the camera's ONVIF port")
    raise err


def _connect_reason(err: BaseException) -> str:
    cause = getattr(err, "os_error", None) or err.__cause__ or err
    code = getattr(cause, "errno", None)
    return (os.strerror(code) if code else _one_line(cause)).lower()


class OnvifDevice:
    """One ONVIF camera. Use `async with OnvifDevice(host, port, user, password) as dev:`.

    Connecting and each method are bounded by `timeout` seconds; all errors are OnvifError subclasses.
    """

    def __init__(self, host: str, port: int, user: str, password: str, timeout: float = PROBE_TIMEOUT_S):
        self.host, self.port, self.user = host, port, user
        self._password = password
        self.timeout = timeout
        self._camera: Any = None

    def __repr__(self) -> str:
        return f"OnvifDevice({hostport(self.host, self.port)}, user={self.user!r})"

    @asynccontextmanager
    async def _boundary(self) -> AsyncIterator[None]:
        """Bound one step by self.timeout and translate library errors into ours, the original chained."""
        try:
            async with asyncio.timeout(self.timeout):
                yield
        except OnvifError:
            raise
        except Exception as err:
            raise translate(err, self.host, self.port, self.timeout, self._password) from err

    async def __aenter__(self) -> OnvifDevice:
        camera_cls = _onvif_camera_class()
        # adjust_time: sign requests with the camera's clock, so a camera whose clock is off still
        # accepts the digest; it also gives us the offset for time_offset_s.
        self._camera = camera_cls(self.host, self.port, self.user, self._password, no_cache=True, adjust_time=True)
        if self._password:
            SECRET_FILTER.add(self._password)
        try:
            async with self._boundary():
                await self._camera.update_xaddrs()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    async def _close(self) -> None:
        try:
            await self._camera.close()
        finally:
            if self._password:
                SECRET_FILTER.remove(self._password)

    def time_offset_s(self) -> float | None:
        """Camera clock minus ours in seconds (measured while connecting), None if unknown."""
        diff = self._camera.dt_diff
        # whole seconds: the camera's clock has no finer resolution to report
        return None if diff is None else float(round(diff.total_seconds() + CLOCK_TRUNCATION_S))

    async def device_info(self) -> dict[str, str]:
        """Manufacturer, model, serial and firmware as the camera reports them."""
        async with self._boundary():
            service = await self._camera.create_devicemgmt_service()
            info = await service.GetDeviceInformation()
        return {
            "manufacturer": str(info.Manufacturer or ""), "model": str(info.Model or ""),
            "serial": str(info.SerialNumber or ""), "firmware": str(info.FirmwareVersion or ""),
        }

    async def profiles(self) -> list[Profile]:
        """The camera's video profiles with their RTSP and snapshot URIs (credentials stripped)."""
        async with self._boundary():
            media = await self._camera.create_media_service()
            raw = await media.GetProfiles()
            return [await self._profile(media, p) for p in raw or [] if p.VideoEncoderConfiguration is not None]

    async def _profile(self, media: Any, raw: Any) -> Profile:
        encoder = raw.VideoEncoderConfiguration
        resolution = encoder.Resolution
        rate = getattr(encoder, "RateControl", None)
        return Profile(
            token=str(raw.token), name=str(raw.Name or raw.token),
            width=int(resolution.Width) if resolution else 0, height=int(resolution.Height) if resolution else 0,
            encoding=str(encoder.Encoding or "").upper().replace(".", ""),
            fps=float(rate.FrameRateLimit) if rate is not None and rate.FrameRateLimit else None,
            rtsp_uri=await self._stream_uri(media, str(raw.token)),
            snapshot_uri=strip_userinfo(await self._camera.get_snapshot_uri(str(raw.token))),
        )

    async def _stream_uri(self, media: Any, token: str) -> str | None:
        import zeep.exceptions

        try:
            answer = await media.GetStreamUri({"StreamSetup": STREAM_SETUP, "ProfileToken": token})
        except zeep.exceptions.Fault as err:
            if _is_auth_fault(err):
                raise
            log.warning("%s: no RTSP URI for profile %s: %s", hostport(self.host, self.port), token,
                        _one_line(err, self._password))
            return None
        return strip_userinfo(answer.Uri)

    async def probe(self) -> DeviceProbe:
        """Device information, profiles and clock offset in one go."""
        info = await self.device_info()
        return DeviceProbe(host=self.host, port=self.port, profiles=await self.profiles(),
                           time_offset_s=self.time_offset_s(), **info)


def _onvif_camera_class() -> type:
    """onvif.ONVIFCamera, imported without the logging.basicConfig() the library runs at import."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    from onvif import ONVIFCamera

    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            if SECRET_FILTER not in logger.filters:
                logger.addFilter(SECRET_FILTER)
    return ONVIFCamera


async def _probe_async(host: str, port: int, user: str, password: str, timeout: float) -> DeviceProbe:
    device = OnvifDevice(host, port, user, password, timeout)
    try:
        async with asyncio.timeout(timeout):
            async with device:
                return await device.probe()
    except TimeoutError as err:
        raise translate(err, host, port, timeout) from err


def probe(host: str, port: int, user: str, password: str, timeout: float = PROBE_TIMEOUT_S) -> DeviceProbe:
    """Probe one camera: device info, profiles with stream and snapshot URIs, clock offset.

    Raises AuthFailed, CameraUnavailable, NotOnvif (all OnvifError) with a one-line message.
    """
    return asyncio.run(_probe_async(host, port, user, password, timeout))


def discover(timeout: float = DISCOVER_TIMEOUT_S, to: tuple[str, int] | None = None) -> list[Discovered]:
    """ONVIF cameras that answer a WS-Discovery probe within timeout (multicast, or unicast `to`).

    Raises CameraUnavailable when the probe cannot be sent (no route, no multicast, bad address).
    """
    try:
        return probe_network(timeout=timeout, to=to)
    except OSError as err:
        target = hostport(*to) if to else f"{MULTICAST_GROUP}:{WS_DISCOVERY_PORT} (multicast)"
        raise CameraUnavailable(
            f"cannot send the discovery probe to {target} ({_one_line(err.strerror or err)}); check the network "
            "connection, or probe one camera directly with --to HOST"
        ) from err


def pick_streams(profiles: list[Profile]) -> tuple[Profile, Profile | None]:
    """(main, sub): the largest profile (an H.264 one of 720p or more first) and the smallest other one.

    Only H.264/H.265 profiles count, unless the camera has none; sub is None when there is one. Raises
    NotOnvif when no profile has an RTSP URI at all.
    """
    usable = [p for p in profiles if p.rtsp_uri]
    video = [p for p in usable if p.encoding in VIDEO_ENCODINGS or p.is_h265] or usable
    if not video:
        raise NotOnvif("the camera reports no video profile with an RTSP stream; check its stream settings")
    wide_h264 = [p for p in video if p.encoding == H264 and p.pixels >= MAIN_H264_MIN_PIXELS]
    main = max(wide_h264 or video, key=lambda p: (p.pixels, p.fps or 0.0, p.encoding == H264))
    others = [p for p in video if p.rtsp_uri != main.rtsp_uri and p.pixels < main.pixels]
    # the smallest: detection decodes it; at equal size H.264 (H.265 costs 1.8x the decode)
    sub = min(others, key=lambda p: (p.pixels, p.encoding != H264)) if others else None
    return main, sub