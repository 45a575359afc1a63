"""Build particle tasks and envs from registry entries."""

from __future__ import annotations

from typing import Any, Mapping

from ...spec import SpecError, scenario_spec
from .cover import CoverTask
from .spread import SpreadTask
from .tag import TagTask
from .task import ParticleTask

TASKS: dict[str, type[ParticleTask]] = {"spread": SpreadTask, "tag": TagTask, "cover": CoverTask}


def build_task(entry, overrides: Mapping[str, Any] | None = None) -> ParticleTask:
    cls = TASKS.get(entry.task)
    if cls is None:
        raise SpecError(f"{entry.path}: unknown particle task {entry.task!r}; known: {', '.join(TASKS)}")
    spec, _ = scenario_spec(entry, cls.spec_cls, overrides)
    return cls(spec)


def make_parallel(entry, render_mode=None, overrides=None):
    from .parallel_env import ParticleParallelEnv

    return ParticleParallelEnv(build_task(entry, overrides), entry, render_mode=render_mode)


def make_vector(entry, num_envs: int, overrides=None):
    from .vector_env import ParticleVectorEnv

    return ParticleVectorEnv(build_task(entry, overrides), entry, num_envs=num_envs)
