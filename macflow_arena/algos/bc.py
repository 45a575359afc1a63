"""Behaviour cloning with parameter sharing; one forward per decision.

Continuous: a deterministic regressor trained with MSE by default (the
policy's mean; on noiseless expert data a learned-variance Gaussian NLL gives
up on the large, hard first moves and caps the score, see ALGORITHM.md), or
``loss="l1"`` (the per-dimension median), or
``loss="beta_nll"`` (NLL weighted by stopgrad(var^beta), Seitzer et al. 2022)
or ``loss="gaussian"`` (plain NLL). The network always outputs (mean, log_std);
``stochastic`` sampling uses the std, which only the NLL losses train.
Discrete: a masked categorical trained with cross-entropy.

``memory="gru"`` (the recurrent option, ``algos/recurrent.py``): the policy reads the
agent's own observation history through a GRU; it trains on windows (``train
--sampling windows``) and keeps one state per agent between ``act`` calls, reset at
each episode's start (``reset_memory``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import EMA_HELP, Algorithm, check_choice, check_ema, masked_mean, opt, sanitize_avail
from .batch import Batch
from .nets import GaussianHead, PolicyHead, masked_argmax, masked_logits, masked_sample
from .recurrent import MEMORIES, RecurrentHead


@dataclass(frozen=True)
class BCConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of the policy (presets set them)")
    lr: float = opt(3e-3, "Adam learning rate (peak of the cosine schedule)")
    layer_norm: bool = opt(False, "LayerNorm in the policy")
    stochastic: bool = opt(False, "sample at execution instead of taking the mean / the most likely action")
    loss: str = opt("mse", "continuous actions: 'mse' (default: the conditional mean), 'l1' (the per-dimension "
                           "median: on epsilon-random data the expert's action, which the mean shrinks), "
                           "'beta_nll' or 'gaussian' (learned-variance NLL)")
    beta: float = opt(0.5, "beta of the beta-NLL loss (0: plain NLL, 1: MSE-like gradients for the mean)")
    memory: str = opt("none", "'none': feed-forward (default); 'gru': a GRU over the agent's own observation "
                              "history (train with --sampling windows; the state resets at each episode start)")
    ema: float = opt(0.0, EMA_HELP)

    def __post_init__(self):
        check_choice(self, "loss", ("mse", "l1", "beta_nll", "gaussian"))
        check_choice(self, "memory", MEMORIES)
        check_ema(self)
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"BCConfig.beta must be in [0, 1], got {self.beta}")


class BC(Algorithm):
    name = "bc"
    Config = BCConfig
    exec_fields = ("stochastic",)
    act_nets = ("policy",)

    @property
    def recurrent(self) -> bool:
        return self.config.memory != "none"

    def build(self):
        s, c = self.spec, self.config
        if c.memory == "gru":
            return {"policy": RecurrentHead(s, c.hidden, s.action_dim * (1 if s.discrete else 2), c.layer_norm)}
        if s.discrete:
            return {"policy": PolicyHead(s, s.action_dim, c.hidden, c.layer_norm)}
        return {"policy": GaussianHead(s, c.hidden, c.layer_norm)}

    def _policy(self, o: Tensor, mask: Tensor | None = None):
        """The policy's output on ``o`` (a window [B, T, N, D+N] with its ``mask`` for the recurrent
        option): logits, or (mean, log_std)."""
        if self.recurrent:
            out = self.nets["policy"](o, mask)
            return self._heads(out)
        return self.nets["policy"](o)

    def losses(self, b: Batch):
        o = self.with_id(b.obs[:, :-1])
        w = b.mask[..., None] * b.alive[:, :-1]
        if self.spec.discrete:
            logits = masked_logits(self._policy(o, b.mask), sanitize_avail(b.avail[:, :-1]))
            ce = F.cross_entropy(logits.flatten(0, -2), b.actions.flatten(), reduction="none").view(b.actions.shape)
            loss = masked_mean(ce, w)
            acc = masked_mean((logits.argmax(-1) == b.actions).float(), w)
            return loss, {"actor/ce": loss, "actor/accuracy": acc}
        mean, log_std = self._policy(o, b.mask)
        mse = masked_mean(((mean.clamp(-1, 1) - b.actions) ** 2).mean(-1), w)
        if self.config.loss in ("mse", "l1"):
            err = mean - b.actions
            loss = masked_mean((err ** 2 if self.config.loss == "mse" else err.abs()).mean(-1), w)
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
        out = self._act_step(o) if self.recurrent else self.act_module("policy")(o)
        if self.spec.discrete:
            logits = out
            return masked_sample(logits, avail, generator) if self.config.stochastic else masked_argmax(logits, avail)
        mean, log_std = out
        if self.config.stochastic:
            mean = mean + log_std.exp() * torch.randn(mean.shape, generator=generator, device=self.device)
        return mean.clamp(-1, 1)

    # -- the recurrent option's state at execution ------------------------------------------
    _h: Tensor | None = None

    def reset_memory(self) -> None:
        self._h = None

    def _act_step(self, o: Tensor):
        """One step of the recurrent policy; the state restarts at zero after ``reset_memory`` or
        when the batch's shape changes."""
        net = self.act_module("policy")
        if self._h is None or self._h.shape[:-1] != o.shape[:-1]:
            self._h = net.initial_state(o.shape[:-1], o.device)
        out, self._h = net.step(o, self._h)
        return self._heads(out)

    def _heads(self, out: Tensor):
        """The recurrent policy's raw output as ``GaussianHead`` gives it: logits, or (mean, log_std)."""
        if self.spec.discrete:
            return out
        a = self.spec.action_dim
        return out[..., :a], out[..., a:].clamp(-5.0, 2.0)
