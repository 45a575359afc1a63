"""VDN + CQL (discrete, value-based): per-agent Q_i(o_i, .) with parameter
sharing, Q_tot = sum of alive agents' Q_i (VDN), double-Q TD target under the
next masks, and a per-agent CQL regulariser
logsumexp_{legal a} Q_i(o_i, a) - Q_i(o_i, a_data). Execution: masked argmax."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor

from .base import Algorithm, masked_mean, mix, opt, sanitize_avail
from .batch import Batch
from .nets import Critic, masked_argmax, masked_logits


@dataclass(frozen=True)
class VDNCQLConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of the Q network (presets set them)")
    lr: float = opt(3e-4, "Adam learning rate")
    gamma: float | None = opt(None, "discount; None: matched to the dataset's episodes by the trainer "
                                    "(1 - 1/mean length, in [0.9, 0.995]), else 0.995 continuous / 0.99 discrete")
    n_step: int = opt(1, "critic targets: return of up to n steps from the data (stopping at the episode's end)")
    tau: float = opt(0.005, "Polyak rate of the target Q network")
    cql_alpha: float = opt(1.0, "weight of the CQL regulariser")
    double_q: bool = opt(True, "pick next actions with the online network, value them with the target")
    layer_norm: bool = opt(True, "LayerNorm in the Q network")


class VDNCQL(Algorithm):
    name = "vdn_cql"
    Config = VDNCQLConfig
    act_nets = ("q",)
    continuous_ok = False

    def build(self):
        s, c = self.spec, self.config
        q = Critic(s, c.hidden, 1, c.layer_norm)
        return {"q": q, "target_q": copy.deepcopy(q)}

    def _target(self, b: Batch, o_n: Tensor, avail_n: Tensor, q_online_n: Tensor | None) -> Tensor:
        qt = self.nets["target_q"](o_n)[0]
        a = masked_argmax(q_online_n if self.config.double_q else qt, avail_n)
        v = mix(qt.gather(-1, a[..., None])[..., 0], b.alive[:, 1:], "sum")
        return b.rewards + b.bootstrap_discount(self.config.gamma) * (1 - b.terminated) * v

    @torch.no_grad()
    def td_target(self, batch: Batch) -> Tensor:
        b = self.prepare(batch)
        o_n = self.with_id(b.obs[:, 1:])
        return self._target(b, o_n, sanitize_avail(b.avail[:, 1:]), self.nets["q"](o_n)[0])

    def losses(self, b: Batch):
        o = self.with_id(b.obs)
        avail = sanitize_avail(b.avail)
        q_all = self.nets["q"](o)[0]  # [B, T+1, N, n]: one forward for now and next
        with torch.no_grad():
            y = self._target(b, o[:, 1:], avail[:, 1:], q_all[:, 1:].detach())
        q_t = q_all[:, :-1]
        q_data = q_t.gather(-1, b.actions[..., None])[..., 0]
        alive_t = b.alive[:, :-1]
        q_tot = mix(q_data, alive_t, "sum")
        td = masked_mean((q_tot - y) ** 2, b.mask)
        cql = masked_mean(torch.logsumexp(masked_logits(q_t, avail[:, :-1]), -1) - q_data, b.mask[..., None] * alive_t)
        total = td + self.config.cql_alpha * cql
        return total, {"critic/td_loss": td, "critic/cql_loss": cql, "critic/q_tot_mean": masked_mean(q_tot, b.mask)}

    def after_step(self) -> None:
        self.polyak("q", "target_q", self.config.tau)

    @torch.inference_mode()
    def act(self, obs, generator: torch.Generator, avail=None) -> Tensor:
        obs = self._obs_in(obs)
        avail = self._avail_in(avail, obs)
        return masked_argmax(self.nets["q"](self.with_id(obs))[0], avail)
