import threading
import time

import pytest

from streamgan.pipeline.stage import threaded_map


def test_results_come_in_order() -> None:
    with threaded_map(range(50), lambda x: x * x, "squares", capacity=3) as results:
        assert list(results) == [x * x for x in range(50)]


def test_worker_error_reaches_the_consumer_after_earlier_results() -> None:
    def fn(x: int) -> int:
        if x == 3:
            raise ValueError("boom at 3")
        return x

    got = []
    with pytest.raises(ValueError, match="boom at 3"), \
            threaded_map(range(10), fn, "failing") as results:
        for r in results:
            got.append(r)
    assert got == [0, 1, 2]


def test_leaving_early_stops_the_worker() -> None:
    def endless() -> object:
        while True:
            yield 1

    before = threading.active_count()
    start = time.monotonic()
    with threaded_map(endless(), lambda x: x, "endless", capacity=2) as results:
        next(iter(results))
    assert time.monotonic() - start < 5
    assert threading.active_count() == before


def test_frame_batches_keep_every_frame_in_order_and_let_audio_pass() -> None:
    from streamgan.media.frame import AudioPacket
    from streamgan.pipeline.stage import frame_batches

    sound = [AudioPacket(packet=object()) for _ in range(2)]  # type: ignore[arg-type]
    items: list[int | AudioPacket] = [0, 1, sound[0], 2, 3, 4, sound[1], 5, 6]
    out = list(frame_batches(items, 3))
    assert out == [sound[0], [0, 1, 2], sound[1], [3, 4, 5], [6]]
    assert list(frame_batches(range(4), 1)) == [[0], [1], [2], [3]]
