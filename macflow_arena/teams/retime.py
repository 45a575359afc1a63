"""Time an exported team's decisions again on this machine and rewrite its card.

A team's ``latency_ms`` is timed once, at export, on whatever load the machine
carried then (a training job on the other core can make a 0.2 ms decision read
37 ms). ``retime_team`` loads the folder (weights checked), times ``act`` at
batch 1 as export does (``teams.latency``), and rewrites ``config.json``'s
``latency_ms`` (with the time it was measured) and ``MODEL_CARD.md`` from it;
the weights file is copied byte for byte, and the folder is replaced atomically
(``format.write_folder``), so an interrupted retime leaves the old team.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .format import CARD, CONFIG, TeamError, write_folder


def retime_team(ref, *, calls: int | None = None, write: bool = True) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the card's latency before, the one measured now) for team ``ref`` (a name or a team folder);
    ``write=False`` measures without touching the folder."""
    from .card import model_card
    from .latency import MIN_CALLS, measure_latency
    from .load import _load_folder, resolve_ref

    if calls is not None and calls < MIN_CALLS:
        raise TeamError(f"a latency needs at least {MIN_CALLS} timed calls, got {calls} (CLI: --calls {MIN_CALLS})")
    kind, path = resolve_ref(ref)
    if kind != "team":
        raise TeamError(f"{ref} is a training {kind}, not an exported team: only a team folder carries a card "
                        f"to retime (export it with `macflow-arena team export {path} --name NAME`)")
    team = _load_folder(Path(path), "cpu")
    new = measure_latency(team.algo, team.env_id, calls=calls or MIN_CALLS)
    new["timed"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    cfg = dict(team.card)  # the folder's config.json as _load_folder read and checked it
    old = cfg.get("latency_ms")
    if write:
        cfg["latency_ms"] = new
        files = {p.name: p.read_bytes() for p in sorted(Path(path).iterdir()) if p.is_file()}
        files[CONFIG] = (json.dumps(cfg, indent=2, sort_keys=True) + "\n").encode()
        files[CARD] = model_card(cfg).encode()
        write_folder(Path(path), files, overwrite=True)
    return old, new
