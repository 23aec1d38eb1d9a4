"""The learning-rate schedule of the pix2pix/CycleGAN papers, in steps: constant, then
falling linearly to zero. Every streamgan image model trains with it."""

from __future__ import annotations


def linear_decay(lr: float, step: int, total_steps: int, decay_from: float) -> float:
    """``lr`` for the first ``decay_from`` of ``total_steps``, then linearly to zero."""
    start = decay_from * total_steps
    if step < start:
        return lr
    left = (total_steps - step) / max(1.0, total_steps - start)
    return lr * max(0.0, left)
