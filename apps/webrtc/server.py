"""The aiohttp application: the page, the target list, signalling and stats.

``POST /offer`` answers ``{"sdp", "type", "peer"}``; ``peer`` is a secret key for that
connection, and ``GET /stats?peer=KEY`` returns its counters (frames received, sent,
dropped; worker milliseconds), which the page shows beside what the browser measures
itself. Nobody can list the peers or read another's counters.

The server defends itself: every request must name an allowed host (``Host``), so a
DNS-rebinding page cannot reach it; ``POST /offer`` takes only ``application/json``
from its own origin (``Origin``, when sent, must be this server), so a foreign page
cannot make peers; peers are capped (``--max-peers``), and so are peers whose client
has not connected yet, which are closed after ``--connect-timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from aiortc import RTCSessionDescription

from apps.webrtc.ice import use_loopback_candidates
from apps.webrtc.offer import MAX_BODY, OfferError, check_sdp, parse_offer
from apps.webrtc.peer import Peer
from apps.webrtc.styles import StyleCatalog, load_styles
from apps.webrtc.targets import TargetCatalog, load_catalog
from streamgan.engines import EngineSettings
from streamgan.errors import StreamganError

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SERVER_HEADER = "streamgan"
"""Sent instead of aiohttp's default, which names the Python and aiohttp versions."""
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
RETRY_AFTER_S = 5


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_max_peers() -> int:
    """One peer per core: a peer's two stages and its VP8 codecs take most of a core
    at 24-30 fps, so more peers than cores only share the frame rate out."""
    return machine_cores()


@dataclass(frozen=True)
class PeerLimits:
    """How many peers the server keeps, and how long an answered offer may wait."""

    max_peers: int = field(default_factory=default_max_peers)
    """Peers at once, connected or not; the next offer gets a 503."""
    max_pending: int = 8
    """Peers whose client has not connected yet (each holds a filter, two threads and
    sockets); capped at ``max_peers``."""
    connect_timeout_s: float = 15.0
    """An answered offer whose client has not connected by then is closed."""


@dataclass(frozen=True)
class HostPolicy:
    """The ``Host`` names the server answers to: what it listens on, the loopback
    names, and any the user allows (a DNS-rebinding page sends its own name)."""

    names: frozenset[str] = LOOPBACK_NAMES
    any_address: bool = False
    """Bound to every interface: any IP literal is this machine (names still not)."""

    @staticmethod
    def for_bind(host: str, allowed: tuple[str, ...] = ()) -> HostPolicy:
        names = {_normal_host(n) for n in (host, *allowed)} | LOOPBACK_NAMES
        return HostPolicy(frozenset(names - WILDCARDS), any_address=host in WILDCARDS)

    def allows(self, host: str) -> bool:
        if host in self.names:
            return True
        if not self.any_address:
            return False
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    targets: tuple[Path, ...] = ()
    trust: tuple[Path, ...] = ()
    engine: str = "warp"
    model: Path | None = None
    """The learned engine's model (``--engine fsgan``)."""
    styles: tuple[str, ...] = ()
    """Translation models offered as the ``style`` filter (names or checkpoint files)."""
    device: str = "cpu"
    limits: PeerLimits = field(default_factory=PeerLimits)
    allowed_hosts: tuple[str, ...] = ()
    """Host names besides ``host`` and loopback that requests may name (a LAN name)."""


class PeerRegistry:
    """The server's peers by key, and the limits on them. Offers still being set up
    count as pending from the moment they are admitted."""

    def __init__(self, limits: PeerLimits) -> None:
        self.limits = limits
        self.peers: dict[str, Peer] = {}
        self._starting = 0

    def pending(self) -> int:
        return self._starting + sum(not p.connected for p in self.peers.values())

    def admit(self) -> str | None:
        """Reserve room for one more peer, or say why there is none."""
        total = len(self.peers) + self._starting
        if total >= self.limits.max_peers:
            return (f"the server is full ({self.limits.max_peers} peers, --max-peers); "
                    "try again when one has left")
        if self.pending() >= min(self.limits.max_pending, self.limits.max_peers):
            return ("too many offers are waiting for their client to connect; "
                    f"try again in {RETRY_AFTER_S} s")
        self._starting += 1
        return None

    def started(self, peer: Peer | None) -> None:
        """The reservation ends: ``peer`` answered (kept until it closes), or None."""
        self._starting -= 1
        if peer is not None:
            self.peers[peer.key] = peer
            peer.on_closed = lambda: self.peers.pop(peer.key, None)


CATALOG = web.AppKey("catalog", TargetCatalog)
STYLES = web.AppKey("styles", StyleCatalog)
REGISTRY = web.AppKey("registry", PeerRegistry)
PEERS = web.AppKey("peers", dict[str, Peer])
"""The registry's peers by key (the same dict)."""
HOSTS = web.AppKey("hosts", HostPolicy)


def _error(status: int, message: str, headers: dict[str, str] | None = None
           ) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _normal_host(name: str) -> str:
    """``name`` (a Host header or an address) as compared: lower case, no port, no
    brackets around IPv6, no trailing dot; empty if it cannot be read."""
    name = name.strip().lower()
    if name in WILDCARDS:
        return name
    try:
        host = urlsplit(f"//{name}").hostname
    except ValueError:
        return ""
    return (host or "").rstrip(".")


