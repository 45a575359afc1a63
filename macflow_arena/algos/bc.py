"""Behaviour cloning: a diagonal Gaussian (continuous) or a masked categorical
(discrete) per-agent policy with parameter sharing; one forward per decision."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Algorithm, masked_mean, opt, sanitize_avail
from .batch import Batch
from .nets import CategoricalHead, GaussianHead, masked_argmax, masked_logits, masked_sample


@dataclass(frozen=True)
class BCConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of the policy (presets set them)")
    lr: float = opt(3e-4, "Adam learning rate")
    layer_norm: bool = opt(False, "LayerNorm in the policy")
    stochastic: bool = opt(False, "sample at execution instead of taking the mean / the most likely action")


class BC(Algorithm):
    name = "bc"
    Config = BCConfig
    exec_fields = ("stochastic",)
    act_nets = ("policy",)

    def build(self):
        s, c = self.spec, self.config
        obs_in = s.obs_dim + s.n_agents
        head = CategoricalHead if s.discrete else GaussianHead
        return {"policy": head(obs_in, s.action_dim, c.hidden, c.layer_norm)}

    def losses(self, b: Batch):
        o = self.with_id(b.obs[:, :-1])
        w = b.mask[..., None] * b.alive[:, :-1]
        if self.spec.discrete:
            logits = masked_logits(self.nets["policy"](o), sanitize_avail(b.avail[:, :-1]))
            ce = F.cross_entropy(logits.flatten(0, -2), b.actions.flatten(), reduction="none").view(b.actions.shape)
            loss = masked_mean(ce, w)
            acc = masked_mean((logits.argmax(-1) == b.actions).float(), w)
            return loss, {"actor/ce": loss, "actor/accuracy": acc}
        mean, log_std = self.nets["policy"](o)
        nll = (0.5 * ((b.actions - mean) / log_std.exp()) ** 2 + log_std + 0.5 * math.log(2 * math.pi)).sum(-1)
        loss = masked_mean(nll, w)
        mse = masked_mean(((mean.clamp(-1, 1) - b.actions) ** 2).mean(-1), w)
        return loss, {"actor/nll": loss, "actor/mse": mse}

    @torch.inference_mode()
    def act(self, obs, generator: torch.Generator, avail=None) -> Tensor:
        obs = self._obs_in(obs)
        avail = self._avail_in(avail, obs)
        o = self.with_id(obs)
        if self.spec.discrete:
            logits = self.nets["policy"](o)
            return masked_sample(logits, avail, generator) if self.config.stochastic else masked_argmax(logits, avail)
        mean, log_std = self.nets["policy"](o)
        if self.config.stochastic:
            mean = mean + log_std.exp() * torch.randn(mean.shape, generator=generator, device=self.device)
        return mean.clamp(-1, 1)
