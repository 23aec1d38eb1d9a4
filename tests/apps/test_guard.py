"""The server defends itself: offers only as JSON from its own origin and host, every
malformed body a readable 4xx, peers capped, unconnected offers expired, stats only
to their own peer, and no versions in the Server header."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import av
import pytest
from aiohttp.test_utils import TestServer

from apps.webrtc import TargetCatalog, create_app
from apps.webrtc.client import LoopTrack, connect, video_offer_sdp
from apps.webrtc.offer import OfferError, check_sdp, parse_offer
from apps.webrtc.server import PEERS, HostPolicy, PeerLimits
from tests.apps.conftest import WAIT, receive

INTERNAL = ("StopIteration", "coroutine", "Traceback", "Exception", "NoneType")
"""Strings that would mean an internal error reached the client."""


@pytest.fixture(scope="session")
def offer_sdp() -> str:
    """A real aiortc offer sending video (VP8/H264, ICE credentials, fingerprints)."""
    return asyncio.run(video_offer_sdp())


def _without(sdp: str, *prefixes: str) -> str:
    return "".join(line for line in sdp.splitlines(keepends=True)
                   if not line.startswith(prefixes))


@asynccontextmanager
async def guarded(catalog: TargetCatalog, limits: PeerLimits | None = None
                  ) -> AsyncIterator[tuple[TestServer, aiohttp.ClientSession]]:
    """The app with ``limits`` on 127.0.0.1, a client session, and a loop that fails
    the test on any unhandled task error."""
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    server = TestServer(create_app(catalog, limits=limits), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield server, session
    finally:
        await asyncio.wait_for(server.close(), WAIT)
    assert not errors, errors


async def _post(session: aiohttp.ClientSession, server: TestServer, body: bytes | str,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    async with session.post(server.make_url("/offer"), data=body, headers=sent) as response:
        text = await response.text()
        return response.status, json.loads(text), response.headers.get("Server", "")


def _readable(payload: dict[str, Any]) -> str:
    message = payload["error"]
    assert isinstance(message, str) and len(message) > 10, payload
    assert not any(word in message for word in INTERNAL), message
    return message


def _bad_bodies(sdp: str) -> list[tuple[str, bytes]]:
    offer = {"sdp": sdp, "type": "offer", "filter": "none"}
    return [
        ("deeply nested", b"[" * 60000 + b"]" * 60000),
        ("nested object", b'{"a":' * 20000 + b"1" + b"}" * 20000),
        ("5000-digit integer", b'{"sdp": ' + b"9" * 5000 + b"}"),
        ("a string", b'"offer"'),
        ("null", b"null"),
        ("sdp a number", json.dumps({**offer, "sdp": 5}).encode()),
        ("sdp missing", json.dumps({"type": "offer"}).encode()),
        ("type a list", json.dumps({**offer, "type": ["offer"]}).encode()),
        ("filter a list", json.dumps({**offer, "filter": ["none"]}).encode()),
        ("filter an object", json.dumps({**offer, "filter": {"a": 1}}).encode()),
        ("target a list", json.dumps({**offer, "filter": "reenact", "target": ["x"]}).encode()),
        ("sdp unreadable", json.dumps({**offer, "sdp": "v=0\r\nm=video\r\na=rtpmap:x\r\n"}
                                      ).encode()),
        ("sdp no fingerprint", json.dumps({**offer, "sdp": _without(sdp, "a=fingerprint")}
                                          ).encode()),
        ("sdp no ICE", json.dumps({**offer, "sdp": _without(sdp, "a=ice-ufrag", "a=ice-pwd")}
                                  ).encode()),
        ("sdp no codec", json.dumps({**offer, "sdp": _without(sdp, "a=rtpmap")}).encode()),
        ("sdp receive only", json.dumps({**offer, "sdp": sdp.replace("a=sendrecv",
                                                                     "a=recvonly")}).encode()),
        ("sdp no m-line", json.dumps({**offer, "sdp": sdp.split("m=")[0]}).encode()),
    ]


def test_every_malformed_offer_is_a_readable_4xx(catalog: TargetCatalog,
                                                 offer_sdp: str) -> None:
    """Parsed alone and through the server: no 500, no internal string, no peer made,
    no task error logged afterwards (an SDP aiortc cannot use is refused up front)."""
    bodies = _bad_bodies(offer_sdp)
    for name, body in bodies:
        with pytest.raises(OfferError) as caught:
            check_sdp(parse_offer(body, catalog).sdp)
        assert 400 <= caught.value.status < 500, name
        _readable({"error": caught.value.message})

    async def run() -> list[tuple[str, int, dict[str, Any]]]:
        async with guarded(catalog) as (server, session):
            answers = [(name, *(await _post(session, server, body))[:2])
                       for name, body in bodies]
            await asyncio.sleep(0.5)  # time for a background task to fail, if one would
            assert not server.app[PEERS]
            return answers

    for name, status, payload in asyncio.run(run()):
        assert 400 <= status < 500, (name, status, payload)
        _readable(payload)


def test_offers_only_as_json_from_this_origin_and_host(catalog: TargetCatalog,
                                                       offer_sdp: str) -> None:
    body = json.dumps({"sdp": offer_sdp, "type": "offer", "filter": "none"})

    async def run() -> list[tuple[int, dict[str, Any]]]:
        async with guarded(catalog) as (server, session):
            own = f"http://127.0.0.1:{server.port}"
            tries = [
                {"Content-Type": "text/plain"},  # a form or "simple" cross-site POST
                {"Content-Type": "application/x-www-form-urlencoded"},
                {"Origin": "http://evil.example"},
                {"Origin": "null"},
                {"Origin": f"http://localhost:{server.port}"},  # another origin
                {"Host": "evil.example", "Origin": "http://evil.example"},  # rebinding
                {"Host": f"evil.example:{server.port}"},
            ]
            answers = [(await _post(session, server, body, h))[:2] for h in tries]
            async with session.get(server.make_url("/targets"),
                                   headers={"Host": "rebound.example"}) as response:
                answers.append((response.status, await response.json()))
            assert not server.app[PEERS]
            ok = await _post(session, server, body, {"Origin": own})
            answers.append(ok[:2])
            return answers

    answers = asyncio.run(run())
    assert [status for status, _ in answers] == [415, 415, 403, 403, 403, 403, 403, 403,
                                                 200]
    for _, payload in answers[:-1]:
        _readable(payload)


def test_host_policy() -> None:
    local = HostPolicy.for_bind("127.0.0.1")
    for host in ("127.0.0.1:8080", "localhost", "LOCALHOST.:80", "[::1]:8080"):
        assert local.allows(_normal(host)), host
    for host in ("evil.example", "127.0.0.1.nip.io", "192.168.1.5", ""):
        assert not local.allows(_normal(host)), host
    lan = HostPolicy.for_bind("0.0.0.0", ("studio.lan",))
    for host in ("192.168.1.5:8080", "studio.lan:8080", "localhost"):
        assert lan.allows(_normal(host)), host
    assert not lan.allows(_normal("evil.example:8080"))


def _normal(host: str) -> str:
    from apps.webrtc.server import _normal_host

    return _normal_host(host)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_unconnected_offers_are_capped_and_expire(catalog: TargetCatalog,
                                                  offer_sdp: str) -> None:
    """Offers whose client never connects: the second waiting one gets a 503, and each
    is closed after the timeout, its threads and sockets freed; then offers go again."""
    body = json.dumps({"sdp": offer_sdp, "type": "offer", "filter": "none"})
    limits = PeerLimits(max_peers=4, max_pending=2, connect_timeout_s=1.0)

    async def expired(server: TestServer) -> None:
        for _ in range(100):
            if not server.app[PEERS]:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(server.app[PEERS])} peers did not expire")

    async def run() -> dict[str, Any]:
        async with guarded(catalog, limits) as (server, session):
            await _post(session, server, body)  # warm-up: pools and caches made once
            await expired(server)
            await asyncio.sleep(0.2)
            threads, fds = threading.active_count(), _fds()
            statuses = [(await _post(session, server, body))[0] for _ in range(2)]
            full = await _post(session, server, body)
            waiting = len(server.app[PEERS])
            await expired(server)
            await asyncio.sleep(0.3)  # worker threads end just after their peer
            after = threading.active_count(), _fds()
            again = (await _post(session, server, body))[0]
            return {"statuses": statuses, "full": full, "waiting": waiting,
                    "before": (threads, fds), "after": after, "again": again}

    got = asyncio.run(run())
    assert got["statuses"] == [200, 200]
    status, payload, _ = got["full"]
    assert status == 503 and "waiting" in _readable(payload)
    assert got["waiting"] == 2
    threads, fds = got["before"]
    assert got["after"][0] <= threads + 1, got
    assert got["after"][1] <= fds + 2, got
    assert got["again"] == 200


def test_max_peers_refuses_the_next_with_503(catalog: TargetCatalog, offer_sdp: str,
                                             driver_frames: list[av.VideoFrame]) -> None:
    """With one peer streaming and ``max_peers=1`` the next offer gets a 503 naming the
    option; the streaming peer is not disturbed."""
    body = json.dumps({"sdp": offer_sdp, "type": "offer", "filter": "none"})

    async def run() -> tuple[int, dict[str, Any], int]:
        async with guarded(catalog, PeerLimits(max_peers=1)) as (server, session):
            conn = await connect(str(server.make_url("/")), LoopTrack(driver_frames), "none")
            try:
                track = await asyncio.wait_for(conn.returned, WAIT)
                await receive(track, 2)
                status, payload, _ = await _post(session, server, body)
                frames = await receive(track, 3)
            finally:
                await conn.close()
            return status, payload, len(frames)

    status, payload, frames = asyncio.run(run())
    assert status == 503 and "--max-peers" in _readable(payload)
    assert frames == 3


def test_stats_only_for_the_peers_own_key_and_no_versions(
        catalog: TargetCatalog, driver_frames: list[av.VideoFrame]) -> None:
    async def run() -> dict[str, Any]:
        async with guarded(catalog) as (server, session):
            conn = await connect(str(server.make_url("/")), LoopTrack(driver_frames), "none")
            got: dict[str, Any] = {"key": conn.peer}
            try:
                await receive(await asyncio.wait_for(conn.returned, WAIT), 2)
                for name, url in (("all", "/stats"), ("guess", "/stats?peer=0123456789ab"),
                                  ("own", f"/stats?peer={conn.peer}")):
                    async with session.get(server.make_url(url)) as response:
                        got[name] = (response.status, await response.json())
                servers = set()
                for url in ("/", "/targets", "/static/app.js", "/nowhere", "/stats"):
                    async with session.get(server.make_url(url)) as response:
                        servers.add(response.headers.get("Server"))
                got["servers"] = servers
            finally:
                await conn.close()
            return got

    got = asyncio.run(run())
    assert len(got["key"]) >= 20  # a secret, not a short id to guess
    assert got["all"][0] == 400 and "peer=KEY" in _readable(got["all"][1])
    assert got["guess"][0] == 404
    status, counters = got["own"]
    assert status == 200 and counters["frames_received"] > 0 and counters["filter"] == "none"
    assert got["servers"] == {"streamgan"}
