"""Flow BC: MAC-Flow's multi-step teacher alone (no distillation, no Q).

Execution integrates the velocity field with K Euler steps from Gaussian noise
(K forwards per decision). With ``teacher="per_agent"`` (default) each agent
samples from its own observation; ``"joint"`` attends across agents, so
execution is centralized (``centralized_execution`` is True).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import FLOW_TARGET_HELP, FLOW_TARGETS, Algorithm, check_choice, check_flow_target, flow_matching_loss, opt
from .batch import Batch
from .nets import euler, make_field, masked_argmax, one_hot


@dataclass(frozen=True)
class FlowBCConfig:
    hidden: tuple[int, ...] = opt((128, 128, 128), "hidden widths of the velocity field (presets set them)")
    lr: float = opt(3e-3, "Adam learning rate (peak of the cosine schedule; 3e-3 measured on spread expert)")
    flow_steps: int = opt(10, "Euler steps K per decision (also an execution option of a trained run)")
    teacher: str = opt("per_agent", "'per_agent' (decentralized) or 'joint' (transformer over agents, centralized)")
    layer_norm: bool = opt(False, "LayerNorm in the per-agent MLP")
    flow_target: str = opt("x1", FLOW_TARGET_HELP)
    exec_noise: float = opt(0.0, "execution only: scale of the starting noise x0 (0, default: the deterministic "
                                 "flow from x0 = 0, which lands on the data's median action: on epsilon-random "
                                 "data the expert's, where MSE BC shrinks to the mean; 1: sample the learned "
                                 "distribution)")
    source_std: float = opt(3.0, "std of the flow's source noise x0 (training; execution draws x0 with std "
                                 "exec_noise x this): above the actions' scale it shifts the flow's time toward "
                                 "the noise, where x_t says little about x1 and the field must read the "
                                 "observation (spread expert, quality.md session 24)")

    # runs saved before a field existed were trained with this value of it (``saved_config``)
    SAVED_BEFORE: ClassVar[dict] = {"source_std": 1.0}

    def __post_init__(self):
        check_choice(self, "teacher", ("joint", "per_agent"))
        if not self.source_std > 0:
            raise ValueError(f"FlowBCConfig.source_std must be > 0, got {self.source_std}")
        check_choice(self, "flow_target", FLOW_TARGETS)
        if self.flow_steps < 1:
            raise ValueError("FlowBCConfig.flow_steps must be >= 1")
        if not self.exec_noise >= 0:
            raise ValueError(f"FlowBCConfig.exec_noise must be >= 0, got {self.exec_noise}")


class FlowBC(Algorithm):
    name = "flowbc"
    Config = FlowBCConfig
    act_nets = ("teacher",)
    exec_fields = ("exec_noise", "flow_steps")  # both only change how a trained field is integrated

    def build(self):
        s, c = self.spec, self.config
        check_flow_target(s, c.flow_target)
        return {"teacher": make_field(c.teacher, s, c.hidden, c.layer_norm)}

    @property
    def centralized_execution(self) -> bool:
        return self.config.teacher == "joint"

    def losses(self, b: Batch):
        s = self.spec
        B, T, N, A = b.B, b.T, s.n_agents, s.action_dim
        o = self.with_id(b.obs[:, :-1])
        w = b.mask[..., None] * b.alive[:, :-1]
        x1 = one_hot(b.actions, A) if s.discrete else b.actions
        x0 = self.randn(B, T, N, A) * self.config.source_std
        tau = self.rand(B, T, N if self.config.teacher == "per_agent" else 1, 1)
        loss = flow_matching_loss(self.nets["teacher"], o, x1, x0, tau, w, self.config.flow_target)
        return loss, {"actor/flow_loss": loss}

    @torch.inference_mode()
    def act(self, obs, generator: torch.Generator, avail=None) -> Tensor:
        obs = self._obs_in(obs)
        avail = self._avail_in(avail, obs)
        x0 = torch.randn((obs.shape[0], self.spec.n_agents, self.spec.action_dim), generator=generator, device=self.device)
        scale = self.config.exec_noise * self.config.source_std
        if scale != 1.0:
            x0 = x0 * scale
        x = euler(self.nets["teacher"], self.with_id(obs), x0, self.config.flow_steps, self.config.flow_target)
        return masked_argmax(x, avail) if self.spec.discrete else x.clamp(-1, 1)
