"""Load a team folder for acting in numpy, without torch (``load_team(..., backend="numpy")``).

The same checks as the torch loader, none of which needs torch: config.json's
format, spec and the execution fields of its algo config (types and ranges,
``integrity.config_check``); the weights file's framing, format tag and content
checksum against config.json (``integrity.safetensors_frame``); its metadata
against config.json; every tensor's name, shape (from the numpy network's own
description, before anything is built), dtype (float32) and finiteness.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .format import CONFIG, TEAM_FIX, WEIGHTS, WEIGHTS_FORMAT, WEIGHTS_VERSION, TeamError, read_config
from .numpy_act import NUMPY_ACTORS


def numpy_capable(algo: Any, config: Any = None) -> bool:
    """Whether algorithm ``algo`` (a name) with ``config`` (its config.json ``algo_config``) acts with
    one forward pass and no state between steps, so in numpy (a recurrent team plays in torch)."""
    memory = config.get("memory", "none") if isinstance(config, dict) else "none"
    return algo in NUMPY_ACTORS and memory == "none"


def _norm(v: Any) -> Any:
    return json.loads(json.dumps(v))


def load_numpy_folder(folder: Path):
    """A ``Team`` whose ``algo`` is a ``NumpyActor`` (see the module doc)."""
    from ..integrity import config_check as cc
    from ..integrity import safetensors_frame as sf
    from ..team_spec import TeamSpec
    from .load import Team

    folder = Path(folder)
    cfg = read_config(folder)
    name = str(cfg["name"])
    algo = cfg["algo"]
    if not numpy_capable(algo):
        from ..install import needs_torch

        raise TeamError(needs_torch(f"team {name!r} ({algo}: its acting is more than one forward pass, so it runs "
                                    f"in torch only)"))
    cls = NUMPY_ACTORS[algo]
    try:
        cc.check_spec(cfg["spec"], "spec")
        spec = TeamSpec(**cfg["spec"])
        if not isinstance(cfg["algo_config"], dict):
            raise ValueError("algo_config must be a JSON object")
        expected = cls.shapes(spec, cfg["algo_config"], "algo_config")
    except (KeyError, TypeError, ValueError) as e:
        raise TeamError(f"team {name!r} ({folder}): bad algo, spec or config in {CONFIG} ({e.args[0] if e.args else e})") from None
    total = sum(int(np.prod(s)) for s in expected.values())
    if total > cc.MAX_PARAMS:
        raise TeamError(f"team {name!r}: {CONFIG} builds {total:,} parameters; the limit is {cc.MAX_PARAMS:,}")
    agents = cfg["agents"]
    if not (isinstance(agents, list) and all(isinstance(a, str) for a in agents) and len(agents) == spec.n_agents):
        raise TeamError(f"team {name!r} ({folder}): 'agents' must list {spec.n_agents} seat names, got {agents!r}")
    path = folder / WEIGHTS
    try:
        meta, header, data = sf.read_tagged(path, WEIGHTS_FORMAT, WEIGHTS_VERSION, "team weights file",
                                            companion=folder / CONFIG, fix=TEAM_FIX)
    except sf.FramingError as e:
        raise TeamError(f"team {name!r}: {e}") from None
    for key, want in (("algo", algo), ("spec", cfg["spec"]), ("config", cfg["algo_config"]), ("act_nets", list(cls.act_nets))):
        if _norm(meta.get(key)) != _norm(want):
            raise TeamError(f"team {name!r}: {path.name} and config.json disagree on {key} "
                            f"({meta.get(key)!r} vs {want!r}); the folder is mixed up, export it again")
    declared = {k: v for k, v in header.items() if k != "__metadata__"}
    missing, extra = sorted(set(expected) - set(declared)), sorted(set(declared) - set(expected))
    if missing or extra:
        raise TeamError(f"team {name!r}: {path}: weights do not fit {algo} as {CONFIG} describes it: missing "
                        f"{missing[:6]}, unexpected {extra[:6]} (a team exported before the networks changed: "
                        f"{TEAM_FIX})")
    for k, shape in expected.items():
        info = declared[k]
        if tuple(info["shape"]) != shape or info["dtype"] != "F32":
            raise TeamError(f"team {name!r}: {path}: {k}: expected float32 {shape}, got {info['dtype']} "
                            f"{tuple(info['shape'])}; {TEAM_FIX}")
    try:
        tensors = sf.numpy_tensors(path, header, data)
    except sf.FramingError as e:
        raise TeamError(f"team {name!r}: {e}") from None
    for k, v in tensors.items():
        if not np.isfinite(v).all():
            raise TeamError(f"team {name!r}: {path}: {k} contains NaN or inf")
    actor = cls(spec, cfg["algo_config"], tensors, "algo_config")
    return Team(name, actor, str(cfg["env_id"]), spec, list(agents), cfg, folder, "team")
