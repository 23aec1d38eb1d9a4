"""The aiohttp application: the page, the target list, signalling and stats.

``POST /offer`` answers ``{"sdp", "type", "peer"}``; ``GET /stats?peer=ID`` returns
that peer's counters (frames received, sent, dropped; worker milliseconds), which
the page shows beside what the browser measures itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiortc import RTCSessionDescription

from apps.webrtc.ice import use_loopback_candidates
from apps.webrtc.offer import MAX_BODY, OfferError, parse_offer
from apps.webrtc.peer import Peer
from apps.webrtc.styles import StyleCatalog, load_styles
from apps.webrtc.targets import TargetCatalog, load_catalog
from streamgan.errors import StreamganError

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
CATALOG = web.AppKey("catalog", TargetCatalog)
STYLES = web.AppKey("styles", StyleCatalog)
PEERS = web.AppKey("peers", dict[str, Peer])


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    targets: tuple[Path, ...] = ()
    trust: tuple[Path, ...] = ()
    engine: str = "warp"
    styles: tuple[str, ...] = ()
    """Translation models offered as the ``style`` filter (names or checkpoint files)."""
    device: str = "cpu"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def targets(request: web.Request) -> web.Response:
    return web.json_response({"targets": request.app[CATALOG].names,
                              "styles": request.app[STYLES].names})


async def stats(request: web.Request) -> web.Response:
    peers = request.app[PEERS]
    wanted = request.query.get("peer")
    if wanted is not None:
        peer = peers.get(wanted)
        if peer is None:
            return _error(404, f"no peer {wanted!r}")
        return web.json_response(peer.stats.as_dict())
    return web.json_response({"peers": {pid: p.stats.as_dict() for pid, p in peers.items()}})


async def offer(request: web.Request) -> web.Response:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"body larger than {MAX_BODY} bytes")
    catalog = request.app[CATALOG]
    try:
        wanted = parse_offer(body, catalog, request.app[STYLES])
    except OfferError as error:
        return _error(error.status, error.message)
    target = catalog[wanted.target] if wanted.target is not None else None
    peer = await Peer.create(wanted.filter, target, request.app[STYLES], wanted.style)
    peers = request.app[PEERS]
    peers[peer.id] = peer
    peer.on_closed = lambda: peers.pop(peer.id, None)
    try:
        await peer.pc.setRemoteDescription(RTCSessionDescription(wanted.sdp, wanted.type))
        if peer.video is None:
            raise OfferError(400, "the offer sends no video")
        await peer.pc.setLocalDescription(await peer.pc.createAnswer())
    except Exception as error:  # aiortc raises many types for a bad SDP
        await peer.close()
        if isinstance(error, OfferError):
            return _error(error.status, error.message)
        log.info("rejected offer: %s", error)
        return _error(400, f"bad SDP offer: {error}")
    log.info("peer %s: filter %s%s", peer.id, wanted.filter,
             f" onto {wanted.target}" if wanted.target else
             f" with {wanted.style}" if wanted.style else "")
    answer = peer.pc.localDescription
    return web.json_response({"sdp": answer.sdp, "type": answer.type, "peer": peer.id})


async def _close_peers(app: web.Application) -> None:
    peers = list(app[PEERS].values())
    await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
    app[PEERS].clear()


def create_app(catalog: TargetCatalog, styles: StyleCatalog | None = None
               ) -> web.Application:
    """The application for already loaded, consented targets (and loaded styles)."""
    app = web.Application(client_max_size=MAX_BODY)
    app[CATALOG] = catalog
    app[STYLES] = styles or StyleCatalog()
    app[PEERS] = {}
    app.router.add_get("/", index)
    app.router.add_get("/targets", targets)
    app.router.add_get("/stats", stats)
    app.router.add_post("/offer", offer)
    app.router.add_static("/static/", STATIC)
    app.on_shutdown.append(_close_peers)
    return app


def build_app(settings: ServeSettings) -> web.Application:
    """Check consent and prepare every target, then build the application; a target
    that may not be streamed raises a StreamganError naming it."""
    return create_app(load_catalog(settings.targets, settings.trust, settings.engine),
                      load_styles(settings.styles, settings.device))


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
    url = f"http://{settings.host}:{settings.port}/"

    def started(_message: str) -> None:
        if on_ready is not None:
            on_ready(url)

    try:
        web.run_app(app, host=settings.host, port=settings.port, print=started)
    except OSError as error:
        raise StreamganError(f"cannot listen on {settings.host}:{settings.port}: "
                             f"{error.strerror or error}") from None
