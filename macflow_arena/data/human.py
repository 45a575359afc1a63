"""Recording live play (``macflow-arena play ... --record NAME``) as a dataset.

Its quality label comes from the seats (``play.seats.session_quality``):
``human`` when a person plays a seat, else ``expert``/``random``/``mixed``.

Every finished episode is committed at once (one shard per episode), so
closing the window, Esc or Ctrl-C loses nothing that finished; the episode in
progress is dropped (``RecordEpisodes(on_interrupt="drop")``), and so is one
restarted with R. Repeated sessions append to the same dataset (same env and
spaces); each episode stores the kind of every seat and which seats were human.
"""

from __future__ import annotations

import os
from .paths import resolve_dataset
from .recorder import RecordEpisodes


def record_play(env, name: str | os.PathLike, *, on_interrupt: str = "drop", reference: bool = True,
                quality: str = "human") -> RecordEpisodes:
    """Wrap the play loop's env; ``name`` is a dataset name or path. Call ``set_seats`` once seats are known."""
    path = resolve_dataset(name)
    refs = None
    if reference and not (path / "manifest.jsonl").exists():
        env_id = getattr(getattr(env, "unwrapped", env), "env_id", None)
        if env_id is not None:
            try:
                from .suite import reference_returns

                refs = reference_returns(env_id, episodes=256)
            except (ValueError, KeyError):  # no scripted expert for this env: no references
                refs = None
    return RecordEpisodes(env, path, episodes_per_shard=1, quality=quality, on_interrupt=on_interrupt,
                          behaviour={"name": "play"}, reference_returns=refs, config={"recorder": "play --record"})

