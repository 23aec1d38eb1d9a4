"""Write-then-rename, so an output file is either complete or absent.

A crash, a Ctrl-C or a bad frame half-way through a long encode must not leave
a truncated video under the name the user asked for (or destroy the previous
good one): everything is written to a hidden temporary file in the same
directory and renamed over the target only once it is complete.

Temporary names are short and fixed in length, whatever the output's name (a
255-byte output name is legal, and a temp name that appended to it would not
be): ``.sgtmp-<key>-<pid>-<random><role><ext>``, where ``key`` is a hash of the
output's name. A run killed by SIGKILL or a power cut cannot remove its temp
files; the next run writing the same output finds them by that key and removes
those whose process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

from streamgan.errors import OutputError

log = logging.getLogger(__name__)

TEMP_PREFIX = ".sgtmp-"
_KEY_LEN = 10
_MAX_EXT = 16
"""Longer extensions are dropped from temp names (ours are .mp4, .mov, .png, .pt)."""
_TEMP_NAME = re.compile(
    rf"^{re.escape(TEMP_PREFIX)}(?P<key>[0-9a-f]{{{_KEY_LEN}}})-(?P<pid>[0-9]+)-[0-9a-f]+")


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


def temp_key(path: Path) -> str:
    """The key the temp files of ``path`` carry; a temp file's own key for a temp file,
    so that files written through a temp (the unsigned video) are found with it."""
    found = _TEMP_NAME.match(path.name)
    if found:
        return found["key"]
    return hashlib.sha256(os.fsencode(path.name)).hexdigest()[:_KEY_LEN]


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of streamgan's temporary file names."""
    return _TEMP_NAME.match(name) is not None


def _process_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    except OSError:
        return False
    return False


def remove_stale(path: Path) -> list[Path]:
    """Remove temp files of ``path`` left by runs whose process no longer exists.

    Temp files of a live process (another run writing the same output right now)
    are left alone. Returns what was removed.
    """
    key = temp_key(path)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        found = _TEMP_NAME.match(entry.name)
        if not found or found["key"] != key or not _process_gone(int(found["pid"])):
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue
        except OSError as e:
            log.warning("%s: cannot remove the stale temporary file %s: %s",
                        path, entry.name, e.strerror or e)
            continue
        removed.append(Path(entry.path))
    if removed:
        log.warning("%s: removed %d temporary file%s left by an interrupted run",
                    path, len(removed), "" if len(removed) == 1 else "s")
    return removed


def reserve_temp(path: Path, role: str = "", suffix: str | None = None) -> Path:
    """Create an empty, hidden temp file beside ``path`` and return its name.

    ``role`` tells the temp files of one output apart (".unsigned"); the name ends in
    ``suffix`` (default: ``path``'s own extension) because FFmpeg and Pillow pick the
    format from it. Created with the usual umask permissions, not mkstemp's 0600.
    """
    ext = path.suffix if suffix is None else suffix
    if len(os.fsencode(ext)) > _MAX_EXT:
        ext = ""
    key = temp_key(path)
    for _ in range(100):
        temp = path.with_name(
            f"{TEMP_PREFIX}{key}-{os.getpid()}-{secrets.token_hex(3)}{role}{ext}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as e:
            raise OutputError(f"{path}: cannot write: {e.strerror or e}") from e
        os.close(fd)
        return temp
    raise OutputError(f"{path}: cannot write: could not create a temporary file")


class AtomicFile:
    """A temporary sibling of ``path`` that becomes ``path`` on :meth:`commit`."""

    def __init__(self, path: Path, suffix: str | None = None) -> None:
        self.path = path
        check_output_path(path)
        remove_stale(path)
        self.temp = reserve_temp(path, suffix=suffix)
        self._done = False

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
