"""Entity layouts: which entries of an agent's flat observation belong to which entity.

Networks read an observation as tokens, one per entity (itself, each landmark,
each other agent, each enemy ...), and attend from the agent's own token over
the others (``algos/entity.py``). An env declares its layout as named groups;
each group is a ``[count, width]`` table of observation indices (entity k of
the group reads ``obs[index[k]]``). The group ``self`` (count 1) is the agent's
own token; observation entries no group names are added to it, so a layout
never drops information. A third-party env with no layout gets the flat one:
every entry in ``self`` (the network is then a plain MLP).

JSON form (dataset headers, checkpoints, teams)::

    [{"name": "self", "index": [[0, 1, 2, 3]]}, {"name": "landmarks", "index": [[4, 5], [6, 7], [8, 9]]}, ...]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

SELF = "self"
MAX_GROUPS = 16
MAX_ENTITIES = 256


class LayoutError(ValueError):
    """An entity layout that does not fit its observation; the message names the group."""


def blocks(start: int, count: int, width: int) -> list[list[int]]:
    """``count`` consecutive entities of ``width`` entries from ``start``."""
    return [list(range(start + k * width, start + (k + 1) * width)) for k in range(count)]


def normalize_layout(groups: Iterable[Any] | None, obs_dim: int) -> tuple[tuple[str, tuple[tuple[int, ...], ...]], ...]:
    """Check ``groups`` against ``obs_dim`` and return the canonical hashable form:
    ``((name, ((i, ...), ...)), ...)`` with ``self`` first, holding every unclaimed entry.

    ``groups`` may be the JSON form (list of ``{"name", "index"}``), pairs, or None / empty (flat)."""
    if not isinstance(obs_dim, int) or obs_dim < 1:
        raise LayoutError(f"obs_dim must be a positive int, got {obs_dim!r}")
    items: list[tuple[str, Any]] = []
    for g in groups or ():
        if isinstance(g, dict):
            if set(g) - {"name", "index"} or "name" not in g or "index" not in g:
                raise LayoutError(f"entity group {g!r}: expected keys 'name' and 'index'")
            items.append((g["name"], g["index"]))
        elif isinstance(g, (list, tuple)) and len(g) == 2:
            items.append((g[0], g[1]))
        else:
            raise LayoutError(f"entity group {g!r}: expected {{'name': ..., 'index': [[...], ...]}}")
    if len(items) > MAX_GROUPS:
        raise LayoutError(f"{len(items)} entity groups: at most {MAX_GROUPS}")
    seen: set[int] = set()
    out: dict[str, tuple[tuple[int, ...], ...]] = {}
    for name, index in items:
        if not isinstance(name, str) or not name or name in out:
            raise LayoutError(f"entity group name {name!r}: names must be distinct non-empty strings")
        if not isinstance(index, (list, tuple)) or not index or len(index) > MAX_ENTITIES:
            raise LayoutError(f"entity group {name!r}: index must list 1..{MAX_ENTITIES} entities")
        rows = []
        for row in index:
            if not isinstance(row, (list, tuple)) or not row:
                raise LayoutError(f"entity group {name!r}: each entity is a non-empty list of observation indices")
            r = []
            for i in row:
                if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < obs_dim:
                    raise LayoutError(f"entity group {name!r}: index {i!r} is not in [0, {obs_dim})")
                if i in seen:
                    raise LayoutError(f"entity group {name!r}: observation entry {i} belongs to two entities")
                seen.add(i)
                r.append(i)
            rows.append(tuple(r))
        if len({len(r) for r in rows}) != 1:
            raise LayoutError(f"entity group {name!r}: every entity of a group needs the same number of entries")
        if name == SELF and len(rows) != 1:
            raise LayoutError("entity group 'self' holds exactly one entity")
        out[name] = tuple(rows)
    rest = tuple(i for i in range(obs_dim) if i not in seen)
    own = out.pop(SELF, ((),))[0] + rest
    if not own:
        raise LayoutError("the agent's own token is empty: give group 'self' at least one observation entry")
    return ((SELF, (own,)),) + tuple(out.items())


def flat_layout(obs_dim: int):
    """Every entry in the agent's own token (a plain MLP)."""
    return normalize_layout(None, obs_dim)


def layout_to_json(layout: Sequence) -> list[dict]:
    return [{"name": name, "index": [list(r) for r in rows]} for name, rows in layout]


def is_flat(layout: Sequence) -> bool:
    return len(layout) == 1


def env_layout(env, obs_dim: int | None = None):
    """The layout an env declares (``entity_groups()`` on its observation layout or task), else flat."""
    if obs_dim is None:
        obs_dim = int(getattr(env, "obs_dim", 0) or 0)
        if not obs_dim:
            dims = []
            for agent in getattr(env, "possible_agents", []):
                sp = env.observation_space(agent)
                inner = getattr(sp, "spaces", None)
                if isinstance(inner, dict) and "observation" in inner:
                    sp = inner["observation"]
                shape = getattr(sp, "shape", None)
                dims.append(int(shape[0]) if shape and len(shape) == 1 else 0)
            obs_dim = max(dims) if dims else 0
    for holder in (getattr(env, "layout", None), getattr(env, "task", None), getattr(env, "unwrapped", None)):
        fn = getattr(holder, "entity_groups", None)
        if callable(fn):
            return normalize_layout(fn(), obs_dim)
    return flat_layout(obs_dim) if obs_dim else None


def registered_layout(env_id: str, obs_dim: int):
    """The layout of a registered env id at ``obs_dim`` (flat when the id is unknown or the sizes differ)."""
    from .. import make_vec
    from ..registry import UnknownEnvError

    try:
        venv = make_vec(env_id, 1)
    except (UnknownEnvError, KeyError, ValueError):
        return flat_layout(obs_dim)
    try:
        if int(getattr(venv, "obs_dim", -1)) != obs_dim:
            return flat_layout(obs_dim)
        return env_layout(venv, obs_dim)
    finally:
        close = getattr(venv, "close", None)
        if callable(close):
            close()


def header_entities(env) -> list[dict] | None:
    """The ``entities`` entry of a dataset header recorded on ``env`` (None: observations are not flat vectors)."""
    try:
        layout = env_layout(env)
    except LayoutError:
        return None
    return None if layout is None else layout_to_json(layout)
