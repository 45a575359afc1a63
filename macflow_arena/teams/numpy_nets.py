"""``EntityMLP`` (``algos/entity.py``) in plain numpy, for acting without torch.

``entity_shapes`` lists every tensor the torch network holds (names and shapes,
so a weights file is checked before anything is built) and ``NumpyEntityMLP``
runs its forward pass on float32 arrays with the same operations in the same
order: standardisation, the own token (+ the extra input), entity tokens per
group with attention from the own token (learned null key/value first), then
the trunk ([LayerNorm], GELU, Linear -> [LayerNorm] -> GELU ..., Linear).

GELU is torch's exact form ``0.5 x (1 + erf(x / sqrt 2))``. numpy has no erf
(and scipy is not a dependency): ``erf`` is the Chebyshev fit of erfc from
Numerical Recipes (2nd ed., 6.2; fractional error below 1.2e-7 everywhere),
as accurate as float32 itself; the whole network agrees with torch within 1e-5
(``tests/test_team_numpy.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# erfc(|x|) = t exp(-x^2 + P(t)), t = 1 / (1 + |x| / 2); P's coefficients, constant term first.
_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
         -0.82215223, 0.17087277)
_SQRT1_2 = 1.0 / math.sqrt(2.0)
LN_EPS = 1e-5  # torch.nn.LayerNorm's default


def erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1e-7 (absolute), elementwise, in the dtype of ``x``."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    p = _ERFC[-1]
    for c in _ERFC[-2::-1]:
        p = p * t + c
    erfc = t * np.exp(p - z * z)
    return np.copysign(1.0 - erfc, x).astype(x.dtype, copy=False)


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x * np.float32(_SQRT1_2)))


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    d = x - mu
    var = (d * d).mean(-1, keepdims=True)
    return d / np.sqrt(var + np.float32(LN_EPS)) * w + b


def _linear(shapes: dict, name: str, d_in: int, d_out: int, bias: bool = True) -> None:
    shapes[f"{name}.weight"] = (d_out, d_in)
    if bias:
        shapes[f"{name}.bias"] = (d_out,)


def _dims(spec, hidden: Sequence[int]) -> dict:
    """The sizes ``EntityMLP.__init__`` derives from the spec and the first hidden width."""
    n, dim = spec.n_agents, spec.obs_dim
    layout = spec.layout
    d = int(hidden[0])
    own = list(layout[0][1][0]) + list(range(dim, dim + n))
    groups = list(layout[1:])
    out = {"d": d, "own": own, "groups": groups, "n_tokens": sum(len(rows) for _, rows in groups)}
    if out["n_tokens"]:
        d_tok = max(32, d // 4)
        heads = max(1, d_tok // 16)
        out.update(d_tok=d_tok, heads=heads, d_head=d_tok // heads, d_attn=heads * (d_tok // heads))
    return out


def entity_shapes(spec, extra_dim: int, hidden: Sequence[int], out_dim: int, layer_norm: bool = False,
                  prefix: str = "") -> dict[str, tuple[int, ...]]:
    """``prefix + <param>`` -> shape of every persistent tensor of ``EntityMLP(spec, extra_dim, hidden, out_dim, layer_norm)``."""
    g = _dims(spec, hidden)
    d, n_in = g["d"], spec.obs_dim + spec.n_agents
    s: dict[str, tuple[int, ...]] = {"obs_mean": (n_in,), "obs_std": (n_in,)}
    _linear(s, "own_proj", len(g["own"]), d)
    if extra_dim:
        _linear(s, "extra_proj", extra_dim, d, bias=False)
    trunk_in = d
    if g["n_tokens"]:
        for i, (_, rows) in enumerate(g["groups"]):
            _linear(s, f"group_embed.{i}", len(rows[0]), g["d_tok"])
        _linear(s, "q", d, g["d_attn"], bias=False)
        _linear(s, "kv", g["d_tok"], 2 * g["d_attn"])
        s["null_kv"] = (2, g["heads"], g["d_head"])
        trunk_in = d + g["d_attn"]
    for name, shape in _trunk_ops(trunk_in, hidden[1:], out_dim, layer_norm):
        s.update({f"trunk.{name}.{k}": v for k, v in shape.items()})
    return {prefix + k: tuple(v) for k, v in s.items()}


def _trunk_ops(trunk_in: int, hidden: Sequence[int], out_dim: int, layer_norm: bool):
    """(module name inside ``trunk``, {param: shape}) in order; GELUs sit between (see ``NumpyEntityMLP``).

    torch: ``Sequential([LayerNorm], GELU, Sequential(Linear, [LayerNorm], GELU, ..., Linear))``."""
    ops = []
    i = 0
    if layer_norm:
        ops.append(("0", {"weight": (trunk_in,), "bias": (trunk_in,)}))
        i = 1
    mlp = f"{i + 1}"
    j, d = 0, trunk_in
    for h in hidden:
        ops.append((f"{mlp}.{j}", {"weight": (h, d), "bias": (h,)}))
        j += 1
        if layer_norm:
            ops.append((f"{mlp}.{j}", {"weight": (h,), "bias": (h,)}))
            j += 1
        j += 1  # GELU
        d = h
    ops.append((f"{mlp}.{j}", {"weight": (out_dim, d), "bias": (out_dim,)}))
    return ops


class NumpyEntityMLP:
    """The forward pass of ``EntityMLP`` from its tensors (``entity_shapes`` names them, ``prefix`` stripped)."""

    def __init__(self, spec, extra_dim: int, hidden: Sequence[int], out_dim: int, layer_norm: bool,
                 tensors: Mapping[str, np.ndarray]):
        g = _dims(spec, hidden)
        f32 = lambda k: np.ascontiguousarray(tensors[k], dtype=np.float32)  # noqa: E731
        wt = lambda k: np.ascontiguousarray(np.asarray(tensors[k], dtype=np.float32).T)  # noqa: E731 - x @ W.T
        self.mean, self.std = f32("obs_mean"), f32("obs_std")
        self.own_index = np.asarray(g["own"], dtype=np.intp)
        self.own_w, self.own_b = wt("own_proj.weight"), f32("own_proj.bias")
        self.extra_dim = int(extra_dim)
        self.extra_w = wt("extra_proj.weight") if extra_dim else None
        self.n_tokens = g["n_tokens"]
        if self.n_tokens:
            self.groups = [(np.asarray(rows, dtype=np.intp), wt(f"group_embed.{i}.weight"), f32(f"group_embed.{i}.bias"))
                           for i, (_, rows) in enumerate(g["groups"])]
            self.heads, self.d_head = g["heads"], g["d_head"]
            self.q_w = wt("q.weight")
            self.kv_w, self.kv_b = wt("kv.weight"), f32("kv.bias")
            self.null_kv = f32("null_kv")
            self.scale = np.float32(1.0 / math.sqrt(self.d_head))
            trunk_in = g["d"] + g["d_attn"]
        else:
            trunk_in = g["d"]
        # ("ln" | "linear", weight, bias) with a GELU after the optional first LayerNorm and after each hidden layer
        self.trunk: list[tuple[str, np.ndarray, np.ndarray]] = []
        for name, shape in _trunk_ops(trunk_in, hidden[1:], out_dim, layer_norm):
            kind = "ln" if len(shape["weight"]) == 1 else "linear"
            w = f32(f"trunk.{name}.weight") if kind == "ln" else wt(f"trunk.{name}.weight")
            self.trunk.append((kind, w, f32(f"trunk.{name}.bias")))

    def _trunk(self, h: np.ndarray) -> np.ndarray:
        ops = self.trunk
        i = 0
        if ops[0][0] == "ln":
            h = layer_norm(h, ops[0][1], ops[0][2])
            i = 1
        h = gelu(h)
        for k in range(i, len(ops)):
            kind, w, b = ops[k]
            if kind == "ln":
                h = gelu(layer_norm(h, w, b))
            else:
                h = h @ w + b
                if k + 1 < len(ops) and ops[k + 1][0] != "ln":
                    h = gelu(h)
        return h

    def __call__(self, x: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """x: [..., D + N] (observation with the agent id), extra: [..., X] -> [..., out_dim]."""
        x = (x - self.mean) / self.std
        own = x[..., self.own_index] @ self.own_w + self.own_b
        if self.extra_w is not None:
            if extra is None:
                raise ValueError(f"this network needs an extra input of size {self.extra_dim}")
            own = own + extra @ self.extra_w
        if not self.n_tokens:
            return self._trunk(own)
        toks = [x[..., idx] @ w + b for idx, w, b in self.groups]  # [..., count, d_tok]
        t = gelu(np.concatenate(toks, -2) if len(toks) > 1 else toks[0])
        kv = (t @ self.kv_w + self.kv_b).reshape(*t.shape[:-1], 2, self.heads, self.d_head)
        lead = kv.shape[:-4]
        nk = np.broadcast_to(self.null_kv[0], (*lead, 1, self.heads, self.d_head))
        nv = np.broadcast_to(self.null_kv[1], (*lead, 1, self.heads, self.d_head))
        k = np.concatenate([nk, kv[..., 0, :, :]], -3)  # [..., M+1, H, dh]
        v = np.concatenate([nv, kv[..., 1, :, :]], -3)
        q = (gelu(own) @ self.q_w).reshape(*own.shape[:-1], self.heads, self.d_head)
        s = (q[..., None, :, :] * k).sum(-1) * self.scale  # [..., M+1, H]
        s = np.exp(s - s.max(-2, keepdims=True))
        p = s / s.sum(-2, keepdims=True)
        a = (p[..., None] * v).sum(-3)  # [..., H, dh]
        return self._trunk(np.concatenate([own, a.reshape(*a.shape[:-2], -1)], -1))
