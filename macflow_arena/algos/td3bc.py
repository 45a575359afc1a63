"""MA-TD3+BC (continuous): deterministic per-agent actors, per-agent ensemble
critics with additive (mean) mixing, target policy smoothing, delayed actor
updates, and the TD3+BC actor loss -lambda * Q + ||pi(o) - a||^2 with
lambda = alpha / stopgrad(mean |Q|)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor

from .base import Algorithm, check_choice, ens_agg, masked_mean, mix, opt
from .batch import Batch
from .entity import rows
from .nets import Critic, PolicyHead


@dataclass(frozen=True)
class TD3BCConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of actor and critic (presets set them)")
    lr: float = opt(3e-4, "Adam learning rate (actor and critic)")
    gamma: float | None = opt(None, "discount; None: matched to the dataset's episodes by the trainer "
                                    "(1 - 1/mean length, in [0.9, 0.995]), else 0.995 continuous / 0.99 discrete")
    n_step: int = opt(1, "critic targets: return of up to n steps from the data (stopping at the episode's end)")
    tau: float = opt(0.005, "Polyak rate of the target actor and critic")
    alpha: float = opt(2.5, "TD3+BC trade-off: lambda = alpha / mean |Q| (the paper's 2.5; on data with "
                              "one action per state, a noiseless expert, any Q weight misleads: 0 is BC)")
    policy_noise: float = opt(0.2, "std of the target policy smoothing noise")
    noise_clip: float = opt(0.5, "clip of the target policy smoothing noise")
    policy_delay: int = opt(2, "actor and target updates every this many critic updates")
    q_agg: str = opt("min", "target ensemble aggregation: 'min' (TD3) or 'mean'")
    ensemble: int = opt(2, "critic heads per agent")
    critic_layer_norm: bool = opt(True, "LayerNorm in the critics")

    def __post_init__(self):
        check_choice(self, "q_agg", ("mean", "min"))
        if self.policy_delay < 1:
            raise ValueError("TD3BCConfig.policy_delay must be >= 1")


class TD3BC(Algorithm):
    name = "td3bc"
    Config = TD3BCConfig
    act_nets = ("actor",)
    discrete_ok = False

    def build(self):
        s, c = self.spec, self.config
        actor = PolicyHead(s, s.action_dim, c.hidden)
        critic = Critic(s, c.hidden, c.ensemble, c.critic_layer_norm)
        return {"actor": actor, "target_actor": copy.deepcopy(actor), "critic": critic, "target_critic": copy.deepcopy(critic)}

    def build_optimizers(self):
        return {"critic": self.adam(self.nets["critic"].parameters()), "actor": self.adam(self.nets["actor"].parameters())}

    def _actor_step(self) -> bool:
        return self.step % self.config.policy_delay == 0

    def active_optimizers(self) -> list[str]:
        return ["critic", "actor"] if self._actor_step() else ["critic"]

    @torch.no_grad()
    def td_target(self, batch: Batch) -> Tensor:
        b = self.prepare(batch)
        return self._target(b, self.with_id(b.obs[:, 1:]))

    def _target(self, b: Batch, o_n: Tensor) -> Tensor:
        c = self.config
        a = torch.tanh(self.nets["target_actor"](o_n))
        eps = (self.randn(*a.shape) * c.policy_noise).clamp(-c.noise_clip, c.noise_clip)
        qn = self.nets["target_critic"](o_n, (a + eps).clamp(-1, 1))
        v = mix(ens_agg(qn, c.q_agg), b.alive[:, 1:], "mean")
        return b.rewards + b.bootstrap_discount(c.gamma) * (1 - b.terminated) * v

    def losses(self, b: Batch):
        c = self.config
        o = self.with_id(b.obs)
        o_t, alive_t = o[:, :-1], b.alive[:, :-1]
        with torch.no_grad():
            y = self._target(b, o[:, 1:])
        mem = self.nets["critic"].memory(o_t)  # the entity encoding, shared with the actor's Q term
        q = mix(self.nets["critic"](o_t, b.actions, mem=mem), alive_t, "mean")  # [E, B, T]
        critic_loss = masked_mean(((q - y) ** 2).mean(0), b.mask)
        metrics = {"critic/loss": critic_loss, "critic/q_mean": masked_mean(q.mean(0), b.mask)}
        total = critic_loss
        if self._actor_step():
            pi = torch.tanh(self.nets["actor"](o_t))
            q_pi = mix(self.nets["critic"](o_t, pi, frozen=True, mem=rows(mem)).mean(0), alive_t, "mean")
            lam = c.alpha / masked_mean(q_pi.abs(), b.mask).detach().clamp_min(1e-8)
            w = b.mask[..., None] * alive_t
            bc = masked_mean(((pi - b.actions) ** 2).mean(-1), w)
            actor_loss = -lam * masked_mean(q_pi, b.mask) + bc
            total = total + actor_loss
            metrics.update({"actor/loss": actor_loss, "actor/bc_mse": bc, "actor/q_mean": masked_mean(q_pi, b.mask)})
        return total, metrics

    def after_step(self) -> None:
        if self._actor_step():
            self.polyak("critic", "target_critic", self.config.tau)
            self.polyak("actor", "target_actor", self.config.tau)

    @torch.inference_mode()
    def act(self, obs, generator: torch.Generator, avail=None) -> Tensor:
        obs = self._obs_in(obs)
        self._avail_in(avail, obs)
        return torch.tanh(self.nets["actor"](self.with_id(obs)))
