"""Behaviour cloning with parameter sharing; one forward per decision.

Continuous: a deterministic regressor trained with MSE by default (the
policy's mean; on noiseless expert data a learned-variance Gaussian NLL gives
up on the large, hard first moves and caps the score, see ALGORITHM.md), or
``loss="beta_nll"`` (NLL weighted by stopgrad(var^beta), Seitzer et al. 2022)
or ``loss="gaussian"`` (plain NLL). The network always outputs (mean, log_std);
``stochastic`` sampling uses the std, which only the NLL losses train.
Discrete: a masked categorical trained with cross-entropy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Algorithm, check_choice, masked_mean, opt, sanitize_avail
from .batch import Batch
from .nets import GaussianHead, PolicyHead, masked_argmax, masked_logits, masked_sample


@dataclass(frozen=True)
class BCConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of the policy (presets set them)")
    lr: float = opt(3e-3, "Adam learning rate (peak of the cosine schedule)")
    layer_norm: bool = opt(False, "LayerNorm in the policy")
    stochastic: bool = opt(False, "sample at execution instead of taking the mean / the most likely action")
    loss: str = opt("mse", "continuous actions: 'mse' (default), 'beta_nll' or 'gaussian' (learned-variance NLL)")
    beta: float = opt(0.5, "beta of the beta-NLL loss (0: plain NLL, 1: MSE-like gradients for the mean)")

    def __post_init__(self):
        check_choice(self, "loss", ("mse", "beta_nll", "gaussian"))
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"BCConfig.beta must be in [0, 1], got {self.beta}")


class BC(Algorithm):
    name = "bc"
    Config = BCConfig
    exec_fields = ("stochastic",)
    act_nets = ("policy",)

    def build(self):
        s, c = self.spec, self.config
        if s.discrete:
            return {"policy": PolicyHead(s, s.action_dim, c.hidden, c.layer_norm)}
        return {"policy": GaussianHead(s, c.hidden, c.layer_norm)}

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
        mse = masked_mean(((mean.clamp(-1, 1) - b.actions) ** 2).mean(-1), w)
        if self.config.loss == "mse":
            loss = masked_mean(((mean - b.actions) ** 2).mean(-1), w)
            return loss, {"actor/loss": loss, "actor/mse": mse}
        nll = 0.5 * ((b.actions - mean) / log_std.exp()) ** 2 + log_std + 0.5 * math.log(2 * math.pi)
        if self.config.loss == "beta_nll":
            nll = nll * (2 * log_std).exp().detach() ** self.config.beta
        loss = masked_mean(nll.sum(-1), w)
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
