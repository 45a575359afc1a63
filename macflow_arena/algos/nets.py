"""Networks shared by the algorithms.

Per-agent networks take ``o_i`` with the agent one-hot id appended (parameter
sharing across agents). Shapes: a leading batch ``[...]``, then agents ``N``,
then features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def act_fn() -> nn.Module:
    # GELU as in the FQL/MAC-Flow code (which uses the tanh approximation; the exact
    # form is the same curve to 1e-3 and about 3x cheaper on CPUs).
    return nn.GELU()


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int, layer_norm: bool = False) -> nn.Sequential:
    """Linear -> [LayerNorm] -> GELU for each hidden width, then a linear output."""
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h)]
        if layer_norm:
            layers += [nn.LayerNorm(h)]
        layers += [act_fn()]
        d = h
    layers += [nn.Linear(d, out_dim)]
    return nn.Sequential(*layers)


def time_features(t: Tensor, n_freq: int = 4) -> Tensor:
    """[..., 1] in [0, 1] -> [..., 1 + 2 n_freq]: t and sin/cos of 2^j pi t."""
    f = (2.0 ** torch.arange(n_freq, device=t.device, dtype=t.dtype)) * math.pi
    a = t * f
    return torch.cat([t, torch.sin(a), torch.cos(a)], -1)


TIME_DIM = 1 + 2 * 4


def run_frozen(net: nn.Sequential, x: Tensor) -> Tensor:
    """``net(x)`` with detached parameters: gradients reach ``x`` but no weight
    (a critic used as a fixed function inside an actor's loss)."""
    for layer in net:
        if isinstance(layer, nn.Linear):
            x = F.linear(x, layer.weight.detach(), layer.bias.detach())
        elif isinstance(layer, nn.LayerNorm):
            x = F.layer_norm(x, layer.normalized_shape, layer.weight.detach(), layer.bias.detach(), layer.eps)
        else:
            x = layer(x)
    return x


class Critic(nn.Module):
    """Per-agent Q_i: an ensemble of MLPs (2 heads by default) with LayerNorm.

    Continuous: ``forward(o [..., Do], a [..., A]) -> [E, ...]``.
    Discrete: ``forward(o [..., Do]) -> [E, ..., n_actions]`` (all actions at once).
    ``frozen=True``: detached weights (gradients flow to the inputs only).
    """

    def __init__(self, obs_in: int, action_dim: int, hidden: Sequence[int], discrete: bool, ensemble: int = 2, layer_norm: bool = True):
        super().__init__()
        self.discrete = discrete
        d_in, d_out = (obs_in, action_dim) if discrete else (obs_in + action_dim, 1)
        # Separate MLPs: on CPUs E addmm calls beat one batched bmm per layer.
        self.heads = nn.ModuleList(mlp(d_in, hidden, d_out, layer_norm) for _ in range(ensemble))

    def forward(self, o: Tensor, a: Tensor | None = None, frozen: bool = False) -> Tensor:
        x = o if self.discrete else torch.cat([o, a], -1)
        q = torch.stack([run_frozen(h, x) if frozen else h(x) for h in self.heads])
        return q if self.discrete else q[..., 0]


class VelocityMLP(nn.Module):
    """Per-agent field (the official code's teacher): f(o_i, x_i, t), shared over agents.

    Also used as a per-agent diffusion denoiser. ``encode(o)`` holds the
    observation half of the first layer so multi-step samplers compute it once.
    """

    def __init__(self, obs_in: int, action_dim: int, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        h0 = hidden[0]
        self.obs_proj = nn.Linear(obs_in, h0)
        self.xt_proj = nn.Linear(action_dim + TIME_DIM, h0, bias=False)
        _fan_in_init(self.obs_proj, self.xt_proj, obs_in + action_dim + TIME_DIM)
        self.head = nn.Sequential(*([nn.LayerNorm(h0)] if layer_norm else []), act_fn(), mlp(h0, hidden[1:], action_dim, layer_norm))

    def encode(self, o: Tensor) -> Tensor:
        return self.obs_proj(o)

    def forward_h(self, h: Tensor, x: Tensor, t: Tensor) -> Tensor:
        t = t.expand(*x.shape[:-1], 1)
        return self.head(h + self.xt_proj(torch.cat([x, time_features(t)], -1)))

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
        a = (torch.softmax(s, -2).unsqueeze(-1) * v.unsqueeze(-4)).sum(-3)  # [..., N, H, dh]
        return h + self.proj(a.reshape(*lead, n, self.d_attn))


class VelocityTransformer(nn.Module):
    """Joint field over agent tokens: token i = (o_i with id, x_i, t). A small
    transformer: token embedding, ``attn_layers`` attention blocks across agents
    (so the field models the joint action: who takes which goal), then the
    per-token MLP stack of ``hidden[1:]`` as the feed-forward part."""

    def __init__(self, obs_in: int, action_dim: int, hidden: Sequence[int], attn_layers: int = 1):
        super().__init__()
        d = hidden[0]
        self.obs_proj = nn.Linear(obs_in, d)
        self.xt_proj = nn.Linear(action_dim + TIME_DIM, d, bias=False)
        _fan_in_init(self.obs_proj, self.xt_proj, obs_in + action_dim + TIME_DIM)
        self.attn = nn.ModuleList(AgentAttention(d, max(32, d // 4)) for _ in range(attn_layers))
        self.head = nn.Sequential(nn.LayerNorm(d), act_fn(), mlp(d, hidden[1:], action_dim))

    def encode(self, o: Tensor) -> Tensor:
        return self.obs_proj(o)

    def forward_h(self, h: Tensor, x: Tensor, t: Tensor) -> Tensor:
        t = t.expand(*x.shape[:-1], 1)
        h = h + self.xt_proj(torch.cat([x, time_features(t)], -1))
        for blk in self.attn:
            h = blk(h)
        return self.head(h)

    def forward(self, o: Tensor, x: Tensor, t: Tensor) -> Tensor:
        return self.forward_h(self.encode(o), x, t)


def _fan_in_init(a: nn.Linear, b: nn.Linear, fan_in: int) -> None:
    bound = 1.0 / math.sqrt(fan_in)
    for p in (a.weight, a.bias, b.weight):
        nn.init.uniform_(p, -bound, bound)


def make_field(kind: str, obs_in: int, action_dim: int, hidden: Sequence[int], layer_norm: bool = False) -> nn.Module:
    """``joint`` (transformer over agents) or ``per_agent`` (shared MLP)."""
    if kind == "joint":
        return VelocityTransformer(obs_in, action_dim, hidden)
    if kind == "per_agent":
        return VelocityMLP(obs_in, action_dim, hidden, layer_norm)
    raise ValueError(f"unknown teacher/denoiser kind {kind!r}; use 'joint' or 'per_agent'")


@torch.no_grad()
def euler(field: nn.Module, o: Tensor, x0: Tensor, steps: int) -> Tensor:
    """Integrate dx/dt = field(o, x, t) from t=0 (x0, the noise) to t=1 with K Euler steps."""
    h = field.encode(o)
    x = x0
    t = x0.new_empty(*x0.shape[:-2], 1, 1)
    for k in range(steps):
        x = x + field.forward_h(h, x, t.fill_(k / steps)) / steps
    return x


class Student(nn.Module):
    """One-step policy mu(o_i, z) -> action (or logits): no time input.

    ``noise_dim`` is A (private noise z_i) or N*A (shared joint noise z).
    """

    def __init__(self, obs_in: int, noise_dim: int, out_dim: int, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        self.net = mlp(obs_in + noise_dim, hidden, out_dim, layer_norm)

    def forward(self, o: Tensor, z: Tensor) -> Tensor:
        return self.net(torch.cat([o, z], -1))


class GaussianHead(nn.Module):
    """Diagonal Gaussian policy: (mean, log_std) from o_i; log_std clamped to [-5, 2]."""

    def __init__(self, obs_in: int, action_dim: int, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        self.net = mlp(obs_in, hidden, 2 * action_dim, layer_norm)

    def forward(self, o: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_std = self.net(o).chunk(2, -1)
        return mean, log_std.clamp(-5.0, 2.0)


class CategoricalHead(nn.Module):
    """Logits over the discrete actions from o_i."""

    def __init__(self, obs_in: int, n_actions: int, hidden: Sequence[int], layer_norm: bool = False):
        super().__init__()
        self.net = mlp(obs_in, hidden, n_actions, layer_norm)

    def forward(self, o: Tensor) -> Tensor:
        return self.net(o)


NEG = -1e9  # masked logit: softmax gives exactly 0 in float32


def masked_logits(logits: Tensor, avail: Tensor | None) -> Tensor:
    return logits if avail is None else logits.masked_fill(~avail, NEG)


def masked_argmax(scores: Tensor, avail: Tensor | None) -> Tensor:
    return masked_logits(scores, avail).argmax(-1)


def masked_sample(logits: Tensor, avail: Tensor | None, generator: torch.Generator) -> Tensor:
    """Sample from softmax(masked logits): masked actions have probability exactly 0."""
    p = torch.softmax(masked_logits(logits, avail), -1)
    flat = p.reshape(-1, p.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).view(p.shape[:-1])
