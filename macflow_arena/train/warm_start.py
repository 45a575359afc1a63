"""Warm start: copy networks from another run's latest checkpoint before training.

The use this is for: pretrain MAC-Flow's flow teacher with ``flowbc`` (the
teacher alone, several times cheaper per update than a full MAC-Flow update),
then train ``macflow`` with ``--init-from THAT_RUN``: its teacher starts from
the pretrained one, and the students, critics and teacher train together as
usual. Any algorithm pair works where networks share a name and shapes
(``bc`` -> ``bc`` to continue on new data, ``td3bc`` -> ``td3bc`` ...).
"""

from __future__ import annotations

import os
from typing import Any


class WarmStartError(ValueError):
    """The source run cannot initialise this algorithm; the message names the fix."""


def parse_nets(spec: str | None) -> list[str] | None:
    """``"teacher,critic"`` -> ["teacher", "critic"]; empty -> None (every matching net)."""
    if not spec:
        return None
    nets = [s.strip() for s in spec.split(",") if s.strip()]
    return nets or None


def warm_start(algo, run: str | os.PathLike, nets: list[str] | None = None, device: str = "cpu") -> dict[str, Any]:
    """Load the networks ``nets`` (default: every network both algorithms have with the
    same parameter shapes) of ``run``'s latest checkpoint into ``algo``. Returns a record
    for the run's config: source folder, checkpoint, step, algorithm and the nets copied.
    Nothing is changed when any requested net is missing or mismatched."""
    from ..algos.checkpoint import CheckpointError, load_checkpoint
    from .config import resolve_run
    from .trainer import TrainError, latest_checkpoint

    path = resolve_run(run)
    try:
        ckpt = latest_checkpoint(path)
        src = load_checkpoint(ckpt, device=device, spec=algo.spec).algo
    except (TrainError, CheckpointError) as e:
        raise WarmStartError(f"--init-from {run}: {e}") from None

    def shapes(module) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in module.state_dict().items()}

    common = [k for k in algo.nets if k in src.nets]
    matching = [k for k in common if shapes(algo.nets[k]) == shapes(src.nets[k])]
    if nets is None:
        chosen = matching
        if not chosen:
            why = (f"no network names in common ({src.name}: {', '.join(src.nets)}; {algo.name}: {', '.join(algo.nets)})"
                   if not common else f"networks {', '.join(common)} differ in shape (hidden sizes or teacher kind)")
            raise WarmStartError(f"--init-from {run}: nothing to copy from {src.name} into {algo.name}: {why}; "
                                 "train the source with the same preset/--set hidden and teacher kind")
    else:
        chosen = list(nets)
        for k in chosen:
            if k not in algo.nets:
                raise WarmStartError(f"--init-nets {k}: {algo.name} has no network {k!r}; its networks: {', '.join(algo.nets)}")
            if k not in src.nets:
                raise WarmStartError(f"--init-nets {k}: {src.name} run {path} has no network {k!r}; "
                                     f"its networks: {', '.join(src.nets)}")
            if k not in matching:
                raise WarmStartError(f"--init-nets {k}: shapes differ between {src.name} ({path}) and {algo.name} "
                                     "(hidden sizes or teacher kind); train the source with the same settings")
    for k in chosen:
        algo.nets[k].load_state_dict(src.nets[k].state_dict())
        target = f"target_{k}"
        if target in algo.nets and target not in chosen:
            algo.nets[target].load_state_dict(src.nets[k].state_dict())
        ema = f"ema_{k}"  # the average restarts from the copied weights
        if ema in algo.nets and ema not in chosen:
            algo.nets[ema].load_state_dict(src.nets[k].state_dict())
    return {"run": str(path), "checkpoint": ckpt.name, "step": int(src.step), "algo": src.name, "nets": chosen}
