from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from streamgan.errors import InputError
from streamgan.translate import formats
from streamgan.translate.formats import (
    FORMAT,
    VERSION,
    GeneratorSpec,
    build_generator,
    detect,
    load_generator,
    to_checkpoint,
)
from streamgan.translate.networks import (
    FastGenerator,
    FrameBatchNorm2d,
    ResnetGenerator,
    TransformerNet,
    UnetGenerator,
    init_weights,
)

REPO = Path(__file__).resolve().parents[2]
VGAN = REPO / "models" / "vgan-digits" / "model.pt"


def params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def random_state(net: nn.Module, seed: int = 0) -> dict[str, Tensor]:
    """Distinct values for every tensor (running variances positive), so a loaded
    network can be compared with what was saved."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, Tensor] = {}
    for key, t in net.state_dict().items():
        if t.is_floating_point():
            value = torch.randn(t.shape, generator=g) * 0.05
            out[key] = value.abs() + 0.5 if key.endswith("running_var") else value
        else:
            out[key] = torch.tensor(7, dtype=t.dtype)
    return out


def meta(factory: Callable[[], nn.Module]) -> nn.Module:
    with torch.device("meta"):
        return factory()


def instance_norm_stats(net: nn.Module) -> dict[str, Tensor]:
    """The running statistics PyTorch < 0.4 (and fast-neural-style) saved for
    instance-norm layers, which today's layers no longer have."""
    extra: dict[str, Tensor] = {}
    for name, m in net.named_modules():
        if isinstance(m, nn.InstanceNorm2d):
            extra[f"{name}.running_mean"] = torch.zeros(m.num_features)
            extra[f"{name}.running_var"] = torch.ones(m.num_features)
    return extra


def same_weights(net: nn.Module, state: dict[str, Tensor]) -> bool:
    loaded = net.state_dict()
    return loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k])
                                                 for k in state)


def save(obj: object, path: Path) -> Path:
    torch.save(obj, path)
    return path


def test_old_cyclegan_resnet_9blocks_file_loads_without_its_instance_norm_stats(
        tmp_path: Path) -> None:
    state = random_state(meta(ResnetGenerator))
    stale = instance_norm_stats(meta(ResnetGenerator))
    assert len(stale) == 46
    path = save({**state, **stale}, tmp_path / "latest_net_G.pth")
    loaded = load_generator(path)
    assert loaded.spec == GeneratorSpec("resnet", {
        "input_nc": 3, "output_nc": 3, "ngf": 64, "n_blocks": 9, "norm": "instance",
        "use_dropout": False})
    assert loaded.source == "pytorch-CycleGAN-and-pix2pix"
    assert loaded.name == "latest_net_G" and loaded.extra == {}
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert params(loaded.net) == 11_378_179 and len(loaded.net.state_dict()) == 48
    assert same_weights(loaded.net, state)
    assert not loaded.net.training
    assert loaded.spec.multiple == 4 and loaded.spec.value_range == "tanh"


def test_plain_state_dict_with_metadata_and_dataparallel_prefix(tmp_path: Path) -> None:
    net = ResnetGenerator(input_nc=1, output_nc=2, ngf=8, n_blocks=3)
    plain = net.state_dict()
    assert hasattr(plain, "_metadata")
    wrapped = {"state_dict": {f"module.{k}": v for k, v in plain.items()}}
    for obj, name in ((plain, "plain"), (wrapped, "wrapped")):
        loaded = load_generator(save(obj, tmp_path / f"{name}.pth"))
        assert loaded.spec.options == {"input_nc": 1, "output_nc": 2, "ngf": 8,
                                       "n_blocks": 3, "norm": "instance", "use_dropout": False}
        assert same_weights(loaded.net, dict(plain))


def test_pix2pix_unet_256_keeps_its_batch_norm_statistics(tmp_path: Path) -> None:
    state = random_state(meta(UnetGenerator))
    stats = {k: v for k, v in state.items() if ".running_" in k or "num_batches" in k}
    assert len(stats) == 39  # 13 batch-norm layers
    loaded = load_generator(save(state, tmp_path / "facades_label2photo.pth"))
    assert loaded.spec == GeneratorSpec("unet", {
        "input_nc": 3, "output_nc": 3, "num_downs": 8, "ngf": 64, "norm": "batch",
        "use_dropout": True})
    assert loaded.spec.multiple == 256
    assert params(loaded.net) == 54_413_955
    assert same_weights(loaded.net, state)  # statistics included: none were dropped
    norms = [m for m in loaded.net.modules() if isinstance(m, FrameBatchNorm2d)]
    assert len(norms) == 13 and all(m.per_sample for m in norms)
    assert not any(m.training for m in loaded.net.modules())


def test_unet_without_num_batches_tracked_and_instance_unet(tmp_path: Path) -> None:
    old = {k: v for k, v in random_state(UnetGenerator(2, 1, num_downs=7, ngf=4)).items()
           if not k.endswith("num_batches_tracked")}
    loaded = load_generator(save(old, tmp_path / "old.pth"))
    assert loaded.spec.options["num_downs"] == 7 and loaded.spec.multiple == 128
    assert loaded.spec.options["input_nc"] == 2 and loaded.spec.options["output_nc"] == 1
    instance = UnetGenerator(num_downs=6, ngf=4, norm="instance")
    spec = detect(instance.state_dict())
    assert spec.options["norm"] == "instance" and spec.options["num_downs"] == 6


