"""Return quality: train algorithms on the recorder's suite datasets over several
seeds and write a markdown table of normalized scores (mean and 95% CI over seeds).

    python benchmarks/quality.py --env particle/spread --levels expert medium \\
        --algos macflow bc td3bc --steps 3000 --seeds 0 1 2 --jobs 2

An algorithm may carry config overrides as a variant: ``macflow:alpha=100`` or
``macflow:teacher=per_agent,noise=private`` (a column of its own); ``train.NAME=VALUE``
sets a trainer option instead (``bc:train.encoder=flat`` trains with ``--encoder flat``;
``macflow:train.time_limit=600`` ends each run at 10 minutes of updates, evaluated at the step it reached;
``macflow:train.recipe=noisy`` trains with ``--recipe noisy``, ``train --list-recipes``). Runs are kept
under ``--runs`` (default ``$MACFLOW_ARENA_HOME/runs/quality``), one folder per
(env, dataset, variant, seed); a finished run is not trained again, so the script
can be stopped and resumed, and several invocations (say one per dataset, each
with its own alpha) add to one table: ``--table-only`` rebuilds it from the runs.
Datasets are recorded with the suite recorder when missing (reference returns in
the manifest). Each run is ``macflow-arena train`` in a subprocess (``--jobs``
at a time), with 1 torch thread. With ``--stack on`` (the default ``auto`` on CUDA) the
seeds of one (dataset, variant) train in one process as one stacked update
(``train --seeds ... --stack on``); the run folders are the same. ``--paired-against bc`` adds a
table of each variant minus ``bc`` with every run scored again on the same held-out episodes (the
paired difference; per-episode returns kept in ``quality-returns-<episodes>.json`` in each run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._=-]+", "-", text.lower()).strip("-")


def parse_variant(spec: str) -> tuple[str, list[str]]:
    """``macflow:alpha=100,noise=private`` -> ("macflow", ["alpha=100", "noise=private"])."""
    algo, _, rest = spec.partition(":")
    sets = [s for s in rest.split(",") if s]
    bad = [s for s in sets if "=" not in s]
    if bad or not algo:
        raise SystemExit(f"bad algorithm variant {spec!r}: use ALGO or ALGO:name=value,name=value")
    return algo, sets


def run_dir(runs: Path, env: str, level: str, variant: str, seed: int) -> Path:
    return runs / f"{slug(env)}-{level}-{slug(variant)}-s{seed}"


def finished(folder: Path, steps: int) -> dict | None:
    """The final evaluation of a completed run, else None. A run that ``train.time_limit`` ended
    before ``steps`` is complete too (its evaluation is at the step it reached): runs here evaluate
    only at their end (``--eval-every 0``), and its config must ask for the same ``steps``."""
    f = folder / "eval.jsonl"
    if not f.exists():
        return None
    lines = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    last = lines[-1] if lines else None
    if not last:
        return None
    if last.get("step") == steps:
        return last
    try:
        train = json.loads((folder / "config.json").read_text())["train"]
    except (OSError, ValueError, KeyError):
        return None
    timed = train.get("time_limit") and train.get("steps") == steps and last.get("step", steps) < steps
    return last if timed else None


def train_cmd(job: dict, seeds: list[int], out: str) -> list[str]:
    cmd = [sys.executable, "-m", "macflow_arena", "train", job["env"], "--dataset", job["dataset"],
           "--algo", job["algo"], "--preset", job["preset"], "--steps", str(job["steps"]),
           "--threads", "1", "--device", job["device"], "--eval-every", "0", "--eval-episodes", str(job["eval_episodes"]),
           "--ckpt-every", str(job["steps"]), "--no-progress", "--no-tensorboard", "--out", out]
    cmd += ["--seed", str(seeds[0])] if job.get("stack") is None else ["--seeds", ",".join(map(str, seeds)),
                                                                       "--stack", job["stack"]]
    for s in job["sets"]:
        if s.startswith("train."):  # a trainer option, e.g. train.encoder=flat -> --encoder flat
            k, v = s[len("train."):].split("=", 1)
            cmd += ["--" + k.replace("_", "-"), v]
        else:
            cmd += ["--set", s]
    return cmd


def train_one(job: dict) -> list[dict]:
    """Train the job's unfinished seeds (one process per seed, or one for all with ``stack``)."""
    todo = [s for s in job["seeds"] if finished(job["out"](s), job["steps"]) is None]
    for s in todo:
        if job["out"](s).exists():  # an interrupted run: start it again
            import shutil

            shutil.rmtree(job["out"](s))
    groups = [todo] if todo and job.get("stack") else [[s] for s in todo]
    for seeds in groups:
        out = str(job["out"]("{seed}")) if job.get("stack") else str(job["out"](seeds[0]))
        cmd = train_cmd(job, seeds, out)
        t = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"training failed ({' '.join(cmd)}):\n{r.stderr[-2000:]}")
        for s in seeds:
            done = finished(job["out"](s), job["steps"])
            if done is None:
                raise SystemExit(f"{job['out'](s)}: training ended without its final evaluation ({' '.join(cmd)})")
            early = f", stopped by the time limit at step {done['step']}" if done.get("step") != job["steps"] else ""
            print(f"  {job['out'](s).name}: {done.get('normalized_score', float('nan')):.1f} ({time.time() - t:.0f} s{early})",
                  file=sys.stderr, flush=True)
    out = []
    for s in job["seeds"]:
        folder = job["out"](s)
        meta = {"env": job["env"], "level": job["level"], "variant": job["variant"], "seed": s,
                "steps": job["steps"], "preset": job["preset"], "command": "macflow-arena train ... (see config.json)"}
        done = finished(folder, job["steps"])
        (folder / "quality.json").write_text(json.dumps({**meta, "eval": done}))
        out.append({**meta, "eval": done})
    return out


