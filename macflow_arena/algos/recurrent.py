"""The recurrent option: a GRU over an agent's own observation history.

``RecurrentHead(spec, hidden, out_dim)`` reads ``x = [o_i, id_i]`` through an entity
encoder (``EntityMLP`` with the widths ``hidden[:-1]`` and output ``hidden[-1]``), a
``GRUCell`` of width ``hidden[-1]`` and a linear output. Parameters are shared over
agents and every agent keeps its own state, from its own observations only, so
execution stays decentralized.

Training reads windows (``train --sampling windows``; ``Batch`` with T > 1): the state
starts at zero at the window's first row and only real steps (mask 1) update it, so a
window that begins before its episode (front padding) reaches the episode's first step
with the zero state an episode starts with at execution. A window that begins in the
middle of an episode starts from zero too (the usual zero-state approximation; the
windows are 20 steps by default).

Execution is step by step: ``step(x [B, N, D+N], h)`` returns the output and the next
state. The algorithm keeps the state between calls of ``act`` and drops it at each
episode start (``Algorithm.reset_memory``, which the evaluator and ``TeamPolicy.reset``
call).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .entity import EntityMLP

MEMORIES = ("none", "gru")


class RecurrentHead(nn.Module):
    """See the module doc. Outputs ``out_dim`` values per agent and step."""

    def __init__(self, spec, hidden: Sequence[int], out_dim: int, layer_norm: bool = False):
        super().__init__()
        hidden = tuple(int(h) for h in hidden)
        d = hidden[-1]
        self.state_dim = d
        self.enc = EntityMLP(spec, 0, hidden[:-1] or hidden, d, layer_norm)
        self.cell = nn.GRUCell(d, d)
        self.out = nn.Linear(d, out_dim)

    def initial_state(self, lead: Sequence[int], device) -> Tensor:
        return torch.zeros(*lead, self.state_dim, device=device)

    def step(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """One decision: ``x`` [..., N, D+N], ``h`` [..., N, d] -> (output [..., N, out], next state)."""
        f = torch.relu(self.enc(x))
        lead = f.shape[:-1]
        h = self.cell(f.reshape(-1, f.shape[-1]), h.reshape(-1, h.shape[-1])).view(*lead, -1)
        return self.out(h).float(), h

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """A window: ``x`` [B, T, N, D+N], ``mask`` [B, T] (1: a real step) -> [B, T, N, out]. The
        state starts at zero and holds through padded steps."""
        B, T, N = x.shape[:3]
        f = torch.relu(self.enc(x))  # the encoder on every step at once
        h = f.new_zeros(B * N, self.state_dim)
        m = mask.to(f.dtype)[:, :, None].expand(B, T, N)
        outs = []
        for t in range(T):
            nh = self.cell(f[:, t].reshape(B * N, -1), h)
            mt = m[:, t].reshape(B * N, 1)
            h = mt * nh + (1 - mt) * h
            outs.append(h.view(B, N, -1))
        return self.out(torch.stack(outs, 1)).float()  # [B, T, N, out], float32 under bfloat16 autocast
