"""The translation models (styles) a server offers, loaded once at startup.

A bad model file stops the server before it listens; a peer only builds its own
session (temporal state) around the shared, read-only network.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamgan.errors import InputError
from streamgan.train.distributed import World, pick_device
from streamgan.translate.engine import EngineOptions, Translator
from streamgan.translate.formats import LoadedGenerator
from streamgan.translate.registry import resolve_model

LIVE_SIDE = 256
"""Long side a style's network sees live, at most (a model's own working size, when
smaller, wins). On two cores the VP8 coding both ways shares the CPU with it: in
``benchmarks/webrtc_latency.py`` (640x480 at 30 fps) the shipped model delivered 28.7
fps at 256 and 19-22 fps at its file working size of 320."""


class StyleCatalog:
    """Styles by name, in the order given."""

    def __init__(self, styles: Sequence[LoadedGenerator] = (), device: str = "cpu") -> None:
        self._styles = {s.name: s for s in styles}
        self.device = device

    def __contains__(self, name: object) -> bool:
        return name in self._styles

    def __len__(self) -> int:
        return len(self._styles)

    @property
    def names(self) -> list[str]:
        return list(self._styles)

    def translator(self, name: str) -> Translator:
        """A translator for one peer around the shared network."""
        loaded = self._styles[name]
        work = loaded.extra.get("work_side")
        side = min(int(work), LIVE_SIDE) if isinstance(work, int | float) and work > 0 \
            else LIVE_SIDE
        return Translator(loaded, EngineOptions(device=self.device, size=side))


def load_styles(models: Sequence[str], device: str = "cpu") -> StyleCatalog:
    """Load every ``--style`` model (a shipped name or a checkpoint file)."""
    if models:
        pick_device(device, World())  # no CUDA here: refused now, not at the first offer
    loaded: list[LoadedGenerator] = []
    for model in models:
        style = resolve_model(model)
        if any(s.name == style.name for s in loaded):
            raise InputError(f"{model}: another style is also called {style.name!r}")
        loaded.append(style)
    return StyleCatalog(loaded, device)
