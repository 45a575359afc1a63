"""Build skirmish tasks and envs from registry entries."""

from __future__ import annotations

from typing import Any, Mapping

from ...spec import SpecError, scenario_spec
from .spec import BattleSpec, ProceduralSpec
from .task import SkirmishTask
from .units import load_units

SPECS = {"battle": BattleSpec, "procedural": ProceduralSpec}


def build_task(entry, overrides: Mapping[str, Any] | None = None) -> SkirmishTask:
    cls = SPECS.get(entry.task)
    if cls is None:
        raise SpecError(f"{entry.path}: unknown skirmish task {entry.task!r}; known: {', '.join(SPECS)}")
    spec, where = scenario_spec(entry, cls, overrides)
    units_path = entry.path.parent / spec.units_file
    if not units_path.is_file():
        raise SpecError(f"{where}: units_file {spec.units_file!r} not found next to the map ({units_path})")
    return SkirmishTask(spec, load_units(units_path), name=entry.name, where=where)


def make_parallel(entry, render_mode=None, overrides=None):
    from .parallel_env import SkirmishParallelEnv

    return SkirmishParallelEnv(build_task(entry, overrides), entry, render_mode=render_mode)


def make_vector(entry, num_envs: int, overrides=None):
    from .vector_env import SkirmishVectorEnv

    return SkirmishVectorEnv(build_task(entry, overrides), entry, num_envs=num_envs)
