"""Types and ranges of configs read from files, checked before anything is built.

A hostile team or run ``config.json`` (a width of -3 or "abc", ``obs_dim =
10**12``, ``hidden = [10**6] * 3``, ``lr = NaN``, ``batch_size = 10**9``) must
give one clear error, never a raw torch error or a terabyte allocation. The
checks are derived from the dataclass fields (their annotations), so fields
added later are covered by type; the tables below give the documented ranges of
the known ones (everything else: integers in [0, 10**6] for algorithms, numbers
finite with |x| <= 1e9).

``expected_shapes`` builds an algorithm's networks on torch's ``meta`` device
(no memory) to learn every parameter's shape, refuses more than ``MAX_PARAMS``
parameters, and ``check_shapes`` compares a weights file's declared shapes with
them before the real networks are allocated.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

MAX_PARAMS = 1 << 28  # 268M parameters (1 GiB of float32); the paper preset has a few million
MAX_WIDTH = 1 << 16
MAX_LAYERS = 64
MAX_STR = 4096

# TeamSpec: (low, high)
SPEC_RANGES = {"n_agents": (1, 1024), "obs_dim": (1, 1 << 20), "action_dim": (1, 1 << 16), "state_dim": (0, 1 << 22)}
# Algorithm config fields (any algorithm): (low, high, low_open)
ALGO_FLOAT = {"lr": (0.0, 1.0, True), "teacher_lr": (0.0, 1.0, True), "gamma": (0.0, 1.0, False),
              "tau": (0.0, 1.0, False), "exec_noise": (0.0, 1e3, False), "source_std": (0.0, 1e3, True), "noise_ratio": (0.0, 1e3, True), "alpha": (0.0, 1e6, False), "eta": (0.0, 1e6, False),
              "cql_alpha": (0.0, 1e6, False), "policy_noise": (0.0, 1e3, False), "noise_clip": (0.0, 1e3, False)}
ALGO_INT = {"ensemble": (1, 64), "exec_candidates": (1, 256), "flow_steps": (1, 10_000), "steps": (1, 10_000),
            "policy_delay": (1, 10_000)}
ALGO_INT_DEFAULT = (0, 1_000_000)
# TrainConfig fields
TRAIN_INT = {"steps": (0, 10**12), "batch_size": (1, 1 << 16), "window": (1, 10_000), "seed": (0, 2**63 - 1),
             "eval_every": (0, 10**12), "eval_episodes": (0, 1_000_000), "ckpt_every": (0, 10**12),
             "log_every": (0, 10**12), "threads": (0, 4096)}
TRAIN_INT_DEFAULT = (0, 10**12)
FLOAT_ABS = 1e9


class ConfigRangeError(ValueError):
    """A config value has the wrong type or lies outside its documented range."""


def _kind(annotation: Any) -> tuple[str, bool]:
    """("bool" | "int" | "float" | "str" | "tuple" | "dict" | "any", None allowed)."""
    a = str(annotation).replace(" ", "")
    optional = "None" in a or "Optional" in a
    for k in ("tuple", "dict", "bool", "float", "int", "str"):
        if a.startswith(k) or a.startswith(f"Optional[{k}") or a.startswith(f"typing.Optional[{k}"):
            return k, optional
    return "any", optional


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_int(name: str, v: Any, lo: int, hi: int, where: str) -> None:
    if not _is_int(v):
        raise ConfigRangeError(f"{where}: {name} must be an integer, got {v!r}")
    if not lo <= v <= hi:
        raise ConfigRangeError(f"{where}: {name} = {v} is outside [{lo}, {hi}]")


def _check_float(name: str, v: Any, lo: float, hi: float, low_open: bool, where: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigRangeError(f"{where}: {name} must be a number, got {v!r}")
    if not math.isfinite(v):
        raise ConfigRangeError(f"{where}: {name} must be finite, got {v!r}")
    if v < lo or v > hi or (low_open and v == lo):
        raise ConfigRangeError(f"{where}: {name} = {v} is outside {'(' if low_open else '['}{lo}, {hi}]")


def check_fields(cls: type, data: Mapping[str, Any], where: str, *, ints: Mapping[str, tuple] | None = None,
                 floats: Mapping[str, tuple] | None = None, int_default: tuple = ALGO_INT_DEFAULT) -> None:
    """Check the values in ``data`` against the fields of dataclass ``cls`` (unknown names are left to
    the caller's strict reader)."""
    if not isinstance(data, Mapping):
        raise ConfigRangeError(f"{where}: expected a JSON object of {cls.__name__} fields, got {type(data).__name__}")
    ints, floats = ints or {}, floats or {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, v in data.items():
        f = fields.get(name)
        if f is None:
            continue
        kind, optional = _kind(f.type)
        if v is None:
            if optional or f.default is None:
                continue
            raise ConfigRangeError(f"{where}: {name} must not be null")
        if kind == "bool":
            if not isinstance(v, bool):
                raise ConfigRangeError(f"{where}: {name} must be true or false, got {v!r}")
        elif kind == "int":
            _check_int(name, v, *ints.get(name, int_default), where)
        elif kind == "float":
            _check_float(name, v, *floats.get(name, (-FLOAT_ABS, FLOAT_ABS, False)), where)
        elif kind == "str":
            if not isinstance(v, str) or len(v) > MAX_STR:
                raise ConfigRangeError(f"{where}: {name} must be a string (at most {MAX_STR} characters), got {v!r:.80}")
        elif kind == "tuple":
            if not isinstance(v, (list, tuple)) or len(v) > MAX_LAYERS:
                raise ConfigRangeError(f"{where}: {name} must be a list of at most {MAX_LAYERS} integers, got {v!r:.80}")
            for x in v:
                _check_int(f"{name} entry", x, 1, MAX_WIDTH, where)
        elif kind == "dict":
            if not isinstance(v, Mapping):
                raise ConfigRangeError(f"{where}: {name} must be a JSON object, got {v!r:.80}")


def check_algo_config(config_cls: type, data: Mapping[str, Any], where: str) -> None:
    check_fields(config_cls, data, where, ints=ALGO_INT, floats=ALGO_FLOAT)


def check_train_config(train_cls: type, data: Mapping[str, Any], where: str, algo_config_cls: type | None = None) -> None:
    """A TrainConfig's values (and its ``overrides`` against the algorithm's config class)."""
    check_fields(train_cls, data, where, ints=TRAIN_INT, int_default=TRAIN_INT_DEFAULT)
    overrides = data.get("overrides") if isinstance(data, Mapping) else None
    if algo_config_cls is not None and isinstance(overrides, Mapping):
        check_algo_config(algo_config_cls, overrides, f"{where} (overrides)")


def check_spec(data: Any, where: str) -> None:
    if not isinstance(data, Mapping):
        raise ConfigRangeError(f"{where}: the team spec must be a JSON object, got {type(data).__name__}")
    for name, (lo, hi) in SPEC_RANGES.items():
        if name in data:
            _check_int(name, data[name], lo, hi, where)
    if "discrete" in data and not isinstance(data["discrete"], bool):
        raise ConfigRangeError(f"{where}: discrete must be true or false, got {data['discrete']!r}")


def expected_shapes(algo_cls: type, spec: Any, config: Any, where: str) -> dict[str, tuple[int, ...]] | None:
    """``<net>.<param>`` -> shape of every network tensor ``algo_cls`` builds for ``spec`` and ``config``,
    found on the meta device (no memory). ``ConfigRangeError`` past ``MAX_PARAMS``; None when the
    algorithm cannot be built on the meta device (the real build then checks everything)."""
    import torch

    from ..algos.base import resolve_config

    probe = object.__new__(algo_cls)
    probe.spec, probe.config = spec, resolve_config(config, spec)
    probe.device, probe.seed, probe.step = torch.device("meta"), 0, 0
    try:
        with torch.device("meta"):
            nets = torch.nn.ModuleDict(probe.build())
    except Exception:  # noqa: BLE001 - an algorithm that needs more than spec and config to build
        return None
    total = sum(p.numel() for p in nets.parameters())
    if total > MAX_PARAMS:
        raise ConfigRangeError(f"{where}: this config builds {total:,} parameters ({total * 4 / 2**30:.1f} GiB); "
                               f"the limit is {MAX_PARAMS:,}. The sizes (hidden, spec) are not ones we train")
    return {k: tuple(v.shape) for k, v in nets.state_dict().items()}


def check_shapes(declared: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]] | None, prefix: str,
                 where: str) -> None:
    """Every tensor in ``declared`` (a safetensors header: name -> {"shape": ...}) named
    ``prefix + <net>.<param>`` has the shape the config builds."""
    if expected is None:
        return
    for k, shape in expected.items():
        info = declared.get(prefix + k)
        got = tuple(info.shape) if hasattr(info, "shape") else (
            tuple(info.get("shape", ())) if isinstance(info, Mapping) else None)
        if got is not None and got != shape:
            raise ConfigRangeError(f"{where}: tensor {prefix + k} has shape {list(got)}, the config "
                                   f"builds {list(shape)}; the weights and the config do not belong together")
