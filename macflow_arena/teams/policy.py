"""``TeamPolicy``: a loaded team playing some seats of a PettingZoo ParallelEnv.

Each step builds the team's observation ``[1, N, D]`` in the team's agent
order (seats it does not drive and absent agents, e.g. dead skirmish units,
are zeros with every action available), calls ``algo.act`` once with a
generator seeded from the episode seed (shared-noise MAC-Flow needs one seed
all agents agree on), and returns the actions of its own seats only, legal
under their masks. A numpy team (``team.algo`` a ``NumpyActor``,
``load_team(..., backend="numpy")``) acts with a ``numpy.random.Generator``
and never imports torch; a torch team with a ``torch.Generator``. ``latency_ms`` (mean of the last 50
decisions) and ``hud_line()`` feed the play HUD.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Mapping

import numpy as np

from .format import TeamError

LATENCY_WINDOW = 50


def _unwrap(env):
    return getattr(env, "unwrapped", env)


def _obs_dim(space) -> int:
    inner = space["observation"] if hasattr(space, "spaces") and "observation" in getattr(space, "spaces", {}) else space
    shape = getattr(inner, "shape", None)
    if shape is None or len(shape) != 1:
        raise TeamError(f"observation space {space} is not a flat vector")
    return int(shape[0])


def _action_dims(space) -> tuple[int, bool]:
    if hasattr(space, "n"):
        return int(space.n), True
    shape = getattr(space, "shape", None)
    if shape is None or len(shape) != 1:
        raise TeamError(f"action space {space} is not Discrete or a flat Box")
    return int(shape[0]), False


def check_team_fits(team, env) -> None:
    """Raise a TeamError naming the team and the env when the team cannot play ``env``."""
    from ..team_spec import TeamSpec

    env = _unwrap(env)
    env_id = getattr(env, "env_id", None) or getattr(env, "metadata", {}).get("name", str(env))
    if env_id != team.env_id:
        raise TeamError(f"team {team.label} was trained on {team.env_id}; this env is {env_id}. "
                        f"Play it on {team.env_id}, or export a team trained on {env_id}")
    missing = [a for a in team.agents if a not in env.possible_agents]
    if missing:
        raise TeamError(f"team {team.label} plays {', '.join(team.agents)}; {env_id} has no seat "
                        f"{', '.join(missing)} (its seats: {', '.join(env.possible_agents)})")
    dims = [_obs_dim(env.observation_space(a)) for a in team.agents]
    acts = {_action_dims(env.action_space(a)) for a in team.agents}
    if len(acts) != 1:
        raise TeamError(f"{env_id}: the team's seats have different action spaces {sorted(acts)}")
    (n_act, discrete), = acts
    here = TeamSpec(n_agents=len(team.agents), obs_dim=max(dims), action_dim=n_act, discrete=discrete)
    try:
        team.spec.check_compatible(here, what=f"env {env_id}")
    except ValueError as e:
        raise TeamError(f"team {team.label}: {e}") from None


class TeamPolicy:
    """A team driving ``seats`` (a subset of ``team.agents``) of ``env``; see the module doc."""

    def __init__(self, team, env, seats):
        check_team_fits(team, env)
        seats = list(seats)
        foreign = [s for s in seats if s not in team.agents]
        if foreign:
            raise TeamError(f"team {team.label} plays {', '.join(team.agents)}, not {', '.join(foreign)}; "
                            f"give {', '.join(foreign)} another seat kind (e.g. {foreign[0]}=keyboard)")
        if not seats:
            raise TeamError(f"team {team.label} was given no seat")
        self.team = team
        self.algo = team.algo
        self.seats = seats
        self.name = f"team:{team.name}"
        self.seat_label = self.name  # what Seating records for these seats (dataset policy info)
        self.label = team.label
        self._index = {a: i for i, a in enumerate(team.agents)}
        spec = team.spec
        self._obs = np.zeros((1, spec.n_agents, spec.obs_dim), dtype=np.float32)
        self._avail = np.ones((1, spec.n_agents, spec.action_dim), dtype=bool) if spec.discrete else None
        self.numpy = getattr(self.algo, "backend", "torch") == "numpy"
        self.gen = None
        self.reset(0)
        self._times: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.decisions = 0

    def reset(self, seed: int | None = None) -> None:
        """New episode: the shared noise stream restarts from the episode seed; a recurrent
        policy's state restarts (with or without a seed)."""
        getattr(self.algo, "reset_memory", lambda: None)()
        if seed is None:
            return
        if self.numpy:
            self.gen = np.random.default_rng(int(seed))
            return
        if self.gen is None:
            import torch

            self.gen = torch.Generator(device=self.algo.device)
        self.gen.manual_seed(int(seed))

    @property
    def latency_ms(self) -> float:
        """Mean milliseconds per decision over the last 50 (NaN before the first)."""
        return float(np.mean(self._times)) if self._times else float("nan")

    def hud_line(self) -> str:
        lat = self.latency_ms
        return f"team {self.label}: " + ("-" if lat != lat else f"{lat:.2f} ms/decision")

    def act(self, obs: Mapping[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        o, avail = self._obs, self._avail
        o.fill(0.0)
        if avail is not None:
            avail.fill(True)
        mine = [a for a in obs if a in self._index]
        stray = [a for a in obs if a not in self._index or a not in self.seats]
        if stray:
            raise TeamError(f"team {self.team.label} was asked to act for {stray}, which are not its seats {self.seats}")
        for a in mine:
            i = self._index[a]
            ob = obs[a]
            if isinstance(ob, Mapping):
                vec = np.asarray(ob["observation"], dtype=np.float32)
                if avail is not None and "action_mask" in ob:
                    m = np.asarray(ob["action_mask"]) != 0
                    if not m.any():
                        raise TeamError(f"{a}: its action mask allows no action")
                    avail[0, i] = m
            else:
                vec = np.asarray(ob, dtype=np.float32)
            o[0, i, : vec.shape[0]] = vec
        if self.numpy:
            acts = self.algo.act(o, self.gen, avail)[0]
        else:
            import torch

            dev = self.algo.device
            acts = self.algo.act(torch.from_numpy(o).to(dev), self.gen,
                                 None if avail is None else torch.from_numpy(avail).to(dev)).cpu().numpy()[0]
        if self.team.spec.discrete:
            out = {a: np.int64(acts[self._index[a]]) for a in mine}
        else:
            out = {a: acts[self._index[a]].astype(np.float32) for a in mine}
        self._times.append((time.perf_counter() - t0) * 1e3)
        self.decisions += 1
        return out
