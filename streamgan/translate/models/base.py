"""The small base every translation model implements, as in pytorch-CycleGAN-and-pix2pix:
a model owns its networks and optimisers and says how one step optimises them.

The base does what is the same for every model: the learning-rate schedule, the
moving average of the generator that inference uses, DDP replicas, and state for
checkpoints. A new model is one file that builds its networks and writes ``optimize``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from streamgan.train.distributed import World, replicate
from streamgan.train.ema import average_copy, update_average
from streamgan.train.schedule import linear_decay
from streamgan.translate.formats import GeneratorSpec, build_generator
from streamgan.translate.losses import GanLoss
from streamgan.translate.networks import NLayerDiscriminator, init_weights
from streamgan.translate.options import ModelOptions

Nets = dict[str, nn.Module]


def generator_spec(options: ModelOptions) -> GeneratorSpec:
    """The generator ``options`` name, in the terms the checkpoint loader uses."""
    g = options.generator
    if g == "fast":
        return GeneratorSpec("fast", {"width": options.fast_width,
                                      "blocks": options.fast_blocks})
    if g.startswith("resnet_"):
        return GeneratorSpec("resnet", {"input_nc": 3, "output_nc": 3, "ngf": options.ngf,
                                        "n_blocks": int(g[7]), "norm": "instance",
                                        "use_dropout": False})
    downs = {"unet_256": 8, "unet_128": 7}[g]
    return GeneratorSpec("unet", {"input_nc": 3, "output_nc": 3, "num_downs": downs,
                                  "ngf": options.ngf, "norm": "batch", "use_dropout": True})


class TranslationModel(ABC):
    """Networks, optimisers and one optimisation step of an image-to-image model."""

    name: ClassVar[str]
    exported: ClassVar[str] = "G"
    """The network inference uses (A to B)."""

    def __init__(self, options: ModelOptions, device: torch.device | str = "cpu",
                 train: bool = True, total_steps: int = 1) -> None:
        self.options = options
        self.device = torch.device(device)
        self.total_steps = max(1, total_steps)
        self.step = 0
        self.spec = generator_spec(options)
        self.generators: Nets = {}
        self.discriminators: Nets = {}
        self.build_networks(train)
        for net in (*self.generators.values(), *self.discriminators.values()):
            net.to(self.device)
        # The papers' N(0, 0.02) start; the fast generator keeps its own, which starts
        # as the identity (its last layer is zero).
        for net in self.discriminators.values():
            init_weights(net)
        if self.spec.kind != "fast":
            for net in self.generators.values():
                init_weights(net)
        self.ema = average_copy(self.generators[self.exported])
        self.gan = GanLoss(options.gan_mode)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        if train:
            betas = (options.beta1, 0.999)
            self.optimizers["G"] = torch.optim.Adam(
                [p for g in self.generators.values() for p in g.parameters()], options.lr,
                betas=betas)
            self.optimizers["D"] = torch.optim.Adam(
                [p for d in self.discriminators.values() for p in d.parameters()],
                options.lr, betas=betas)

    def new_generator(self) -> nn.Module:
        return build_generator(self.spec)

    def new_discriminator(self, input_nc: int) -> nn.Module:
        o = self.options
        return NLayerDiscriminator(input_nc, ndf=o.ndf, n_layers=o.d_layers)

    @abstractmethod
    def build_networks(self, train: bool) -> None:
        """Fill ``generators`` (and, to train, ``discriminators``)."""

    @abstractmethod
    def optimize(self, batch: tuple[Tensor, Tensor], nets: Nets) -> dict[str, float]:
        """One discriminator and one generator update on a batch (A, B) in [-1, 1];
        ``nets`` are the networks by name, DDP replicas when distributed."""

    # -- what the training loop calls ------------------------------------------------

    def replicate(self, world: World, device: torch.device) -> Nets:
        nets = {k: replicate(g, world, device) for k, g in self.generators.items()}
        # Each discriminator replica keeps its own statistics (real and fake pass apart).
        nets.update({k: replicate(d, world, device, own_buffers=True)
                     for k, d in self.discriminators.items()})
        return nets

    def train_step(self, batch: tuple[Tensor, Tensor], nets: Nets) -> dict[str, float]:
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = self.learning_rate()
        a, b = (t.to(self.device, non_blocking=True) for t in batch)
        losses = self.optimize((a, b), nets)
        update_average([(self.ema, self.generators[self.exported])], self.step,
                       self.options.ema)
        self.step += 1
        return losses

    def learning_rate(self) -> float:
        """Constant, then linear decay to zero over the last part of the run."""
        return linear_decay(self.options.lr, self.step, self.total_steps,
                            self.options.decay_from)

    @torch.no_grad()
    def translate(self, images: Tensor) -> Tensor:
        """A to B with the averaged generator, (N, 3, H, W) in [-1, 1]."""
        return torch.as_tensor(self.ema(images.to(self.device)))

    # -- state -----------------------------------------------------------------------

    def state(self, training: bool = True) -> dict[str, Any]:
        state: dict[str, Any] = {"model": self.name, "options": self.options.to_dict(),
                                 "step": self.step, "ema": self.ema.state_dict()}
        if training:
            state["nets"] = {k: n.state_dict() for k, n in
                             {**self.generators, **self.discriminators}.items()}
            state["optimizers"] = {k: o.state_dict() for k, o in self.optimizers.items()}
        return state

    def load(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.ema.load_state_dict(state["ema"])
        nets = state.get("nets", {})
        for name, net in {**self.generators, **self.discriminators}.items():
            if name in nets:
                net.load_state_dict(nets[name])
        for name, optimizer in self.optimizers.items():
            if name in state.get("optimizers", {}):
                optimizer.load_state_dict(state["optimizers"][name])
