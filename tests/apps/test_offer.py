"""Bad offers get a 4xx with a JSON message and leave the server serving."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import av
import pytest

from apps.webrtc import TargetCatalog
from apps.webrtc.client import LoopTrack, connect
from apps.webrtc.offer import MAX_BODY, OfferError, parse_offer
from apps.webrtc.server import PEERS
from tests.apps.conftest import WAIT, receive, serving

GOOD_SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"


@pytest.mark.parametrize(("body", "status", "needle"), [
    (b"{not json", 400, "not JSON"),
    (b"\xff\xfe", 400, "not JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b"{}", 400, "'sdp'"),
    (json.dumps({"sdp": 5, "type": "offer"}).encode(), 400, "'sdp'"),
    (json.dumps({"sdp": GOOD_SDP, "type": "answer"}).encode(), 400, "'type'"),
    (json.dumps({"sdp": GOOD_SDP, "type": "offer", "filter": "x"}).encode(), 400, "filter"),
    (json.dumps({"sdp": GOOD_SDP, "type": "offer", "target": "nobody"}).encode(), 404,
     "unknown target"),
    (json.dumps({"sdp": GOOD_SDP, "type": "offer", "filter": "none", "target": "target"}
                ).encode(), 400, "only goes with"),
])
def test_parse_offer_rejects(catalog: TargetCatalog, body: bytes, status: int,
                             needle: str) -> None:
    with pytest.raises(OfferError) as caught:
        parse_offer(body, catalog)
    assert caught.value.status == status
    assert needle in caught.value.message


def test_parse_offer_defaults(catalog: TargetCatalog) -> None:
    body = json.dumps({"sdp": GOOD_SDP, "type": "offer"}).encode()
    offer = parse_offer(body, catalog)
    assert (offer.filter, offer.target) == ("reenact", "target")
    assert parse_offer(body, TargetCatalog()).filter == "none"


def test_malformed_offers_are_refused_and_the_server_keeps_serving(
        catalog: TargetCatalog, driver_frames: list[av.VideoFrame]) -> None:
    bad_sdp = {"sdp": "v=0\r\nthis is not an offer\r\n", "type": "offer", "filter": "none"}
    no_video = {"sdp": GOOD_SDP, "type": "offer", "filter": "none"}
    bodies: list[tuple[Any, int]] = [
        (b"{oops", 400),
        (b'{"type": "offer"}', 400),
        (json.dumps(bad_sdp).encode(), 400),
        (json.dumps(no_video).encode(), 400),
        (json.dumps({**no_video, "filter": "sepia"}).encode(), 400),
        (json.dumps({**no_video, "filter": "reenact", "target": "bob"}).encode(), 404),
        (b'{"sdp": "' + b"x" * (MAX_BODY + 10) + b'"}', 413),
    ]

    async def run() -> tuple[list[tuple[int, str, dict[str, Any]]], int, int]:
        async with serving(catalog) as server:
            answers = []
            async with aiohttp.ClientSession() as session:
                for body, _ in bodies:
                    async with session.post(server.make_url("/offer"), data=body,
                                            headers={"Content-Type": "application/json"}
                                            ) as response:
                        answers.append((response.status, response.content_type,
                                        await response.json()))
                async with session.get(server.make_url("/targets")) as response:
                    assert (await response.json()) == {"targets": ["target"], "styles": []}
            peers_after_bad = len(server.app[PEERS])
            conn = await connect(str(server.make_url("/")), LoopTrack(driver_frames), "none")
            try:
                frames = await receive(await asyncio.wait_for(conn.returned, WAIT), 3)
            finally:
                await conn.close()
            return answers, peers_after_bad, len(frames)

    answers, peers_after_bad, received = asyncio.run(run())
    for (status, content_type, payload), (_, expected) in zip(answers, bodies, strict=True):
        assert status == expected, payload
        assert content_type == "application/json"
        assert payload["error"]
    assert peers_after_bad == 0  # refused offers leave no peer behind
    assert received == 3
