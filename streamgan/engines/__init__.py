"""Engines turn driver frames into pictures of the target; one interface for all paths."""

from __future__ import annotations

import logging
from collections.abc import Callable

from streamgan.engines.base import Drive, Engine, EngineSettings, Plan, Target
from streamgan.errors import StreamganError

log = logging.getLogger(__name__)

__all__ = ["Drive", "Engine", "EngineSettings", "Plan", "Target", "available", "create_engine"]


def _warp(settings: EngineSettings) -> Engine:
    from streamgan.engines.warp.engine import WarpEngine, WarpSettings

    if settings.model is not None:
        log.warning("the warp engine uses no model; --model is ignored")
    if settings.device != "cpu":
        log.warning("the warp engine runs on the CPU; --device %s is ignored", settings.device)
    if settings.batch > 1:
        log.warning("the warp engine draws one frame at a time; --batch is ignored")
    return WarpEngine(WarpSettings(device=settings.device))


def _fsgan(settings: EngineSettings) -> Engine:
    from streamgan.engines.fsgan.engine import FsganEngine, FsganSettings

    return FsganEngine(FsganSettings(device=settings.device, model=settings.model,
                                     batch=settings.batch))


_FACTORIES: dict[str, Callable[[EngineSettings], Engine]] = {"warp": _warp, "fsgan": _fsgan}


def available() -> list[str]:
    """Engine names ``--engine`` accepts."""
    return sorted(_FACTORIES)


def create_engine(name: str, settings: EngineSettings | None = None) -> Engine:
    """The engine called ``name``; a clear error for an unknown one."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise StreamganError(
            f"unknown engine {name!r} (available: {', '.join(available())})"
        ) from None
    return factory(settings or EngineSettings())
