from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from streamgan.translate.networks import (
    SIDE_MULTIPLE,
    VALUE_RANGE,
    FastGenerator,
    FastOptions,
    FrameBatchNorm2d,
    NLayerDiscriminator,
    ResnetGenerator,
    TransformerNet,
    UnetGenerator,
    init_weights,
    set_per_sample_norm,
    side_multiple,
)

# Keys and shapes of the published files, written out by hand from the reference
# architectures so a drift in our layout fails here, not on a user's download.
RESNET_9BLOCKS = {
    "model.1.weight": (64, 3, 7, 7), "model.1.bias": (64,),
    "model.4.weight": (128, 64, 3, 3), "model.7.weight": (256, 128, 3, 3),
    "model.7.bias": (256,),
    "model.10.conv_block.1.weight": (256, 256, 3, 3),
    "model.10.conv_block.5.weight": (256, 256, 3, 3),
    "model.18.conv_block.5.bias": (256,),
    "model.19.weight": (256, 128, 3, 3), "model.22.weight": (128, 64, 3, 3),
    "model.26.weight": (3, 64, 7, 7), "model.26.bias": (3,),
}
_INNERMOST_256 = "model.model.1." + "model.3." * 6 + "model."
UNET_256 = {
    "model.model.0.weight": (64, 3, 4, 4),
    "model.model.1.model.1.weight": (128, 64, 4, 4),
    "model.model.1.model.2.weight": (128,), "model.model.1.model.2.running_mean": (128,),
    "model.model.1.model.2.num_batches_tracked": (),
    "model.model.1.model.5.weight": (256, 64, 4, 4),
    "model.model.1.model.6.running_var": (64,),
    "model.model.1.model.3.model.1.weight": (256, 128, 4, 4),
    "model.model.3.weight": (128, 3, 4, 4), "model.model.3.bias": (3,),
    _INNERMOST_256 + "1.weight": (512, 512, 4, 4),
    _INNERMOST_256 + "3.weight": (512, 512, 4, 4),
    _INNERMOST_256 + "4.running_mean": (512,),
}
TRANSFORMER = {
    "conv1.conv2d.weight": (32, 3, 9, 9), "conv1.conv2d.bias": (32,),
    "in1.weight": (32,), "in1.bias": (32,), "conv2.conv2d.weight": (64, 32, 3, 3),
    "conv3.conv2d.weight": (128, 64, 3, 3), "in3.bias": (128,),
    "res1.conv1.conv2d.weight": (128, 128, 3, 3), "res1.in1.weight": (128,),
    "res5.conv2.conv2d.bias": (128,), "res5.in2.bias": (128,),
    "deconv1.conv2d.weight": (64, 128, 3, 3), "in4.weight": (64,),
    "deconv2.conv2d.weight": (32, 64, 3, 3), "in5.bias": (32,),
    "deconv3.conv2d.weight": (3, 32, 9, 9), "deconv3.conv2d.bias": (3,),
}
PATCHGAN = {
    "model.0.weight": (64, 3, 4, 4), "model.0.bias": (64,), "model.2.weight": (128, 64, 4, 4),
    "model.5.weight": (256, 128, 4, 4), "model.8.weight": (512, 256, 4, 4),
    "model.11.weight": (1, 512, 4, 4), "model.11.bias": (1,),
}


def params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def assert_layout(net: nn.Module, expected: dict[str, tuple[int, ...]], keys: int) -> None:
    state = net.state_dict()
    assert len(state) == keys
    for key, shape in expected.items():
        assert key in state, key
        assert tuple(state[key].shape) == shape, key


def test_resnet_9blocks_has_the_published_layout() -> None:
    with torch.device("meta"):  # shapes only: no time spent initialising weights
        net = ResnetGenerator()
    assert_layout(net, RESNET_9BLOCKS, 48)
    assert params(net) == 11_378_179
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())


def test_resnet_6blocks_batch_norm_and_dropout_layouts() -> None:
    six = ResnetGenerator(n_blocks=6)
    assert len(six.state_dict()) == 36 and "model.23.weight" in six.state_dict()
    batch = ResnetGenerator(norm="batch", use_dropout=True).state_dict()
    assert "model.1.bias" not in batch and "model.2.running_mean" in batch
    # The reference puts dropout between the two convolutions of a block.
    assert "model.10.conv_block.6.weight" in batch and "model.10.conv_block.5.weight" not in batch


def test_unet_256_and_128_have_the_published_layout() -> None:
    with torch.device("meta"):
        net = UnetGenerator(num_downs=8)
        small = UnetGenerator(num_downs=7)
    assert_layout(net, UNET_256, 82)
    assert params(net) == 54_413_955
    assert net.multiple == 256
    assert len(small.state_dict()) == 70 and small.multiple == 128
    assert params(small) == 41_828_995


def test_transformer_net_has_the_published_layout() -> None:
    net = TransformerNet()
    assert_layout(net, TRANSFORMER, 62)
    assert params(net) == 1_679_235


def test_patchgan_layout_and_70_pixel_receptive_field() -> None:
    net = NLayerDiscriminator(3)
    assert_layout(net, PATCHGAN, 10)
    assert "model.2.bias" in net.state_dict()  # instance norm: convolutions keep a bias
    assert "model.3.running_mean" in NLayerDiscriminator(3, norm="batch").state_dict()
    # Instance norm spreads every pixel over the whole map; without it the gradient
    # of one logit shows the patch it sees.
    bare = NLayerDiscriminator(3, norm="none")
    x = torch.rand(1, 3, 128, 128, requires_grad=True)
    out = bare(x)
    assert out.shape == (1, 1, 14, 14)
    out[0, 0, 7, 7].backward()
    assert x.grad is not None
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3))).flatten()
    cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 2))).flatten()
    assert int(rows[-1] - rows[0]) + 1 == 70 and int(cols[-1] - cols[0]) + 1 == 70


