"""The ``streamgan`` command: subcommands, logging, and one-line errors.

Every user-facing failure is a :class:`StreamganError`, printed as one line with a
non-zero exit; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from streamgan import __version__
from streamgan.cli import batch as batch_cmd
from streamgan.cli import consent as consent_cmd
from streamgan.cli import generate as generate_cmd
from streamgan.cli import keys as keys_cmd
from streamgan.cli import reenact as reenact_cmd
from streamgan.cli import serve as serve_cmd
from streamgan.cli import train as train_cmd
from streamgan.cli import translate as translate_cmd
from streamgan.cli import verify as verify_cmd
from streamgan.cli.args import OneLineParser
from streamgan.cli.signals import exit_status, interrupts, message
from streamgan.errors import StreamganError

log = logging.getLogger("streamgan")

EXIT_ERROR = 1


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="streamgan",
        description="Face reenactment for video files and live streams, with safety built in.",
    )
    parser.add_argument("--version", action="version", version=f"streamgan {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar or summary; only errors")
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    common.add_argument("--debug", action="store_true",
                        help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    reenact_cmd.add_parser(commands, parents=[common])
    consent_cmd.add_parser(commands, parents=[common])
    keys_cmd.add_parser(commands, parents=[common])
    verify_cmd.add_parser(commands, parents=[common])
    serve_cmd.add_parser(commands, parents=[common])
    generate_cmd.add_parser(commands, parents=[common])
    train_cmd.add_parser(commands, parents=[common])
    translate_cmd.add_parser(commands, parents=[common])
    batch_cmd.add_parser(commands, parents=[common])
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING
    if getattr(args, "verbose", False):
        level = logging.INFO
    if getattr(args, "debug", False):
        level = logging.DEBUG
    if getattr(args, "quiet", False) and not getattr(args, "debug", False):
        level = logging.ERROR
    logging.basicConfig(level=level, format="streamgan: %(levelname)s: %(message)s",
                        stream=sys.stderr)
    # A library's warnings.warn() is a log line like any other, never raw source text.
    logging.captureWarnings(True)


def _hide_native_stderr() -> None:
    """Send what native libraries write to fd 2 to /dev/null; keep Python's stderr.

    MediaPipe, TensorFlow Lite and absl print start-up notices straight to file
    descriptor 2, from worker threads, at moments Python does not control. The
    command's own output (errors, warnings, progress) goes through ``sys.stderr``,
    which is moved onto a copy of the real stderr first. ``--debug`` keeps it all.
    """
    try:
        sys.stderr.flush()
        real = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded, captured)
        return
    sys.stderr = os.fdopen(real, "w", buffering=1, encoding=sys.stderr.encoding,
                           errors="backslashreplace")
    os.dup2(devnull, 2)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.debug and argv is None:  # a real process, not a caller's in-process use
        _hide_native_stderr()
    _configure_logging(args)
    try:
        with interrupts():
            return int(args.run(args))
    except StreamganError as error:
        if args.debug:
            raise
        print(f"streamgan: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except MemoryError:
        if args.debug:
            raise
        print("streamgan: error: out of memory", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as error:
        if args.debug:
            raise
        print(message(error), file=sys.stderr)
        return exit_status(error)
