"""Every safety test gets its own empty config directory (keys, certificates, trust)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamgan.config import ENV_CONFIG_DIR
from tests.safety.test_consent_support import Signer, make_signer


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv(ENV_CONFIG_DIR, str(home))
    monkeypatch.delenv("STREAMGAN_TRUST", raising=False)
    return home


@pytest.fixture
def alice(tmp_path: Path) -> Signer:
    """A consent signer (key pair) the consent tests grant with."""
    return make_signer(tmp_path)