@web.middleware
async def check_host(request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """Refuse a request for another host name: that is how DNS rebinding arrives."""
    header = request.headers.get("Host", "")
    if not request.app[HOSTS].allows(_normal_host(header)):
        log.info("refused a request for host %r", header[:100])
        return _error(403, f"this server does not answer for host {header[:100]!r}; "
                      "start it with --allow-host NAME to allow a name")
    return await handler(request)


async def _plain_server_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_HEADER


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def targets(request: web.Request) -> web.Response:
    return web.json_response({"targets": request.app[CATALOG].names,
                              "styles": request.app[STYLES].names})


async def stats(request: web.Request) -> web.Response:
    key = request.query.get("peer")
    if not key:
        return _error(400, "ask for your own peer: /stats?peer=KEY, the 'peer' of the "
                      "answer to your offer")
    peer = request.app[PEERS].get(key)
    if peer is None:
        return _error(404, "no peer with that key (it has closed, or the key is wrong)")
    return web.json_response(peer.stats.as_dict())


def _same_origin(request: web.Request) -> bool:
    """No Origin (not a browser's cross-site request), or one naming this very host."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return (parts.scheme in ("http", "https")
            and parts.netloc.lower() == request.headers.get("Host", "").lower())


async def offer(request: web.Request) -> web.Response:
    if not _same_origin(request):
        log.info("refused an offer from origin %r", request.headers.get("Origin", "")[:100])
        return _error(403, "offers are taken only from this server's own page")
    if request.content_type != "application/json":
        return _error(415, "an offer must be sent as application/json")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"body larger than {MAX_BODY} bytes")
    catalog = request.app[CATALOG]
    try:
        wanted = parse_offer(body, catalog, request.app[STYLES])
        check_sdp(wanted.sdp)
    except OfferError as error:
        return _error(error.status, error.message)
    registry = request.app[REGISTRY]
    refusal = registry.admit()
    if refusal is not None:
        log.info("refused an offer: %s", refusal)
        return _error(503, refusal, {"Retry-After": str(RETRY_AFTER_S)})
    peer: Peer | None = None
    answered = False
    try:
        target = catalog[wanted.target] if wanted.target is not None else None
        peer = await Peer.create(wanted.filter, target, request.app[STYLES], wanted.style)
        response = await _answer(peer, wanted.sdp, wanted.type, registry.limits)
        answered = True
        return response
    except OfferError as error:
        return _error(error.status, error.message)
    except Exception:
        log.exception("could not set up a peer")
        return _error(500, "the server could not set up this connection; see its log")
    finally:
        if peer is not None and not answered:
            await peer.close()
        registry.started(peer if answered else None)


async def _answer(peer: Peer, sdp: str, kind: str, limits: PeerLimits) -> web.Response:
    """Answer the (checked) offer with ``peer``; an OfferError if aiortc still refuses."""
    try:
        await peer.pc.setRemoteDescription(RTCSessionDescription(sdp, kind))
        if peer.video is None:
            raise OfferError(400, "the offer sends no video")
        await peer.pc.setLocalDescription(await peer.pc.createAnswer())
    except OfferError:
        raise
    except Exception as error:  # aiortc raises many types for an SDP it cannot use
        log.info("peer %s: rejected offer: %r", peer.id, error)
        raise OfferError(400, "the SDP offer cannot be used by this server") from None
    peer.close_unless_connected(limits.connect_timeout_s)
    log.info("peer %s: filter %s", peer.id, peer.filter.name)
    answer = peer.pc.localDescription
    return web.json_response({"sdp": answer.sdp, "type": answer.type, "peer": peer.key})


async def _close_peers(app: web.Application) -> None:
    peers = list(app[PEERS].values())
    await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
    app[PEERS].clear()


def create_app(catalog: TargetCatalog, styles: StyleCatalog | None = None,
               limits: PeerLimits | None = None, hosts: HostPolicy | None = None
               ) -> web.Application:
    """The application for already loaded, consented targets (and loaded styles);
    by default it answers for loopback names only."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[check_host])
    registry = PeerRegistry(limits or PeerLimits())
    app[CATALOG] = catalog
    app[STYLES] = styles or StyleCatalog()
    app[REGISTRY] = registry
    app[PEERS] = registry.peers
    app[HOSTS] = hosts or HostPolicy()
    app.router.add_get("/", index)
    app.router.add_get("/targets", targets)
    app.router.add_get("/stats", stats)
    app.router.add_post("/offer", offer)
    app.router.add_static("/static/", STATIC)
    app.on_response_prepare.append(_plain_server_header)
    app.on_shutdown.append(_close_peers)
    return app


def build_app(settings: ServeSettings) -> web.Application:
    """Check consent and prepare every target, then build the application; a target
    that may not be streamed raises a StreamganError naming it."""
    engine = EngineSettings(device=settings.device, model=settings.model)
    return create_app(load_catalog(settings.targets, settings.trust, settings.engine, engine),
                      load_styles(settings.styles, settings.device), settings.limits,
                      HostPolicy.for_bind(settings.host, settings.allowed_hosts))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(settings: ServeSettings, on_ready: Callable[[str], None] | None = None) -> None:
    """Check the targets, then serve until interrupted; ``on_ready`` gets the URL."""
    app = build_app(settings)
    if _is_loopback(settings.host):
        use_loopback_candidates()  # media stays on loopback with the signalling
    else:
        log.warning("listening on %s: anyone who reaches this address can use the targets; "
                    "browsers only allow the camera on http://localhost or https",
                    settings.host)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown}:{settings.port}/"

    def started(_message: str) -> None:
        if on_ready is not None:
            on_ready(url)

    try:
        web.run_app(app, host=settings.host, port=settings.port, print=started)
    except OSError as error:
        raise StreamganError(f"cannot listen on {settings.host}:{settings.port}: "
                             f"{error.strerror or error}") from None
