"""A pipeline stage on its own thread: results in order, bounded, errors passed on.

Tracking runs one frame ahead of rendering this way: MediaPipe releases the GIL
while it works, so on two cores the tracker and the engine overlap instead of
taking turns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from streamgan.media.channel import Channel, spawn, stop_worker
from streamgan.media.frame import AudioPacket

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")
F = TypeVar("F")

_STOP_TIMEOUT_S = 10.0


@contextmanager
def threaded_map(items: Iterable[T], fn: Callable[[T], U], name: str,
                 capacity: int = 4) -> Iterator[Iterator[U]]:
    """Yield an iterator over ``fn(item)`` computed on a worker thread, in order.

    At most ``capacity`` results wait; an exception in ``fn`` or in ``items`` is
    raised to the consumer after the results before it. Leaving the block early
    stops the worker promptly.
    """
    channel: Channel[U] = Channel(capacity)

    def produce(out: Channel[U]) -> None:
        try:
            for item in items:
                if not out.put(fn(item)):
                    return  # the consumer left
            out.finish()
        except BaseException as error:  # handed to the consumer, raised there
            out.finish(error)

    thread = spawn(name, produce, channel)
    try:
        yield iter(channel)
    finally:
        if not stop_worker(channel, thread, _STOP_TIMEOUT_S):
            log.warning("%s: worker thread did not stop", name)


def frame_batches(items: Iterable[F | AudioPacket], size: int) -> Iterator[list[F] | AudioPacket]:
    """Frames (anything but audio) in groups of ``size``, the last one maybe shorter, for
    a model that runs on batches; audio packets pass at once, in demux order (the
    muxer interleaves them by time)."""
    pending: list[F] = []
    for item in items:
        if isinstance(item, AudioPacket):
            yield item
            continue
        pending.append(item)
        if len(pending) >= size:
            yield pending
            pending = []
    if pending:
        yield pending
