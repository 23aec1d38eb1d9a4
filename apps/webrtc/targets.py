"""The targets a server may animate: loaded, consent-checked for ``stream``, prepared.

All of it happens once at startup, so a target without consent stops the server
before it listens, and a peer only pays for a copy of an already prepared engine.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from streamgan.engines import Engine, EngineSettings, Target, create_engine
from streamgan.errors import InputError
from streamgan.pipeline.target import load_consented_target
from streamgan.safety.consent import ConsentRecord

log = logging.getLogger(__name__)

SCOPE = "stream"
"""Live output needs consent for streaming, not only for files (``reenact``)."""


@dataclass(frozen=True)
class ConsentedTarget:
    """One target face with the consent behind it and an engine prepared for it."""

    name: str
    path: Path
    target: Target
    consent: ConsentRecord
    engine: Engine

    def new_engine(self) -> Engine:
        """A private engine for one peer: engines keep per-stream state and are not
        thread-safe, and a copy of a prepared one costs far less than preparing."""
        engine = copy.deepcopy(self.engine)
        engine.reset()
        return engine


class TargetCatalog:
    """Targets by name (the file's stem), in the order given."""

    def __init__(self, targets: Sequence[ConsentedTarget] = ()) -> None:
        self._targets = {t.name: t for t in targets}

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def __getitem__(self, name: str) -> ConsentedTarget:
        return self._targets[name]

    def __len__(self) -> int:
        return len(self._targets)

    @property
    def names(self) -> list[str]:
        return list(self._targets)


def load_catalog(paths: Sequence[Path], trust: Sequence[Path] = (),
                 engine: str = "warp", settings: EngineSettings | None = None
                 ) -> TargetCatalog:
    """Check consent for scope ``stream`` and prepare an engine for every target
    (``settings``: the engine's device and model, one model for all targets).

    Raises a StreamganError naming the target (consent missing or invalid, no face,
    unreadable file, two targets with one name) before anything is served.
    """
    targets: list[ConsentedTarget] = []
    names: set[str] = set()
    for path in paths:
        name = path.stem
        if name in names:
            raise InputError(f"{path}: another target is also called {name!r}; rename one")
        names.add(name)
        checked = load_consented_target(path, SCOPE, trust=trust)  # one read of the file
        target, consent = checked.target, checked.consent
        prepared = create_engine(engine, settings or EngineSettings())
        prepared.check_target(consent)
        prepared.prepare(target)
        log.info("target %s: %s, consent %s (%s)", name, path, consent.record_id,
                 consent.subject)
        targets.append(ConsentedTarget(name, path, target, consent, prepared))
    return TargetCatalog(targets)
