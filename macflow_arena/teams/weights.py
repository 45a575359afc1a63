"""Team weights: only the modules ``act`` uses (``Algorithm.act_nets``, or their weight averages with
the config's ``ema``: ``Algorithm.act_module``), as safetensors.

Tensor names are ``<net>.<param>`` (e.g. ``student.net.0.weight``). The header
metadata (JSON under ``macflow_arena``) repeats algo, spec, config and seed so
the file describes itself; ``load_act_weights`` checks it against the team's
config.json, then every tensor strictly: no missing or extra name, same shape
and dtype, finite. The framing is checked by hand before safetensors parses it
(``algos.checkpoint.read_tagged``); pickled files are refused unread.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..algos.base import Algorithm, config_to_dict, with_saved_before
from ..algos.checkpoint import META_KEY, CheckpointError, _import_safetensors, read_tagged
from .format import CONFIG, TEAM_FIX, WEIGHTS_FORMAT, WEIGHTS_VERSION, TeamError


def act_nets(algo: Algorithm) -> tuple[str, ...]:
    names = tuple(type(algo).act_nets)
    if not names:
        raise TeamError(f"algorithm {algo.name!r} does not declare act_nets (the modules act() uses); "
                        f"it cannot be exported as a team")
    if int(getattr(algo.config, "exec_candidates", 1)) > 1:
        raise TeamError(f"exec_candidates={algo.config.exec_candidates} ranks the students' actions with the critic, "
                        "which a team does not ship; export with --set exec_candidates=1 and use the option in "
                        "`macflow-arena eval RUN --set exec_candidates=N` (torch)")
    unknown = [n for n in names if n not in algo.nets]
    if unknown:
        raise TeamError(f"algorithm {algo.name!r} declares act_nets {unknown} that it does not build")
    return names


def act_state(algo: Algorithm) -> dict[str, Tensor]:
    """``<net>.<param>`` -> tensor for every act net (CPU, contiguous copies)."""
    out: dict[str, Tensor] = {}
    for net in act_nets(algo):
        for k, v in algo.act_module(net).state_dict().items():
            out[f"{net}.{k}"] = v.detach().to("cpu").contiguous().clone()
    return out


def weights_meta(algo: Algorithm) -> dict[str, Any]:
    return {
        "format": WEIGHTS_FORMAT,
        "format_version": WEIGHTS_VERSION,
        "algo": algo.name,
        "spec": algo.spec.to_dict(),
        "config": config_to_dict(algo.config),
        "seed": algo.seed,
        "act_nets": list(act_nets(algo)),
    }


def weights_bytes(algo: Algorithm) -> bytes:
    st = _import_safetensors()
    meta = json.dumps(weights_meta(algo), sort_keys=True)
    return st.save(act_state(algo), metadata={META_KEY: meta})


def _norm(v: Any) -> Any:
    """JSON round trip (tuples become lists) so configs compare as stored."""
    return json.loads(json.dumps(v))


def load_act_weights(path: Path, algo: Algorithm, team: str) -> dict[str, Any]:
    """Load ``path`` into ``algo``'s act nets (strict); returns the file's metadata.

    ``algo`` must already be built from the team's config.json: the file's
    algo, spec and config must equal it.
    """
    try:
        meta, tensors = read_tagged(path, WEIGHTS_FORMAT, WEIGHTS_VERSION, "team weights file",
                                    companion=Path(path).parent / CONFIG, fix=TEAM_FIX)
    except CheckpointError as e:
        raise TeamError(f"team {team!r}: {e}") from None
    expect, got = weights_meta(algo), dict(meta)
    if isinstance(got.get("config"), dict):  # a field added after the export is at its default in both
        got["config"] = with_saved_before(type(algo.config), got["config"])  # (or what runs before it had)
        defaults = {f.name: f.default for f in dataclasses.fields(algo.config)}
        expect["config"] = {k: v for k, v in expect["config"].items()
                            if k in got["config"] or k not in defaults or _norm(v) != _norm(defaults[k])}
    for key in ("algo", "spec", "config", "act_nets"):
        if _norm(got.get(key)) != _norm(expect[key]):
            raise TeamError(f"team {team!r}: {path.name} and config.json disagree on {key} "
                            f"({got.get(key)!r} vs {expect[key]!r}); the folder is mixed up, export it again")
    ref = act_state(algo)
    missing, extra = sorted(set(ref) - set(tensors)), sorted(set(tensors) - set(ref))
    if missing or extra:
        raise TeamError(f"team {team!r}: {path}: weights do not fit {algo.name}: missing {missing[:6]}, "
                        f"unexpected {extra[:6]}")
    for k, r in ref.items():
        v = tensors[k]
        if tuple(v.shape) != tuple(r.shape) or v.dtype != r.dtype:
            raise TeamError(f"team {team!r}: {path}: {k}: expected {r.dtype} {tuple(r.shape)}, "
                            f"got {v.dtype} {tuple(v.shape)}")
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise TeamError(f"team {team!r}: {path}: {k} contains NaN or inf")
    for net in act_nets(algo):
        pre = f"{net}."
        sd = {k[len(pre):]: v for k, v in tensors.items() if k.startswith(pre)}
        algo.act_module(net).load_state_dict(sd, strict=True)
    return meta
