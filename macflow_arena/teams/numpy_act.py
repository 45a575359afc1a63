"""``act`` of the algorithms whose acting is one forward pass, in plain numpy (no torch).

``NUMPY_ACTORS`` maps an algorithm name to its actor: ``macflow`` (the one-step
student), ``bc``, ``td3bc`` (tanh of the actor) and ``vdn_cql`` (argmax of Q
head 0). Each one reads the act nets of a team (``Algorithm.act_nets``, same
tensor names) and the execution fields of its config, and its
``act(obs [B, N, D], rng, avail=None)`` returns what the torch ``act`` returns,
as numpy (within 1e-5 for continuous actions, the same argmax for discrete
ones; ``tests/test_team_numpy.py``). ``flowbc`` and ``diffusion`` integrate a
flow or denoise over many steps and stay torch-only.

Randomness: ``rng`` is a ``numpy.random.Generator`` seeded from the episode
seed (what ``TeamPolicy.reset`` does), in place of the torch ``Generator``. The
streams differ from torch's, so with noise (macflow ``exec_noise > 0``, bc
``stochastic``) the numpy and torch draws differ; with the defaults (no noise)
the outputs agree. macflow's ``exec_noise_hold`` keeps one draw per episode as
torch does: the generator's state is restored after the draw, so every step
until the next reseed sees the same z.

The config fields read here are dataclasses below whose defaults equal the
torch configs' (a test checks them); they are range-checked with the same
tables as the torch path (``integrity.config_check``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from .numpy_nets import NumpyEntityMLP, entity_shapes

NEG = np.float32(-1e9)  # masked logit, as algos.nets.NEG


@dataclass(frozen=True)
class MACFlowAct:
    hidden: tuple[int, ...] = (128, 128, 128)
    actor_layer_norm: bool = False
    noise: str = "shared"
    exec_noise: float = 0.0
    exec_noise_hold: bool = True
    exec_candidates: int = 1  # > 1 needs the critic, which teams do not ship: refused on load


@dataclass(frozen=True)
class BCAct:
    hidden: tuple[int, ...] = (128, 128, 128)
    layer_norm: bool = False
    stochastic: bool = False


@dataclass(frozen=True)
class TD3BCAct:
    hidden: tuple[int, ...] = (128, 128, 128)


@dataclass(frozen=True)
class VDNCQLAct:
    hidden: tuple[int, ...] = (128, 128, 128)
    layer_norm: bool = True


def act_fields(fields_cls: type, config: Mapping[str, Any], where: str):
    """The execution view of an algorithm config (a JSON object): range-checked, defaults filled."""
    from ..integrity.config_check import ConfigRangeError, check_algo_config

    check_algo_config(fields_cls, config, where)
    if config.get("memory", "none") != "none":
        raise ConfigRangeError(f"{where}: memory={config['memory']!r}: the numpy backend runs feed-forward teams only; "
                               "load this recurrent team with torch installed (pip install torch)")
    names = {f.name for f in dataclasses.fields(fields_cls)}
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k in names}
    if "hidden" in kw and not kw["hidden"]:
        raise ConfigRangeError(f"{where}: hidden must list at least one width")
    if int(kw.get("exec_candidates", 1)) != 1:
        raise ConfigRangeError(f"{where}: exec_candidates={kw['exec_candidates']}: a team acts with its students "
                               "alone (exec_candidates=1); ranking candidates needs the training run's critic")
    if kw.get("noise", "shared") not in ("shared", "private"):
        raise ConfigRangeError(f"{where}: noise={kw['noise']!r}: use one of ('shared', 'private')")
    return fields_cls(**kw)


def _masked(scores: np.ndarray, avail: np.ndarray | None) -> np.ndarray:
    return scores if avail is None else np.where(avail, scores, NEG)


class NumpyActor:
    """Base: the act nets of one algorithm from their tensors; subclasses define ``act``."""

    backend: ClassVar[str] = "numpy"
    name: ClassVar[str] = ""
    Fields: ClassVar[type] = object
    act_nets: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec, config: Mapping[str, Any], tensors: Mapping[str, np.ndarray], where: str = "config"):
        self.spec = spec
        self.config = act_fields(self.Fields, config, where)
        self.nets: dict[str, NumpyEntityMLP] = {}
        for prefix, args in self.net_args(spec, self.config).items():
            sub = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            self.nets[prefix.split(".", 1)[0]] = NumpyEntityMLP(spec, *args, tensors=sub)
        self._eye = np.eye(spec.n_agents, dtype=np.float32)

    # -- what a subclass declares -------------------------------------------------------
    @classmethod
    def net_args(cls, spec, cfg) -> dict[str, tuple]:
        """Tensor-name prefix -> (extra_dim, hidden, out_dim, layer_norm) of each entity network."""
        raise NotImplementedError

    def act(self, obs, rng: np.random.Generator, avail=None) -> np.ndarray:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------
    @classmethod
    def shapes(cls, spec, config: Mapping[str, Any], where: str = "config") -> dict[str, tuple[int, ...]]:
        """Every tensor name and shape the team's weights file must hold."""
        cfg = act_fields(cls.Fields, config, where)
        out: dict[str, tuple[int, ...]] = {}
        for prefix, (extra, hidden, out_dim, ln) in cls.net_args(spec, cfg).items():
            out.update(entity_shapes(spec, extra, hidden, out_dim, ln, prefix))
        return out

    @classmethod
    def from_algo(cls, algo) -> "NumpyActor":
        """The numpy actor of a trained torch algorithm (same weights and execution fields)."""
        from ..algos.base import config_to_dict

        actor_cls = NUMPY_ACTORS[algo.name]
        tensors = {}
        for net in actor_cls.act_nets:
            for k, v in algo.act_module(net).state_dict().items():
                tensors[f"{net}.{k}"] = v.detach().to("cpu").numpy()
        return actor_cls(algo.spec, config_to_dict(algo.config), tensors)

    def with_id(self, obs: np.ndarray) -> np.ndarray:
        eye = np.broadcast_to(self._eye, (*obs.shape[:-2], *self._eye.shape))
        return np.concatenate([obs, eye], -1)

    def _obs_in(self, obs) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        n, d = self.spec.n_agents, self.spec.obs_dim
        if obs.ndim != 3 or obs.shape[1:] != (n, d):
            raise ValueError(f"obs must have shape [B, {n}, {d}], got {tuple(obs.shape)}")
        if not np.isfinite(obs).all():
            raise ValueError("obs contains NaN or inf")
        return obs

    def _avail_in(self, avail, obs: np.ndarray) -> np.ndarray | None:
        if not self.spec.discrete:
            if avail is not None:
                raise ValueError("avail is for discrete action spaces only")
            return None
        if avail is None:
            return None
        avail = np.asarray(avail)
        if avail.dtype != np.bool_:
            avail = avail != 0
        want = (*obs.shape[:2], self.spec.action_dim)
        if avail.shape != want:
            raise ValueError(f"avail must have shape {want}, got {tuple(avail.shape)}")
        empty = ~avail.any(-1)
        if empty.any():
            b, i = (int(v) for v in np.argwhere(empty)[0][:2])
            raise ValueError(f"avail: agent {i} in row {b} has no available action (all-zero mask)")
        return avail


