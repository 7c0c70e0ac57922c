"""A small ONVIF camera for tests: real SOAP over real HTTP on 127.0.0.1, and a WS-Discovery responder.

Factory API (other test modules import this file: `from onvif_device import ...`):

    make_onvif_device(**flags) -> FakeOnvifDevice       # started; call .stop() (or use `with`)
    onvif_device                                          # pytest fixture: a factory with the same
                                                          # flags, every device stopped at teardown

    Flags (all keyword, all optional):
      user="admin", password="cam-secret"   the device's own credentials; a request whose
                                            WS-UsernameToken digest does not match them gets the
                                            ONVIF fault env:Sender/ter:NotAuthorized (HTTP 400)
      delay_s=0.0            every SOAP answer waits this long first (a slow camera)
      sub_profile=True       False: only the main profile exists (no sub stream)
      clock_offset_s=0.0     the camera clock runs this many seconds ahead of ours
      main_uri / sub_uri     what GetStreamUri returns for each profile (point them at the real
                             RTSP server fixture from conftest.py for end-to-end tests)
      snapshot_uri           what GetSnapshotUri returns; default: this device's own
                             /onvif/snapshot.jpg, which serves a small real JPEG
      embed_credentials=False  True: the returned URIs carry user:password@ like some firmwares
      not_onvif=False        True: a plain web server that answers every request with an HTML 404
      get_services=True      False: an older camera without GetServices (clients fall back to
                             GetCapabilities)
      manufacturer, model, serial, firmware, main_size=(1920, 1080), sub_size=(640, 360)

    FakeOnvifDevice: .host, .port, .hostport ("127.0.0.1:PORT"), .device_url,
                     .calls (SOAP operation names in the order received), .stop()

    WsDiscoveryResponder(device_url, hardware=..., name=...) -> started unicast UDP responder on
        127.0.0.1; .port, .hostport; answers a WS-Discovery Probe for dn:NetworkVideoTransmitter
        with a ProbeMatch carrying the XAddrs and onvif:// scopes; .stop()

Operations answered: GetSystemDateAndTime (also without credentials, as the ONVIF spec allows),
GetServices, GetCapabilities, GetDeviceInformation, GetProfiles, GetStreamUri, GetSnapshotUri.
Anything else gets the fault ter:ActionNotSupported.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import cv2
import numpy as np
import pytest

ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
NAMESPACES = (
    f'xmlns:env="{ENV}" xmlns:tds="{DEVICE_NS}" xmlns:trt="{MEDIA_NS}" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error"'
)
PRE_AUTH = {"GetSystemDateAndTime"}  # ONVIF core spec: answered without credentials
DISCOVERY_POLL_S = 0.2  # how often the responder thread checks for stop


@dataclass
class DeviceSettings:
    """Everything the fake camera answers with; the factory's keyword flags fill it."""

    user: str = "admin"
    password: str = "cam-secret"
    delay_s: float = 0.0
    sub_profile: bool = True
    clock_offset_s: float = 0.0
    main_uri: str = "rtsp://127.0.0.1:8554/main"
    sub_uri: str = "rtsp://127.0.0.1:8554/sub"
    snapshot_uri: str | None = None
    embed_credentials: bool = False
    not_onvif: bool = False
    get_services: bool = True
    manufacturer: str = "OneStop Test"
    model: str = "FakeCam 2MP"
    serial: str = "FC-000123"
    firmware: str = "1.4.2"
    main_size: tuple[int, int] = (1920, 1080)
    main_encoding: str = "H264"  # "H265": the out-of-the-box main stream of many cameras
    sub_size: tuple[int, int] = (640, 360)
    calls: list[str] = field(default_factory=list)


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-UsernameToken PasswordDigest = Base64(SHA1(nonce + created + password))."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def _authorized(root: ET.Element, s: DeviceSettings) -> bool:
    token = root.find(f".//{{{WSSE}}}UsernameToken")
    if token is None:
        return False
    user = token.findtext(f"{{{WSSE}}}Username", "")
    given = token.findtext(f"{{{WSSE}}}Password", "")
    nonce = token.findtext(f"{{{WSSE}}}Nonce", "")
    created = token.findtext(f"{{{WSU}}}Created", "")
    try:
        expected = password_digest(base64.b64decode(nonce), created, s.password)
    except ValueError:
        return False
    return user == s.user and given == expected


