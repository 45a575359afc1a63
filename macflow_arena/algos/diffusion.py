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
from typing import ClassVar

import torch
from torch import Tensor

from .base import Algorithm, check_choice, ens_agg, masked_mean, mix, opt
from .batch import Batch
from .entity import rows
from .nets import Critic, make_field


@dataclass(frozen=True)
class DiffusionConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of denoiser and critic (presets set them)")
    lr: float | None = opt(None, "Adam learning rate (None: 3e-3 with eta=0, measured on spread expert; else "
                                 "3e-4, Diffusion-QL's)")
    gamma: float | None = opt(None, "discount; None: matched to the dataset's episodes by the trainer "
                                    "(1 - 1/mean length, in [0.9, 0.995]), else 0.995 continuous / 0.99 discrete")
    n_step: int = opt(1, "critic targets: return of up to n steps from the data (stopping at the episode's end)")
    tau: float = opt(0.005, "Polyak rate of the target critic")
    steps: int = opt(100, "denoising steps (training schedule and execution)")
    denoiser: str = opt("per_agent", "'per_agent' (decentralized, DoF-like) or 'joint' (centralized, MADiff-like)")
    eta: float = opt(1.0, "weight of the normalized Q term (0: plain diffusion BC, no critic trained)")
    q_agg: str = opt("min", "target ensemble aggregation: 'min' (Diffusion-QL) or 'mean'")
    ensemble: int = opt(2, "critic heads per agent")
    critic_layer_norm: bool = opt(True, "LayerNorm in the critics")
    target: str | None = opt(None, "what the denoiser predicts: 'eps' (the noise, DDPM's) or 'x0' (the clean action); "
                                   "None: 'x0' with eta=0, else 'eps'")
    noise_ratio: float | None = opt(None, "the noise's scale against the actions': the chain diffuses actions / "
                                          "this (above 1 its steps are spent where the noise hides the action, as "
                                          "flowbc's source_std); None: 3 with eta=0, else 1")
    sampler: str = opt("ddpm", "execution only: 'ddpm' (the ancestral chain, fresh noise at every step) or 'ddim' "
                               "(the deterministic chain from the start noise)")
    exec_noise: float = opt(1.0, "execution only: scale of the start noise x_K (0 with 'ddim': the chain from the "
                                 "noise centre)")

    def __post_init__(self):
        check_choice(self, "denoiser", ("joint", "per_agent"))
        check_choice(self, "q_agg", ("mean", "min"))
        check_choice(self, "sampler", ("ddpm", "ddim"))
        if self.target is not None:
            check_choice(self, "target", ("eps", "x0"))
        if self.noise_ratio is not None and not self.noise_ratio > 0:
            raise ValueError(f"DiffusionConfig.noise_ratio must be > 0, got {self.noise_ratio}")
        if not self.exec_noise >= 0:
            raise ValueError(f"DiffusionConfig.exec_noise must be >= 0, got {self.exec_noise}")
        if self.steps < 2:
            raise ValueError("DiffusionConfig.steps must be >= 2")

    # runs saved before these fields existed were trained with these values (``saved_config``)
    SAVED_BEFORE: ClassVar[dict] = {"target": "eps", "noise_ratio": 1.0}

    def auto_fields(self) -> dict:
        """The ``None`` defaults: diffusion BC (eta=0) with the recipe that reaches BC on spread expert
        (x0 target, noise 3x the actions, lr 3e-3: 81.8 at 3,000 updates against 64.5 with DDPM's eps
        target; benchmarks/quality.md session 24); Diffusion-QL's settings with its Q term."""
        bc = self.eta == 0
        return {"lr": 3e-3 if bc else 3e-4, "target": "x0" if bc else "eps", "noise_ratio": 3.0 if bc else 1.0}


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
    exec_fields = ("sampler", "exec_noise")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        betas = cosine_schedule(self.config.steps)
        abar, p = [], 1.0
        for b in betas:
            p *= 1 - b
            abar.append(p)
        self.abar = torch.tensor(abar, device=self.device)
        self._abar = abar  # the same as floats: the sampler reads no device value (a sync, and no CUDA graph)
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
        if self.config.exec_noise != 1.0:
            x = x * self.config.exec_noise
        ddim, lim = self.config.sampler == "ddim", 1 / self.config.noise_ratio
        for k in reversed(range(K)):
            c0, ck, var, sa = self._post[k]
            out = net.forward_h(h, x, x.new_full((*x.shape[:-2], 1, 1), (k + 1) / K))
            if self.config.target == "x0":
                x0 = out.clamp(-lim, lim)
                eps = (x - sa * x0) / math.sqrt(1 - sa * sa)
            else:
                eps = out
                x0 = ((x - math.sqrt(1 - sa * sa) * eps) / sa).clamp(-lim, lim)
            if ddim:  # x_{k-1} = sqrt(abar_{k-1}) x0 + sqrt(1 - abar_{k-1}) eps, no fresh noise
                ap = self._abar[k - 1] if k > 0 else 1.0
                x = math.sqrt(ap) * x0 + math.sqrt(1 - ap) * eps
                continue
            x = c0 * x0 + ck * x
            if k > 0:
                x = x + math.sqrt(var) * self.randn(*x.shape, generator=generator)
        return (x * self.config.noise_ratio).clamp(-1, 1)

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
        metrics = {}
        if c.eta > 0:
            with torch.no_grad():
                y = self._target(b, o[:, 1:])
            mem = self.nets["critic"].memory(o_t)  # the entity encoding, shared with the Q term
            q = mix(self.nets["critic"](o_t, b.actions, mem=mem), alive_t, "mean")
            critic_loss = masked_mean(((q - y) ** 2).mean(0), b.mask)
            metrics = {"critic/loss": critic_loss, "critic/q_mean": masked_mean(q.mean(0), b.mask)}
        else:  # plain diffusion BC: nothing reads the critic, so it is not trained (nor its chain run)
            critic_loss = o_t.new_zeros(())

        k = self.randint(c.steps, B, T, N if c.denoiser == "per_agent" else 1, 1)
        ab = self.abar[k]
        eps = self.randn(B, T, N, A)
        a = b.actions / c.noise_ratio if c.noise_ratio != 1.0 else b.actions
        xk = ab.sqrt() * a + (1 - ab).sqrt() * eps
        out = self.nets["denoiser"](o_t, xk, (k + 1).float() / c.steps)
        bc = masked_mean(((out - (a if c.target == "x0" else eps)) ** 2).mean(-1), w)
        total = critic_loss + bc
        metrics["actor/bc_loss"] = bc
        if c.eta > 0:  # the Q term scores the one-step action estimate
            a0 = out if c.target == "x0" else (xk - (1 - ab).sqrt() * out) / ab.sqrt()
            a0 = (a0 * c.noise_ratio).clamp(-1, 1)
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
