"""Entity encoders: every network reads an agent's observation as tokens.

``EntityMLP(spec, extra_dim, hidden, out_dim)`` maps ``x = [o_i, id_i]``
([..., D + N]) and an optional extra input (the student's noise z, the flow's
x_t and time, the critic's action; [..., X]) to [..., out_dim]:

1. standardise ``o_i`` with dataset statistics (buffers ``obs_mean`` /
   ``obs_std``, set by ``set_obs_stats``; stored in checkpoints and teams);
2. the agent's own token ``u = W_s [self entries, id] + W_x extra`` (width
   ``hidden[0]``); the query is ``W_q GELU(u)``, so what an agent looks for can
   depend on its noise or its current action draft;
3. one token per other entity of the layout (each landmark, agent, enemy ...):
   ``GELU(W_g x_entity)`` with a weight per group; a learned null token lets
   the query attend to nothing;
4. multi-head attention from ``q`` over those tokens;
5. ``GELU([u, attention output])`` through the MLP trunk ``hidden[1:]`` to the output.

With a flat layout (an env that declares none) steps 3-4 vanish and the
network is the plain MLP ``[o_i, id_i, extra] -> hidden -> out``.

A decentralized network reads only ``o_i`` (and its extra input): tokens come
from the agent's own observation. ``memory(x)`` holds everything that does not
depend on the extra input, so multi-step samplers compute it once
(``forward_mem(memory(x), extra)`` equals ``forward(x, extra)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import act_fn, mlp


def _index(rows) -> Tensor:
    return torch.tensor([list(r) for r in rows], dtype=torch.long)


class EntityMLP(nn.Module):
    """See the module doc. ``spec``: a ``TeamSpec`` (n_agents, obs_dim, layout)."""

    def __init__(self, spec, extra_dim: int, hidden: Sequence[int], out_dim: int, layer_norm: bool = False):
        super().__init__()
        n, dim = spec.n_agents, spec.obs_dim
        layout = spec.layout
        d = int(hidden[0])
        self.extra_dim = int(extra_dim)
        self.register_buffer("obs_mean", torch.zeros(dim + n))
        self.register_buffer("obs_std", torch.ones(dim + n))
        own = list(layout[0][1][0]) + list(range(dim, dim + n))  # own entries and the agent id
        self.register_buffer("own_index", torch.tensor(own, dtype=torch.long), persistent=False)
        self.own_proj = nn.Linear(len(own), d)
        self.extra_proj = nn.Linear(self.extra_dim, d, bias=False) if self.extra_dim else None
        fan = len(own) + self.extra_dim
        bound = 1.0 / math.sqrt(fan)
        for p in [self.own_proj.weight, self.own_proj.bias] + ([self.extra_proj.weight] if self.extra_proj is not None else []):
            nn.init.uniform_(p, -bound, bound)
        groups = layout[1:]
        self.n_tokens = sum(len(rows) for _, rows in groups)
        if self.n_tokens:
            self.group_names = [name for name, _ in groups]
            d_tok = max(32, d // 4)  # entity tokens and attention are narrower than the trunk
            self.group_embed = nn.ModuleList(nn.Linear(len(rows[0]), d_tok) for _, rows in groups)
            for i, (_, rows) in enumerate(groups):
                self.register_buffer(f"group_index_{i}", _index(rows), persistent=False)
            self.heads = max(1, d_tok // 16)
            self.d_head = d_tok // self.heads
            d_attn = self.heads * self.d_head
            self.q = nn.Linear(d, d_attn, bias=False)
            self.kv = nn.Linear(d_tok, 2 * d_attn)
            self.null_kv = nn.Parameter(torch.zeros(2, self.heads, self.d_head))
            trunk_in = d + d_attn
        else:
            trunk_in = d
        self.trunk = nn.Sequential(*([nn.LayerNorm(trunk_in)] if layer_norm else []), act_fn(),
                                   mlp(trunk_in, hidden[1:], out_dim, layer_norm))

    @torch.no_grad()
    def set_obs_stats(self, mean: Tensor, std: Tensor) -> None:
        """Standardise observations with these per-entry statistics ([D]); the id entries stay as they are."""
        dim = int(mean.shape[0])
        self.obs_mean[:dim] = mean.to(self.obs_mean)
        self.obs_std[:dim] = std.to(self.obs_std)

    def memory(self, x: Tensor) -> tuple[Tensor, ...]:
        """What does not depend on the extra input: the own token's projection, keys and values."""
        x = (x - self.obs_mean) / self.obs_std
        own = self.own_proj(x.index_select(-1, self.own_index))
        if not self.n_tokens:
            return (own,)
        toks = []
        for i, emb in enumerate(self.group_embed):
            idx = getattr(self, f"group_index_{i}")  # [count, width]
            toks.append(emb(x[..., idx]))  # [..., count, d]
        t = F.gelu(torch.cat(toks, -2) if len(toks) > 1 else toks[0])
        k, v = self.kv(t).unflatten(-1, (2, self.heads, self.d_head)).unbind(-3)  # [..., M, H, dh]
        lead = k.shape[:-3]
        nk, nv = (self.null_kv[j].expand(*lead, 1, self.heads, self.d_head) for j in range(2))
        return own, torch.cat([nk, k], -3), torch.cat([nv, v], -3)

    def forward_mem(self, mem: tuple[Tensor, ...], extra: Tensor | None = None) -> Tensor:
        own = mem[0]
        if self.extra_proj is not None:
            if extra is None:
                raise ValueError(f"this network needs an extra input of size {self.extra_dim}")
            own = own + self.extra_proj(extra)
        if not self.n_tokens:
            return self.trunk(own).float()
        k, v = mem[1], mem[2]
        q = self.q(F.gelu(own)).unflatten(-1, (self.heads, self.d_head))  # [..., H, dh]
        # A few tokens: broadcast products beat batched tiny matmuls on CPUs.
        s = (q.unsqueeze(-3) * k).sum(-1) * (1.0 / math.sqrt(self.d_head))  # [..., M+1, H]
        a = (torch.softmax(s, -2).to(v.dtype).unsqueeze(-1) * v).sum(-3)  # [..., H, dh] (bf16 under autocast)
        # float32 out (a no-op in float32): under bfloat16 autocast the losses stay in float32
        return self.trunk(torch.cat([own, a.flatten(-2)], -1)).float()

    def forward(self, x: Tensor, extra: Tensor | None = None, mem: tuple[Tensor, ...] | None = None) -> Tensor:
        """``mem``: ``memory(x)`` computed before (shared between calls on the same rows)."""
        return self.forward_mem(self.memory(x) if mem is None else mem, extra)


def rows(mem, k: int | None = None, start: int = 0):
    """A memory (nested tuples/lists of tensors) detached, its rows ``start:k`` (leading axis; None:
    to the end): a sampler or a frozen critic reuses what a trained call on the whole batch computed."""
    if isinstance(mem, (tuple, list)):
        return type(mem)(rows(m, k, start) for m in mem)
    return mem[start:k].detach()


def set_obs_stats(module: nn.Module, mean: Tensor, std: Tensor) -> int:
    """Set the statistics of every entity network inside ``module``; returns how many."""
    n = 0
    for m in module.modules():
        if isinstance(m, EntityMLP):
            m.set_obs_stats(mean, std)
            n += 1
    return n
