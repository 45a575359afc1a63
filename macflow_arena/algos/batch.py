"""The batch contract between the dataset loader and every algorithm.

A batch is B windows of T consecutive steps, each from one episode, for a team
of N agents. Step t of window b is the transition
``obs[b, t] --actions[b, t]--> obs[b, t + 1]`` with team reward ``rewards[b, t]``.

=============  ======================  =======  =============================================
field          shape                   dtype    meaning
=============  ======================  =======  =============================================
obs            [B, T+1, N, D]          float32  per-agent observations, zero padded to D;
                                                the agent one-hot id is NOT stored (the
                                                networks append it)
actions        [B, T, N, A]            float32  continuous actions in [-1, 1], or
               [B, T, N]               int64    discrete action indices in [0, n_actions)
avail          [B, T+1, N, n_actions]  bool     discrete only (else None): legal actions at
                                                each observation
rewards        [B, T]                  float32  team reward of step t
terminated     [B, T]                  float32  1 if step t ended the episode in a terminal
                                                state (no bootstrap); a time-limit truncation
                                                is NOT terminal (bootstrap from obs[t + 1])
mask           [B, T]                  float32  1 for a real transition, 0 for padding after
                                                the episode's end: padded steps add zero loss
alive          [B, T+1, N]             float32  1 while agent i is alive at obs t; a dead
                                                agent's terms are masked out
state          [B, T+1, S] or None     float32  optional global state
discount       [B, T] or None          float32  optional bootstrap discount of step t (n-step
                                                targets: gamma^k for a k-step return in
                                                ``rewards``); None: the algorithm's gamma
=============  ======================  =======  =============================================

An i.i.d. transition batch is the case T = 1. With n-step targets, ``rewards``
holds the discounted return of up to n steps, ``obs[:, 1]`` the observation the
return bootstraps from and ``terminated`` whether the episode ended terminally
within those steps.

Windows never cross an episode end: the loader pads instead (mask 0). The
observation ``obs[b, t + 1]`` after the last real step t is the episode's final
observation and must be real (it is what a truncated step bootstraps from).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:  # pragma: no cover
    from .base import TeamSpec

FIELDS = ("obs", "actions", "avail", "rewards", "terminated", "mask", "alive", "state", "discount")


class BatchError(ValueError):
    """A batch breaks the contract; the message names the field."""


@dataclass
class Batch:
    obs: Tensor
    actions: Tensor
    rewards: Tensor
    terminated: Tensor
    mask: Tensor
    alive: Tensor
    avail: Tensor | None = None
    state: Tensor | None = None
    discount: Tensor | None = None

    def bootstrap_discount(self, gamma: float) -> Tensor | float:
        """The discount of each step's bootstrap term: ``discount`` when the sampler set it, else gamma."""
        return gamma if self.discount is None else self.discount

    @property
    def B(self) -> int:  # noqa: N802 - the contract's letters
        return self.obs.shape[0]

    @property
    def T(self) -> int:  # noqa: N802
        return self.rewards.shape[1]

    @property
    def N(self) -> int:  # noqa: N802
        return self.obs.shape[2]

    def to(self, device: torch.device | str) -> Batch:
        device = torch.device(device)
        if self.obs.device == device:
            return self
        return Batch(**{f: (None if v is None else v.to(device, non_blocking=True)) for f, v in self._items()})

    def _items(self):
        return ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))

    def replace(self, **changes) -> Batch:
        return dataclasses.replace(self, **changes)

    def clone(self) -> Batch:
        return Batch(**{f: (None if v is None else v.clone()) for f, v in self._items()})

    def obs_valid(self) -> Tensor:
        """[B, T+1]: 1 where obs t is used by a real transition (as its start or end)."""
        m = self.mask
        z = m.new_zeros(m.shape[0], 1)
        return torch.maximum(torch.cat([m, z], 1), torch.cat([z, m], 1))

    def validate(self, spec: TeamSpec | None = None) -> Batch:
        """Check shapes, dtypes, finiteness and masks; raise BatchError naming the field."""
        msgs, flags = self.value_checks(spec)
        for msg, bad in zip(msgs, flags.tolist()):  # one device sync for every value check
            if bad:
                raise BatchError(msg)
        return self

    def value_checks(self, spec: TeamSpec | None = None) -> tuple[list[str], Tensor]:
        """Check shapes and dtypes (BatchError now, on the host) and return the value checks unread:
        their messages and a bool tensor on the batch's device, True where one fails. Reading it is
        the caller's one sync (``validate``), or is left for later (``Algorithm.update_device``)."""
        if not isinstance(self.obs, Tensor) or self.obs.ndim != 4:
            raise BatchError(f"obs must be a [B, T+1, N, D] tensor, got {getattr(self.obs, 'shape', type(self.obs))}")
        B, T1, N, D = self.obs.shape
        T = T1 - 1
        if T < 1:
            raise BatchError("obs must hold T+1 >= 2 observations per window")
        discrete = not self.actions.is_floating_point()
        if spec is not None:
            if (N, D) != (spec.n_agents, spec.obs_dim):
                raise BatchError(f"obs: expected N={spec.n_agents}, D={spec.obs_dim}, got N={N}, D={D}")
            if discrete != spec.discrete:
                raise BatchError(f"actions: expected {'int64 indices' if spec.discrete else 'float32 vectors'}, got {self.actions.dtype}")
        want = {
            "obs": ((B, T + 1, N, D), torch.float32),
            "rewards": ((B, T), torch.float32),
            "terminated": ((B, T), torch.float32),
            "mask": ((B, T), torch.float32),
            "alive": ((B, T + 1, N), torch.float32),
        }
        if discrete:
            want["actions"] = ((B, T, N), torch.int64)
            if self.avail is None:
                raise BatchError("avail: required for discrete actions ([B, T+1, N, n_actions] bool)")
            n_act = spec.action_dim if spec is not None else self.avail.shape[-1]
            want["avail"] = ((B, T + 1, N, n_act), torch.bool)
        else:
            A = spec.action_dim if spec is not None else self.actions.shape[-1]
            want["actions"] = ((B, T, N, A), torch.float32)
            if self.avail is not None:
                raise BatchError("avail: must be None for continuous actions")
        if self.discount is not None:
            want["discount"] = ((B, T), torch.float32)
        if self.state is not None:
            S = spec.state_dim if spec is not None and spec.state_dim else self.state.shape[-1]
            want["state"] = ((B, T + 1, S), torch.float32)
        for name, (shape, dtype) in want.items():
            v = getattr(self, name)
            if not isinstance(v, Tensor):
                raise BatchError(f"{name}: expected a torch.Tensor, got {type(v).__name__}")
            if tuple(v.shape) != shape or v.dtype != dtype:
                raise BatchError(f"{name}: expected {dtype} {shape}, got {v.dtype} {tuple(v.shape)}")
        # A row of flags, then names.
        floats = [n for n in ("obs", "actions", "rewards", "terminated", "mask", "alive", "state", "discount") if n in want and want[n][1] == torch.float32]
        checks = {f"{n}: contains NaN or inf": ~torch.isfinite(getattr(self, n)).all() for n in floats}
        for n in ("terminated", "mask", "alive"):
            v = getattr(self, n)
            checks[f"{n}: values must be 0 or 1"] = ((v != 0) & (v != 1)).any()
        w = self.mask[..., None] * self.alive[:, :-1]
        if discrete:
            a, av = self.actions, self.avail
            checks[f"actions: index outside [0, {av.shape[-1]})"] = ((a < 0) | (a >= av.shape[-1])).any()
            used = (self.obs_valid()[..., None] * self.alive) > 0
            checks["avail: an agent in use has no available action (all-zero mask)"] = (used & ~av.any(-1)).any()
            taken = av[:, :-1].gather(-1, a.clamp(0, av.shape[-1] - 1)[..., None])[..., 0]
            checks["actions: a taken action is not available (avail is False)"] = ((w > 0) & ~taken).any()
        else:
            checks["actions: values outside [-1, 1]"] = (self.actions.abs() > 1).any()
        if self.discount is not None:
            checks["discount: values outside [0, 1]"] = ((self.discount < 0) | (self.discount > 1)).any()
        checks["terminated: set on a padded step (mask 0)"] = ((self.terminated > 0) & (self.mask == 0)).any()
        return list(checks), torch.stack(list(checks.values()))


