from __future__ import annotations

import threading
import time

import pytest

from streamgan.media.channel import Channel


def test_items_arrive_in_order_then_the_producer_error() -> None:
    channel: Channel[int] = Channel(2)

    def produce() -> None:
        for i in range(5):
            channel.put(i)
        channel.finish(ValueError("source ended badly"))

    thread = threading.Thread(target=produce)
    thread.start()
    got = []
    with pytest.raises(ValueError, match="ended badly"):
        for item in channel:
            got.append(item)
    thread.join()
    assert got == [0, 1, 2, 3, 4]


def test_close_releases_a_producer_blocked_on_a_full_channel() -> None:
    channel: Channel[int] = Channel(1)
    results: list[bool] = []
    channel.put(0)
    thread = threading.Thread(target=lambda: results.append(channel.put(1)))
    thread.start()
    time.sleep(0.05)
    assert thread.is_alive()  # blocked: the channel is full
    channel.close()
    thread.join(1.0)
    assert not thread.is_alive() and results == [False]
    assert channel.put(2) is False
    assert list(channel) == []


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Channel(0)
