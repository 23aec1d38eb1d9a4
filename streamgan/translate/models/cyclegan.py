"""CycleGAN (Zhu et al. 2017): unpaired translation between two domains.

Two generators (A to B, B to A) and two PatchGANs, least-squares adversarial losses,
cycle consistency (A to B to A gives A back), an identity loss (a B image given to
the A-to-B generator stays as it is), and image pools for the discriminators.
"""

from __future__ import annotations

import torch
from torch import Tensor

from streamgan.train.distributed import no_sync
from streamgan.translate.losses import ImagePool, stability_loss
from streamgan.translate.models.base import Nets, TranslationModel
from streamgan.translate.options import ModelOptions


class CycleGan(TranslationModel):
    name = "cyclegan"
    exported = "G_A"

    def __init__(self, options: ModelOptions, device: torch.device | str = "cpu",
                 train: bool = True, total_steps: int = 1) -> None:
        super().__init__(options, device, train, total_steps)
        self.pool_a = ImagePool(options.pool_size, seed=1)
        self.pool_b = ImagePool(options.pool_size, seed=2)

    def build_networks(self, train: bool) -> None:
        self.generators["G_A"] = self.new_generator()  # A -> B
        if train:
            self.generators["G_B"] = self.new_generator()  # B -> A
            self.discriminators["D_A"] = self.new_discriminator(3)  # judges fake B
            self.discriminators["D_B"] = self.new_discriminator(3)  # judges fake A

    def optimize(self, batch: tuple[Tensor, Tensor], nets: Nets) -> dict[str, float]:
        a, b = batch
        o = self.options
        g_a, g_b, d_a, d_b = nets["G_A"], nets["G_B"], nets["D_A"], nets["D_B"]
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        fake_b, fake_a = g_a(a), g_b(b)
        opt_g.zero_grad(set_to_none=True)
        with no_sync(d_a), no_sync(d_b):  # the discriminators' gradients are thrown away
            gan_a = self.gan(d_a(fake_b), True)
            gan_b = self.gan(d_b(fake_a), True)
            cycle_a = (g_b(fake_b) - a).abs().mean()
            cycle_b = (g_a(fake_a) - b).abs().mean()
            loss = gan_a + gan_b + o.lambda_cycle * (cycle_a + cycle_b)
            identity = torch.zeros((), device=a.device)
            if o.lambda_identity > 0:
                identity = (g_a(b) - b).abs().mean() + (g_b(a) - a).abs().mean()
                loss = loss + o.lambda_cycle * o.lambda_identity * identity
            stable = torch.zeros((), device=a.device)
            if o.lambda_temporal > 0:
                stable = stability_loss(g_a, a, fake_b)
                loss = loss + o.lambda_temporal * stable
            torch.autograd.backward(loss)
        opt_g.step()
        opt_d.zero_grad(set_to_none=True)
        pooled_b, pooled_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        d_loss_a = 0.5 * (self.gan(d_a(b), True) + self.gan(d_a(pooled_b), False))
        d_loss_b = 0.5 * (self.gan(d_b(a), True) + self.gan(d_b(pooled_a), False))
        torch.autograd.backward(d_loss_a + d_loss_b)
        opt_d.step()
        return {"d_a": d_loss_a.item(), "d_b": d_loss_b.item(), "g_a": gan_a.item(),
                "g_b": gan_b.item(), "cycle": (cycle_a + cycle_b).item(),
                "identity": identity.item(), "g_stable": stable.item()}
