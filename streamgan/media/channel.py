"""A bounded hand-over queue between a background media thread and its caller.

``queue.Queue`` cannot be shut down on Python < 3.13: a producer blocked on a
full queue stays blocked when the consumer walks away. Both the reader and the
writer need exactly that case handled, hence this small replacement.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Channel(Generic[T]):
    """FIFO of at most ``capacity`` items, one producer and one consumer.

    The producer ends it with :meth:`finish` (optionally passing the error that
    stopped it, which the consumer then receives). The consumer abandons it with
    :meth:`close`: pending items are dropped and blocked or later :meth:`put`
    calls return False at once, so the producer can never deadlock.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"channel capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._items: deque[T] = deque()
        self._cond = threading.Condition()
        self._finished = False
        self._closed = False
        self._error: BaseException | None = None

    @property
    def closed(self) -> bool:
        """True once the consumer has abandoned the channel."""
        return self._closed

    def put(self, item: T) -> bool:
        """Block while full; False (item dropped) if the consumer has closed the channel."""
        with self._cond:
            while len(self._items) >= self._capacity and not self._closed:
                self._cond.wait()
            if self._closed:
                return False
            self._items.append(item)
            self._cond.notify_all()
            return True

    def finish(self, error: BaseException | None = None) -> None:
        """Producer side: no more items; ``error`` is raised to the consumer after the rest."""
        with self._cond:
            self._finished = True
            self._error = error
            self._cond.notify_all()

    def close(self) -> None:
        """Consumer side: stop now, drop what is pending and release a blocked producer."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()

    def __iter__(self) -> Iterator[T]:
        """Yield items until the producer finishes (re-raising its error) or the channel closes."""
        while True:
            with self._cond:
                while not self._items and not self._finished and not self._closed:
                    self._cond.wait()
                if self._items:
                    item = self._items.popleft()
                    self._cond.notify_all()
                elif self._closed:
                    return
                else:
                    if self._error is not None:
                        error, self._error = self._error, None
                        raise error
                    return
            yield item


def spawn(name: str, target: Callable[[Channel[T]], None], channel: Channel[T]) -> threading.Thread:
    """Start the daemon thread at one end of ``channel`` (a decoder or an encoder)."""
    thread = threading.Thread(target=target, args=(channel,), name=name, daemon=True)
    thread.start()
    return thread


def stop_worker(channel: Channel[T], thread: threading.Thread, timeout: float) -> bool:
    """Close ``channel`` and wait for ``thread``; False if it is still running after
    ``timeout`` seconds (its container must then be left alone: closing it under a
    running codec would crash the process)."""
    channel.close()
    thread.join(timeout)
    return not thread.is_alive()
