"""Generator checkpoint files: streamgan's own, and the public repos' as they are.

Three sources are read:

- streamgan's format, a ``torch.save`` dict ``{"format": FORMAT, "version": VERSION,
  "network": {"kind": ..., **options}, "generator": state_dict, "extra": {...}}``;
- pytorch-CycleGAN-and-pix2pix ``latest_net_G.pth`` files: a bare state dict of a
  ``resnet_*blocks`` or ``unet_*`` generator (``module.``-prefixed when saved from
  DataParallel; the old CycleGAN zoo files carry instance-norm running statistics
  that later PyTorch releases no longer have);
- fast-neural-style ``*.pth`` / ``*.model`` files: a ``TransformerNet`` state dict,
  the published ones with stale instance-norm ``running_mean``/``running_var``.

The architecture of a bare state dict is read from its keys and tensor shapes
(:func:`detect`). Everything is loaded with ``weights_only=True``: tensors and plain
containers only, never pickled code.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

import streamgan
from streamgan.errors import InputError
from streamgan.translate.networks import (
    VALUE_RANGE,
    FastGenerator,
    FastOptions,
    ResnetGenerator,
    TransformerNet,
    UnetGenerator,
    set_per_sample_norm,
    side_multiple,
)

log = logging.getLogger(__name__)

FORMAT = "streamgan-translate"
VERSION = 1

KINDS = ("resnet", "unet", "transformer", "fast")

SOURCE_STREAMGAN = "streamgan"
SOURCE_CYCLEGAN = "pytorch-CycleGAN-and-pix2pix"
SOURCE_FAST_STYLE = "fast-neural-style"

_UNKNOWN = ("looks like no generator layout streamgan knows (expected "
            "pytorch-CycleGAN-and-pix2pix resnet/unet, fast-neural-style TransformerNet "
            "or a streamgan checkpoint)")
_STATS = ("running_mean", "running_var", "num_batches_tracked")
_INSTANCE_NORMS = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)


@dataclass(frozen=True)
class GeneratorSpec:
    """Which generator network, and the constructor keywords that shape it."""

    kind: str
    """One of :data:`KINDS`."""
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"generator kind must be one of {', '.join(KINDS)}, "
                             f"not {self.kind!r}")

    @property
    def multiple(self) -> int:
        """Frame sides must be a multiple of this many pixels."""
        return side_multiple(self.kind, self.options)

    @property
    def value_range(self) -> str:
        """"tanh" (RGB in [-1, 1]) or "255" (RGB in 0..255)."""
        return VALUE_RANGE[self.kind]

    def describe(self) -> str:
        """A few words for messages and logs, e.g. "resnet (ngf 64, 9 blocks, instance)"."""
        o = self.options
        if self.kind == "resnet":
            blocks = int(o.get("n_blocks", 9))
            return (f"resnet generator (ngf {o.get('ngf', 64)}, {blocks} block"
                    f"{'' if blocks == 1 else 's'}, {o.get('norm', 'instance')} norm)")
        if self.kind == "unet":
            return (f"unet_{2 ** int(o.get('num_downs', 8))} generator (ngf "
                    f"{o.get('ngf', 64)}, {o.get('norm', 'batch')} norm)")
        if self.kind == "fast":
            return f"fast generator (width {o.get('width', 16)}, {o.get('blocks', 4)} blocks)"
        return "fast-neural-style TransformerNet"


@dataclass
class LoadedGenerator:
    """A generator ready for inference, and where it came from."""

    net: nn.Module
    """In eval mode (dropout off), batch norm on per-sample statistics."""
    spec: GeneratorSpec
    source: str
    """``streamgan``, ``pytorch-CycleGAN-and-pix2pix`` or ``fast-neural-style``."""
    name: str
    """The file's stem."""
    extra: dict[str, Any]
    """A streamgan checkpoint's ``extra`` dict (empty for the others)."""
    sha256: str
    """Of the file's bytes: identifies the exact weights in logs and manifests."""


def build_generator(spec: GeneratorSpec) -> nn.Module:
    """A freshly initialised network of ``spec``'s kind and shape."""
    if spec.kind == "resnet":
        return ResnetGenerator(**spec.options)
    if spec.kind == "unet":
        return UnetGenerator(**spec.options)
    if spec.kind == "transformer":
        return TransformerNet(**spec.options)
    return FastGenerator.from_options(FastOptions.from_dict(spec.options))