def _envelope(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope {NAMESPACES}><env:Body>{body}</env:Body></env:Envelope>'.encode()


def _fault(subcode: str, reason: str) -> bytes:
    return _envelope(
        "<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode>"
        f"<env:Value>ter:{subcode}</env:Value></env:Subcode></env:Code>"
        f'<env:Reason><env:Text xml:lang="en">{reason}</env:Text></env:Reason></env:Fault>'
    )


def _date_time(s: DeviceSettings) -> str:
    now = datetime.now(timezone.utc) + timedelta(seconds=s.clock_offset_s)
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>"
        f"<tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute><tt:Second>{now.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{now.year}</tt:Year><tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date>"
        "</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def _services(base: str) -> str:
    def one(ns: str, path: str) -> str:
        return (f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}{path}</tds:XAddr>"
                "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>")
    return f"<tds:GetServicesResponse>{one(DEVICE_NS, '/onvif/device_service')}{one(MEDIA_NS, '/onvif/media_service')}</tds:GetServicesResponse>"


def _capabilities(base: str) -> str:
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Device><tt:XAddr>{base}/onvif/device_service</tt:XAddr></tt:Device>"
        f"<tt:Media><tt:XAddr>{base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>"
        "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
        "</tt:StreamingCapabilities></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


