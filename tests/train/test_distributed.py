"""Where a process stands in a run, and how work divides between processes (the
several-process behaviour itself runs under torchrun in the models' DDP tests)."""

from __future__ import annotations

import pytest

from streamgan.errors import InputError
from streamgan.train.distributed import World, agree, shard, total


def test_each_rank_gets_its_own_share_and_together_all() -> None:
    videos = [f"v{i}" for i in range(5)]
    shares = [shard(videos, World(rank, 2)) for rank in (0, 1)]
    assert shares == [["v0", "v2", "v4"], ["v1", "v3"]]
    assert sorted(shares[0] + shares[1]) == videos
    assert shard(videos, World()) == videos


def test_fewer_items_than_ranks_gives_every_rank_all() -> None:
    assert [shard(["only"], World(rank, 3)) for rank in range(3)] == [["only"]] * 3


def test_alone_a_problem_is_raised_and_a_count_is_itself() -> None:
    agree(World(), None)
    with pytest.raises(InputError, match="clip.mp4: no face"):
        agree(World(), "clip.mp4: no face")
    assert total(World(), 7) == 7
