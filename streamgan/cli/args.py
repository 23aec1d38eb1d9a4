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


def add_trust_option(parser: argparse.ArgumentParser) -> None:
    """``--trust FILE`` (repeatable): consent signers trusted for this command only."""
    parser.add_argument("--trust", type=Path, action="append", default=[], metavar="FILE",
                        help="also trust this consent signer (.pub or trust file); repeatable")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (and exit 2), like every other streamgan error; the
    full usage stays one ``--help`` away. Subcommand parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"streamgan: error: {self.prog}: {message} (see '{self.prog} --help')\n")
