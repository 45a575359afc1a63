"""``macflow-arena demo``: the whole loop on particle/cover, run through the real CLI commands.

particle/cover is multimodal: the scripted expert draws one of the 3! joint plans
per episode, so behaviour cloning averages the plans while MAC-Flow's flow
teacher (distilled into one-step students that share the episode's noise) keeps
them apart. The demo records the expert with recovery labels (the env runs the
expert's action plus N(0, 0.3^2) noise, the dataset keeps the expert's own: DART),
trains a macflow and a bc team on it,
evaluates both, exports them as teams, renders them side by side and writes the
report (score against time per decision). Every step is an ordinary
``macflow-arena`` command, printed before it runs, with every path under one folder.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

ENV = "particle/cover"
MACFLOW_EXEC = ["exec_noise=1"]  # cover is multimodal: the team samples its shared noise (one joint plan per episode)
RECOVERY_NOISE = "0.3"  # the recording's DART noise: states off the expert's path, labelled with its correction
MACFLOW_TRAIN = ["student_lr=0.003"]  # the students chase the teacher's sharpening plans (benchmarks/quality.md)


class DemoError(RuntimeError):
    """A demo step failed; the message names the step and its command."""


def _say(msg: str) -> None:
    print(msg, flush=True)


@dataclass(frozen=True)
class DemoBudget:
    episodes: int  # expert episodes recorded
    reference_episodes: int  # held-out episodes for the random / expert reference returns
    steps: int  # training updates per team
    batch_size: int  # transitions per update
    eval_episodes: int  # evaluation episodes per team (eval and report)
    video_episodes: int  # episodes in the comparison video


# The budget of the shipped cover team (benchmarks/quality.md): 5,000 episodes, 6,000 updates.
DEFAULT = DemoBudget(episodes=5000, reference_episodes=512, steps=6000, batch_size=512, eval_episodes=256,
                     video_episodes=2)
QUICK = DemoBudget(episodes=24, reference_episodes=32, steps=6, batch_size=16, eval_episodes=4, video_episodes=1)


@dataclass(frozen=True)
class Step:
    title: str
    argv: list[str]
    needs: str | None = None  # a command or option this step needs ("team", "video --compare"); skipped without it


def plan(out: Path, budget: DemoBudget) -> list[Step]:
    """The demo's commands, in order; every path under ``out``."""
    data, runs, teams = out / "datasets" / "cover-expert", out / "runs", out / "teams"
    mf, bc = runs / "cover-macflow", runs / "cover-bc"
    steps = [Step("record an expert dataset (one random joint plan per episode; noisy execution, the expert's labels)", [
        "record", ENV, "--behavior", "scripted", "--noise", RECOVERY_NOISE, "--label", "intended",
        "--quality", "expert", "--episodes", str(budget.episodes),
        "--num-envs", str(min(budget.episodes, 1024)), "--reference-episodes", str(budget.reference_episodes),
        "--out", str(data), "--quiet"])]
    # both with the package's defaults and a quarter of each batch from episode starts (the first
    # decision picks the joint plan; the settings of the shipped cover teams)
    for algo, run in (("macflow", mf), ("bc", bc)):
        steps.append(Step(f"train a {algo} team", [
            "train", ENV, "--dataset", str(data), "--algo", algo, "--preset", "small", "--steps", str(budget.steps),
            "--batch-size", str(budget.batch_size), "--start-fraction", "0.25", "--threads", "1",
            "--device", "cpu", "--eval-every", "0", "--eval-episodes", "0", "--no-tensorboard", "--out", str(run),
            *[x for kv in (MACFLOW_TRAIN if algo == "macflow" else []) for x in ("--set", kv)]]))
    execs = {mf: MACFLOW_EXEC, bc: []}
    for run in (mf, bc):
        steps.append(Step(f"evaluate {run.name}", ["eval", str(run), "--episodes", str(budget.eval_episodes),
                                                    "--device", "cpu", *[x for kv in execs[run] for x in ("--set", kv)]]))
    for run in (mf, bc):
        steps.append(Step(f"export {run.name} as a team", [
            "team", "export", str(run), "--name", run.name, "--out", str(teams / run.name),
            "--episodes", str(budget.eval_episodes), *[x for kv in execs[run] for x in ("--set", kv)]], needs="team"))
    steps.append(Step("render both teams side by side", [
        "video", ENV, "--compare", str(mf), str(bc), "--episodes", str(budget.video_episodes),
        "--out", str(out / "compare.mp4")], needs="video --compare"))
    steps.append(Step("report: normalized score against time per decision", [
        "report", str(mf), str(bc), "--out", str(out), "--episodes", str(budget.eval_episodes),
        *[x for kv in MACFLOW_EXEC for x in ("--set", f"macflow:{kv}")]]))
    return steps


def available(need: str | None) -> bool:
    """Whether this installation has the command (and option) a step needs."""
    if need is None:
        return True
    import argparse
    import importlib

    from .commands import COMMANDS

    command, *options = need.split()
    if command not in COMMANDS:
        return False
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"{__package__}.commands.{command}").add_parser(sub)
    return all(o in sub.choices[command]._option_string_actions for o in options)


def run_demo(out: Path, budget: DemoBudget, log=_say) -> list[str]:
    """Run every step through ``cli.main``; return the titles of the steps skipped (command unavailable).
    Raises DemoError naming the step when one fails."""
    from .cli import main

    steps = plan(out, budget)
    skipped = []
    for i, step in enumerate(steps, 1):
        cmd = "macflow-arena " + shlex.join(step.argv)
        if not available(step.needs):
            log(f"\n[{i}/{len(steps)}] {step.title}: skipped (this installation has no `{step.needs}`)\n  $ {cmd}")
            skipped.append(step.title)
            continue
        log(f"\n[{i}/{len(steps)}] {step.title}\n  $ {cmd}")
        rc = main(step.argv)
        if rc != 0:
            raise DemoError(f"step {i}/{len(steps)} ({step.title}) failed with exit code {rc}: `{cmd}`")
    return skipped
