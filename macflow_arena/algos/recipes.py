"""Named MAC-Flow recipes: the option sets the quality tables measured, by the kind of data they suit.

``macflow-arena train ... --recipe NAME`` expands a recipe into ``--set`` options (a ``--set``
given next to it wins). Every recipe is a set of ``MACFlowConfig`` fields and nothing else: the
training options (updates, ``--compile``, ``--shaping``) stay the caller's. The scores are five
training seeds x 256 held-out episodes, CPU, small preset (benchmarks/quality.md, the sessions named).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    name: str
    sets: tuple[str, ...]  # NAME=VALUE, as --set takes them
    use: str  # the data it suits
    avoid: str  # where it was measured to lose
    measured: str  # what it scored, and where the command is


# The students learn the recorded actions: nothing reads the flow teacher, so its loss is off (flow_weight=0
# leaves the students and critics bit-identical and saves its time: tests/test_macflow_flow_weight.py).
_DATA = ("student_lr=0.003", "centre_fraction=1.0", "centre_target=data", "flow_weight=0")

RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("noisy", ("alpha=0.03", "lr=0.003"),
           use="data with many random or poor actions and a dense reward (medium, medium-replay)",
           avoid="noiseless expert data (spread expert 7.9, seed 0); 2s3z, whose critics cannot rank the "
                 "script's alternatives (medium-replay 75.9, seed 0); tag's sparse reward (use 'filter')",
           measured="spread medium 97.5, medium-replay 87.6 (5,000 updates; 92.2 and 78.3 at 2,500); 3m medium "
                    "103.5, medium-replay 103.3 (2,500 updates; sessions 25-26)"),
    Recipe("data", _DATA,
           use="expert data with a dense reward (spread, 3m, 2s3z), and 2s3z at every quality: the "
               "students learn the recorded actions, the Q term nudges",
           avoid="mostly-random data with a dense reward (use 'noisy')",
           measured="2s3z medium-replay 98.9, expert 99.6, medium 99.6; 3m expert 102.4; spread expert 89.9 "
                    "with --set actor_batch=0 and 8,000 updates (sessions 12-13, 17, 20)"),
    Recipe("regress", _DATA + ("centre_loss=l1", "q_weight=0", "actor_batch=0"),
           use="noiseless expert data on a sparse-reward task: the students regress the data's median, "
               "no critic in their loss",
           avoid="data with poor actions (nothing filters them)",
           measured="tag expert 109.2 (2,500 updates; session 15)"),
    Recipe("filter", _DATA + ("centre_loss=l1", "centre_filter=advantage", "filter_floor=0.1", "q_weight=0",
                              "tau=0.05", "n_step=5", "lr=0.003"),
           use="mixed-quality data with a sparse reward: the students learn a recorded action only where "
               "the agent's critic ranks it above their own (on tag with --shaping prey:10)",
           avoid="expert data (the critic ranks the expert's actions by extrapolation: tag expert 73.7, seed 0)",
           measured="tag medium 144.6, medium-replay 222.4 (10,000 updates, --shaping prey:10; session 27; "
                    "126.3 and 117.4 at 2,500, session 26; at lr 1e-3, session 15: 106.5 and 99.8)"),
)}


def recipe_sets(name: str, algo: str) -> list[str]:
    """The ``--set`` items of recipe ``name``; ``ValueError`` naming the fix for an unknown name or algorithm."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)} (macflow-arena train --list-recipes)")
    if algo != "macflow":
        raise ValueError(f"recipe {name!r} sets MAC-Flow's options; use it with --algo macflow, or drop --recipe "
                         f"and give {algo}'s options with --set")
    return list(RECIPES[name].sets)


def describe() -> str:
    """The recipes as ``--list-recipes`` prints them."""
    lines = ["MAC-Flow recipes (--recipe NAME; a --set next to it wins):"]
    for r in RECIPES.values():
        lines += [f"  {r.name}: --set " + " --set ".join(r.sets),
                  f"      use on:   {r.use}", f"      not on:   {r.avoid}", f"      measured: {r.measured}"]
    lines.append("Five seeds x 256 held-out episodes each; commands in benchmarks/quality.md.")
    return "\n".join(lines)
