"""Plain layers shared by the networks (no dependency on the rest of the package)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


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