def exec_eval(folder: Path, meta: dict, sets: list[str], episodes: int) -> dict | None:
    """Evaluate a finished run again with execution-only options (``exec_noise=0``): a column
    ``VARIANT [exec_noise=0]``; kept in ``quality-exec-<sets>.json`` (skipped when the algorithm
    has no such option)."""
    from macflow_arena.algos.registry import get
    from macflow_arena.train.trainer import evaluate_run

    cfg = json.loads((folder / "config.json").read_text())
    names = {s.split("=", 1)[0] for s in sets}
    if not names <= set(get(cfg["algo"]).exec_fields):
        return None
    f = folder / f"quality-exec-{slug('_'.join(sets))}.json"
    if not f.exists():
        res = evaluate_run(folder, episodes=episodes, device="cpu", execution=list(sets))
        f.write_text(json.dumps({**meta, "variant": f"{meta['variant']} [{' '.join(sets)}]", "eval": res}))
    return json.loads(f.read_text())


def episode_returns(folder: Path, episodes: int) -> dict:
    """The run's evaluation with per-episode returns on the held-out seeds (kept in
    ``quality-returns-<episodes>.json``), for paired differences."""
    from macflow_arena.train.trainer import evaluate_run

    f = folder / f"quality-returns-{episodes}.json"
    if not f.exists():
        f.write_text(json.dumps(evaluate_run(folder, episodes=episodes, device="cpu", keep_returns=True)))
    return json.loads(f.read_text())


