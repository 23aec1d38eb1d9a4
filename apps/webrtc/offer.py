"""Checking a ``POST /offer`` body before any WebRTC work is done for it.

Everything a client can get wrong is answered here with a 4xx and a sentence: the
JSON itself, the fields' types, and an SDP offer that aiortc could not use (no ICE
credentials, no DTLS fingerprint it knows, no video it can decode). Without the SDP
check such an offer was accepted and then failed in a background task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiortc import sdp as aiortc_sdp
from aiortc.codecs import CODECS
from aiortc.rtcdtlstransport import X509_DIGEST_ALGORITHMS
from aiortc.rtcpeerconnection import find_common_codecs

from apps.webrtc.filters import FILTERS
from apps.webrtc.styles import StyleCatalog
from apps.webrtc.targets import TargetCatalog

MAX_BODY = 64 * 1024
"""An SDP offer is a few KiB; anything this large is not one."""
MAX_MEDIA = 8
"""A browser offers a handful of m-lines; each costs a transport on the server."""


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


def _load_json(body: bytes) -> object:
    """The JSON in ``body``; a readable 400 for anything ``json`` cannot take, including
    nesting deep enough to overflow the parser and integers too long to convert."""
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise OfferError(400, "body is not JSON: it is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise OfferError(400, f"body is not JSON: {error}") from None
    except RecursionError:
        raise OfferError(400, "body is not an offer: its JSON is nested too deeply") from None
    except ValueError:  # e.g. an integer over sys.get_int_max_str_digits() digits
        raise OfferError(400, "body is not an offer: it holds a number too long to read"
                         ) from None


def parse_offer(body: bytes, catalog: TargetCatalog,
                styles: StyleCatalog | None = None) -> Offer:
    """The offer in ``body``; the filter defaults to ``reenact`` onto the first
    target when the server has targets, else ``style`` with the first style when it
    has styles, else ``none``."""
    styles = styles or StyleCatalog()
    data = _load_json(body)
    if not isinstance(data, dict):
        raise OfferError(400, "body must be a JSON object")
    sdp, kind = data.get("sdp"), data.get("type")
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise OfferError(400, "'sdp' must be an SDP offer (a string starting with v=0)")
    if kind != "offer":
        raise OfferError(400, "'type' must be 'offer'")
    name = data.get("filter", "reenact" if len(catalog) else "style" if len(styles)
                    else "none")
    if not isinstance(name, str):
        raise OfferError(400, f"'filter' must be a string: one of {', '.join(FILTERS)}")
    if name not in FILTERS:
        raise OfferError(400, f"unknown filter {_short(name)} (known: {', '.join(FILTERS)})")
    target = _choice(data, "target", "reenact", name, catalog.names, "--target IMAGE")
    style = _choice(data, "style", "style", name, styles.names, "--style MODEL")
    return Offer(sdp, kind, name, target, style)


def check_sdp(sdp: str) -> None:
    """Refuse an SDP offer the server's WebRTC stack could not connect with, before a
    peer is made for it: every m-line needs ICE credentials and a DTLS fingerprint
    of a known algorithm, and one must send video in a codec aiortc decodes."""
    try:
        description = aiortc_sdp.SessionDescription.parse(sdp)
    except Exception:  # the parser raises whatever its line splitting hits
        raise OfferError(400, "'sdp' cannot be read as an SDP offer") from None
    if not description.media:
        raise OfferError(400, "the offer sends no video (it has no m= line)")
    if len(description.media) > MAX_MEDIA:
        raise OfferError(400, f"the offer has {len(description.media)} m= lines; "
                         f"at most {MAX_MEDIA} are taken")
    sends_video = False
    for media in description.media:
        ice, dtls = media.ice, media.dtls
        if ice is None or not ice.usernameFragment or not ice.password:
            raise OfferError(400, f"the offer's {media.kind} has no ICE credentials "
                             "(a=ice-ufrag and a=ice-pwd)")
        if dtls is None or not any(f.algorithm.lower() in X509_DIGEST_ALGORITHMS
                                   for f in dtls.fingerprints):
            raise OfferError(400, f"the offer's {media.kind} has no DTLS fingerprint "
                             f"(a=fingerprint with {', '.join(X509_DIGEST_ALGORITHMS)})")
        if media.kind == "video" and media.direction in ("sendrecv", "sendonly"):
            if not find_common_codecs(CODECS["video"], media.rtp.codecs):
                raise OfferError(400, "the offer's video has no codec the server decodes "
                                 "(VP8 or H264)")
            sends_video = True
    if not sends_video:
        raise OfferError(400, "the offer sends no video")


def _short(value: object) -> str:
    """``value`` for a message: its repr, cut short (a client may send anything)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
    if not isinstance(chosen, str):
        raise OfferError(400, f"'{key}' must be a string (known: {', '.join(offered)})")
    if chosen not in offered:
        raise OfferError(404, f"unknown {key} {_short(chosen)} (known: {', '.join(offered)})")
    return chosen
