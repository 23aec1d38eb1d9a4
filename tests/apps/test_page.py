"""The page and its script are served, with the ids a browser test drives."""

from __future__ import annotations

import asyncio

import aiohttp

from apps.webrtc import TargetCatalog
from tests.apps.conftest import serving

IDS = ("camera", "resolution", "filter", "target", "start", "stop", "local", "remote",
       "stat-fps", "stat-latency", "stat-dropped")


def test_page_script_and_stats_are_served(catalog: TargetCatalog) -> None:
    async def run() -> tuple[str, str, int, dict[str, object]]:
        async with serving(catalog) as server, aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/")) as page:
                html = await page.text()
            async with session.get(server.make_url("/static/app.js")) as script:
                js = await script.text()
            async with session.get(server.make_url("/stats"), params={"peer": "x"}) as one:
                missing = one.status
            async with session.get(server.make_url("/stats")) as every:
                return html, js, missing, {"status": every.status, **await every.json()}

    html, js, missing, stats = asyncio.run(run())
    for name in IDS:
        assert f'id="{name}"' in html
    assert "getStats" in js and "/offer" in js
    assert missing == 404
    assert stats["status"] == 400 and "peers" not in stats  # no list of peers to anyone
    assert "peer=KEY" in str(stats["error"])
