"""Schema version, space <-> JSON, and the array layout of a dataset.

Layout: every per-agent quantity is stored as one array ``[rows, N, *shape]``
with the agents in header order. Observation-aligned fields (``obs``,
``action_mask``, ``state`` ...) have ``steps + 1`` rows per episode (row 0 is
the reset observation); step-aligned fields (``action``, ``reward``,
``terminated``, ``truncated``, ``alive``, ``info.<key>``) have ``steps`` rows.
When agents' spaces differ in shape, values are flattened and zero-padded to
the largest size (``flat: true`` in the layout, the true sizes in ``sizes``).
A Dict observation {"observation", "action_mask", ...} is split into the
fields ``obs``, ``action_mask`` and ``obs.<key>``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

from .errors import DatasetError, SchemaVersionError

SCHEMA_VERSION = "1.0"
SCHEMA_MAJOR, SCHEMA_MINOR = (int(x) for x in SCHEMA_VERSION.split("."))
FORMAT = "macflow-arena-dataset"

# Step-aligned fields every dataset has (rows = steps per episode).
STEP_FIELDS = ("action", "reward", "terminated", "truncated", "alive")
# Per-episode metadata arrays in every shard (rows = episodes).
EPISODE_FIELDS = (
    "episode_id", "seed", "reset_index", "steps", "start_time", "wall_time", "interrupted", "policy", "human",
)


def check_schema(version: Any, where: str) -> None:
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        raise SchemaVersionError(f"{where}: unreadable schema version {version!r}") from None
    if major > SCHEMA_MAJOR:
        from .. import __version__

        raise SchemaVersionError(
            f"{where} uses dataset schema {version}, newer than this macflow-arena {__version__} "
            f"reads (schema {SCHEMA_MAJOR}.x). Upgrade: pip install -U macflow-arena"
        )


# -- spaces as JSON -------------------------------------------------------------------------
def _enc(x: Any) -> Any:
    if isinstance(x, list):
        return [_enc(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def _dec(x: Any) -> Any:
    if isinstance(x, list):
        return [_dec(v) for v in x]
    if isinstance(x, str):
        return float(x)
    return x


def _bound(arr: np.ndarray) -> Any:
    flat = np.asarray(arr, dtype=np.float64)
    if flat.size and (flat == flat.flat[0]).all():
        return _enc(float(flat.flat[0]))
    return _enc(flat.tolist())


def space_to_json(space: spaces.Space) -> dict:
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": _bound(space.low), "high": _bound(space.high)}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": np.asarray(space.nvec).tolist(),
                "start": np.asarray(space.start).tolist(), "dtype": str(space.dtype)}
    if isinstance(space, spaces.MultiBinary):
        n = space.n
        return {"type": "MultiBinary", "n": list(n) if isinstance(n, (tuple, list, np.ndarray)) else int(n)}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    raise DatasetError(
        f"cannot record a {type(space).__name__} space ({space}); supported: Box, Discrete, "
        "MultiDiscrete, MultiBinary and Dict of those"
    )


def space_from_json(d: Mapping) -> spaces.Space:
    t = d["type"]
    if t == "Box":
        shape = tuple(d["shape"])
        dtype = np.dtype(d["dtype"])
        low = np.broadcast_to(np.asarray(_dec(d["low"]), dtype=np.float64), shape)
        high = np.broadcast_to(np.asarray(_dec(d["high"]), dtype=np.float64), shape)
        return spaces.Box(low.astype(dtype), high.astype(dtype), shape=shape, dtype=dtype)
    if t == "Discrete":
        return spaces.Discrete(d["n"], start=d.get("start", 0))
    if t == "MultiDiscrete":
        return spaces.MultiDiscrete(d["nvec"], dtype=d.get("dtype", "int64"), start=d.get("start"))
    if t == "MultiBinary":
        return spaces.MultiBinary(d["n"])
    if t == "Dict":
        return spaces.Dict({k: space_from_json(s) for k, s in d["spaces"].items()})
    raise DatasetError(f"unknown space type {t!r} in dataset header")


# -- layout ---------------------------------------------------------------------------------
def _leaf(space: spaces.Space) -> tuple[tuple[int, ...], np.dtype, np.ndarray, np.ndarray]:
    """(shape, dtype, low, high) of one leaf space; bounds as float64 arrays of ``shape``."""
    if isinstance(space, spaces.Box):
        return space.shape, space.dtype, np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
    if isinstance(space, spaces.Discrete):
        return (), np.dtype(np.int64), np.float64(space.start), np.float64(space.start + space.n - 1)
    if isinstance(space, spaces.MultiDiscrete):
        start = np.asarray(space.start, np.float64)
        return space.shape, np.dtype(np.int64), start, start + np.asarray(space.nvec, np.float64) - 1
    if isinstance(space, spaces.MultiBinary):
        return space.shape, np.dtype(np.int8), np.zeros(space.shape), np.ones(space.shape)
    raise DatasetError(f"unsupported leaf space {space}")


def _field(name: str, align: str, per_agent: list[spaces.Space]) -> dict:
    leaves = [_leaf(s) for s in per_agent]
    shapes = [lf[0] for lf in leaves]
    kinds = {type(s).__name__ for s in per_agent}
    if len(kinds) > 1:
        raise DatasetError(f"field {name!r}: agents mix space types {sorted(kinds)}; cannot stack them")
    dtype = np.result_type(*[lf[1] for lf in leaves])
    flat = len(set(shapes)) > 1
    sizes = [int(np.prod(s)) for s in shapes]
    shape = (max(sizes),) if flat else shapes[0]
    low = np.zeros((len(per_agent),) + shape)
    high = np.zeros((len(per_agent),) + shape)
    for i, (s, _, lo, hi) in enumerate(leaves):
        if flat:
            low[i, : sizes[i]] = np.broadcast_to(lo, s).reshape(-1)
            high[i, : sizes[i]] = np.broadcast_to(hi, s).reshape(-1)
        else:
            low[i] = lo
            high[i] = hi
    return {"name": name, "align": align, "shape": list(shape), "dtype": str(dtype), "flat": flat,
            "sizes": sizes, "_low": low, "_high": high}


def obs_keys(space: spaces.Space) -> dict[str, str]:
    """Observation sub-keys -> field names (``{None: "obs"}`` for a plain space)."""
    if isinstance(space, spaces.Dict):
        out = {}
        for k in space.spaces:
            out[k] = "obs" if k == "observation" else ("action_mask" if k == "action_mask" else f"obs.{k}")
        return out
    return {None: "obs"}


def build_layout(agents, obs_spaces: Mapping, act_spaces: Mapping, state_space=None) -> dict[str, dict]:
    """Field name -> layout entry for these spaces (see the module doc)."""
    keys = obs_keys(obs_spaces[agents[0]])
    for a in agents:
        if obs_keys(obs_spaces[a]) != keys:
            raise DatasetError(f"agents' observation Dict keys differ ({a}); cannot record them together")
    fields = {}
    for k, name in keys.items():
        per = [obs_spaces[a] if k is None else obs_spaces[a].spaces[k] for a in agents]
        fields[name] = _field(name, "obs", per)
    fields["action"] = _field("action", "step", [act_spaces[a] for a in agents])
    if state_space is not None:
        f = _field("state", "obs", [state_space])
        f["per_agent"] = False
        fields["state"] = f
    for f in fields.values():
        f.setdefault("per_agent", True)
    return fields


def layout_json(layout: Mapping[str, dict]) -> dict:
    return {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in layout.items()}


def layout_from_header(header: Mapping) -> dict[str, dict]:
    """Rebuild the full layout (with bounds) from a header's spaces."""
    agents = header["agents"]
    obs = {a: space_from_json(header["observation_spaces"][a]) for a in agents}
    act = {a: space_from_json(header["action_spaces"][a]) for a in agents}
    st = header.get("state_space")
    return build_layout(agents, obs, act, space_from_json(st) if st else None)


def encode_value(field: dict, value: Any, agent_index: int) -> np.ndarray:
    """One agent's value as the field's per-agent array (flattened and padded when ``flat``)."""
    arr = np.asarray(value)
    if field["flat"]:
        size = field["sizes"][agent_index]
        arr = arr.reshape(-1)
        if arr.size != size:
            raise ValueError(f"{field['name']}: expected {size} values, got {arr.size}")
        out = np.zeros(field["shape"], dtype=field["dtype"])
        out[:size] = arr
        return out
    if arr.shape != tuple(field["shape"]):
        raise ValueError(f"{field['name']}: expected shape {tuple(field['shape'])}, got {arr.shape}")
    return arr


def decode_value(field: dict, arr: np.ndarray, agent_index: int) -> np.ndarray:
    """Inverse of :func:`encode_value` for one agent (original dtype of the space)."""
    if field["flat"]:
        return arr[..., : field["sizes"][agent_index]]
    return arr
