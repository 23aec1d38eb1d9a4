"""Checking a ``POST /offer`` body before any WebRTC work is done for it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from apps.webrtc.filters import FILTERS
from apps.webrtc.styles import StyleCatalog
from apps.webrtc.targets import TargetCatalog

MAX_BODY = 64 * 1024
"""An SDP offer is a few KiB; anything this large is not one."""


class OfferError(Exception):
    """A bad offer, answered with ``status`` and a JSON message; the server goes on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Offer:
    sdp: str
    type: str
    filter: str
    target: str | None
    style: str | None = None


def parse_offer(body: bytes, catalog: TargetCatalog,
                styles: StyleCatalog | None = None) -> Offer:
    """The offer in ``body``; the filter defaults to ``reenact`` onto the first
    target when the server has targets, else ``style`` with the first style when it
    has styles, else ``none``."""
    styles = styles or StyleCatalog()
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OfferError(400, f"body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise OfferError(400, "body must be a JSON object")
    sdp, kind = data.get("sdp"), data.get("type")
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise OfferError(400, "'sdp' must be an SDP offer (a string starting with v=0)")
    if kind != "offer":
        raise OfferError(400, "'type' must be 'offer'")
    name = data.get("filter", "reenact" if len(catalog) else "style" if len(styles)
                    else "none")
    if name not in FILTERS:
        raise OfferError(400, f"unknown filter {name!r} (known: {', '.join(FILTERS)})")
    target = _choice(data, "target", "reenact", name, catalog.names, "--target IMAGE")
    style = _choice(data, "style", "style", name, styles.names, "--style MODEL")
    return Offer(sdp, kind, name, target, style)


def _choice(data: dict[str, object], key: str, owner: str, filter_name: str,
            offered: list[str], option: str) -> str | None:
    """The offer's ``key`` (a target or a style): the first offered when the filter is
    ``owner`` and the offer names none; a 4xx when it is unknown, or given to another
    filter."""
    wanted = data.get(key)
    if filter_name != owner:
        if wanted is not None:
            raise OfferError(400, f"'{key}' only goes with filter '{owner}'")
        return None
    if not offered:
        raise OfferError(400, f"no {key}s: start the server with {option}")
    chosen = offered[0] if wanted is None else wanted
    if not isinstance(chosen, str) or chosen not in offered:
        raise OfferError(404, f"unknown {key} {chosen!r} (known: {', '.join(offered)})")
    return chosen
