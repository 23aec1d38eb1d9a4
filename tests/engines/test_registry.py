"""``create_engine``: engines by name, one-line errors, and a word about the settings
an engine cannot use."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from streamgan.engines import EngineSettings, available, create_engine
from streamgan.engines.warp.engine import WarpEngine
from streamgan.errors import StreamganError


def test_engines_by_name_and_an_unknown_one() -> None:
    assert available() == ["fsgan", "warp"]
    assert isinstance(create_engine("warp"), WarpEngine)
    with pytest.raises(StreamganError, match="unknown engine 'nope' \\(available: fsgan, warp\\)"):
        create_engine("nope")


def test_the_warp_says_which_settings_it_ignores(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        engine = create_engine("warp", EngineSettings(device="cuda", model=Path("m.pt"),
                                                      batch=8))
    assert engine.batch_size == 1
    for said in ("uses no model", "--device cuda is ignored", "--batch is ignored"):
        assert said in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_engine("warp", EngineSettings())
    assert caplog.text == ""
