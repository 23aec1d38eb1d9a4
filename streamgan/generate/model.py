"""The video GAN as one trainable model: networks, losses and the optimisation step.

Like pytorch-CycleGAN-and-pix2pix's models, a model owns its networks and optimisers
and exposes one ``train_step`` (used by the trainer on one or many processes) and
``sample`` (used by ``generate``); distribution is the trainer's business, passed in
as wrapped modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from streamgan.generate.networks import Discriminator, Encoder, Generator, init_weights
from streamgan.generate.options import VganOptions
from streamgan.train.distributed import World, no_sync, replicate
from streamgan.train.ema import average_copy, update_average


@dataclass(frozen=True)
class OptimOptions:
    """Adam as in the paper (2e-4, beta1 0.5); EMA of the generator for sampling."""

    lr: float = 2e-4
    beta1: float = 0.5
    ema: float = 0.999


@dataclass(frozen=True)
class Sample:
    """A batch of generated clips and the layers they were composed from."""

    video: Tensor
    foreground: Tensor
    mask: Tensor
    background: Tensor


class VideoGan:
    """Generator, discriminator (and encoder, when conditional) with their optimisers."""

    def __init__(self, options: VganOptions, optim: OptimOptions | None = None,
                 device: torch.device | str = "cpu", train: bool = True) -> None:
        self.options = options
        self.optim = optim or OptimOptions()
        self.device = torch.device(device)
        self.generator = Generator(options).to(self.device)
        self.encoder = Encoder(options).to(self.device) if options.conditional else None
        self.generator.apply(init_weights)
        if self.encoder is not None:
            self.encoder.apply(init_weights)
        self.ema = average_copy(self.generator)
        self.ema_encoder = average_copy(self.encoder) if self.encoder is not None else None
        self.discriminator: Discriminator | None = None
        self.opt_g: torch.optim.Optimizer | None = None
        self.opt_d: torch.optim.Optimizer | None = None
        self.step = 0
        if train:
            self.discriminator = Discriminator(options).to(self.device)
            self.discriminator.apply(init_weights)
            betas = (self.optim.beta1, 0.999)
            g_params = list(self.generator.parameters())
            if self.encoder is not None:
                g_params += list(self.encoder.parameters())
            self.opt_g = torch.optim.Adam(g_params, self.optim.lr, betas=betas)
            self.opt_d = torch.optim.Adam(self.discriminator.parameters(), self.optim.lr,
                                          betas=betas)

    # -- training ------------------------------------------------------------------

    def replicate(self, world: World, device: torch.device
                  ) -> tuple[nn.Module, nn.Module, nn.Module | None]:
        """The networks as the step should call them: DDP replicas when distributed.
        Each discriminator replica keeps its own BatchNorm statistics (real and fake
        batches pass separately)."""
        assert self.discriminator is not None
        e = replicate(self.encoder, world, device) if self.encoder is not None else None
        return (replicate(self.generator, world, device),
                replicate(self.discriminator, world, device, own_buffers=True), e)

    def train_step(self, real: Tensor, nets: tuple[nn.Module, nn.Module, nn.Module | None]
                   | None = None) -> dict[str, float]:
        """One discriminator and one generator update on ``real`` (N, C, T, H, W)."""
        g, d, e = nets if nets is not None else (None, None, None)
        return self.step_with(real, g, d, e)

    def step_with(self, real: Tensor, generator: nn.Module | None = None,
                  discriminator: nn.Module | None = None,
                  encoder: nn.Module | None = None) -> dict[str, float]:
        """One discriminator and one generator update on ``real`` (N, C, T, H, W).

        The module arguments are this model's networks or their DDP wrappers; real and
        fake batches go through the discriminator separately (its BatchNorm sees one
        kind at a time), with gradient sync only on the second backward."""
        g = generator or self.generator
        d = discriminator or self.discriminator
        e = encoder or self.encoder
        assert d is not None
        real = real.to(self.device, non_blocking=True)
        n = real.shape[0]
        if self.options.conditional:
            assert e is not None
            z = e(real[:, :, 0])
        else:
            z = torch.randn(n, self.options.z_dim, device=self.device)
        fake, _, mask, _ = g(z)
        loss_real, loss_fake = self.discriminator_step(real, fake.detach(), d)
        losses = self.generator_step(real, fake, mask, d)
        self.update_ema()
        self.step += 1
        return {"d_real": loss_real, "d_fake": loss_fake, **losses}

    def discriminator_step(self, real: Tensor, fake: Tensor, d: nn.Module) -> tuple[float,
                                                                                  float]:
        """One update of the discriminator ``d`` (plain or DDP) on real and fake clips."""
        assert self.opt_d is not None
        self.opt_d.zero_grad(set_to_none=True)
        with no_sync(d):
            loss_real = F.softplus(-d(real)).mean()
            torch.autograd.backward(loss_real)
        loss_fake = F.softplus(d(fake)).mean()
        torch.autograd.backward(loss_fake)
        self.opt_d.step()
        return loss_real.item(), loss_fake.item()

    def generator_step(self, real: Tensor, fake: Tensor, mask: Tensor,
                       d: nn.Module) -> dict[str, float]:
        """One update of the generator (and encoder) through the judgement of ``d``."""
        assert self.opt_g is not None and self.discriminator is not None
        self.opt_g.zero_grad(set_to_none=True)
        with no_sync(d):  # the discriminator's gradients here are thrown away
            adversarial = F.softplus(-d(fake)).mean()
            mask_l1 = mask.abs().mean()
            loss_g = adversarial + self.options.mask_l1 * mask_l1
            first = torch.zeros((), device=fake.device)
            if self.options.conditional:
                first = (fake[:, :, 0] - real[:, :, 0]).abs().mean()
                loss_g = loss_g + self.options.first_frame_l1 * first
            torch.autograd.backward(loss_g)
        self.opt_g.step()
        self.discriminator.zero_grad(set_to_none=True)
        return {"g_adv": adversarial.item(), "mask": mask_l1.item(), "first_l1": first.item()}

    @torch.no_grad()
    def update_ema(self) -> None:
        """Move the sampling copies a step towards the trained networks."""
        pairs: list[tuple[nn.Module, nn.Module]] = [(self.ema, self.generator)]
        if self.ema_encoder is not None and self.encoder is not None:
            pairs.append((self.ema_encoder, self.encoder))
        update_average(pairs, self.step, self.optim.ema)

    # -- sampling ------------------------------------------------------------------

    @torch.no_grad()
    def sample(self, z: Tensor) -> Sample:
        """Clips for latent codes ``z`` (N, z_dim), from the averaged generator."""
        video, foreground, mask, background = self.ema(z.to(self.device))
        return Sample(video, foreground, mask, background)

    @torch.no_grad()
    def encode(self, image: Tensor) -> Tensor:
        """Latent code of still ``image`` (N, C, H, W) in [-1, 1] (conditional models)."""
        if self.ema_encoder is None:
            raise ValueError("this model was trained without an encoder (not conditional)")
        return torch.as_tensor(self.ema_encoder(image.to(self.device)))

    # -- state -----------------------------------------------------------------------

    def state(self, training: bool = True) -> dict[str, Any]:
        """Everything needed to sample (and, with ``training``, to resume)."""
        state: dict[str, Any] = {"options": self.options.to_dict(), "step": self.step,
                                 "ema": self.ema.state_dict()}
        if self.ema_encoder is not None:
            state["ema_encoder"] = self.ema_encoder.state_dict()
        if training:
            assert self.discriminator is not None and self.opt_g and self.opt_d
            state.update(generator=self.generator.state_dict(),
                         discriminator=self.discriminator.state_dict(),
                         opt_g=self.opt_g.state_dict(), opt_d=self.opt_d.state_dict(),
                         optim=self.optim.__dict__)
            if self.encoder is not None:
                state["encoder"] = self.encoder.state_dict()
        return state

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`; training parts only when both sides have them."""
        self.step = int(state["step"])
        self.ema.load_state_dict(state["ema"])
        if self.ema_encoder is not None:
            self.ema_encoder.load_state_dict(state["ema_encoder"])
        if "generator" in state:
            self.generator.load_state_dict(state["generator"])
            if self.encoder is not None:
                self.encoder.load_state_dict(state["encoder"])
        else:
            self.generator.load_state_dict(state["ema"])
        if self.discriminator is not None and "discriminator" in state:
            assert self.opt_g is not None and self.opt_d is not None
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])