class MACFlowActor(NumpyActor):
    """``a_i = mu(o_i, z)``: the one-step student with the joint (shared) or private noise."""

    name, Fields, act_nets = "macflow", MACFlowAct, ("student",)

    @classmethod
    def net_args(cls, spec, cfg):
        nz = spec.action_dim * (spec.n_agents if cfg.noise == "shared" else 1)
        return {"student.net.": (nz, cfg.hidden, spec.action_dim, cfg.actor_layer_norm)}

    def act(self, obs, rng, avail=None):
        obs = self._obs_in(obs)
        avail = self._avail_in(avail, obs)
        cfg = self.config
        B, N, A = obs.shape[0], self.spec.n_agents, self.spec.action_dim
        bitgen = rng.bit_generator
        state = bitgen.state if cfg.exec_noise_hold else None
        z = rng.standard_normal((B, N, A), dtype=np.float32)
        if state is not None:  # the same draw at every step until the episode's seed is set again
            bitgen.state = state
        if cfg.exec_noise != 1.0:
            z = z * np.float32(cfg.exec_noise)
        if cfg.noise == "shared":
            z = np.broadcast_to(z.reshape(B, 1, N * A), (B, N, N * A))
        out = self.nets["student"](self.with_id(obs), z)
        return _masked(out, avail).argmax(-1) if self.spec.discrete else np.clip(out, -1.0, 1.0)


class BCActor(NumpyActor):
    """The policy's mean (continuous, clamped to [-1, 1]) or masked argmax; ``stochastic`` samples."""

    name, Fields, act_nets = "bc", BCAct, ("policy",)

    @classmethod
    def net_args(cls, spec, cfg):
        out = spec.action_dim * (1 if spec.discrete else 2)  # GaussianHead: (mean, log_std)
        return {"policy.net.": (0, cfg.hidden, out, cfg.layer_norm)}

    def act(self, obs, rng, avail=None):
        obs = self._obs_in(obs)
        avail = self._avail_in(avail, obs)
        out = self.nets["policy"](self.with_id(obs))
        A = self.spec.action_dim
        if self.spec.discrete:
            logits = _masked(out, avail)
            if not self.config.stochastic:
                return logits.argmax(-1)
            p = np.exp(logits - logits.max(-1, keepdims=True))
            c = np.cumsum(p / p.sum(-1, keepdims=True), -1)
            u = rng.random(c.shape[:-1] + (1,))
            return np.minimum((c < u).sum(-1), A - 1)
        mean, log_std = out[..., :A], np.clip(out[..., A:], -5.0, 2.0)
        if self.config.stochastic:
            mean = mean + np.exp(log_std) * rng.standard_normal(mean.shape, dtype=np.float32)
        return np.clip(mean, -1.0, 1.0)


class TD3BCActor(NumpyActor):
    name, Fields, act_nets = "td3bc", TD3BCAct, ("actor",)

    @classmethod
    def net_args(cls, spec, cfg):
        return {"actor.net.": (0, cfg.hidden, spec.action_dim, False)}

    def act(self, obs, rng, avail=None):
        obs = self._obs_in(obs)
        self._avail_in(avail, obs)
        return np.tanh(self.nets["actor"](self.with_id(obs)))


class VDNCQLActor(NumpyActor):
    name, Fields, act_nets = "vdn_cql", VDNCQLAct, ("q",)

    @classmethod
    def net_args(cls, spec, cfg):
        return {"q.heads.0.": (0, cfg.hidden, spec.action_dim, cfg.layer_norm)}

    def act(self, obs, rng, avail=None):
        obs = self._obs_in(obs)
        avail = self._avail_in(avail, obs)
        return _masked(self.nets["q"](self.with_id(obs)), avail).argmax(-1)


NUMPY_ACTORS: dict[str, type[NumpyActor]] = {c.name: c for c in (MACFlowActor, BCActor, TD3BCActor, VDNCQLActor)}
