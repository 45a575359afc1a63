"""Networks shared by the algorithms.

Per-agent networks take ``o_i`` with the agent one-hot id appended (parameter
sharing across agents) and read it through an entity encoder
(``entity.EntityMLP``: tokens per entity of the team spec's layout, attention
from the agent's own token; a plain MLP when the layout is flat). Shapes: a
leading batch ``[...]``, then agents ``N``, then features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .entity import EntityMLP
from .layers import act_fn, mlp

__all__ = ["act_fn", "mlp", "EntityMLP"]


def time_features(t: Tensor, n_freq: int = 4) -> Tensor:
    """[..., 1] in [0, 1] -> [..., 1 + 2 n_freq]: t and sin/cos of 2^j pi t."""
    f = (2.0 ** torch.arange(n_freq, device=t.device, dtype=t.dtype)) * math.pi
    a = t * f
    return torch.cat([t, torch.sin(a), torch.cos(a)], -1)


TIME_DIM = 1 + 2 * 4


def run_frozen(net: nn.Module, *args: Tensor, **kwargs) -> Tensor:
    """``net(*args, **kwargs)`` with detached parameters: gradients reach the inputs but no weight
    (a critic used as a fixed function inside an actor's loss)."""
    params = {k: v.detach() for k, v in net.named_parameters()}
    return torch.func.functional_call(net, params, args, kwargs)


class Critic(nn.Module):
    """Per-agent Q_i: an ensemble of entity networks (2 heads by default) with LayerNorm.

    Continuous: ``forward(o [..., D+N], a [..., A]) -> [E, ...]``.
    Discrete: ``forward(o [..., D+N]) -> [E, ..., n_actions]`` (all actions at once).
    ``frozen=True``: detached weights (gradients flow to the inputs only).
    """

    def __init__(self, spec, hidden: Sequence[int], ensemble: int = 2, layer_norm: bool = True):
        super().__init__()
        self.discrete = spec.discrete
        extra, d_out = (0, spec.action_dim) if spec.discrete else (spec.action_dim, 1)
        # Separate networks: on CPUs E small calls beat one batched call per layer.
        self.heads = nn.ModuleList(EntityMLP(spec, extra, hidden, d_out, layer_norm) for _ in range(ensemble))

    def memory(self, o: Tensor) -> list:
        """Each head's action-independent part of ``o`` (``EntityMLP.memory``), to share between calls."""
        return [h.memory(o) for h in self.heads]

    def forward(self, o: Tensor, a: Tensor | None = None, frozen: bool = False, mem: list | None = None) -> Tensor:
        """``mem``: ``memory(o)`` from an earlier call on the same rows (with ``frozen``, pass it
        detached: ``entity.rows(mem, k)``), so the entity encoding is not computed twice."""
        args = (o,) if self.discrete else (o, a)
        mems = [None] * len(self.heads) if mem is None else mem
        q = torch.stack([run_frozen(h, *args, mem=m) if frozen else h(*args, mem=m) for h, m in zip(self.heads, mems)])
        return q if self.discrete else q[..., 0]


class VelocityMLP(nn.Module):
    """Per-agent field (the official code's teacher): f(o_i, x_i, t), shared over agents.

    Also used as a per-agent diffusion denoiser. ``encode(o)`` holds the part
    that does not depend on (x, t), so multi-step samplers compute it once.
    """

    def __init__(self, spec, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        self.net = EntityMLP(spec, spec.action_dim + TIME_DIM, hidden, spec.action_dim, layer_norm)

    def encode(self, o: Tensor):
        return self.net.memory(o)

    def forward_h(self, h, x: Tensor, t: Tensor) -> Tensor:
        t = t.expand(*x.shape[:-1], 1)
        return self.net.forward_mem(h, torch.cat([x, time_features(t)], -1))

    def forward(self, o: Tensor, x: Tensor, t: Tensor) -> Tensor:
        return self.forward_h(self.encode(o), x, t)


class AgentAttention(nn.Module):
    """Pre-LN multi-head self-attention over the agent axis, with a residual.

    Queries, keys and values live in a narrower space (``d_attn``, heads of 32):
    the agents exchange a summary, the per-token MLP does the heavy lifting.
    """

    def __init__(self, d: int, d_attn: int):
        super().__init__()
        self.heads = max(1, d_attn // 32)
        self.d_attn = self.heads * (d_attn // self.heads)
        self.ln = nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * self.d_attn), nn.Linear(self.d_attn, d)

    def forward(self, h: Tensor) -> Tensor:
        *lead, n, _ = h.shape
        dh = self.d_attn // self.heads
        q, k, v = self.qkv(self.ln(h)).view(*lead, n, 3, self.heads, dh).unbind(-3)  # [..., N, H, dh]
        # N is a handful of agents: broadcast products beat batched tiny matmuls on CPUs.
        s = (q.unsqueeze(-3) * k.unsqueeze(-4)).sum(-1) * (1.0 / math.sqrt(dh))  # [..., N, N, H]
        a = (torch.softmax(s, -2).to(v.dtype).unsqueeze(-1) * v.unsqueeze(-4)).sum(-3)  # [..., N, H, dh]
        return h + self.proj(a.reshape(*lead, n, self.d_attn))


class VelocityTransformer(nn.Module):
    """Joint field over agent tokens. Agent i's token is its entity encoding of
    (o_i with id, x_i, t) (``EntityMLP`` with output width ``hidden[0]``); then
    ``attn_layers`` attention blocks across agents (so the field models the joint
    action: who takes which goal) and the per-token MLP ``hidden[1:]``."""

    def __init__(self, spec, hidden: Sequence[int], attn_layers: int = 1):
        super().__init__()
        d = hidden[0]
        self.enc = EntityMLP(spec, spec.action_dim + TIME_DIM, hidden[:1], d)
        self.attn = nn.ModuleList(AgentAttention(d, max(32, d // 4)) for _ in range(attn_layers))
        self.head = nn.Sequential(nn.LayerNorm(d), act_fn(), mlp(d, hidden[1:], spec.action_dim))

    def encode(self, o: Tensor):
        return self.enc.memory(o)

    def forward_h(self, h, x: Tensor, t: Tensor) -> Tensor:
        t = t.expand(*x.shape[:-1], 1)
        z = self.enc.forward_mem(h, torch.cat([x, time_features(t)], -1))
        for blk in self.attn:
            z = blk(z)
        return self.head(z).float()  # float32 out under bfloat16 autocast (a no-op in float32)

    def forward(self, o: Tensor, x: Tensor, t: Tensor) -> Tensor:
        return self.forward_h(self.encode(o), x, t)


def make_field(kind: str, spec, hidden: Sequence[int], layer_norm: bool = False) -> nn.Module:
    """``joint`` (transformer over agents) or ``per_agent`` (shared entity network)."""
    if kind == "joint":
        return VelocityTransformer(spec, hidden)
    if kind == "per_agent":
        return VelocityMLP(spec, hidden, layer_norm)
    raise ValueError(f"unknown teacher/denoiser kind {kind!r}; use 'joint' or 'per_agent'")


@torch.no_grad()
def euler(field: nn.Module, o: Tensor, x0: Tensor, steps: int, target: str = "x1", mem=None) -> Tensor:
    """Integrate the flow from t=0 (x0, the noise) to t=1 with K Euler steps. ``target``: what the
    field predicts, the clean action ``x1`` (velocity (f - x) / (1 - t)), ``logits`` whose softmax
    is the x1 prediction (discrete actions), or the ``velocity``.
    ``mem``: ``field.encode(o)`` computed before (the flow loss's, on the same rows)."""
    h = field.encode(o) if mem is None else mem
    x = x0
    t = x0.new_empty(*x0.shape[:-2], 1, 1)
    for k in range(steps):
        f = field.forward_h(h, x, t.fill_(k / steps))
        if target == "logits":
            f = torch.softmax(f, -1)
        x = x + ((f - x) / (1 - k / steps) if target != "velocity" else f) / steps
    return x


class Student(nn.Module):
    """One-step policy mu(o_i, z) -> action (or logits): no time input.

    ``noise_dim`` is A (private noise z_i) or N*A (shared joint noise z).
    """

    def __init__(self, spec, noise_dim: int, out_dim: int, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        self.net = EntityMLP(spec, noise_dim, hidden, out_dim, layer_norm)

    def memory(self, o: Tensor):
        """The noise-independent part of ``o`` (``EntityMLP.memory``), to share between calls."""
        return self.net.memory(o)

    def forward(self, o: Tensor, z: Tensor, mem=None) -> Tensor:
        """``mem``: ``memory(o)`` of the same rows; its leading axes broadcast against ``z``'s (one
        encoding of o for several noises [M, ...])."""
        return self.net(o, z, mem=mem)


class GaussianHead(nn.Module):
    """Diagonal Gaussian policy: (mean, log_std) from o_i; log_std clamped to [-5, 2]."""

    def __init__(self, spec, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        self.net = EntityMLP(spec, 0, hidden, 2 * spec.action_dim, layer_norm)

    def forward(self, o: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_std = self.net(o).chunk(2, -1)
        return mean, log_std.clamp(-5.0, 2.0)


class PolicyHead(nn.Module):
    """A deterministic per-agent output from o_i: an action (MSE BC, TD3+BC's actor before tanh)
    or logits over the discrete actions."""

    def __init__(self, spec, out_dim: int, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        self.net = EntityMLP(spec, 0, hidden, out_dim, layer_norm)

    def forward(self, o: Tensor) -> Tensor:
        return self.net(o)


NEG = -1e9  # masked logit: softmax gives exactly 0 in float32


def one_hot(a: Tensor, n: int) -> Tensor:
    """Float one-hot of indices ``a`` ([...] -> [..., n]); unlike ``F.one_hot`` it reads no
    value on the host, so it runs under ``torch.func.vmap`` (seed stacks) and CUDA graphs."""
    return (a[..., None] == torch.arange(n, device=a.device)).float()


def masked_logits(logits: Tensor, avail: Tensor | None) -> Tensor:
    return logits if avail is None else logits.masked_fill(~avail, NEG)


def masked_argmax(scores: Tensor, avail: Tensor | None) -> Tensor:
    return masked_logits(scores, avail).argmax(-1)


def masked_sample(logits: Tensor, avail: Tensor | None, generator: torch.Generator) -> Tensor:
    """Sample from softmax(masked logits): masked actions have probability exactly 0."""
    p = torch.softmax(masked_logits(logits, avail), -1)
    flat = p.reshape(-1, p.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).view(p.shape[:-1])
