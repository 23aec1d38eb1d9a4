"""``streamgan serve``: the live webcam filter, served to a browser over WebRTC."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from streamgan.cli.args import add_trust_option, int_range
from streamgan.engines import available
from streamgan.errors import StreamganError


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "serve", parents=parents,
        help="live webcam filter in the browser (WebRTC)",
        description="Serve a page that sends the camera to this machine and shows it back "
        "reenacted onto a consented TARGET, translated by a --style model, or only "
        "watermarked. Every target needs a "
        "valid consent tag for 'stream'; every streamed frame is watermarked.",
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int_range(0, 65535), default=8080, help="default 8080")
    p.add_argument("--target", type=Path, action="append", default=[], metavar="IMAGE",
                   help="a target face with consent for streaming; repeatable")
    add_trust_option(p)
    p.add_argument("--engine", default="warp", choices=available(), help="default: warp")
    p.add_argument("--model", type=Path, default=None,
                   help="the learned engine's model (--engine fsgan), one for all targets")
    p.add_argument("--style", action="append", default=[], metavar="MODEL",
                   help="offer a translation model as the 'style' filter: a shipped name "
                   "(toon) or a checkpoint; repeatable")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                   help="where styles and a learned engine run (default cpu)")
    p.add_argument("--max-peers", type=int_range(1, 1000), default=None, metavar="N",
                   help="connections at once; the next is refused with 503 "
                   "(default: one per core)")
    p.add_argument("--max-pending", type=int_range(1, 1000), default=8, metavar="N",
                   help="answered offers whose client has not connected yet (default 8)")
    p.add_argument("--connect-timeout", type=int_range(1, 3600), default=15,
                   metavar="SECONDS",
                   help="close an answered offer whose client has not connected by then "
                   "(default 15)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a host name the page may be reached by besides --host and "
                   "localhost (others are refused, against DNS rebinding); repeatable")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:  # aiortc and aiohttp load only for this command
        from apps.webrtc.server import PeerLimits, ServeSettings, default_max_peers, serve
    except ImportError as error:
        raise StreamganError(f"the web app cannot be loaded: {error}") from None
    settings = ServeSettings(host=args.host, port=args.port, targets=tuple(args.target),
                             trust=tuple(args.trust), engine=args.engine, model=args.model,
                             styles=tuple(args.style), device=args.device,
                             limits=PeerLimits(args.max_peers or default_max_peers(),
                                               args.max_pending, args.connect_timeout),
                             allowed_hosts=tuple(args.allow_host))

    def ready(url: str) -> None:
        if not args.quiet:
            print(f"streamgan: serving {url} (Ctrl+C stops)", file=sys.stderr)

    serve(settings, ready)
    return 0
