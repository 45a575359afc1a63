"""What a team's card says: the training command, the score summary over runs, MODEL_CARD.md.

No torch here: the inputs are the run folders' config.json and the evaluation dicts.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from typing import Any, Mapping, Sequence

# two-sided 95% Student t quantiles t_{0.975, df}, df = 1..30 (then the normal's 1.96)
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its 95% Student t interval over independent values (training seeds)."""
    x = [float(v) for v in values]
    n = len(x)
    m = sum(x) / n
    if n < 2:
        return m, m, m
    sd = math.sqrt(sum((v - m) ** 2 for v in x) / (n - 1))
    h = t95(n - 1) * sd / math.sqrt(n)
    return m, m - h, m + h


def summarize(evals: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One score for the card: over training seeds (runs) when there are several, else over episodes."""
    first = evals[0]
    out: dict[str, Any] = {"runs": len(evals), "episodes_per_run": int(first["episodes"]), "seed": first.get("seed")}
    if len(evals) == 1:
        out.update(ci_over="episodes", ci_method="percentile bootstrap of the mean over episodes",
                   return_mean=first["return_mean"], return_ci95=list(first["return_ci95"]))
        if "normalized_score" in first:
            out.update(normalized_score=first["normalized_score"], normalized_ci95=list(first["normalized_ci95"]))
    else:
        m, lo, hi = mean_ci([e["return_mean"] for e in evals])
        out.update(ci_over="training seeds", ci_method="Student t interval over the runs' mean returns",
                   return_mean=m, return_ci95=[lo, hi], return_per_run=[e["return_mean"] for e in evals])
        if all("normalized_score" in e for e in evals):
            m, lo, hi = mean_ci([e["normalized_score"] for e in evals])
            out.update(normalized_score=m, normalized_ci95=[lo, hi],
                       normalized_per_run=[e["normalized_score"] for e in evals])
    for key in ("win_rate", "coverage_success"):
        if all(key in e for e in evals):
            vals = [float(e[key]) for e in evals]
            out[key] = sum(vals) / len(vals)
            if len(vals) > 1:
                out[key + "_per_run"] = vals
    if "reference_returns" in first:
        out["reference_returns"] = first["reference_returns"]
    return out


def _flag_value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


def _run_name(train: Mapping[str, Any]) -> str | None:
    """The run's name: ``--name``, else the last part of ``--out`` (a path on the trainer's machine)."""
    if train.get("name"):
        return str(train["name"])
    out = str(train.get("out") or "").rstrip("/\\")
    return out.replace("\\", "/").rsplit("/", 1)[-1] or None


def train_command(train: Mapping[str, Any], *, dataset: str | None = None, steps: int | None = None) -> str:
    """The ``macflow-arena train`` command line that reproduces a run's TrainConfig.

    ``dataset`` replaces the dataset (a name anyone can record instead of a path on
    the trainer's machine), ``steps`` the number of updates (the exported checkpoint's
    step). ``--out PATH`` becomes ``--name`` with the folder's name, so the command
    runs on any machine.
    """
    from ..train.config import TrainConfig

    data = dict(train)
    if data.get("out"):
        data["name"], data["out"] = _run_name(data), None
    cfg = TrainConfig.from_dict(data)
    parts = ["macflow-arena", "train", cfg.env, "--dataset", dataset or cfg.dataset]
    default = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        if f.name in ("env", "dataset", "overrides"):
            continue
        v, d = getattr(cfg, f.name), getattr(default, f.name)
        if f.name == "steps" and steps is not None:
            v = int(steps)
        flag = "--" + f.name.replace("_", "-")
        if f.name in ("algo", "preset", "steps", "seed"):  # always spelled out
            parts += [flag, str(v)]
        elif v == d or v is None:
            continue
        elif isinstance(v, bool):
            parts.append(flag if v else "--no-" + f.name.replace("_", "-"))
        else:
            parts += [flag, str(v)]
    for k, v in sorted(cfg.overrides.items()):
        parts += ["--set", f"{k}={_flag_value(v)}"]
    return shlex.join(parts)


def record_command(env_id: str, card: Mapping[str, Any], name: str | None = None) -> tuple[str, str] | None:
    """``(command, dataset name)``: a ``macflow-arena record`` command that records a dataset of the
    same recipe as the one a team was trained on (behaviour, epsilon/noise, episodes, seed, quality),
    under the name ``record --suite`` gives that level (``<env>-<quality>``, e.g.
    ``particle-spread-v0-medium``), or ``name`` (the team's dataset name) for a recording with
    intended-action labels, which no suite level is; None when the card does not say enough (human
    sessions, SB3 models). The new dataset has its own manifest hash (a manifest records its creation time)."""
    from ..data.paths import default_name
    from ..data.suite import SEED_STRIDE, SUITE

    given = name
    quality, behaviour = card.get("quality"), dict(card.get("behaviour") or {})
    episodes, kind = card.get("episodes"), behaviour.pop("name", None)
    if kind not in ("scripted", "random") or not episodes:
        return None
    name = default_name(env_id, quality)
    seed = int(behaviour.pop("seed", 0) or 0)
    if set(behaviour) <= {"epsilon", "noise", "label"}:  # a fixed behaviour: spelled out exactly
        cmd = ["macflow-arena", "record", env_id, "--behavior", kind, "--episodes", str(episodes), "--seed", str(seed)]
        for key in ("epsilon", "noise"):
            if behaviour.get(key):
                cmd += [f"--{key}", repr(float(behaviour[key]))]
        label = behaviour.get("label") or "executed"
        if label != "executed":
            cmd += ["--label", str(label)]
            name = given or name
        if quality:
            cmd += ["--quality", str(quality)]
        return shlex.join(cmd + ["--name", name]), name
    if kind == "scripted" and quality in SUITE and seed >= SUITE.index(quality) * SEED_STRIDE:  # e.g. medium-replay
        suite_seed = seed - SUITE.index(quality) * SEED_STRIDE
        cmd = ["macflow-arena", "record", env_id, "--suite", "--episodes", str(episodes)]
        return shlex.join(cmd + (["--seed", str(suite_seed)] if suite_seed else [])), name
    return None


def _fmt_ci(mean: float, ci: Sequence[float], digits: int) -> str:
    return f"{mean:.{digits}f} (95% CI {ci[0]:.{digits}f} .. {ci[1]:.{digits}f})"


def model_card(cfg: Mapping[str, Any]) -> str:
    """MODEL_CARD.md of a team from its config.json dict."""
    ev, lat, ds, src = cfg["eval"], cfg["latency_ms"], cfg["dataset"], cfg["source"]
    lines = [f"# Team `{cfg['name']}`", "",
             f"{cfg['algo']} team for `{cfg['env_id']}`: plays {', '.join(cfg['agents'])} "
             f"({cfg['spec']['n_agents']} agents, obs {cfg['spec']['obs_dim']}, "
             f"{'discrete' if cfg['spec']['discrete'] else 'continuous'} actions of size {cfg['spec']['action_dim']}).", "",
             "```", f"macflow-arena play {cfg['env_id']} --team {cfg['name']}",
             f"macflow-arena video {cfg['env_id']} --team {cfg['name']} --episodes 4 --out {cfg['name']}.mp4", "```", "",
             "## Training", "",
             f"Weights: step {src['step']} of run `{_run_name({'out': src['runs'][0]})}`"
             + (f" (one of {len(src['runs'])} runs with different seeds)" if len(src["runs"]) > 1 else "")
             + f", trained on dataset `{ds['name']}` (manifest sha256 `{ds['manifest_sha256'][:16]}...`).", ""]
    rec = record_command(cfg["env_id"], ds.get("card") or {}, name=ds.get("name"))
    lines += ["Commands anyone can rerun: record a dataset of the same recipe"
              + (" (its own hash), then train" if rec else " (not recordable from its card), then train")
              + (" (one run per training seed):" if len(cfg["train"]) > 1 else ":"), "", "```"]
    if rec:
        lines.append(rec[0])
    lines += [train_command(t, dataset=rec[1] if rec else None, steps=src["step"]) for t in cfg["train"]]
    lines += ["```"]
    ran = sorted({int(t.get("steps", src["step"])) for t in cfg["train"]})
    if ran != [int(src["step"])]:
        lines += ["", f"The run went on to step {', '.join(map(str, ran))}; these weights are its checkpoint at step "
                      f"{src['step']}, where `--steps {src['step']}` stops."]
    if cfg.get("execution"):
        sets = " ".join(f"--set {k}={v}" for k, v in cfg["execution"].items())
        lines += ["", f"Execution options set at export (`macflow-arena team export ... {sets}`); "
                      "they change how the team acts, not its training."]
    lines += ["", "## Dataset", "",
              f"- name: `{ds['name']}`",
              f"- manifest sha256: `{ds['manifest_sha256']}`"]
    card = ds.get("card") or {}
    for key in ("quality", "behaviour", "episodes", "transitions"):
        v = card.get(key)
        if v in (None, {}, ""):
            continue
        if isinstance(v, Mapping):
            rest = ", ".join(f"{k}={x}" for k, x in v.items() if k != "name")
            v = f"{v.get('name', '?')}" + (f" ({rest})" if rest else "")
        lines.append(f"- {key}: {v}")
    if card.get("note"):
        lines.append(f"- note: {card['note']}")
    if card.get("return"):
        r = card["return"]
        lines.append(f"- return: mean {r['mean']:.3f}, std {r['std']:.3f}, min {r['min']:.3f}, max {r['max']:.3f}")
    if card.get("reference_returns"):
        refs = card["reference_returns"]
        lines.append("- reference returns: " + ", ".join(f"{k} {v:.3f}" for k, v in refs.items() if isinstance(v, (int, float))))
    if not card.get("found", True):
        lines.append("- (the dataset folder was not found at export time: the summary comes from the run's config.json)")
    over = ev["ci_over"]
    how = (f"{ev['runs']} training seeds ({ev['ci_method']})" if over == "training seeds"
           else f"{ev['episodes_per_run']} episodes of one run ({ev['ci_method']}); one training seed, so no spread over seeds")
    lines += ["", "## Evaluation", "",
              f"{ev['episodes_per_run']} episodes per run on held-out seeds from {ev['seed']}, decentralized execution; "
              f"95% CI over {how}.", "",
              f"- return: {_fmt_ci(ev['return_mean'], ev['return_ci95'], 3)}"]
    if "normalized_score" in ev:
        lines.append(f"- normalized score: {_fmt_ci(ev['normalized_score'], ev['normalized_ci95'], 1)} (random 0, expert 100)")
    if "win_rate" in ev:
        lines.append(f"- win rate: {ev['win_rate']:.3f}")
    if "coverage_success" in ev:
        lines.append(f"- coverage success: {ev['coverage_success']:.3f}")
    if over == "training seeds":
        lines.append(f"- per run: {', '.join(f'{v:.3f}' for v in ev['return_per_run'])}")
    lines += ["", "## Latency", "",
              f"One decision for the whole team (batch 1) on {lat['device'].upper()} with {lat['threads']} torch thread(s): "
              f"median {lat['median_ms']:.3f} ms (p10 {lat['p10_ms']:.3f}, p90 {lat['p90_ms']:.3f}) over "
              f"{lat['calls']} timed calls after {lat['warmup']} warm-up calls (torch {lat['torch_version']})"
              + (f"; timed again {lat['timed']} (`macflow-arena team retime`)." if lat.get("timed") else ", timed at export."),
              "", "## Versions", "",
              f"macflow-arena {cfg['package_version']}, torch {cfg['torch_version']}, exported {cfg['created']}.",
              f"Weights: `weights.safetensors` ({', '.join(cfg['act_nets'])}; no optimizer state), config: `config.json`.", ""]
    return "\n".join(lines)
