"""The dataset on the device: every episode loaded once as torch tensors, and
windows sampled there with a device ``torch.Generator`` (no per-step host to
device copies), in the ``algos.Batch`` layout.

A thin adapter over ``macflow_arena.data.Dataset``: the loader gives episodes
concatenated along time (obs-aligned fields ``T + 1`` rows per episode,
step-aligned ``T``); here they become the Batch fields:

* team reward of step t: mean reward of the agents alive at t (the dataset's
  return definition);
* team ``terminated`` of step t: the episode's last step and an alive agent
  terminated there (time-limit truncation is not terminal; a single agent's
  death mid-episode is not the team's end);
* ``alive`` per observation: obs t < T uses the step's alive flag, the final
  observation the last step's alive minus the agents that terminated;
* ``avail`` from the ``action_mask`` field (discrete datasets).

Feed-forward networks train on i.i.d. transitions (``sample_transitions``: a
batch with T = 1, every recorded step equally likely, optionally with n-step
returns that stop at the episode's end); ``sample`` gives windows of T steps
for recurrent networks. Windows never cross an episode end: steps past it are
padded (mask 0, zeros). ``obs_mean`` / ``obs_std`` are the dataset's
per-entry observation statistics (the networks standardise with them).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..algos.base import TeamSpec
from ..algos.batch import Batch


class DatasetMismatchError(ValueError):
    """The dataset does not fit the env or the algorithm; the message says which and how to fix it."""


def manifest_hash(path: str | os.PathLike) -> str:
    """sha256 of the dataset's manifest file (what a checkpoint records)."""
    from ..data.manifest import MANIFEST

    with open(os.path.join(os.fspath(path), MANIFEST), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _base_id(env_id: str) -> str:
    return env_id.rsplit("-v", 1)[0] if "-v" in env_id else env_id


def team_spec(header: dict) -> TeamSpec:
    """The TeamSpec of a dataset header (shapes of the first agent; obs padded to the layout).
    Its entity layout is the header's ``entities``; a dataset recorded before headers held one
    takes the layout of its registered env (flat for a third-party env)."""
    agents = list(header["agents"])
    obs_shape = header["layout"]["obs"]["shape"]
    if len(obs_shape) != 1:
        raise DatasetMismatchError(f"observations of shape {obs_shape} are not flat vectors; the trainer needs [D]")
    sp = header["action_spaces"][agents[0]]
    if sp["type"] == "Discrete":
        if int(sp.get("start", 0)) != 0:
            raise DatasetMismatchError("discrete actions must start at 0")
        return TeamSpec(len(agents), int(obs_shape[0]), int(sp["n"]), discrete=True,
                        entities=_entities(header, int(obs_shape[0])))
    if sp["type"] == "Box":
        if len(sp["shape"]) != 1:
            raise DatasetMismatchError(f"action shape {sp['shape']} is not a flat vector")
        return TeamSpec(len(agents), int(obs_shape[0]), int(sp["shape"][0]), discrete=False,
                        entities=_entities(header, int(obs_shape[0])))
    raise DatasetMismatchError(f"action space {sp['type']} is not supported by the trainer (Box or Discrete)")


def _entities(header: dict, obs_dim: int) -> tuple:
    from ..envs.layout import LayoutError, normalize_layout, registered_layout

    ents = header.get("entities")
    try:
        if ents is not None:
            return normalize_layout(ents, obs_dim)
        return registered_layout(str(header.get("env_id", "")), obs_dim)
    except LayoutError as e:
        raise DatasetMismatchError(f"dataset header: bad entity layout ({e})") from None


def horizon_gamma(mean_steps: float) -> float:
    """A discount matched to the episodes' length: 1 - 1 / mean length, within [0.9, 0.995]."""
    return float(min(0.995, max(0.9, 1.0 - 1.0 / max(float(mean_steps), 1.0))))


@dataclass
class DeviceDataset:
    """Episodes on ``device``; ``sample(B, T, generator)`` returns a ``Batch`` of windows."""

    name: str
    path: str
    env_id: str
    spec: TeamSpec
    header: dict
    manifest_sha256: str
    steps: Tensor  # [E] int64
    step_start: Tensor  # [E + 1]
    obs_start: Tensor  # [E + 1]
    obs: Tensor  # [R_obs, N, D] float32
    alive_obs: Tensor  # [R_obs, N] float32
    avail: Tensor | None  # [R_obs, N, n] bool
    actions: Tensor  # [R, N, A] float32 or [R, N] int64
    rewards: Tensor  # [R] float32 (team)
    terminated: Tensor  # [R] float32 (team)
    returns: np.ndarray  # [E] episode returns (host)
    obs_row: Tensor | None = None  # [R] int64: the obs row of each step's first observation
    obs_mean: Tensor | None = None  # [D] per-entry mean over every observation and agent
    obs_std: Tensor | None = None  # [D]
    _placements: dict = field(default_factory=dict, repr=False, compare=False)  # window length -> (starts, total)
    _nstep: dict = field(default_factory=dict, repr=False, compare=False)  # (n, gamma) -> per-step targets

    @property
    def reference_returns(self) -> dict:
        return dict(self.header.get("reference_returns") or {})

    @property
    def recorded_layout(self) -> tuple:
        """The entity layout the observations were recorded with (the header's), whatever the
        networks read (``--encoder flat`` drops it from ``spec``)."""
        return _entities(self.header, self.spec.obs_dim)

    @property
    def num_steps(self) -> int:
        return int(self.rewards.shape[0])

    @property
    def num_episodes(self) -> int:
        return int(self.steps.shape[0])

    @property
    def device(self) -> torch.device:
        return self.obs.device

    @property
    def mean_episode_steps(self) -> float:
        return float(self.num_steps) / max(self.num_episodes, 1)

    def _nstep_targets(self, n: int, gamma: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Per step: discounted return of up to ``n`` steps (stopping at the episode's end), the obs
        row it bootstraps from, its discount gamma^k and whether the episode ended terminally."""
        key = (int(n), float(gamma))
        if key not in self._nstep:
            steps = self.steps.cpu().numpy()
            ss = self.step_start.cpu().numpy()
            ep = np.repeat(np.arange(len(steps)), steps)
            t = np.arange(int(ss[-1])) - ss[ep]
            k = np.minimum(n, steps[ep] - t)  # reward steps included (>= 1)
            r = self.rewards.cpu().numpy().astype(np.float64)
            ret = np.zeros(len(t))
            for j in range(n):
                ret += np.where(j < k, (gamma ** j) * r[np.minimum(np.arange(len(t)) + j, len(t) - 1)], 0.0)
            rows = np.arange(len(t))
            term = self.terminated.cpu().numpy()[rows + k - 1]
            nxt = self.obs_row.cpu().numpy() + k
            dev = self.device
            self._nstep[key] = (torch.as_tensor(ret, dtype=torch.float32, device=dev),
                                torch.as_tensor(nxt, dtype=torch.int64, device=dev),
                                torch.as_tensor(gamma ** k, dtype=torch.float32, device=dev),
                                torch.as_tensor(term, dtype=torch.float32, device=dev))
        return self._nstep[key]

    def sample_transitions(self, batch_size: int, generator: torch.Generator, *, n_step: int = 1,
                           gamma: float | None = None, start_fraction: float = 0.0) -> Batch:
        """``batch_size`` i.i.d. transitions (a Batch with T = 1), every recorded step equally likely.
        With ``gamma``: ``rewards`` is the return of up to ``n_step`` steps, ``obs[:, 1]`` the
        observation it bootstraps from and ``discount`` gamma^k (k < n_step where the episode ends
        first; ``terminated`` then says whether it ended terminally). Without: one step, no discount.
        ``start_fraction`` of the rows are the first steps of uniformly drawn episodes (the rest uniform
        over all steps): the decisions where a team picks its joint plan, 1 step in 25-30 otherwise."""
        dev = self.device
        r = torch.randint(self.num_steps, (batch_size,), generator=generator, device=dev)
        k0 = int(round(batch_size * start_fraction))
        if k0 > 0:  # oversample episode starts, where a team picks its joint plan
            ep = torch.randint(self.num_episodes, (k0,), generator=generator, device=dev)
            r = torch.cat([self.step_start[ep], r[k0:]])
            # spread the starts over the batch: terms that use the first rows (MAC-Flow's
            # students and pick) see the same share of starts as the rest
            r = r[torch.randperm(batch_size, generator=generator, device=dev)]
        o0 = self.obs_row[r]
        if gamma is None:
            if n_step != 1:
                raise ValueError("n-step returns need gamma")
            rew, o1, disc, term = self.rewards[r], o0 + 1, None, self.terminated[r]
        else:
            ret, nxt, dsc, trm = self._nstep_targets(n_step, gamma)
            rew, o1, disc, term = ret[r], nxt[r], dsc[r][:, None], trm[r]
        orows = torch.stack([o0, o1], 1)  # [B, 2]
        act = self.actions[r][:, None]
        return Batch(
            obs=self.obs[orows], actions=act, rewards=rew[:, None], terminated=term[:, None],
            mask=torch.ones(batch_size, 1, device=dev), alive=self.alive_obs[orows],
            avail=None if self.avail is None else self.avail[orows], discount=disc,
        )

    def sample(self, batch_size: int, length: int, generator: torch.Generator) -> Batch:
        """``batch_size`` windows of ``length`` steps in which every recorded step is
        equally likely to appear: a window's first row is uniform over the
        ``steps + length - 1`` placements that overlap its episode, so windows may
        begin before the episode (front padding) or run past its end (back
        padding), both with mask 0, and each step is covered by exactly ``length``
        placements. (Windows that only start at real steps would show step 0 of
        an episode ``length`` times less often than its middle: the first
        decisions, where a team picks its joint plan, would be the rarest.)"""
        dev = self.device
        if length not in self._placements:  # once per window length: no host-device sync per batch
            ext = torch.cumsum(self.steps + (length - 1), 0)
            self._placements[length] = (torch.cat([ext.new_zeros(1), ext]), int(ext[-1]))
        ext_start, total = self._placements[length]
        j = torch.randint(total, (batch_size,), generator=generator, device=dev)
        ep = torch.searchsorted(ext_start, j, right=True) - 1
        t0 = j - ext_start[ep] - (length - 1)
        steps = self.steps[ep][:, None]
        ar = torch.arange(length + 1, device=dev)[None]
        ts, to = t0[:, None] + ar[:, :-1], t0[:, None] + ar
        mask = (ts >= 0) & (ts < steps)
        omask = (to >= 0) & (to <= steps)
        srows = self.step_start[ep][:, None] + torch.minimum(ts, steps - 1).clamp_min(0)
        orows = self.obs_start[ep][:, None] + torch.minimum(to, steps).clamp_min(0)
        mf, of = mask.float(), omask.float()
        obs = self.obs[orows] * of[..., None, None]
        alive = self.alive_obs[orows] * of[..., None]
        act = self.actions[srows]
        act = act * (mf[..., None, None] if act.is_floating_point() else mask[..., None].long())
        avail = None if self.avail is None else self.avail[orows] & omask[..., None, None]
        return Batch(
            obs=obs, actions=act, rewards=self.rewards[srows] * mf, terminated=self.terminated[srows] * mf,
            mask=mf, alive=alive, avail=avail,
        )


def load_device_dataset(name_or_path, env_id: str | None = None, device: str | torch.device = "cpu") -> DeviceDataset:
    """Load a recorded dataset onto ``device``; ``env_id`` (with or without ``-vN``) must match it."""
    from ..data import Dataset
    from ..data.errors import DatasetNotFoundError

    try:
        ds = Dataset(name_or_path)
    except DatasetNotFoundError as e:
        from ..data.paths import datasets_dir

        root = datasets_dir()
        have = sorted(p.name for p in root.iterdir() if (p / "manifest.jsonl").is_file()) if root.is_dir() else []
        hint = f"; datasets in {root}: {', '.join(have)}" if have else f"; no datasets in {root} yet"
        env = env_id or "ENV"
        raise DatasetNotFoundError(f"{e}{hint}. Record one with `macflow-arena record {env} --suite --episodes 1000`") from None
    rec = ds.env_id
    if env_id is not None and _base_id(env_id) != _base_id(rec):
        raise DatasetMismatchError(
            f"dataset {ds.name} was recorded on {rec}, not {env_id}: train on {_base_id(rec)} "
            f"or record one with `macflow-arena record {env_id} --behavior scripted --quality expert`"
        )
    spec = team_spec(ds.header)
    ea = ds.load()  # exactly the shards of the manifest snapshot ``ds.manifest`` (a recorder may append meanwhile)
    f = ea.fields
    if len(ea):
        from ..data.trainable import check_trainable

        check_trainable(f, ds.layout, ds.agents, f"dataset {ds.name}")  # what `dataset verify` checks too
    if len(ea) == 0:
        raise DatasetMismatchError(f"dataset {ds.name} has no committed episodes")
    steps = ea.steps
    ss, os_ = ea.step_start, ea.obs_start
    ep_of_row = np.repeat(np.arange(len(steps)), steps)
    last = np.zeros(int(ss[-1]), dtype=bool)
    last[ss[1:] - 1] = True
    alive = np.asarray(f["alive"], dtype=bool)
    term = np.asarray(f["terminated"], dtype=bool)
    reward = np.asarray(f["reward"], dtype=np.float64)
    team_r = np.where(alive, reward, 0.0).sum(-1) / np.maximum(alive.sum(-1), 1)
    team_term = last & (term & alive).any(-1)
    alive_obs = np.zeros((int(os_[-1]), spec.n_agents), dtype=bool)
    rows = np.arange(len(ep_of_row))
    alive_obs[rows + ep_of_row] = alive
    alive_obs[os_[1:] - 1] = alive[ss[1:] - 1] & ~term[ss[1:] - 1]
    obs = np.asarray(f["obs"], dtype=np.float32)
    for name, arr in (("obs", obs), ("reward", reward)):
        bad = ~np.isfinite(arr.reshape(arr.shape[0], -1)).all(-1)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            starts = os_ if name == "obs" else ss
            e = int(np.searchsorted(starts, r, side="right") - 1)
            raise DatasetMismatchError(f"dataset {ds.name}: episode {int(ea.episode_id[e])} field {name!r} has NaN or inf")
    if spec.discrete:
        actions = torch.as_tensor(np.asarray(f["action"], dtype=np.int64).reshape(len(rows), spec.n_agents))
        if "action_mask" not in f:
            raise DatasetMismatchError(f"dataset {ds.name} has discrete actions but no action_mask field")
        avail = torch.as_tensor(np.asarray(f["action_mask"]) != 0)
    else:
        a = np.asarray(f["action"], dtype=np.float32)
        if not np.isfinite(a).all():
            raise DatasetMismatchError(f"dataset {ds.name}: field 'action' has NaN or inf")
        actions = torch.as_tensor(np.clip(a, -1.0, 1.0))
        avail = None
    dev = torch.device(device)

    def put(x) -> Tensor:
        return torch.as_tensor(x).to(dev)

    flat = obs.reshape(-1, obs.shape[-1]).astype(np.float64)
    obs_mean, obs_std = flat.mean(0), flat.std(0)

    return DeviceDataset(
        name=ds.name, path=str(ds.path), env_id=rec, spec=spec, header=ds.header,
        manifest_sha256=ds.manifest.sha256 or manifest_hash(ds.path),  # the snapshot loaded, not a later one
        steps=put(steps.astype(np.int64)), step_start=put(ss.astype(np.int64)), obs_start=put(os_.astype(np.int64)),
        obs=put(obs), alive_obs=put(alive_obs.astype(np.float32)), avail=None if avail is None else avail.to(dev),
        actions=actions.to(dev), rewards=put(team_r.astype(np.float32)), terminated=put(team_term.astype(np.float32)),
        returns=ea.returns(), obs_row=put((rows + ep_of_row).astype(np.int64)),
        obs_mean=put(obs_mean.astype(np.float32)), obs_std=put(obs_std.astype(np.float32)),
    )