def random_batch(
    spec: TeamSpec,
    batch_size: int = 4,
    horizon: int = 5,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
    pad: bool = True,
    with_state: bool = False,
) -> Batch:
    """A synthetic batch that satisfies the contract (for tests and benchmarks).

    With ``pad``, some windows end early: a random length L, ``terminated`` set
    at step L-1 for half of them (the others end by truncation), mask 0 after.
    Discrete masks are random with at least one legal action, the taken one.
    """
    g = generator or torch.Generator().manual_seed(0)
    B, T, N, D = batch_size, horizon, spec.n_agents, spec.obs_dim
    obs = torch.randn(B, T + 1, N, D, generator=g)
    rewards = torch.randn(B, T, generator=g)
    mask = torch.ones(B, T)
    terminated = torch.zeros(B, T)
    if pad:
        lengths = torch.randint(1, T + 1, (B,), generator=g)
        ends_terminal = torch.rand(B, generator=g) < 0.5
        for b in range(B):
            L = int(lengths[b])
            mask[b, L:] = 0
            obs[b, L + 1 :] = 0
            rewards[b, L:] = 0
            if ends_terminal[b]:
                terminated[b, L - 1] = 1
    alive = torch.ones(B, T + 1, N)
    avail = None
    if spec.discrete:
        n = spec.action_dim
        avail = torch.rand(B, T + 1, N, n, generator=g) < 0.6
        actions = torch.randint(0, n, (B, T, N), generator=g)
        idx = torch.cat([actions, torch.randint(0, n, (B, 1, N), generator=g)], 1)
        avail.scatter_(-1, idx[..., None], True)
    else:
        actions = torch.rand(B, T, N, spec.action_dim, generator=g) * 2 - 1
    state = torch.randn(B, T + 1, spec.state_dim or 4, generator=g) if with_state else None
    return Batch(obs, actions, rewards, terminated, mask, alive, avail, state).to(device)