def to_checkpoint(spec: GeneratorSpec, net: nn.Module,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The streamgan-format dict for ``net`` (pass it to ``torch.save``)."""
    return {"format": FORMAT, "version": VERSION, "streamgan": streamgan.__version__,
            "network": {"kind": spec.kind, **spec.options},
            "generator": {k: v.detach().cpu() for k, v in net.state_dict().items()},
            "extra": dict(extra or {})}


def unwrap_state_dict(obj: Any) -> dict[str, Tensor]:
    """The bare state dict in ``obj`` as the reference repos save it: possibly inside
    ``{"state_dict": ...}``, possibly with DataParallel's ``module.`` prefix, possibly
    with a ``_metadata`` entry (dropped: version metadata is not ours to trust)."""
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"],
                                                                       Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise InputError(f"not a state dict ({type(obj).__name__}): {_UNKNOWN}")
    items = {k: v for k, v in obj.items() if k != "_metadata"}
    if not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in items.items()):
        raise InputError(f"holds values other than named tensors: {_UNKNOWN}")
    if items and all(k.startswith("module.") for k in items):
        items = {k[len("module."):]: v for k, v in items.items()}
    return items


def _unet_prefix(level: int) -> str:
    """Key prefix of U-Net level ``level`` (0 is outermost): each level's Sequential
    holds the next level at index 1 (outermost) or 3 (the others)."""
    if level == 0:
        return "model.model."
    return "model.model.1." + "model.3." * (level - 1) + "model."


def _norm_of(sd: Mapping[str, Tensor], conv: str, norm: str) -> str:
    """Which normalisation follows convolution ``conv``: an affine norm means batch
    norm (the reference's instance norm has no weights), a conv bias instance norm."""
    if f"{norm}.weight" in sd:
        return "batch"
    return "instance" if f"{conv}.bias" in sd else "none"


def _shape(sd: Mapping[str, Tensor], key: str, dims: int) -> tuple[int, ...]:
    tensor = sd.get(key)
    if tensor is None or tensor.dim() != dims:
        raise InputError(f"has no {dims}-D tensor {key}: {_UNKNOWN}")
    return tuple(tensor.shape)


def detect(state_dict: Mapping[str, Any]) -> GeneratorSpec:
    """The generator a bare state dict belongs to, read from its keys and shapes."""
    sd = unwrap_state_dict(state_dict)
    if "model.model.0.weight" in sd:
        ngf, input_nc = _shape(sd, "model.model.0.weight", 4)[:2]
        output_nc = _shape(sd, "model.model.3.weight", 4)[1]
        num_downs = 1
        while f"{_unet_prefix(num_downs)}1.weight" in sd:
            num_downs += 1
        if num_downs < 5:
            raise InputError(f"a U-Net of {num_downs} levels: {_UNKNOWN}")
        inner = _unet_prefix(1)
        return GeneratorSpec("unet", {
            "input_nc": input_nc, "output_nc": output_nc, "num_downs": num_downs,
            "ngf": ngf, "norm": _norm_of(sd, f"{inner}1", f"{inner}2"),
            # pix2pix's default; dropout has no weights and is off at inference.
            "use_dropout": True})
    if "model.1.weight" in sd and _shape(sd, "model.1.weight", 4)[2:] == (7, 7):
        ngf, input_nc = _shape(sd, "model.1.weight", 4)[:2]
        blocks = {int(m.group(1)) for k in sd
                  if (m := re.match(r"model\.(\d+)\.conv_block\.", k))}
        n_blocks = len(blocks)
        if blocks != set(range(10, 10 + n_blocks)):
            raise InputError(f"resnet blocks at unexpected positions: {_UNKNOWN}")
        output_nc = _shape(sd, f"model.{17 + n_blocks}.weight", 4)[0]
        return GeneratorSpec("resnet", {
            "input_nc": input_nc, "output_nc": output_nc, "ngf": ngf, "n_blocks": n_blocks,
            "norm": _norm_of(sd, "model.1", "model.2"),
            "use_dropout": "model.10.conv_block.6.weight" in sd})
    if all(k in sd for k in ("conv1.conv2d.weight", "res1.conv1.conv2d.weight",
                             "deconv3.conv2d.weight")):
        return GeneratorSpec("transformer", {})
    raise InputError(_UNKNOWN)


def _module_of(net: nn.Module, key: str) -> nn.Module | None:
    path = key.rpartition(".")[0]
    try:
        return net.get_submodule(path)
    except AttributeError:
        return None


def fit_state_dict(net: nn.Module, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``state`` made loadable into ``net`` the way the reference loaders do it:
    instance-norm running statistics (saved by PyTorch before 0.4, and by
    fast-neural-style) are dropped, decided by the module's type in ``net`` so
    batch-norm statistics stay; batch norm missing ``num_batches_tracked`` (files
    from before 0.4.1) gets 0."""
    fitted: dict[str, Tensor] = {}
    for key, value in state.items():
        name = key.rpartition(".")[2]
        module = _module_of(net, key) if name in _STATS else None
        if isinstance(module, _INSTANCE_NORMS) \
                and getattr(module, name, None) is None:
            continue
        fitted[key] = value
    for path, module in net.named_modules():
        key = f"{path}.num_batches_tracked"
        if isinstance(module, nn.BatchNorm2d) and key not in fitted \
                and f"{path}.running_mean" in fitted:
            fitted[key] = torch.tensor(0, dtype=torch.long)
    return fitted


def _dims(shape: torch.Size | tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def load_weights(net: nn.Module, state: Mapping[str, Tensor], spec: GeneratorSpec,
                 assign: bool = False) -> None:
    """Load ``state`` strictly into ``net``, or raise an :class:`InputError` naming the
    first key that does not fit. ``assign`` puts the tensors themselves into ``net``
    (for a network built on the meta device: no time spent initialising weights that
    are overwritten anyway); floating-point ones are made float32 first."""
    state = fit_state_dict(net, state)
    if assign:
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    want = net.state_dict()
    what = spec.describe()
    missing = [k for k in want if k not in state]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise InputError(f"lacks {missing[0]}{more} for a {what}")
    unexpected = [k for k in state if k not in want]
    if unexpected:
        more = f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""
        raise InputError(f"has {unexpected[0]}{more}, which a {what} does not")
    for key, tensor in want.items():
        if state[key].shape != tensor.shape:
            raise InputError(f"{key} is {_dims(state[key].shape)} where a {what} has "
                             f"{_dims(tensor.shape)}")
    try:
        net.load_state_dict(state, strict=True, assign=assign)
    except RuntimeError as e:  # dtype trouble and the like; shapes were checked above
        raise InputError(f"does not load into a {what} ({str(e).splitlines()[0][:160]})"
                         ) from e


def _read(path: Path) -> tuple[Any, str]:
    if not path.is_file():
        raise InputError(f"{path}: no such generator file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or type(e).__name__})") from e
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds (RuntimeError, UnpicklingError, ...)
        raise InputError(f"{path}: not a readable checkpoint ({type(e).__name__})") from e
    return obj, hashlib.sha256(data).hexdigest()


def _streamgan(path: Path, data: Mapping[str, Any]) -> tuple[GeneratorSpec, Any, dict[str,
                                                                                       Any]]:
    fmt = data.get("format")
    if fmt == "streamgan-vgan":
        raise InputError(f"{path}: a streamgan video GAN checkpoint (for streamgan "
                         "generate), not a translation generator")
    if fmt != FORMAT:
        raise InputError(f"{path}: a {str(fmt)[:40]!r} checkpoint, not a streamgan "
                         "translation generator")
    try:
        version = int(data.get("version", 0))
    except (TypeError, ValueError) as e:
        raise InputError(f"{path}: damaged checkpoint (version {data.get('version')!r})"
                         ) from e
    if version > VERSION:
        raise InputError(f"{path}: checkpoint version {version} is newer than this "
                         "streamgan reads; upgrade streamgan")
    network = data.get("network")
    if not isinstance(network, Mapping) or network.get("kind") not in KINDS:
        raise InputError(f"{path}: damaged checkpoint (no known network kind)")
    options = {k: v for k, v in network.items() if k != "kind"}
    extra = data.get("extra")
    return (GeneratorSpec(str(network["kind"]), options), data.get("generator"),
            dict(extra) if isinstance(extra, Mapping) else {})


def load_generator(path: Path, device: str | torch.device = "cpu") -> LoadedGenerator:
    """The generator in ``path`` (any of the three sources), ready for inference on
    ``device``, or an :class:`InputError` saying in one line what is wrong."""
    path = Path(path)
    obj, sha = _read(path)
    try:
        if isinstance(obj, Mapping) and "format" in obj:
            spec, weights, extra = _streamgan(path, obj)
            state = unwrap_state_dict(weights)
            source = SOURCE_STREAMGAN
        else:
            state = unwrap_state_dict(obj)
            spec, extra = detect(state), {}
            source = SOURCE_FAST_STYLE if spec.kind == "transformer" else SOURCE_CYCLEGAN
        try:
            with torch.device("meta"):
                net = build_generator(spec)
        except (TypeError, ValueError) as e:
            raise InputError(f"bad network options ({str(e).splitlines()[0][:120]})") from e
        load_weights(net, state, spec, assign=True)
    except InputError as e:
        message = str(e)
        raise InputError(message if message.startswith(f"{path}:") else f"{path}: {message}"
                         ) from e
    net.eval()
    set_per_sample_norm(net, True)
    net.to(device)
    log.info("loaded %s from %s (%s, sha256 %s)", spec.describe(), path, source, sha[:12])
    return LoadedGenerator(net=net, spec=spec, source=source, name=path.stem, extra=extra,
                           sha256=sha)