def _device_info(s: DeviceSettings) -> str:
    return (
        f"<tds:GetDeviceInformationResponse><tds:Manufacturer>{escape(s.manufacturer)}</tds:Manufacturer>"
        f"<tds:Model>{escape(s.model)}</tds:Model><tds:FirmwareVersion>{escape(s.firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{escape(s.serial)}</tds:SerialNumber><tds:HardwareId>1.0</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def _profile(token: str, name: str, size: tuple[int, int], fps: int, encoding: str = "H264") -> str:
    w, h = size
    return (
        f'<trt:Profiles token="{token}" fixed="true"><tt:Name>{name}</tt:Name>'
        '<tt:VideoSourceConfiguration token="vsc"><tt:Name>vsc</tt:Name><tt:UseCount>2</tt:UseCount>'
        '<tt:SourceToken>vs</tt:SourceToken><tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>'
        f'<tt:VideoEncoderConfiguration token="vec_{token}"><tt:Name>vec_{token}</tt:Name><tt:UseCount>1</tt:UseCount>'
        f"<tt:Encoding>{encoding}</tt:Encoding><tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:Resolution>"
        f"<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>{fps}</tt:FrameRateLimit>"
        "<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>2048</tt:BitrateLimit></tt:RateControl>"
        "<tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>"
        "<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></trt:Profiles>"
    )


def _profiles(s: DeviceSettings) -> str:
    body = _profile("main", "mainStream", s.main_size, 25, s.main_encoding)
    if s.sub_profile:
        body += _profile("sub", "subStream", s.sub_size, 10)
    return f"<trt:GetProfilesResponse>{body}</trt:GetProfilesResponse>"


def _with_credentials(uri: str, s: DeviceSettings) -> str:
    if not s.embed_credentials or "://" not in uri:
        return uri
    scheme, rest = uri.split("://", 1)
    return f"{scheme}://{s.user}:{s.password}@{rest}"


def _media_uri(op: str, uri: str, s: DeviceSettings) -> str:
    return (
        f"<trt:{op}Response><trt:MediaUri><tt:Uri>{escape(_with_credentials(uri, s))}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        f"<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:{op}Response>"
    )


def _answer(op: str, root: ET.Element, s: DeviceSettings, base: str) -> str | None:
    """The response body for one operation, or None when the device does not offer it."""
    token = root.findtext(f".//{{{MEDIA_NS}}}ProfileToken", "")
    if op == "GetStreamUri":
        if token == "sub" and s.sub_profile:
            return _media_uri(op, s.sub_uri, s)
        return _media_uri(op, s.main_uri, s) if token == "main" else None
    answers = {
        "GetSystemDateAndTime": lambda: _date_time(s),
        "GetServices": lambda: _services(base) if s.get_services else None,
        "GetCapabilities": lambda: _capabilities(base),
        "GetDeviceInformation": lambda: _device_info(s),
        "GetProfiles": lambda: _profiles(s),
        "GetSnapshotUri": lambda: _media_uri(op, s.snapshot_uri or f"{base}/onvif/snapshot.jpg", s),
    }
    return answers[op]() if op in answers else None


def _snapshot_jpeg() -> bytes:
    frame = np.full((90, 160, 3), 96, np.uint8)
    cv2.rectangle(frame, (40, 20), (120, 70), (30, 200, 30), -1)
    return cv2.imencode(".jpg", frame)[1].tobytes()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        """Quiet: pytest output stays readable."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its time-out was shorter than our delay)

    def _not_onvif(self) -> None:
        self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")

    def do_GET(self) -> None:
        """Serve the snapshot JPEG; everything else is 404."""
        if self.server.settings.not_onvif or self.path != "/onvif/snapshot.jpg":
            return self._not_onvif()
        self._send(200, _snapshot_jpeg(), "image/jpeg")

    def do_POST(self) -> None:
        """Answer one SOAP call, after the configured delay."""
        s = self.server.settings
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if s.not_onvif:
            return self._not_onvif()
        if self.server.stopping.wait(s.delay_s):
            return
        status, reply = self._soap(body, s)
        self._send(status, reply, "application/soap+xml; charset=utf-8")

    def _soap(self, body: bytes, s: DeviceSettings) -> tuple[int, bytes]:
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return 400, _fault("WellFormed", "Malformed request")
        request = root.find(f"{{{ENV}}}Body")
        op = request[0].tag.rsplit("}", 1)[-1] if request is not None and len(request) else ""
        s.calls.append(op)
        has_token = root.find(f".//{{{WSSE}}}UsernameToken") is not None
        if (op not in PRE_AUTH or has_token) and not _authorized(root, s):
            return 400, _fault("NotAuthorized", "Sender not Authorized")
        answer = _answer(op, root, s, f"http://{self.server.hostport}")
        if answer is None:
            return 400, _fault("ActionNotSupported", f"{op} is not supported")
        return 200, _envelope(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    settings: DeviceSettings
    stopping: threading.Event
    hostport: str


class FakeOnvifDevice:
    """A started fake ONVIF camera on 127.0.0.1 (see the module docstring for the flags)."""

    def __init__(self, settings: DeviceSettings):
        self.settings = settings
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.settings = settings
        self._server.stopping = threading.Event()
        self.host, self.port = self._server.server_address[:2]
        self.hostport = f"{self.host}:{self.port}"
        self._server.hostport = self.hostport
        self.device_url = f"http://{self.hostport}/onvif/device_service"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-onvif", daemon=True)
        self._thread.start()

    @property
    def calls(self) -> list[str]:
        """SOAP operation names received, in order."""
        return self.settings.calls

    def stop(self) -> None:
        """Stop serving and close the socket; wakes any delayed answer."""
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeOnvifDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_onvif_device(**flags: object) -> FakeOnvifDevice:
    """Start a fake ONVIF device with the given flags (names of DeviceSettings fields)."""
    return FakeOnvifDevice(DeviceSettings(**flags))  # type: ignore[arg-type]


@pytest.fixture
def onvif_device() -> Iterator:
    """Factory fixture: onvif_device(**flags) -> started FakeOnvifDevice, all stopped at teardown."""
    started: list[FakeOnvifDevice] = []

    def factory(**flags: object) -> FakeOnvifDevice:
        started.append(make_onvif_device(**flags))
        return started[-1]

    yield factory
    for device in started:
        device.stop()


def _probe_match(message_id: str, device_url: str, scopes: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{ENV}" xmlns:a="{WSA}" xmlns:d="{WSD}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>'
        "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>"
        f"<a:MessageID>urn:uuid:{uuid.uuid4()}</a:MessageID><a:RelatesTo>{escape(message_id)}</a:RelatesTo>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To></s:Header>"
        "<s:Body><d:ProbeMatches><d:ProbeMatch>"
        "<a:EndpointReference><a:Address>urn:uuid:5f0c2a40-0000-4000-8000-00000000c0de</a:Address></a:EndpointReference>"
        f"<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>{escape(scopes)}</d:Scopes>"
        f"<d:XAddrs>{escape(device_url)}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
        "</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"
    ).encode()


class WsDiscoveryResponder:
    """Answers unicast WS-Discovery Probes for dn:NetworkVideoTransmitter on 127.0.0.1 UDP."""

    def __init__(self, device_url: str, hardware: str = "FakeCam 2MP", name: str = "OneStop Test"):
        self.scopes = " ".join([
            "onvif://www.onvif.org/type/video_encoder",
            f"onvif://www.onvif.org/hardware/{hardware.replace(' ', '%20')}",
            f"onvif://www.onvif.org/name/{name.replace(' ', '%20')}",
            "onvif://www.onvif.org/location/country/vietnam",
        ])
        self.device_url = device_url
        self.probes = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(DISCOVERY_POLL_S)
        self.port = self._sock.getsockname()[1]
        self.hostport = f"127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-ws-discovery", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._sock.recvfrom(65536)
            except TimeoutError:
                continue
            try:
                root = ET.fromstring(data)
            except ET.ParseError:
                continue
            types = root.findtext(f".//{{{WSD}}}Types", "")
            message_id = root.findtext(f".//{{{WSA}}}MessageID", "")
            if "NetworkVideoTransmitter" in types:
                self.probes += 1
                self._sock.sendto(_probe_match(message_id, self.device_url, self.scopes), sender)

    def stop(self) -> None:
        """Stop answering and close the socket."""
        self._stop.set()
        self._thread.join()
        self._sock.close()

    def __enter__(self) -> WsDiscoveryResponder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