@pytest.mark.parametrize("net, size", [
    (ResnetGenerator(ngf=8, n_blocks=2), (44, 60)),
    (UnetGenerator(num_downs=7, ngf=4), (128, 256)),
    (TransformerNet(), (36, 48)),
    (FastGenerator(width=4, blocks=1), (44, 60)),
], ids=["resnet", "unet", "transformer", "fast"])
def test_outputs_keep_the_frame_size(net: nn.Module, size: tuple[int, int]) -> None:
    with torch.inference_mode():
        y = net.eval()(torch.rand(2, 3, *size) * 2 - 1)
    assert y.shape == (2, 3, *size)


def test_side_multiples_and_value_ranges() -> None:
    assert side_multiple("unet", {"num_downs": 8}) == SIDE_MULTIPLE["unet_256"] == 256
    assert side_multiple("unet", {"num_downs": 7}) == SIDE_MULTIPLE["unet_128"] == 128
    for kind in ("resnet", "transformer", "fast"):
        assert side_multiple(kind, {}) == 4
    assert VALUE_RANGE["transformer"] == "255" and TransformerNet.value_range == "255"
    assert {VALUE_RANGE[k] for k in ("resnet", "unet", "fast")} == {"tanh"}
    with pytest.raises(ValueError):
        side_multiple("vgan", {})


def frames(n: int, size: int = 128, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def test_per_sample_norm_makes_a_frame_independent_of_its_batch() -> None:
    torch.manual_seed(0)
    net = UnetGenerator(num_downs=7, ngf=4).eval()
    init_weights(net)
    batch = frames(3)
    net.train()  # ordinary batch norm: the batch's statistics mix the frames
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    with torch.no_grad():
        mixed = net(batch)[:1]
        alone_train = net(batch[:1])
    assert (mixed - alone_train).abs().max() > 1e-3
    net.eval()
    net.per_sample_norm = True
    assert net.per_sample_norm
    with torch.inference_mode():
        alone = net(batch[:1])
        batched = net(batch)[:1]
        again = net(batch)[:1]
    torch.testing.assert_close(batched, alone, atol=1e-6, rtol=0)
    # The reference test script's way: train-mode batch norm on a batch of one.
    torch.testing.assert_close(alone, alone_train, atol=1e-6, rtol=0)
    assert torch.equal(batched, again)  # dropout off: deterministic


def test_per_sample_norm_leaves_running_statistics_alone() -> None:
    net = ResnetGenerator(ngf=4, n_blocks=1, norm="batch").train()
    assert set_per_sample_norm(net) == 7
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net(frames(2, 32))
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    net.per_sample_norm = False
    assert not any(m.per_sample for m in net.modules() if isinstance(m, FrameBatchNorm2d))


def test_eval_mode_uses_running_statistics_and_no_dropout() -> None:
    net = UnetGenerator(num_downs=7, ngf=4).eval()
    x = frames(2)
    with torch.inference_mode():
        assert torch.equal(net(x)[:1], net(x[:1]))


def test_fast_options_round_trip_and_validation() -> None:
    o = FastOptions(width=8, blocks=2)
    assert FastOptions.from_dict({**o.to_dict(), "future": 1}) == o
    with pytest.raises(AttributeError):
        o.width = 4  # type: ignore[misc]
    with pytest.raises(ValueError):
        FastOptions(width=0)
    with pytest.raises(ValueError):
        FastOptions(output_nc=1)
    assert FastGenerator.from_options(o).options == o


def count_macs(net: nn.Module, x: Tensor) -> int:
    total = 0

    def hook(m: nn.Module, _inputs: object, out: Tensor) -> None:
        nonlocal total
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            total += out.numel() * (m.in_channels // m.groups) * k

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.inference_mode():
        net(x)
    for h in handles:
        h.remove()
    return total


def test_fast_generator_budget_identity_start_and_batch_independence() -> None:
    net = FastGenerator().eval()
    assert 0.3e9 <= count_macs(net, torch.zeros(1, 3, 240, 320)) <= 0.6e9
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) for m in net.modules())
    x = frames(3, 64)
    with torch.inference_mode():
        assert torch.equal(net(x), x)  # residual output starts at the identity
        init_weights(net)
        y = net(x)
    assert y.abs().max() <= 1.0 and not torch.equal(y, x)
    with torch.inference_mode():
        torch.testing.assert_close(net(x[1:2]), y[1:2], atol=1e-6, rtol=0)
    plain = FastGenerator(width=4, blocks=1, residual=False).eval()
    with torch.inference_mode():
        assert plain(x).abs().max() < 1.0


def test_init_weights_is_the_reference_normal_init() -> None:
    torch.manual_seed(0)
    net = ResnetGenerator(ngf=16, n_blocks=2, norm="batch").requires_grad_(False)
    init_weights(net)
    conv = net.model[4]
    assert isinstance(conv, nn.Conv2d)
    assert abs(float(conv.weight.std()) - 0.02) < 0.002
    bn = net.model[2]
    assert isinstance(bn, nn.BatchNorm2d)
    assert abs(float(bn.weight.mean()) - 1.0) < 0.02 and float(bn.bias.abs().max()) == 0.0
    last = net.model[-2]
    assert isinstance(last, nn.Conv2d) and last.bias is not None
    assert float(last.bias.abs().max()) == 0.0
