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
    target = data.get("target")
    if name == "reenact":
        if not len(catalog):
            raise OfferError(400, "no targets: start the server with --target IMAGE")
        target = catalog.names[0] if target is None else target
        if not isinstance(target, str) or target not in catalog:
            raise OfferError(404, f"unknown target {target!r} "
                             f"(known: {', '.join(catalog.names)})")
    elif target is not None:
        raise OfferError(400, "'target' only goes with filter 'reenact'")
    style = data.get("style")
    if name == "style":
        if not len(styles):
            raise OfferError(400, "no styles: start the server with --style MODEL")
        style = styles.names[0] if style is None else style
        if not isinstance(style, str) or style not in styles:
            raise OfferError(404, f"unknown style {style!r} (known: {', '.join(styles.names)})")
    elif style is not None:
        raise OfferError(400, "'style' only goes with filter 'style'")
    return Offer(sdp, kind, name, target, style)
