"""Diffusion policy with Q guidance (Diffusion-QL style): the MADiff/DoF regime.

A DDPM (cosine schedule, ``steps`` denoising steps, 100 by default) predicts
the noise of the agents' actions; execution runs the full ancestral chain (one
forward per step). ``denoiser="per_agent"`` (default) denoises each agent's
action from its own observation (decentralized, as DoF factorizes noise);
``"joint"`` attends across agents (centralized, MADiff-like).

Loss = eps-MSE + eta * Q_term + critic_TD. The Q term is Diffusion-QL's
-Q / stopgrad(mean |Q|) on an action estimate; instead of backpropagating
through the whole chain (100 steps) it uses the one-step estimate
a0 = (x_k - sqrt(1 - abar_k) eps_hat) / sqrt(abar_k) from the same forward as
the BC term (the "action approximation" of Efficient Diffusion Policies).
Critics: per-agent ensemble, mean mixing; the TD target samples a' with the
full chain (no gradient).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .base import Algorithm, check_choice, ens_agg, masked_mean, mix, opt
from .batch import Batch
from .entity import rows
from .nets import Critic, make_field


@dataclass(frozen=True)
class DiffusionConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of denoiser and critic (presets set them)")
    lr: float = opt(3e-4, "Adam learning rate")
    gamma: float | None = opt(None, "discount; None: matched to the dataset's episodes by the trainer "
                                    "(1 - 1/mean length, in [0.9, 0.995]), else 0.995 continuous / 0.99 discrete")
    n_step: int = opt(1, "critic targets: return of up to n steps from the data (stopping at the episode's end)")
    tau: float = opt(0.005, "Polyak rate of the target critic")
    steps: int = opt(100, "denoising steps (training schedule and execution)")
    denoiser: str = opt("per_agent", "'per_agent' (decentralized, DoF-like) or 'joint' (centralized, MADiff-like)")
    eta: float = opt(1.0, "weight of the normalized Q term (0: plain diffusion BC)")
    q_agg: str = opt("min", "target ensemble aggregation: 'min' (Diffusion-QL) or 'mean'")
    ensemble: int = opt(2, "critic heads per agent")
    critic_layer_norm: bool = opt(True, "LayerNorm in the critics")

    def __post_init__(self):
        check_choice(self, "denoiser", ("joint", "per_agent"))
        check_choice(self, "q_agg", ("mean", "min"))
        if self.steps < 2:
            raise ValueError("DiffusionConfig.steps must be >= 2")


def cosine_schedule(steps: int, s: float = 0.008) -> list[float]:
    """Betas of the cosine schedule (Nichol & Dhariwal), clipped at 0.999."""

    def f(t: float) -> float:
        return math.cos((t / steps + s) / (1 + s) * math.pi / 2) ** 2

    return [min(1 - f(k + 1) / f(k), 0.999) for k in range(steps)]


class Diffusion(Algorithm):
    name = "diffusion"
    Config = DiffusionConfig
    act_nets = ("denoiser",)
    discrete_ok = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        betas = cosine_schedule(self.config.steps)
        abar, p = [], 1.0
        for b in betas:
            p *= 1 - b
            abar.append(p)
        self.abar = torch.tensor(abar, device=self.device)
        prev = [1.0] + abar[:-1]
        # Posterior q(x_{k-1} | x_k, x0) = N(c0 x0 + ck x_k, var), as Python floats for the sampler.
        self._post = [
            (b * math.sqrt(ap) / (1 - a), (1 - ap) * math.sqrt(1 - b) / (1 - a), b * (1 - ap) / (1 - a), math.sqrt(a))
            for b, a, ap in zip(betas, abar, prev)
        ]

    def build(self):
        s, c = self.spec, self.config
        critic = Critic(s, c.hidden, c.ensemble, c.critic_layer_norm)
        return {
            "denoiser": make_field(c.denoiser, s, c.hidden),
            "critic": critic,
            "target_critic": copy.deepcopy(critic),
        }

    @property
    def centralized_execution(self) -> bool:
        return self.config.denoiser == "joint"

    def sample(self, o: Tensor, generator: torch.Generator) -> Tensor:
        """Full DDPM ancestral chain from N(0, I): o [..., N, D+N] -> actions [..., N, A]."""
        net, K = self.nets["denoiser"], self.config.steps
        h = net.encode(o)
        x = self.randn(*o.shape[:-1], self.spec.action_dim, generator=generator)
        for k in reversed(range(K)):
            c0, ck, var, sa = self._post[k]
            eps = net.forward_h(h, x, x.new_full((*x.shape[:-2], 1, 1), (k + 1) / K))
            x0 = ((x - math.sqrt(1 - sa * sa) * eps) / sa).clamp(-1, 1)
            x = c0 * x0 + ck * x
            if k > 0:
                x = x + math.sqrt(var) * self.randn(*x.shape, generator=generator)
        return x.clamp(-1, 1)

    @torch.no_grad()
    def td_target(self, batch: Batch) -> Tensor:
        b = self.prepare(batch)
        return self._target(b, self.with_id(b.obs[:, 1:]))

    def _target(self, b: Batch, o_n: Tensor) -> Tensor:
        c = self.config
        qn = self.nets["target_critic"](o_n, self.sample(o_n, self.gen))
        v = mix(ens_agg(qn, c.q_agg), b.alive[:, 1:], "mean")
        return b.rewards + b.bootstrap_discount(c.gamma) * (1 - b.terminated) * v

    def losses(self, b: Batch):
        s, c = self.spec, self.config
        B, T, N, A = b.B, b.T, s.n_agents, s.action_dim
        o = self.with_id(b.obs)
        o_t, alive_t = o[:, :-1], b.alive[:, :-1]
        w = b.mask[..., None] * alive_t
        with torch.no_grad():
            y = self._target(b, o[:, 1:])
        mem = self.nets["critic"].memory(o_t)  # the entity encoding, shared with the Q term
        q = mix(self.nets["critic"](o_t, b.actions, mem=mem), alive_t, "mean")
        critic_loss = masked_mean(((q - y) ** 2).mean(0), b.mask)

        k = self.randint(c.steps, B, T, N if c.denoiser == "per_agent" else 1, 1)
        ab = self.abar[k]
        eps = self.randn(B, T, N, A)
        xk = ab.sqrt() * b.actions + (1 - ab).sqrt() * eps
        eps_hat = self.nets["denoiser"](o_t, xk, (k + 1).float() / c.steps)
        bc = masked_mean(((eps_hat - eps) ** 2).mean(-1), w)
        total = critic_loss + bc
        metrics = {"critic/loss": critic_loss, "critic/q_mean": masked_mean(q.mean(0), b.mask), "actor/bc_loss": bc}
        if c.eta > 0:
            a0 = ((xk - (1 - ab).sqrt() * eps_hat) / ab.sqrt()).clamp(-1, 1)
            q_pi = mix(self.nets["critic"](o_t, a0, frozen=True, mem=rows(mem)).mean(0), alive_t, "mean")
            q_loss = -c.eta * masked_mean(q_pi, b.mask) / masked_mean(q_pi.abs(), b.mask).detach().clamp_min(1e-8)
            total = total + q_loss
            metrics.update({"actor/q_loss": q_loss, "actor/q_mean": masked_mean(q_pi, b.mask)})
        return total, metrics

    def after_step(self) -> None:
        self.polyak("critic", "target_critic", self.config.tau)

    @torch.inference_mode()
    def act(self, obs, generator: torch.Generator, avail=None) -> Tensor:
        obs = self._obs_in(obs)
        self._avail_in(avail, obs)
        return self.sample(self.with_id(obs), generator)