def test_detect_reads_options_from_shapes() -> None:
    assert detect(meta(lambda: ResnetGenerator(ngf=32, n_blocks=6, norm="batch",
                                               use_dropout=True)).state_dict()).options == {
        "input_nc": 3, "output_nc": 3, "ngf": 32, "n_blocks": 6, "norm": "batch",
        "use_dropout": True}
    assert detect(meta(lambda: ResnetGenerator(norm="none")).state_dict()).options["norm"] \
        == "none"
    assert detect(meta(lambda: UnetGenerator(4, 3, 7, 16)).state_dict()).options == {
        "input_nc": 4, "output_nc": 3, "num_downs": 7, "ngf": 16, "norm": "batch",
        "use_dropout": True}
    assert detect(meta(TransformerNet).state_dict()) == GeneratorSpec("transformer", {})
    with pytest.raises(InputError, match="looks like no generator layout streamgan knows"):
        detect({"fc.weight": torch.zeros(2, 2)})


def test_fast_neural_style_file_with_stale_running_stats(tmp_path: Path) -> None:
    net = TransformerNet()
    state = random_state(net)
    stale = instance_norm_stats(net)
    assert len(stale) == 30
    assert all(re.search(r"in\d+\.running_(mean|var)$", k) for k in stale)
    loaded = load_generator(save({**state, **stale}, tmp_path / "mosaic.pth"))
    assert loaded.spec.kind == "transformer" and loaded.source == "fast-neural-style"
    assert loaded.spec.value_range == "255" and loaded.spec.multiple == 4
    assert params(loaded.net) == 1_679_235 and same_weights(loaded.net, state)
    net.load_state_dict(state)
    x = torch.rand(1, 3, 32, 32) * 255
    with torch.inference_mode():
        assert torch.equal(loaded.net(x), net.eval()(x))


def test_streamgan_checkpoint_round_trip(tmp_path: Path) -> None:
    net = FastGenerator(width=8, blocks=2)
    init_weights(net)
    spec = GeneratorSpec("fast", net.options.to_dict())
    data = to_checkpoint(spec, net, {"steps": 5, "dataset": "edges2shoes"})
    assert data["format"] == FORMAT and data["version"] == VERSION
    loaded = load_generator(save(data, tmp_path / "shoes.pt"))
    assert loaded.source == "streamgan" and loaded.spec == spec
    assert loaded.extra == {"steps": 5, "dataset": "edges2shoes"}
    x = torch.rand(2, 3, 16, 24) * 2 - 1
    with torch.inference_mode():
        assert torch.equal(loaded.net(x), net.eval()(x))

    unet = UnetGenerator(num_downs=5, ngf=4)
    spec = detect(unet.state_dict())
    loaded = load_generator(save(to_checkpoint(spec, unet), tmp_path / "unet.pt"))
    assert loaded.spec == spec and isinstance(loaded.net, UnetGenerator)
    assert loaded.net.per_sample_norm and not loaded.net.training
    assert isinstance(build_generator(spec), UnetGenerator)


def corrupt(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """A bad generator file of ``kind`` and a word its error message must contain."""
    path = tmp_path / f"{kind}.pth"
    small = ResnetGenerator(ngf=4, n_blocks=1)
    if kind == "missing":
        return path, "no such generator file"
    if kind == "random":
        path.write_bytes(os.urandom(4096))
        return path, "not a readable checkpoint"
    if kind == "truncated":
        whole = save(small.state_dict(), path).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
        return path, "not a readable checkpoint"
    if kind == "vgan":
        return VGAN, "video GAN"
    if kind == "shape":
        state = small.state_dict()
        state["model.4.weight"] = torch.zeros(8, 4, 5, 5)
        save(state, path)
        return path, "model.4.weight is 8x4x5x5"
    if kind == "missing-key":
        state = small.state_dict()
        del state["model.10.conv_block.5.bias"]
        save(state, path)
        return path, "lacks model.10.conv_block.5.bias"
    if kind == "unknown":
        save(nn.Linear(4, 2).state_dict(), path)
        return path, "looks like no generator layout streamgan knows"
    if kind == "not-a-dict":
        save([torch.zeros(3)], path)
        return path, "not a state dict"
    spec = detect(small.state_dict())
    data = to_checkpoint(spec, small)
    if kind == "newer":
        data["version"] = VERSION + 1
        save(data, path)
        return path, "newer"
    if kind == "bad-option":
        data["network"]["wings"] = 2
        save(data, path)
        return path, "bad network options"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "random", "truncated", "vgan", "shape",
                                  "missing-key", "unknown", "not-a-dict", "newer",
                                  "bad-option"])
def test_bad_files_raise_one_line_input_errors(kind: str, tmp_path: Path) -> None:
    path, needle = corrupt(kind, tmp_path)
    with pytest.raises(InputError) as info:
        load_generator(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert needle in message, message
    assert len(message) < 300


def test_generator_spec_checks_its_kind() -> None:
    with pytest.raises(ValueError):
        GeneratorSpec("vgan")
    assert GeneratorSpec("unet", {"num_downs": 7}).multiple == 128
    assert formats.KINDS == ("resnet", "unet", "transformer", "fast")
