"""The translation engine: any frame size in, the same size out; batching changes
nothing; the working size is honoured; the session marks and limits to a region."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from streamgan.translate.engine import EngineOptions, Translator, working_size
from streamgan.translate.formats import GeneratorSpec, LoadedGenerator, build_generator
from streamgan.translate.session import TranslateSession
from tests.translate.conftest import save_fast_model


def _loaded(kind: str, **options: object) -> LoadedGenerator:
    torch.manual_seed(0)
    spec = GeneratorSpec(kind, dict(options))
    net = build_generator(spec).eval()
    return LoadedGenerator(net=net, spec=spec, source="streamgan", name=kind, extra={},
                           sha256="0" * 64)


def _frames(n: int, h: int, w: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.integers(0, 256, (h, w, 3)), np.uint8) for _ in range(n)]


@pytest.mark.parametrize(("kind", "options"), [
    ("fast", {"width": 4, "blocks": 1, "residual": False}),
    ("unet", {"num_downs": 7, "ngf": 4}),  # sides must be multiples of 128
    ("transformer", {}),
])
def test_odd_sizes_are_padded_and_cropped_back(kind: str, options: dict[str, object]) -> None:
    translator = Translator(_loaded(kind, **options))
    for h, w in ((37, 23), (2, 2), (130, 67)):
        out = translator(_frames(2, h, w))
        assert len(out) == 2 and all(o.shape == (h, w, 3) and o.dtype == np.uint8 for o in out)


def test_a_frame_translates_the_same_alone_or_in_a_batch() -> None:
    translator = Translator(_loaded("unet", num_downs=7, ngf=4))  # batch norm: per frame
    frames = _frames(3, 64, 80)
    together = translator(frames)
    alone = [translator([f])[0] for f in frames]
    for a, b in zip(together, alone, strict=True):
        assert int(np.abs(a.astype(int) - b).max()) <= 1


def test_working_size_scales_the_long_side_and_returns_the_frame_size() -> None:
    assert working_size(640, 480, 320) == (320, 240)
    assert working_size(200, 100, 320) == (200, 100)  # never upscaled
    assert working_size(640, 480, None) == (640, 480)
    seen: list[tuple[int, ...]] = []
    loaded = _loaded("fast", width=4, blocks=1)
    loaded.net.register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape)))
    out = Translator(loaded, EngineOptions(size=160))(_frames(1, 120, 160 * 2))
    assert seen == [(1, 3, 60, 160)] and out[0].shape == (120, 320, 3)


def test_the_model_working_side_is_the_default(tmp_path: Path) -> None:
    from streamgan.translate.formats import load_generator

    path = save_fast_model(tmp_path / "m.pt", extra={"work_side": 64})
    assert Translator(load_generator(path)).side == 64
    assert Translator(load_generator(path), EngineOptions(size=32)).side == 32


def test_an_untrained_residual_fast_model_is_the_identity() -> None:
    translator = Translator(_loaded("fast", width=4, blocks=1))
    frame = _frames(1, 48, 64)[0]
    assert int(np.abs(translator([frame])[0].astype(int) - frame).max()) <= 1


def test_session_marks_every_frame_and_keeps_even_sizes(fast_model: Path) -> None:
    from streamgan.translate.formats import load_generator

    marked: list[int] = []
    session = TranslateSession(Translator(load_generator(fast_model)), temporal=True,
                               processors=[lambda yuv: marked.append(yuv.shape[1])])
    pictures = session.process(_frames(3, 49, 65))
    assert [p.shape for p in pictures] == [(72, 64)] * 3  # 48x64 yuv420p
    assert marked == [64, 64, 64] and session.frames == 3


def test_cuda_half_batch_matches_cpu_when_a_gpu_is_here() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    frames = _frames(4, 72, 128)
    cpu = Translator(_loaded("resnet", ngf=8, n_blocks=2))(frames)
    gpu = Translator(_loaded("resnet", ngf=8, n_blocks=2), EngineOptions(device="cuda"))(frames)
    for a, b in zip(cpu, gpu, strict=True):
        assert float(np.abs(a.astype(int) - b).mean()) < 2.0
