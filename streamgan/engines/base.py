"""The one engine interface every path uses: files, WebRTC and benchmarks.

An engine is prepared once for a target face, then renders one output picture per
driver frame. It never sees files or sockets; the pipeline feeds it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from streamgan.safety.consent import ConsentRecord

from streamgan.media.yuv import Yuv420
from streamgan.tracking.landmarks import Landmarks


@dataclass(frozen=True)
class EngineSettings:
    """Settings every engine understands; engine-specific knobs live in subclasses."""

    device: str = "cpu"
    model: Path | None = None
    """A learned engine's checkpoint (``fsgan``); engines without one ignore it."""
    batch: int = 0
    """Frames a learned engine draws together on the file path (:attr:`Engine.batch_size`);
    0: the engine's choice. Live streams always draw one at a time."""


@dataclass(frozen=True)
class Target:
    """The still face to animate: an RGB image with even sides and its landmarks."""

    image: NDArray[np.uint8]
    landmarks: Landmarks

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image and so of every rendered picture."""
        return self.image.shape[1], self.image.shape[0]


@dataclass(frozen=True)
class Drive:
    """One driver frame: what the target should do now.

    ``landmarks`` is None when the driver's face is not known yet; ``reference``
    holds the driver's neutral landmarks that motion is measured against.
    """

    image: NDArray[np.uint8]
    landmarks: Landmarks | None
    reference: Landmarks | None
    time: float = 0.0


@dataclass(frozen=True)
class Plan:
    """What an engine decided for one frame before drawing it: its :meth:`Engine.plan`.

    Engines that split their work subclass it with what the drawing needs."""

    drive: Drive


class Engine(ABC):
    """Turns driver frames into pictures of the target.

    ``render`` may be split in two stages, :meth:`plan` (motion, geometry: no pixels
    of the output) and :meth:`draw`, so that a pipeline can run them on two threads,
    the plan of frame n + 1 beside the drawing of frame n. Each stage is called in
    frame order; by default the plan is the drive and all work is in ``draw``.
    """

    name: ClassVar[str]

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()

    @abstractmethod
    def prepare(self, target: Target) -> None:
        """Do the per-target work once (segmentation, meshes, colour statistics)."""

    @abstractmethod
    def render(self, drive: Drive) -> Yuv420:
        """The target following ``drive``, as a yuv420p picture of the target's size."""

    def plan(self, drive: Drive) -> Plan:
        """Stage one of :meth:`render`."""
        return Plan(drive)

    def draw(self, plan: Plan) -> Yuv420:
        """Stage two of :meth:`render`: the picture for ``plan``."""
        return self.render(plan.drive)

    @property
    def batch_size(self) -> int:
        """How many plans :meth:`draw_batch` wants at once: 1 for engines that gain
        nothing from batching; a model on a GPU fills its batch."""
        return 1

    def draw_batch(self, plans: Sequence[Plan]) -> list[Yuv420]:
        """The pictures for ``plans`` (in frame order), as :meth:`draw` gives them one by
        one: engines whose work batches (a network) override it, nothing else changes."""
        return [self.draw(plan) for plan in plans]

    def check_target(self, consent: ConsentRecord) -> None:  # noqa: B027 - most need none
        """Refuse (raise) or warn about a target given the consent it carries; called
        after the target's own consent check, before :meth:`prepare`."""

    def reset(self) -> None:  # noqa: B027 - stateless engines need nothing here
        """Forget per-stream state, e.g. when a new stream starts with the same target."""
