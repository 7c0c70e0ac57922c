"""WS-Discovery for ONVIF cameras: send a Probe for dn:NetworkVideoTransmitter, collect ProbeMatches."""

from __future__ import annotations

import logging
import select
import socket
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"  # WS-Discovery's IPv4 multicast address
WS_DISCOVERY_PORT = 3702
# Cameras answer after a random delay of up to APP_MAX_DELAY (500 ms, WS-Discovery 1.1); busy
# ones and slow Wi-Fi add more, so listen 3 s by default.
DISCOVER_TIMEOUT_S = 3.0
PROBE_REPEATS = 2  # UDP may drop the probe; WS-Discovery sends multicast messages twice
REPEAT_GAP_S = 0.1  # spacing between the repeats, well under a camera's answer delay
MULTICAST_TTL = 1  # stay on the local network segment, as the spec asks
MAX_DATAGRAM = 65535

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
ONVIF_SCOPE = "onvif://www.onvif.org/"

PROBE_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<s:Envelope xmlns:s="{SOAP}" xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
    '<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>'
    "<a:MessageID>{message_id}</a:MessageID>"
    "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>'
    "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>"
)


@dataclass(frozen=True)
class Discovered:
    """One camera that answered a WS-Discovery probe."""

    address: str  # the IP the answer came from
    xaddrs: list[str]  # every device service URL it listed
    device_url: str | None  # the one to use: on the answering address when it lists several
    manufacturer: str | None
    model: str | None
    name: str | None
    scopes: list[str] = field(default_factory=list)
    endpoint: str = ""  # its WS-Addressing endpoint reference (urn:uuid:...), stable across reboots

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the `onestop discover --json` output)."""
        return asdict(self)


def probe_message(message_id: str) -> bytes:
    """The WS-Discovery Probe for ONVIF video transmitters."""
    return PROBE_TEMPLATE.format(message_id=message_id).encode()


def scope_value(scopes: list[str], key: str) -> str | None:
    """The decoded value of onvif://www.onvif.org/<key>/<value>, or None."""
    prefix = f"{ONVIF_SCOPE}{key}/"
    for scope in scopes:
        if scope.lower().startswith(prefix.lower()):
            return unquote(scope[len(prefix):]).strip() or None
    return None


def _pick_url(xaddrs: list[str], address: str) -> str | None:
    for url in xaddrs:
        if urlsplit(url).hostname == address:
            return url
    return xaddrs[0] if xaddrs else None


def parse_matches(data: bytes, address: str, message_id: str) -> list[Discovered]:
    """The ProbeMatches in one datagram that answer our message; [] for anything else."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        log.debug("ignoring a non-XML datagram from %s", address)
        return []
    relates_to = root.findtext(f".//{{{WSA}}}RelatesTo", "").strip()
    if relates_to and relates_to != message_id:
        return []
    found = []
    for match in root.iter(f"{{{WSD}}}ProbeMatch"):
        xaddrs = (match.findtext(f"{{{WSD}}}XAddrs") or "").split()
        scopes = (match.findtext(f"{{{WSD}}}Scopes") or "").split()
        found.append(Discovered(
            address=address, xaddrs=xaddrs, device_url=_pick_url(xaddrs, address),
            manufacturer=scope_value(scopes, "manufacturer") or scope_value(scopes, "mfr"),
            model=scope_value(scopes, "hardware"), name=scope_value(scopes, "name"), scopes=scopes,
            endpoint=(match.findtext(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address") or "").strip(),
        ))
    return found


def _open_socket(to: tuple[str, int] | None) -> socket.socket:
    family = socket.AF_INET6 if to and ":" in to[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if to is None:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
    return sock


def _collect(sock: socket.socket, deadline: float, message_id: str) -> list[Discovered]:
    found: dict[str, Discovered] = {}
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            break
        try:
            data, sender = sock.recvfrom(MAX_DATAGRAM)
        except OSError as err:  # e.g. ICMP port unreachable from a unicast target
            log.debug("discovery receive failed: %s", err)
            continue
        for item in parse_matches(data, sender[0], message_id):
            found.setdefault(item.endpoint or item.device_url or item.address, item)
    return list(found.values())


def probe_network(timeout: float = DISCOVER_TIMEOUT_S, to: tuple[str, int] | None = None) -> list[Discovered]:
    """Send a Probe (multicast, or unicast to `to`) and return the cameras that answered within timeout."""
    message_id = f"urn:uuid:{uuid.uuid4()}"
    target = to or (MULTICAST_GROUP, WS_DISCOVERY_PORT)
    deadline = time.monotonic() + timeout
    with _open_socket(to) as sock:
        for attempt in range(PROBE_REPEATS):
            if attempt:
                time.sleep(REPEAT_GAP_S)
            try:
                sock.sendto(probe_message(message_id), target)
            except ConnectionRefusedError:  # ICMP from the previous unicast repeat: nobody listens there
                break
        found = _collect(sock, deadline, message_id)
    return sorted(found, key=lambda d: (d.address, d.device_url or ""))
