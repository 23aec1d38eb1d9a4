"""Where streamgan keeps per-user state: signing keys, certificates, trusted signers.

``$STREAMGAN_CONFIG_DIR`` wins (tests point it at a temporary directory); otherwise
``$XDG_CONFIG_HOME/streamgan``, else ``~/.config/streamgan``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CONFIG_DIR = "STREAMGAN_CONFIG_DIR"


def config_dir(create: bool = False) -> Path:
    """The user's streamgan config directory (created 0700 when ``create``)."""
    explicit = os.environ.get(ENV_CONFIG_DIR)
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        path = Path(base) / "streamgan"
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a secret (a private key) readable by its owner only, never world-readable
    even for a moment: the file is created 0600 before any byte is written."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
