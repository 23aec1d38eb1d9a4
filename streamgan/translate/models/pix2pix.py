"""pix2pix (Isola et al. 2017): paired translation, a conditional PatchGAN and L1.

The discriminator judges (input, output) pairs, so the output must fit its input,
not only look real; L1 to the paired target carries the low frequencies.
"""

from __future__ import annotations

import torch
from torch import Tensor

from streamgan.train.distributed import no_sync
from streamgan.translate.losses import stability_loss
from streamgan.translate.models.base import Nets, TranslationModel


class Pix2Pix(TranslationModel):
    name = "pix2pix"

    def build_networks(self, train: bool) -> None:
        self.generators["G"] = self.new_generator()
        if train:
            self.discriminators["D"] = self.new_discriminator(6)

    def optimize(self, batch: tuple[Tensor, Tensor], nets: Nets) -> dict[str, float]:
        a, b = batch
        g, d = nets["G"], nets["D"]
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        fake = g(a)
        opt_d.zero_grad(set_to_none=True)
        d_fake = self.gan(d(torch.cat([a, fake.detach()], 1)), False)
        d_real = self.gan(d(torch.cat([a, b], 1)), True)
        torch.autograd.backward(0.5 * (d_fake + d_real))
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        with no_sync(d):  # the discriminator's gradients here are thrown away
            adversarial = self.gan(d(torch.cat([a, fake], 1)), True)
            l1 = (fake - b).abs().mean()
            loss = adversarial + self.options.lambda_l1 * l1
            stable = torch.zeros((), device=a.device)
            if self.options.lambda_temporal > 0:
                stable = stability_loss(g, a, fake)
                loss = loss + self.options.lambda_temporal * stable
            torch.autograd.backward(loss)
        opt_g.step()
        self.discriminators["D"].zero_grad(set_to_none=True)
        return {"d_real": d_real.item(), "d_fake": d_fake.item(), "g_gan": adversarial.item(),
                "g_l1": l1.item(), "g_stable": stable.item()}
