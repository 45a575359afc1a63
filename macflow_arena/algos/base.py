"""What every algorithm shares: the team spec, config helpers, presets, and the
``Algorithm`` base class (seeding, optimizers, metrics, state dicts).

State dicts are flat ``dict[str, Tensor]`` (safetensors-ready):
``nets.<module>.<param>`` for weights (targets and ``ema_`` averages included), ``optim.<name>.<i>.<key>``
for the optimizer moments of parameter ``i`` (always present: zeros and step 0
before the first update, which is exactly what Adam initialises lazily),
``rng.train`` for the training generator and ``meta.step`` for the update count.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from dataclasses import field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..team_spec import TeamSpec  # noqa: F401 - re-exported; it lives in the torch-free team_spec
from .batch import Batch
from .device_step import DeviceStep, skip_step_if


class StateDictError(ValueError):
    """A state dict or checkpoint does not fit the algorithm (names the key)."""


def opt(default: Any, help: str) -> Any:  # noqa: A002 - "help" reads best at the call site
    """A config field with its documentation (the CLI shows ``help``)."""
    return field(default=default, metadata={"help": help})


# Presets fill the network sizes (and only fields a config has).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "small": {"continuous": {"hidden": (128, 128, 128)}, "discrete": {"hidden": (128, 128, 128)}},
    "paper": {"continuous": {"hidden": (512,) * 4}, "discrete": {"hidden": (256,) * 4}},
}


def config_fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def config_from_dict(cls, data: dict[str, Any]):
    """Strict: unknown keys are an error that lists the known ones; lists become tuples."""
    known = config_fields(cls)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; known: {sorted(known)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def with_saved_before(cls, data: dict[str, Any]) -> dict[str, Any]:
    """A saved config with the fields its save predates at the values that run was trained with
    (``cls.SAVED_BEFORE``), not today's defaults."""
    return {**{k: v for k, v in getattr(cls, "SAVED_BEFORE", {}).items() if k not in data}, **data}


def saved_config(cls, data: dict[str, Any]):
    """``config_from_dict`` for a config read back from a run or a team (``with_saved_before``)."""
    return config_from_dict(cls, with_saved_before(cls, data))


def config_to_dict(cfg) -> dict[str, Any]:
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}


def resolve_config(cfg, spec: TeamSpec):
    """Fill the ``None`` (auto) fields that depend on the action space (and those a config's own
    ``auto_fields()`` derives from its other fields)."""
    auto = {
        "gamma": 0.99 if spec.discrete else 0.995,
        "alpha": 3.0 if spec.discrete else 30.0,
    }
    if hasattr(cfg, "auto_fields"):
        auto.update(cfg.auto_fields())
    names = config_fields(type(cfg))
    fill = {k: v for k, v in auto.items() if k in names and getattr(cfg, k) is None}
    return dataclasses.replace(cfg, **fill) if fill else cfg


def masked_mean(x: Tensor, w: Tensor) -> Tensor:
    """Mean of ``x`` weighted by the 0/1 mask ``w`` (same shape); 0 when empty."""
    return (x * w).sum() / w.sum().clamp_min(1.0)


def mix(q: Tensor, alive: Tensor, how: str) -> Tensor:
    """Additive mixing over the agent axis (last), dead agents excluded (IGM holds)."""
    s = (q * alive).sum(-1)
    return s / alive.sum(-1).clamp_min(1.0) if how == "mean" else s


def ens_agg(q: Tensor, how: str) -> Tensor:
    """Aggregate the ensemble axis (first): "mean" or "min"."""
    return q.min(0).values if how == "min" else q.mean(0)


def check_choice(cfg, name: str, options: tuple[str, ...]) -> None:
    v = getattr(cfg, name)
    if v not in options:
        raise ValueError(f"{type(cfg).__name__}.{name}={v!r}: use one of {options}")


EMA_HELP = ("Polyak rate of a moving average of the policy's weights (each update: avg += ema * (weights - avg)) "
            "that the team plays, exports and evaluates; training reads the live weights. 0 (default): none, the "
            "team plays the last update's weights")


def check_ema(cfg) -> None:
    if not 0.0 <= cfg.ema < 1.0:
        raise ValueError(f"{type(cfg).__name__}.ema must be in [0, 1) (0: no average), got {cfg.ema}")


