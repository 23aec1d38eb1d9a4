"""The ``streamgan`` executable: signals handled before the heavy imports start.

Loading the command's modules (MediaPipe, torch, PyAV) takes a second or more, and a
Ctrl-C or SIGTERM in that second would otherwise print a KeyboardInterrupt traceback
(or end the process by the signal). This module imports nothing heavy itself.
"""

from __future__ import annotations

import sys

from streamgan.cli.signals import exit_status, interrupts, message


def main() -> int:
    with interrupts():
        try:
            from streamgan.cli import main as command
        except KeyboardInterrupt as error:
            print(message(error), file=sys.stderr)
            return exit_status(error)
        return command.main()
