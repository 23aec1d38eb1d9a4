"""An fsgan model: its networks, optimisers and one training step, as the shared
training loop (:mod:`streamgan.train.loop`) drives it, and the averaged generator
inference uses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from streamgan.engines.fsgan.data import Batch
from streamgan.engines.fsgan.heatmaps import GROUPS
from streamgan.engines.fsgan.losses import (
    feature_matching,
    laplacian_loss,
    ms_ssim_loss,
    poisson_blend_loss,
)
from streamgan.engines.fsgan.networks import (
    MultiscaleDiscriminator,
    Refined,
    RefineGenerator,
    heads,
)
from streamgan.engines.fsgan.options import FsganOptions
from streamgan.train.distributed import World, replicate
from streamgan.train.ema import average_copy, update_average
from streamgan.train.schedule import linear_decay
from streamgan.translate.losses import GanLoss

log = logging.getLogger(__name__)

Nets = dict[str, nn.Module]


def blended(out: Refined, warped: Tensor) -> Tensor:
    """The crop as the engine pastes it: the refined face inside ``seg``, the warp
    around it."""
    return out.seg * out.fused + (1 - out.seg) * warped


class FsganModel:
    """Generator (and, to train, discriminators and optimisers) of one fsgan model."""

    def __init__(self, options: FsganOptions, device: torch.device | str = "cpu",
                 train: bool = True, total_steps: int = 1) -> None:
        self.options = options
        self.device = torch.device(device)
        self.total_steps = max(1, total_steps)
        self.step = 0
        self.generator = RefineGenerator(options).to(self.device)
        self.ema = average_copy(self.generator)
        self._infer: Callable[[Tensor], Tensor] = self.ema
        self.discriminator: nn.Module | None = None
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.gan = GanLoss("lsgan")
        if not train:
            return
        betas = (options.beta1, 0.999)
        self.optimizers["G"] = torch.optim.Adam(self.generator.parameters(), options.lr,
                                                betas=betas)
        if options.lambda_gan > 0:
            self.discriminator = MultiscaleDiscriminator(
                options, 3 + len(GROUPS)).to(self.device)
            self.optimizers["D"] = torch.optim.Adam(self.discriminator.parameters(),
                                                    options.lr, betas=betas)

    # -- what the training loop calls ------------------------------------------------

    def replicate(self, world: World, device: torch.device) -> Nets:
        nets = {"G": replicate(self.generator, world, device)}
        if self.discriminator is not None:
            nets["D"] = replicate(self.discriminator, world, device)
        return nets

    def train_step(self, batch: Batch, nets: Nets) -> dict[str, float]:
        rate = linear_decay(self.options.lr, self.step, self.total_steps,
                            self.options.decay_from)
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = rate
        losses = self.optimize(batch.to(self.device), nets)
        update_average([(self.ema, self.generator)], self.step, self.options.ema)
        self.step += 1
        return losses

    def optimize(self, b: Batch, nets: Nets) -> dict[str, float]:
        """One discriminator and one generator update."""
        o = self.options
        out = heads(nets["G"](b.inputs), b.warped)
        final = blended(out, b.warped)
        losses: dict[str, Tensor] = {}
        if "D" in nets:
            d = nets["D"]
            fake_scores = d(torch.cat([final.detach(), b.heat], 1))
            real_scores = d(torch.cat([b.real, b.heat], 1))
            loss_d = 0.5 * sum((self.gan(f[-1], False) + self.gan(r[-1], True)
                                for f, r in zip(fake_scores, real_scores, strict=True)),
                               torch.zeros((), device=self.device))
            self.optimizers["D"].zero_grad(set_to_none=True)
            torch.autograd.backward(loss_d)
            self.optimizers["D"].step()
            losses["D"] = loss_d
        losses["l1"] = (out.fused - b.real).abs().mean() + (final - b.real).abs().mean()
        losses["ssim"] = ms_ssim_loss(out.fused, b.real)
        losses["laplacian"] = laplacian_loss(out.fused, b.real)
        losses["seg"] = F.binary_cross_entropy(out.seg.clamp(1e-4, 1 - 1e-4), b.face)
        # The blending loss trains the mask alone: through the face it would ask for a
        # face that departs from the warp by 1/seg times what it did (a loop that grows).
        face = out.fused.detach()
        losses["blend"] = poisson_blend_loss(out.seg * face + (1 - out.seg) * b.warped, face,
                                             b.warped, b.face)
        total = (o.lambda_l1 * losses["l1"] + o.lambda_ssim * losses["ssim"]
                 + o.lambda_laplacian * losses["laplacian"] + o.lambda_seg * losses["seg"]
                 + o.lambda_blend * losses["blend"])
        if "D" in nets:
            d = nets["D"]
            for p in d.parameters():
                p.requires_grad_(False)
            fake_scores = d(torch.cat([final, b.heat], 1))
            with torch.no_grad():
                real_scores = d(torch.cat([b.real, b.heat], 1))
            for p in d.parameters():
                p.requires_grad_(True)
            losses["gan"] = sum((self.gan(f[-1], True) for f in fake_scores),
                                torch.zeros((), device=self.device)) / len(fake_scores)
            losses["fm"] = feature_matching(fake_scores, real_scores)
            total = total + o.lambda_gan * losses["gan"] + o.lambda_fm * losses["fm"]
        self.optimizers["G"].zero_grad(set_to_none=True)
        torch.autograd.backward(total)
        self.optimizers["G"].step()
        return {k: float(v.detach()) for k, v in losses.items()}

    # -- inference -------------------------------------------------------------------

    @torch.no_grad()
    def refine(self, inputs: Tensor, warped: Tensor) -> Refined:
        """The averaged generator's heads for a batch of network inputs."""
        inputs = inputs.to(self.device)
        try:
            raw = self._infer(inputs)
        except Exception as error:  # any compiler failure: run plainly
            if not self.compiled:
                raise
            root: BaseException = error
            while True:  # the compiler's own error, not dynamo's wrapper of it
                inner = getattr(root, "inner_exception", None) or root.__cause__
                if not isinstance(inner, BaseException):
                    break
                root = inner
            reason = (str(root).strip().splitlines() or [""])[0]
            log.warning("torch.compile failed (%s: %s); the fsgan network runs uncompiled",
                        type(root).__name__, reason[:200])
            self._infer = self.ema
            raw = self.ema(inputs)
        return heads(raw, warped.to(self.device))

    def compile(self, backend: str | Callable[..., Any] = "inductor") -> None:
        """Compile the averaged generator for :meth:`refine`, once per input shape
        (``fullgraph``: a graph break is an error, not a silent slow path). The compile
        happens at the first call; if it fails there, the network runs uncompiled."""
        self._infer = torch.compile(self.ema, backend=backend, dynamic=False, fullgraph=True)

    @property
    def compiled(self) -> bool:
        return self._infer is not self.ema

    # -- state -----------------------------------------------------------------------

    def state(self, training: bool = True) -> dict[str, Any]:
        state: dict[str, Any] = {"options": self.options.to_dict(), "step": self.step,
                                 "ema": self.ema.state_dict()}
        if training:
            nets: dict[str, Any] = {"G": self.generator.state_dict()}
            if self.discriminator is not None:
                nets["D"] = self.discriminator.state_dict()
            state["nets"] = nets
            state["optimizers"] = {k: v.state_dict() for k, v in self.optimizers.items()}
        return state

    def load(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.ema.load_state_dict(state["ema"])
        nets = state.get("nets", {})
        if "G" in nets:
            self.generator.load_state_dict(nets["G"])
        if self.discriminator is not None and "D" in nets:
            self.discriminator.load_state_dict(nets["D"])
        for name, optimizer in self.optimizers.items():
            if name in state.get("optimizers", {}):
                optimizer.load_state_dict(state["optimizers"][name])