FLOW_TARGETS = ("x1", "velocity", "logits")
FLOW_TARGET_HELP = ("'x1': the field predicts the clean action (default); 'velocity': x1 - x0 (paper); 'logits' "
                    "(discrete actions): the field's outputs are logits, its x1 prediction their softmax (the "
                    "posterior over actions, the same optimum as x1's MSE), trained by cross-entropy")


def check_flow_target(spec, target: str) -> None:
    """``flow_target='logits'`` needs discrete actions (the field's outputs are their logits)."""
    if target == "logits" and not spec.discrete:
        raise ValueError("flow_target='logits' is for discrete actions (the field's outputs are logits over them); "
                         "use 'x1' or 'velocity' for continuous actions")


def flow_matching_loss(field: nn.Module, o: Tensor, x1: Tensor, x0: Tensor, tau: Tensor, w: Tensor,
                       target: str = "x1", mem=None) -> Tensor:
    """Flow-matching BC along x_tau = (1 - tau) x0 + tau x1, weighted by ``w`` ([..., N]; the
    action axis is averaged).

    ``target="x1"`` (default): the network predicts the clean action, loss ||f - x1||^2 (its
    velocity is (f - x_tau) / (1 - tau)). ``"velocity"`` (the paper's): ||f - (x1 - x0)||^2, which
    is the x1 error weighted by 1 / (1 - tau)^2 and spends itself on flow times near 1, where the
    action is already decided. ``"logits"`` (discrete, ``x1`` one-hot): ``f`` are logits and the loss
    the cross-entropy to x1's action, the proper score for the same posterior E[x1 | x_tau] that
    MSE on x1 fits (stronger gradients where the posterior is confident). ``mem``: ``field.encode(o)``,
    when the caller reuses it."""
    xt = (1 - tau) * x0 + tau * x1
    out = field(o, xt, tau) if mem is None else field.forward_h(mem, xt, tau)
    if target == "logits":
        ce = nn.functional.cross_entropy(out.flatten(0, -2), x1.argmax(-1).flatten(), reduction="none")
        return masked_mean(ce.view(x1.shape[:-1]), w)
    goal = x1 if target == "x1" else x1 - x0
    return masked_mean(((out - goal) ** 2).mean(-1), w)


def sanitize_avail(avail: Tensor) -> Tensor:
    """Rows with no available action (padding, dead agents) become all-available.

    Only rows that carry zero weight can be empty (``Batch.validate`` checks it),
    so this changes no loss; it keeps softmaxes finite.
    """
    empty = ~avail.any(-1, keepdim=True)
    return avail | empty


def check_avail(avail: Tensor | None, n_actions: int, lead: tuple[int, ...]) -> Tensor | None:
    """Validate an execution-time mask: shape [..., n_actions], bool, no empty row."""
    if avail is None:
        return None
    avail = torch.as_tensor(avail)
    if avail.dtype != torch.bool:
        avail = avail != 0
    if tuple(avail.shape) != (*lead, n_actions):
        raise ValueError(f"avail must have shape {(*lead, n_actions)}, got {tuple(avail.shape)}")
    empty = ~avail.any(-1)
    if bool(empty.any()):
        b, i = (int(v) for v in empty.nonzero()[0][:2])
        raise ValueError(f"avail: agent {i} in row {b} has no available action (all-zero mask)")
    return avail


