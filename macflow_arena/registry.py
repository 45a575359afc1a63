"""Registered environment ids, read from the scenario files in ``envs/``.

An id is ``<family>/<name>-v<version>`` where ``envs/<family>/<name>.toml`` holds
``version``. ``make("particle/spread")`` picks the newest version.
A TOML file is a scenario when it has a ``task`` key (other TOML files in
``envs/``, such as unit tables, are data that scenarios read).
"""

from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .resources import envs_dir
from .spec import RESERVED, SpecError, read_toml

# family -> module with ``make_parallel(entry, render_mode, overrides)`` and
# ``make_vector(entry, num_envs, overrides)``; imported lazily.
FAMILIES = {
    "particle": "macflow_arena.envs.particle.factory",
    "skirmish": "macflow_arena.envs.skirmish.factory",
}

_ID_RE = re.compile(r"^(?P<base>[a-z0-9_]+/[A-Za-z0-9_.\-]+?)(?:-v(?P<version>\d+))?$")


class UnknownEnvError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


@dataclass(frozen=True)
class EnvEntry:
    id: str
    family: str
    name: str
    version: int
    task: str
    description: str
    path: Path
    dataset_episodes: int = 1000  # default episodes per recorded dataset (the scenario's ``dataset_episodes``)

    def params(self) -> dict[str, Any]:
        """The scenario parameters from the file (reserved keys removed)."""
        raw = read_toml(self.path)
        return {k: v for k, v in raw.items() if k not in RESERVED}


@lru_cache(maxsize=8)
def _scan(root: Path) -> dict[str, EnvEntry]:
    entries: dict[str, EnvEntry] = {}
    for path in sorted(root.rglob("*.toml")):
        rel = path.relative_to(root).with_suffix("")
        if len(rel.parts) != 2:
            continue
        family, name = rel.parts
        raw = read_toml(path)
        if "task" not in raw:
            continue
        if family not in FAMILIES:
            raise SpecError(f"{path}: unknown family {family!r}; known: {', '.join(FAMILIES)}")
        version = raw.get("version", 0)
        if not isinstance(version, int) or version < 0:
            raise SpecError(f"{path}: version must be a non-negative integer")
        env_id = f"{family}/{name}-v{version}"
        n_eps = raw.get("dataset_episodes", 1000)
        if not isinstance(n_eps, int) or isinstance(n_eps, bool) or n_eps < 1:
            raise SpecError(f"{path}: dataset_episodes must be a positive integer, got {n_eps!r}")
        entries[env_id] = EnvEntry(
            id=env_id,
            family=family,
            name=name,
            version=version,
            task=str(raw["task"]),
            description=str(raw.get("description", "")),
            path=path,
            dataset_episodes=n_eps,
        )
    return entries


def registered() -> dict[str, EnvEntry]:
    """All registered ids, sorted."""
    return dict(sorted(_scan(envs_dir()).items()))


def resolve(env_id: str) -> EnvEntry:
    """The entry for ``env_id`` (with or without ``-vN``); errors list known ids."""
    entries = registered()
    m = _ID_RE.match(env_id or "")
    if m:
        base, version = m.group("base"), m.group("version")
        if version is not None and f"{base}-v{version}" in entries:
            return entries[f"{base}-v{version}"]
        if version is None:
            matches = [e for e in entries.values() if f"{e.family}/{e.name}" == base]
            if matches:
                return max(matches, key=lambda e: e.version)
    known = list(entries)
    close = difflib.get_close_matches(env_id or "", known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownEnvError(
        f"unknown env id {env_id!r}.{hint} Known ids: {', '.join(known)} "
        f"(run `macflow-arena list`)."
    )


def _family(entry: EnvEntry):
    return importlib.import_module(FAMILIES[entry.family])


def make(env_id: str, render_mode: str | None = None, **overrides: Any):
    """A PettingZoo ``ParallelEnv`` for ``env_id``; ``overrides`` replace scenario keys."""
    entry = resolve(env_id)
    return _family(entry).make_parallel(entry, render_mode=render_mode, overrides=overrides)


def make_vec(env_id: str, num_envs: int, **overrides: Any):
    """A batched ``VectorEnv`` of ``num_envs`` worlds for ``env_id``."""
    entry = resolve(env_id)
    return _family(entry).make_vector(entry, num_envs=num_envs, overrides=overrides)
