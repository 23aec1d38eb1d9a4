"""Argument types and options shared by several subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high`` (no upper bound if None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"must be {bound}")
        return value

    return parse


PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
           "veryslow")
VIDEO_OUTPUTS = (".mp4", ".mov")
"""Containers that carry a C2PA manifest: every video output is signed."""


def add_encoding_options(parser: argparse.ArgumentParser) -> None:
    """``--crf`` and ``--preset``: x264's quality and speed, for commands writing video."""
    parser.add_argument("--crf", type=int_range(0, 51), default=20,
                        help="x264 quality, 0-51 (default 20)")
    parser.add_argument("--preset", default="veryfast", choices=PRESETS,
                        help="x264 preset (default veryfast)")


def check_video_output(out: Path, inputs: tuple[Path, ...]) -> None:
    """Fail before minutes of work, not after: a signable suffix, a writable place,
    and never an input's own file."""
    from streamgan.errors import InputError, OutputError
    from streamgan.media.atomic import check_output_path

    if out.suffix.lower() not in VIDEO_OUTPUTS:
        raise OutputError(f"{out}: output must end in {', '.join(VIDEO_OUTPUTS)}")
    check_output_path(out)
    resolved = out.resolve()
    for given in inputs:
        if given.exists() and given.resolve() == resolved:
            raise InputError(f"{out}: output would overwrite an input file")


def add_trust_option(parser: argparse.ArgumentParser) -> None:
    """``--trust FILE`` (repeatable): consent signers trusted for this command only."""
    parser.add_argument("--trust", type=Path, action="append", default=[], metavar="FILE",
                        help="also trust this consent signer (.pub or trust file); repeatable")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (and exit 2), like every other streamgan error; the
    full usage stays one ``--help`` away. Subcommand parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"streamgan: error: {self.prog}: {message} (see '{self.prog} --help')\n")