class Algorithm:
    """Base class: seeded construction, one state dict format, checked updates."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = object
    continuous_ok: ClassVar[bool] = True
    discrete_ok: ClassVar[bool] = True
    # The modules of ``nets`` that ``act`` reads (all it needs to play): a team
    # (macflow_arena.teams) ships only these weights, without critics, targets or optimizers.
    act_nets: ClassVar[tuple[str, ...]] = ()
    # Config fields that only change how ``act`` executes (not training): they may be
    # changed on a trained algorithm (``set_execution``), e.g. at evaluation or export.
    exec_fields: ClassVar[tuple[str, ...]] = ()
    # Called as ``grad_hook(algo, params)`` after backward, before the checks and the
    # optimizer step (the trainer's DDP gradient all-reduce); None: nothing.
    grad_hook = None
    # What the losses compute in: 'fp32', or 'bf16' (autocast: matrix products in bfloat16, weights,
    # optimizer and the networks' outputs in float32); set by the trainer (``train --precision``).
    precision: str = "fp32"

    def __init__(self, spec: TeamSpec, config=None, *, seed: int = 0, device: str | torch.device = "cpu"):
        if spec.discrete and not self.discrete_ok:
            raise ValueError(f"{self.name} supports continuous actions only; this team is discrete")
        if not spec.discrete and not self.continuous_ok:
            raise ValueError(f"{self.name} supports discrete actions only; this team is continuous")
        cfg = self.Config() if config is None else config
        if not isinstance(cfg, self.Config):
            raise TypeError(f"{self.name} needs a {self.Config.__name__}, got {type(cfg).__name__}")
        self.spec = spec
        self.config = resolve_config(cfg, spec)
        self.device = torch.device(device)
        self.seed = int(seed)
        self.step = 0
        # Weights come from the seed alone; the global RNG is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            nets = dict(self.build())
        if self.ema_rate:  # the averages start as copies of the modules act() uses
            nets.update({f"ema_{k}": copy.deepcopy(nets[k]) for k in type(self).act_nets})
        self.nets = nn.ModuleDict(nets)
        for k, m in self.nets.items():
            if k.startswith(("target_", "ema_")):
                m.requires_grad_(False)
        self.nets.to(self.device)
        self.optimizers: dict[str, torch.optim.Optimizer] = self.build_optimizers()
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(self.seed * 1_000_003 + 17)
        n = spec.n_agents
        self._eye = torch.eye(n, device=self.device)

    # -- to implement -------------------------------------------------------
    def build(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Default: one Adam over every module but the targets and the averages (``ema_``)."""
        params = [p for k, m in self.nets.items() if not k.startswith(("target_", "ema_")) for p in m.parameters()]
        return {"main": self.adam(params)}

    def losses(self, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        """Total loss and named 0-d metrics (keys ``critic/...``, ``actor/...``)."""
        raise NotImplementedError

    def act(self, obs, generator: torch.Generator, avail=None) -> Tensor:
        raise NotImplementedError

    # -- the policy's weight average (config field ``ema``) ------------------
    @property
    def ema_rate(self) -> float:
        """Polyak rate of the moving average of the act nets' weights (the config's ``ema``; 0: none)."""
        return float(getattr(self.config, "ema", 0.0) or 0.0)

    def act_module(self, name: str) -> nn.Module:
        """The module ``act`` runs for act net ``name``: its weight average ``ema_<name>`` when the
        config has ``ema`` > 0, else the trained module itself. Teams export and load this one."""
        return self.nets[f"ema_{name}"] if f"ema_{name}" in self.nets else self.nets[name]

    def end_step(self) -> None:
        """After the optimizer step: the algorithm's ``after_step`` (targets), then the weight averages."""
        self.after_step()
        rate = self.ema_rate
        if rate:
            for k in type(self).act_nets:
                self.polyak(k, f"ema_{k}", rate)

    # -- shared helpers -----------------------------------------------------
    def set_execution(self, **fields: Any) -> None:
        """Change execution-only config fields (``exec_fields``) of a trained algorithm."""
        bad = sorted(set(fields) - set(self.exec_fields))
        if bad:
            known = ", ".join(self.exec_fields) or "none"
            raise ValueError(f"{self.name}: {bad} cannot change after training; execution options: {known}")
        if fields:
            self.config = dataclasses.replace(self.config, **fields)

    @property
    def recurrent(self) -> bool:
        """True if ``act`` keeps a state between calls (the recurrent option): it trains on windows
        and whoever runs episodes calls ``reset_memory`` at each episode start."""
        return False

    def reset_memory(self) -> None:
        """Drop the state ``act`` keeps between calls (a new episode starts); nothing when feed-forward."""

    @property
    def centralized_execution(self) -> bool:
        """True if ``act`` lets an agent see other agents' observations."""
        return False

    def adam(self, params) -> torch.optim.Optimizer:
        """Adam at ``config.lr``; ``params`` may be parameter groups with their own ``lr`` and
        ``peak_lr`` (the peak the trainer's schedule scales; default ``config.lr``)."""
        params = list(params)
        try:  # the fused kernel (CPU and CUDA, torch >= 2.4) is several times faster
            return torch.optim.Adam(params, lr=self.config.lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.Adam(params, lr=self.config.lr, foreach=True)

    def autocast(self):
        """The context the losses run in: bfloat16 autocast on the algorithm's device with
        ``precision == 'bf16'``, else nothing (float32)."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def set_obs_stats(self, mean, std) -> None:
        """Standardise observations with dataset statistics ([D] each; ``std`` floored at 1e-3 and
        1 where an entry never varies) in every network; they are part of the weights (checkpoints, teams)."""
        from .entity import set_obs_stats

        mean = torch.as_tensor(mean, dtype=torch.float32, device=self.device)
        std = torch.as_tensor(std, dtype=torch.float32, device=self.device)
        d = self.spec.obs_dim
        if mean.shape != (d,) or std.shape != (d,):
            raise ValueError(f"observation statistics must have shape ({d},), got {tuple(mean.shape)} and {tuple(std.shape)}")
        if not bool(torch.isfinite(mean).all() and torch.isfinite(std).all()):
            raise ValueError("observation statistics contain NaN or inf")
        std = torch.where(std < 1e-6, torch.ones_like(std), std.clamp_min(1e-3))
        set_obs_stats(self.nets, mean, std)

    def with_id(self, obs: Tensor) -> Tensor:
        """Append the agent one-hot id: [..., N, D] -> [..., N, D + N]."""
        eye = self._eye.expand(*obs.shape[:-2], *self._eye.shape)
        return torch.cat([obs, eye], -1)

    # Every random draw of an update goes through these three (the training generator
    # ``self.gen``), so a seed stack (``seed_stack.SeedStack``) can draw each seed's numbers
    # from that seed's generator, in the same order as a single run, and hand them in.
    _draws = None  # set by a seed stack: a callable (kind, shape, high) -> Tensor

    def randn(self, *shape: int, generator: torch.Generator | None = None) -> Tensor:
        if self._draws is not None and generator in (None, self.gen):
            return self._draws("randn", shape, 0)
        return torch.randn(shape, generator=generator or self.gen, device=self.device)

    def rand(self, *shape: int) -> Tensor:
        if self._draws is not None:
            return self._draws("rand", shape, 0)
        return torch.rand(shape, generator=self.gen, device=self.device)

    def randint(self, high: int, *shape: int) -> Tensor:
        if self._draws is not None:
            return self._draws("randint", shape, high)
        return torch.randint(0, high, shape, generator=self.gen, device=self.device)

    def _obs_in(self, obs) -> Tensor:
        obs = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        n, d = self.spec.n_agents, self.spec.obs_dim
        if obs.ndim != 3 or obs.shape[1:] != (n, d):
            raise ValueError(f"obs must have shape [B, {n}, {d}], got {tuple(obs.shape)}")
        if not bool(torch.isfinite(obs).all()):
            raise ValueError("obs contains NaN or inf")
        return obs

    def _avail_in(self, avail, obs: Tensor) -> Tensor | None:
        if not self.spec.discrete:
            if avail is not None:
                raise ValueError("avail is for discrete action spaces only")
            return None
        return check_avail(
            None if avail is None else torch.as_tensor(avail, device=self.device),
            self.spec.action_dim,
            tuple(obs.shape[:2]),
        )

    @torch.no_grad()
    def polyak(self, online: str, target: str, tau: float) -> None:
        t = list(self.nets[target].parameters())
        o = list(self.nets[online].parameters())
        torch._foreach_lerp_(t, o, tau)

    def prepare(self, batch: Batch) -> Batch:
        batch = batch.to(self.device)
        batch.validate(self.spec)
        return batch

    # -- one update -----------------------------------------------------------
    def update(self, batch: Batch) -> dict[str, float]:
        """One gradient step on ``batch``; returns float metrics. Raises
        FloatingPointError (and does not step) on a non-finite loss or gradient."""
        batch = self.prepare(batch)
        names, keys, vals = self._backward(batch)
        out = dict(zip(keys, vals.tolist()))
        bad = [k for k, v in out.items() if not math.isfinite(v)]
        if bad:
            where = [n for n, p in self.nets.named_parameters() if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
            raise FloatingPointError(f"{self.name}: non-finite {bad}" + (f" (gradients of {where[:5]})" if where else ""))
        for k in names:
            self.optimizers[k].step()
        self.end_step()
        self.step += 1
        return out

    def update_device(self, batch: Batch) -> DeviceStep:
        """``update`` without a host sync: the batch's value checks, the losses, the gradient norm and
        the optimizer step all stay on the device, and the metrics come back unread
        (``device_step.read_steps`` reads many updates at once). Where a value check fails or a loss
        or gradient is not finite, the optimizer step is skipped on the device (the fused Adam's
        ``found_inf``: no weight or moment moves) and ``read_steps`` raises BatchError or
        FloatingPointError naming it. The targets' Polyak step still runs (towards unchanged weights)."""
        batch = batch.to(self.device)
        checks, flags = batch.value_checks(self.spec)
        names, keys, vals = self._backward(batch)
        bad = flags.any() | ~torch.isfinite(vals).all()
        for k in names:
            skip_step_if(self.optimizers[k], bad)
        self.end_step()
        self.step += 1
        return DeviceStep(self.name, self.step, keys, vals, checks, flags)

    def _backward(self, batch: Batch) -> tuple[list[str], list[str], Tensor]:
        """Losses and gradients of one update on a checked batch: the active optimizers, the
        metric names (the losses' own, ``loss/total``, ``grad/norm``) and their values as one
        float32 vector on the device."""
        names = self.active_optimizers()
        with self.autocast():
            total, metrics = self.losses(batch)
        for k in names:
            self.optimizers[k].zero_grad(set_to_none=True)
        total.backward()
        if self.grad_hook is not None:
            self.grad_hook(self, [p for k in names for g in self.optimizers[k].param_groups for p in g["params"]])
        grads = [p.grad for k in names for g in self.optimizers[k].param_groups for p in g["params"] if p.grad is not None]
        gnorm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))) if grads else total.new_zeros(())
        keys = list(metrics) + ["loss/total", "grad/norm"]
        vals = torch.stack([*(v.detach().float() for v in metrics.values()), total.detach().float(), gnorm.float()])
        return names, keys, vals

    def active_optimizers(self) -> list[str]:
        return list(self.optimizers)

    def after_step(self) -> None:
        """Target updates etc."""

    # -- state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for k, v in self.nets.state_dict().items():
            out[f"nets.{k}"] = v.detach().clone()
        for name, o in self.optimizers.items():
            i = 0
            for g in o.param_groups:
                for p in g["params"]:
                    st = o.state.get(p) or {}
                    for key, init in self._adam_init(p).items():
                        v = st.get(key, init)
                        out[f"optim.{name}.{i}.{key}"] = torch.as_tensor(v).detach().to("cpu" if key == "step" else p.device).clone()
                    i += 1
        out["rng.train"] = self.gen.get_state().clone()
        out["meta.step"] = torch.tensor(self.step, dtype=torch.int64)
        return out

    @staticmethod
    def _adam_init(p: Tensor) -> dict[str, Tensor]:
        # What torch.optim.Adam creates on the first step (amsgrad off).
        return {"step": torch.tensor(0.0), "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}

    def load_state_dict(self, sd: dict[str, Tensor]) -> None:
        """Strict: every key present, no extra key, same shapes and dtypes, all finite."""
        ref = self.state_dict()
        missing = sorted(set(ref) - set(sd))
        extra = sorted(set(sd) - set(ref))
        if missing or extra:
            raise StateDictError(
                f"{self.name}: state dict mismatch: missing {missing[:8]}{'...' if len(missing) > 8 else ''}, "
                f"unexpected {extra[:8]}{'...' if len(extra) > 8 else ''}"
            )
        for k, r in ref.items():
            v = sd[k]
            if not isinstance(v, Tensor):
                raise StateDictError(f"{k}: expected a tensor, got {type(v).__name__}")
            if k == "rng.train" and v.shape != r.shape:
                continue  # generator of another device: handled below
            if tuple(v.shape) != tuple(r.shape) or v.dtype != r.dtype:
                raise StateDictError(f"{k}: expected {r.dtype} {tuple(r.shape)}, got {v.dtype} {tuple(v.shape)}")
            if v.is_floating_point() and not bool(torch.isfinite(v).all()):
                raise StateDictError(f"{k}: contains NaN or inf")
        nets_sd = {k[5:]: sd[k] for k in ref if k.startswith("nets.")}
        self.nets.load_state_dict(nets_sd, strict=True)
        for name, o in self.optimizers.items():
            state, i = {}, 0
            for g in o.param_groups:
                for _p in g["params"]:
                    state[i] = {key: sd[f"optim.{name}.{i}.{key}"] for key in ("step", "exp_avg", "exp_avg_sq")}
                    i += 1
            o.load_state_dict({"state": state, "param_groups": o.state_dict()["param_groups"]})
        self.step = int(sd["meta.step"])
        if sd["rng.train"].shape == ref["rng.train"].shape:
            self.gen.set_state(sd["rng.train"].to("cpu", torch.uint8))
        else:  # saved on another device: the stream cannot continue, reseed from the step
            self.gen.manual_seed(self.seed * 1_000_003 + 17 + self.step)