def paired_table(results: list[dict], base: str, episodes: int) -> list[str]:
    """Each variant minus ``base``, both scored on the same held-out episodes (normalized; 95% CI
    that resamples the seeds of each side and the shared episodes)."""
    from macflow_arena.train.paired import group_difference

    levels = list(dict.fromkeys(r["level"] for r in results))
    variants = [v for v in dict.fromkeys(r["variant"] for r in results) if v != base]
    out = ["", f"Paired against `{base}`: each variant minus it on the same {episodes} held-out episodes, normalized, "
           "[95% CI over seeds and episodes] (episodes whose means differ).", "",
           "| dataset | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
    for level in levels:
        ref = [r for r in results if r["level"] == level and r["variant"] == base and "run_dir" in r]
        cells = []
        for v in variants:
            rs = [r for r in results if r["level"] == level and r["variant"] == v and "run_dir" in r]
            if not ref or not rs:
                cells.append("-")
                continue
            d = group_difference([episode_returns(Path(r["run_dir"]), episodes) for r in rs],
                                 [episode_returns(Path(r["run_dir"]), episodes) for r in ref])
            lo, hi = d["normalized_ci95"]
            cells.append(f"{d['normalized_difference']:+.2f} [{lo:+.2f}, {hi:+.2f}] ({d['episodes_differing']})")
        out.append(f"| {level} | " + " | ".join(cells) + " |")
    return out


def ci95(x: np.ndarray) -> tuple[float, float]:
    from macflow_arena.train.evaluate import bootstrap_ci

    return bootstrap_ci(x)


def table(results: list[dict], env: str) -> list[str]:
    levels = list(dict.fromkeys(r["level"] for r in results))
    variants = list(dict.fromkeys(r["variant"] for r in results))
    extra = "coverage_success" if any("coverage_success" in r["eval"] for r in results) else (
        "win_rate" if any("win_rate" in r["eval"] for r in results) else None)
    steps = sorted({r["steps"] for r in results})
    out = [f"## {env}", "", f"Normalized score, mean over seeds [95% bootstrap CI over seeds]; {', '.join(map(str, steps))} updates"
           + (f"; second line: {extra.replace('_', ' ')}" if extra else "") + ".", "",
           "| dataset | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
    for level in levels:
        cells = []
        for v in variants:
            rs = [r for r in results if r["level"] == level and r["variant"] == v]
            if not rs:
                cells.append("-")
                continue
            s = np.array([r["eval"]["normalized_score"] for r in rs])
            lo, hi = ci95(s)
            cell = f"{s.mean():.1f} [{lo:.1f}, {hi:.1f}] (n={len(s)})"
            if extra:
                e = np.array([r["eval"].get(extra, np.nan) for r in rs])
                cell += f"<br>{np.nanmean(e):.2f}"
            cells.append(cell)
        out.append(f"| {level} | " + " | ".join(cells) + " |")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="particle/spread")
    p.add_argument("--levels", nargs="+", default=["expert", "medium"])
    p.add_argument("--algos", nargs="+", default=["macflow", "bc", "td3bc"], help="ALGO or ALGO:name=value,... variants")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes per recorded dataset (default: the scenario's dataset_episodes); an existing "
                        "dataset of another size stops the run (the table must say what it trained on)")
    p.add_argument("--eval-episodes", type=int, default=256)
    p.add_argument("--preset", default="small")
    p.add_argument("--device", default="cpu")
    p.add_argument("--jobs", type=int, default=1, help="training processes at a time")
    p.add_argument("--stack", choices=("auto", "on", "off"), default="auto",
                   help="'on': the seeds of a (dataset, variant) in one process, one stacked update (train --seeds "
                        "--stack on); 'off': a process per seed; 'auto': on with --device cuda, off on CPU (measured "
                        "slower there: benchmarks/results/train_speed_cpu_seeds.md)")
    p.add_argument("--root", default=None, help="datasets folder (default: $MACFLOW_ARENA_HOME/datasets)")
    p.add_argument("--runs", default=None, help="runs folder (default: $MACFLOW_ARENA_HOME/runs/quality)")
    p.add_argument("--also-exec", nargs="+", default=[], metavar="NAME=VALUE",
                   help="also evaluate every finished run whose algorithm has these execution options "
                        "(e.g. exec_noise=0): an extra column per variant")
    p.add_argument("--paired-against", metavar="VARIANT", default=None,
                   help="also a table of each variant minus VARIANT (as written in --algos), both scored again on "
                        "the same --eval-episodes held-out episodes: the paired difference, whose CI is far "
                        "narrower than two separate scores' (benchmarks/paired_groups.py does it for any runs)")
    p.add_argument("--table-only", action="store_true", help="only rebuild the table from finished runs of ENV")
    p.add_argument("--out", default=None, help="markdown file for the table (default: print only)")
    a = p.parse_args(argv)

    from macflow_arena.registry import resolve

    a.env = resolve(a.env).id  # particle/spread -> particle/spread-v0: the suite's dataset names carry the version
    from macflow_arena.data import datasets_dir, record_suite
    from macflow_arena.data.paths import default_name, home_dir
    from macflow_arena.data.suite import SUITE

    root = Path(a.root) if a.root else datasets_dir()
    runs = Path(a.runs) if a.runs else home_dir() / "runs" / "quality"
    runs.mkdir(parents=True, exist_ok=True)
    if not a.table_only:
        from macflow_arena.data.loader import Dataset

        if a.episodes is None:
            a.episodes = resolve(a.env).dataset_episodes
        missing = [q for q in a.levels if not (root / default_name(a.env, q) / "manifest.jsonl").exists()]
        for q in a.levels:
            path = root / default_name(a.env, q)
            if q not in missing and (n := Dataset(path).num_episodes) != a.episodes:
                raise SystemExit(f"{path} holds {n} episodes, not {a.episodes}: re-record it with "
                                 f"`macflow-arena record {a.env} --suite --episodes {a.episodes} --overwrite`, "
                                 f"or pass --episodes {n}")
        if missing:
            record_suite(a.env, root, episodes=a.episodes, levels=tuple(q for q in SUITE if q in missing), mode="create",
                         log=lambda m: print(m, file=sys.stderr))
        stack = a.stack == "on" or (a.stack == "auto" and a.device.startswith("cuda"))
        jobs = []
        for level in a.levels:
            for spec in a.algos:
                algo, sets = parse_variant(spec)
                base = {"env": a.env, "level": level, "variant": spec, "algo": algo, "sets": sets,
                        "dataset": str(root / default_name(a.env, level)), "steps": a.steps, "preset": a.preset,
                        "device": a.device, "eval_episodes": a.eval_episodes, "stack": "on" if stack else None,
                        "out": lambda s, level=level, spec=spec: run_dir(runs, a.env, level, spec, s)}
                if stack:
                    jobs.append({**base, "seeds": list(a.seeds)})
                else:
                    jobs += [{**base, "seeds": [seed]} for seed in a.seeds]
        print(f"{len(jobs) * (len(a.seeds) if stack else 1)} runs ({a.jobs} process(es) at a time"
              f"{', seeds stacked' if stack else ''}) under {runs}", file=sys.stderr)
        with ThreadPoolExecutor(max(1, a.jobs)) as ex:
            list(ex.map(train_one, jobs))
    results = []
    for f in sorted(runs.glob("*/quality.json")):
        r = json.loads(f.read_text())
        if r["env"] == a.env and r["eval"] is not None:
            results.append({**r, "run_dir": str(f.parent)})
            if a.also_exec:
                e = exec_eval(f.parent, r, a.also_exec, a.eval_episodes)
                if e is not None:
                    results.append(e)
    if not results:
        raise SystemExit(f"no finished runs of {a.env} under {runs}")
    lines = table(results, a.env)
    if a.paired_against:
        if a.paired_against not in {r["variant"] for r in results}:
            raise SystemExit(f"--paired-against {a.paired_against!r}: no finished runs of that variant of {a.env} "
                             f"under {runs} (variants: {', '.join(sorted({r['variant'] for r in results}))})")
        lines += paired_table([r for r in results if " [" not in r["variant"]], a.paired_against, a.eval_episodes)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    raise SystemExit(main())
