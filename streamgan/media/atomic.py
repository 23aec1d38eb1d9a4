"""Write-then-rename, so an output file is either complete or absent.

A crash, a Ctrl-C or a bad frame half-way through a long encode must not leave
a truncated video under the name the user asked for (or destroy the previous
good one): everything is written to a hidden temporary file in the same
directory and renamed over the target only once it is complete.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from streamgan.errors import OutputError

log = logging.getLogger(__name__)


def check_output_path(path: Path) -> None:
    """Raise OutputError unless ``path`` could be created or replaced by this process."""
    parent = path.parent
    if path.is_dir():
        raise OutputError(f"{path}: cannot write: it is a directory")
    if not parent.exists():
        raise OutputError(f"{path}: cannot write: directory does not exist")
    if not parent.is_dir():
        raise OutputError(f"{path}: cannot write: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: cannot write: directory is not writable")


class AtomicFile:
    """A temporary sibling of ``path`` that becomes ``path`` on :meth:`commit`.

    The temporary name is hidden and keeps the real extension last
    (``.out.mp4.tmp-1a2b3c.mp4``) because FFmpeg and Pillow pick the format from
    it. It is created empty (with the usual umask permissions) so the name is
    reserved; the caller then overwrites it.
    """

    def __init__(self, path: Path, suffix: str | None = None) -> None:
        self.path = path
        check_output_path(path)
        ext = path.suffix if suffix is None else suffix
        self.temp = self._reserve(path, ext)
        self._done = False

    @staticmethod
    def _reserve(path: Path, ext: str) -> Path:
        for _ in range(100):
            temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}{ext}")
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            except OSError as e:
                raise OutputError(f"{path}: cannot write: {e.strerror or e}") from e
            os.close(fd)
            return temp
        raise OutputError(f"{path}: cannot write: could not create a temporary file")

    def commit(self) -> None:
        """Move the finished temporary file onto the target name (atomic on POSIX)."""
        if self._done:
            return
        self._done = True
        try:
            os.replace(self.temp, self.path)
        except OSError as e:
            self._remove_temp()
            raise OutputError(f"{self.path}: cannot write: {e.strerror or e}") from e
        log.debug("wrote %s", self.path)

    def discard(self) -> None:
        """Delete the temporary file; the target is left as it was."""
        if self._done:
            return
        self._done = True
        self._remove_temp()

    def _remove_temp(self) -> None:
        try:
            self.temp.unlink(missing_ok=True)
        except OSError as e:  # pragma: no cover - only on odd filesystems
            log.warning("%s: could not remove temporary file %s: %s", self.path, self.temp, e)


@contextlib.contextmanager
def atomic_output(path: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write to; it replaces ``path`` only if the block succeeds.

    ``suffix`` overrides the extension the temporary file ends with (default:
    ``path``'s own). Raises OutputError up front when ``path`` cannot be written.
    """
    target = AtomicFile(Path(path), suffix)
    try:
        yield target.temp
    except BaseException:
        target.discard()
        raise
    target.commit()
