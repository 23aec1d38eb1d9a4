"""One process, several GPUs or several machines: where this process stands in a run.

Launched plainly, training runs on one device; launched by ``torchrun`` (which sets
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``) every process trains a replica under
DistributedDataParallel, NCCL on GPUs and gloo on CPUs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from streamgan.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place in a distributed run (rank 0 of 1 when alone)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def leader(self) -> bool:
        return self.rank == 0


def pick_device(name: str, world: World) -> torch.device:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; under torchrun ``cuda`` is the local rank's."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("--device cuda: no CUDA device here")
        return torch.device("cuda", world.local_rank if name == "cuda" else
                            torch.device(name).index or 0)
    if name != "cpu":
        raise InputError(f"unknown device {name!r} (cpu, cuda or auto)")
    return torch.device("cpu")


@contextmanager
def distributed(device_name: str) -> Iterator[World]:
    """Join the process group ``torchrun`` set up, if any; leave it afterwards."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        yield World()
        return
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    gpu = device_name in ("cuda", "auto") and torch.cuda.is_available()
    if gpu:
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group("nccl" if gpu else "gloo")
    try:
        yield world
    finally:
        dist.destroy_process_group()


def replicate(module: nn.Module, world: World, device: torch.device,
              own_buffers: bool = False) -> nn.Module:
    """``module`` as the training step should call it: a DDP replica when distributed.

    ``own_buffers`` keeps each replica's BatchNorm statistics its own instead of
    syncing rank 0's before every forward (which would overwrite them mid-step, e.g.
    between a discriminator's real and fake passes): the older
    ``broadcast_buffers=False``, under its torch 2.13 name.
    """
    if world.size == 1:
        return module
    ids = [device.index] if device.type == "cuda" else None
    if own_buffers:
        return DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=False)
    return DistributedDataParallel(module, device_ids=ids)


def no_sync(module: nn.Module | Any) -> Any:
    """DDP's gradient-accumulation context, or nothing for a plain module."""
    return module.no_sync() if isinstance(module, DistributedDataParallel) else nullcontext()


def shard(items: Sequence[T], world: World) -> list[T]:
    """This rank's share of ``items`` (every ``size``-th, from its rank), so that reading
    and preparing data divides across the processes; every item when there are fewer
    items than processes (each rank still needs data)."""
    if len(items) < world.size:
        return list(items)
    return list(items[world.rank::world.size])


def agree(world: World, problem: str | None) -> None:
    """Raise ``problem`` as a one-line error on every rank if any rank has one, so that
    no rank waits in a collective for one that failed (the lowest rank's reason)."""
    if world.size > 1:
        found: list[str | None] = [None] * world.size
        dist.all_gather_object(found, problem)
        problem = next((p for p in found if p), None)
    if problem is not None:
        raise InputError(problem)


def total(world: World, count: int) -> int:
    """``count`` summed over the ranks."""
    if world.size == 1:
        return count
    counts: list[int] = [0] * world.size
    dist.all_gather_object(counts, count)  # objects: no tensor on the right device needed
    return sum(counts)
