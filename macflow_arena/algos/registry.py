"""The algorithm registry: names -> classes, and config construction with presets.

``make_config("macflow", spec, preset="small", alpha=3.0)`` starts from the
config's defaults, applies the preset's network sizes for the action space,
then the overrides (unknown names are an error listing the fields), and fills
the automatic (``None``) fields for the spec. The CLI derives its options from
``dataclasses.fields(get(name).Config)`` and each field's ``metadata["help"]``.
"""

from __future__ import annotations

import difflib
from typing import Any

from .base import PRESETS, Algorithm, TeamSpec, config_fields, config_from_dict, config_to_dict, resolve_config
from .bc import BC
from .diffusion import Diffusion
from .flowbc import FlowBC
from .macflow import MACFlow
from .td3bc import TD3BC
from .vdn_cql import VDNCQL

ALGOS: dict[str, type[Algorithm]] = {
    "macflow": MACFlow,
    "bc": BC,
    "td3bc": TD3BC,
    "flowbc": FlowBC,
    "diffusion": Diffusion,
    "vdn_cql": VDNCQL,
}


def get(name: str) -> type[Algorithm]:
    try:
        return ALGOS[name]
    except KeyError:
        near = difflib.get_close_matches(name, ALGOS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise KeyError(f"unknown algorithm {name!r}{hint}; known: {sorted(ALGOS)}") from None


def supports(name: str, spec: TeamSpec) -> bool:
    cls = get(name)
    return cls.discrete_ok if spec.discrete else cls.continuous_ok


def make_config(name: str, spec: TeamSpec, preset: str | None = "small", **overrides: Any):
    cls = get(name).Config
    if preset is not None and preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
    known = config_fields(cls)
    values = config_to_dict(cls())
    if preset is not None:
        values.update({k: v for k, v in PRESETS[preset]["discrete" if spec.discrete else "continuous"].items() if k in known})
    values.update(overrides)
    return resolve_config(config_from_dict(cls, values), spec)


def make(name: str, spec: TeamSpec, preset: str | None = "small", *, seed: int = 0, device: str = "cpu", **overrides: Any) -> Algorithm:
    """Build an algorithm: ``make("macflow", spec, "small", seed=0, noise="private")``."""
    return get(name)(spec, make_config(name, spec, preset, **overrides), seed=seed, device=device)
