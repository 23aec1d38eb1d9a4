"""An exponential moving average of a network: what samples and inference use.

Averaged weights give steadier, better samples than the last step's; the average
warms up (a short effective horizon at first) so early checkpoints are usable.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
from torch import nn


def average_copy(module: nn.Module) -> nn.Module:
    """A frozen copy of ``module`` to hold its average."""
    return copy.deepcopy(module).eval().requires_grad_(False)


@torch.no_grad()
def update_average(pairs: Iterable[tuple[nn.Module, nn.Module]], step: int,
                   decay: float) -> None:
    """Move each (average, live) pair's average a step towards the live network;
    buffers (BatchNorm statistics) are copied as they are."""
    rate = min(decay, (1 + step) / (10 + step))
    for average, live in pairs:
        for a, p in zip(average.parameters(), live.parameters(), strict=True):
            a.lerp_(p, 1 - rate)
        for kept, buffer in zip(average.buffers(), live.buffers(), strict=True):
            kept.copy_(buffer)
