"""``export_team``: turn training runs into a team folder (weights, config.json, MODEL_CARD.md)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from .format import CARD, CONFIG, FORMAT, FORMAT_VERSION, WEIGHTS, TeamError, check_name, teams_home, write_folder

# TrainConfig fields that may differ between the runs of one team (the seed, and how a run was watched)
FREE_FIELDS = {"seed", "name", "out", "device", "threads", "progress", "tensorboard", "eval_every", "eval_episodes",
               "ckpt_every", "log_every", "deterministic"}


def _run_config(run: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    from ..train.config import RunConfigError, read_run_config

    try:
        return read_run_config(run)
    except RunConfigError as e:
        raise TeamError(str(e)) from None


def _train_settings(train: dict) -> dict[str, Any]:
    """A run's train settings as a TrainConfig reads them: fields added after the run was
    trained take their defaults."""
    from ..train.config import TrainConfig

    from ..integrity.config_check import check_train_config

    try:
        check_train_config(TrainConfig, train, "train settings")
        return TrainConfig.from_dict(train).to_dict()
    except (TypeError, ValueError) as e:
        raise TeamError(f"unreadable train settings in a run config ({e}); retrain the run or leave it out") from None


def _algo_settings(algo: Any, config: Any) -> Any:
    """A run's algorithm config with the fields added after it was trained at their defaults
    (so a run from before a new option compares equal to one trained with its default)."""
    import json

    from ..algos.base import config_to_dict
    from ..algos.registry import ALGOS

    if not isinstance(config, dict) or algo not in ALGOS:
        return config
    defaults = json.loads(json.dumps(config_to_dict(ALGOS[algo].Config())))
    return {**{k: v for k, v in defaults.items() if k not in config}, **config}


def _check_same(paths: list[Path], cfgs: list[dict]) -> None:
    """The runs of one team differ only in their seed (and bookkeeping)."""
    a = cfgs[0]
    for p, c in zip(paths[1:], cfgs[1:]):
        for key, va, vb in (("algo", a["algo"], c["algo"]), ("spec", a["spec"], c["spec"]),
                            ("algo_config", _algo_settings(a["algo"], a.get("algo_config")),
                             _algo_settings(c["algo"], c.get("algo_config"))),
                            ("dataset manifest", a["dataset"].get("manifest_sha256"), c["dataset"].get("manifest_sha256"))):
            if va != vb:
                raise TeamError(f"runs {paths[0].name} and {p.name} differ in {key} ({va!r} vs {vb!r}); a team's "
                                f"runs must be one configuration trained with different seeds")
        ta, tb = _train_settings(a["train"]), _train_settings(c["train"])
        for k in sorted(set(ta) | set(tb)):
            if k not in FREE_FIELDS and ta.get(k) != tb.get(k):
                raise TeamError(f"runs {paths[0].name} and {p.name} differ in train setting {k!r} "
                                f"({ta.get(k)!r} vs {tb.get(k)!r}); only the seed may differ")
    seeds = [c["train"].get("seed") for c in cfgs]
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        raise TeamError(f"runs share seed(s) {dup}; the confidence interval over training seeds needs one run per seed")


def _dataset_summary(cfg: dict) -> dict[str, Any]:
    rec = cfg["dataset"]
    out = {"name": rec.get("name"), "manifest_sha256": rec.get("manifest_sha256"), "env_id": rec.get("env_id")}
    path = rec.get("path")
    card: dict[str, Any] = {"found": False, "episodes": rec.get("episodes"), "transitions": rec.get("transitions"),
                            "reference_returns": rec.get("reference_returns") or {}}
    if path and Path(path, "manifest.jsonl").is_file():
        from ..data.card import dataset_card
        from ..data.loader import Dataset
        from ..train.data import manifest_hash

        try:
            if manifest_hash(path) == rec.get("manifest_sha256"):
                full = dataset_card(Dataset(path))
                card = {"found": True, **{k: full.get(k) for k in ("quality", "behaviour", "episodes", "transitions",
                                                                     "return", "reference_returns", "agents")}}
            else:
                card["note"] = f"the dataset at {path} has changed since training (manifest sha256 differs)"
        except Exception as e:  # noqa: BLE001 - the card is informative; the recorded hash stays authoritative
            card["note"] = f"could not read the dataset at {path} ({e})"
    out["card"] = card
    return out


def export_team(
    runs: Sequence[str | os.PathLike] | str | os.PathLike,
    name: str,
    out_dir: str | os.PathLike | None = None,
    episodes: int = 100,
    checkpoint: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    device: str = "auto",
    latency_calls: int = 200,
    log: Callable[[str], None] | None = None,
    execution: dict[str, Any] | list[str] | None = None,
) -> Path:
    """Export the first run's latest checkpoint (or ``checkpoint``) as team ``name``.

    Every run is evaluated (``episodes`` each) for the card; with several runs
    (same configuration, different seeds) the score's 95% CI is over training
    seeds. ``execution`` changes execution-only config fields (``Algorithm.exec_fields``,
    e.g. ``["exec_noise=0"]``) before evaluating; the team keeps them. Written atomically to ``out_dir`` (default
    ``$MACFLOW_ARENA_HOME/teams/NAME``); an existing team is replaced only
    with ``overwrite=True``.
    """
    import torch

    from .. import __version__
    from ..algos.base import config_to_dict
    from ..algos.checkpoint import CheckpointError, load_checkpoint
    from ..registry import resolve
    from ..train.trainer import TrainError, evaluate_run, latest_checkpoint
    from .card import model_card, summarize
    from .latency import measure_latency
    from .load import team_agents
    from .weights import act_nets, weights_bytes

    log = log or (lambda _m: None)
    check_name(name)
    if isinstance(runs, (str, os.PathLike)):
        runs = [runs]
    if not runs:
        raise TeamError("give at least one training run to export")
    if episodes < 1:
        raise TeamError(f"episodes must be >= 1, got {episodes}")
    dest = Path(out_dir).expanduser() if out_dir is not None else teams_home() / name
    if dest.exists() and not overwrite:
        raise TeamError(f"{dest} exists; pass overwrite=True (CLI: --overwrite) to replace it, or choose another name")
    loaded = [_run_config(r) for r in runs]
    paths, cfgs = [p for p, _ in loaded], [c for _, c in loaded]
    if len({p.resolve() for p in paths}) != len(paths):
        raise TeamError("the same run is given twice")
    _check_same(paths, cfgs)
    try:
        ckpt = Path(checkpoint).expanduser() if checkpoint is not None else latest_checkpoint(paths[0])
        ck = load_checkpoint(ckpt, device="cpu")
    except (TrainError, CheckpointError) as e:
        raise TeamError(str(e)) from None
    algo, extra = ck.algo, ck.meta.get("extra") or {}
    if execution and not isinstance(execution, dict):
        from ..train.config import parse_overrides

        try:
            execution = parse_overrides(list(execution), type(algo.config))
        except ValueError as e:
            raise TeamError(str(e)) from None
    try:
        algo.set_execution(**(execution or {}))
    except ValueError as e:
        raise TeamError(str(e)) from None
    if algo.name != cfgs[0]["algo"] or algo.spec.to_dict() != cfgs[0]["spec"]:
        raise TeamError(f"{ckpt} holds a {algo.name} for {algo.spec.to_dict()}, not the "
                        f"{cfgs[0]['algo']} of run {paths[0].name}")
    act_nets(algo)  # refuses algorithms that cannot be shipped before evaluating anything
    env_id = resolve(extra.get("env_id") or cfgs[0]["dataset"].get("env_id") or cfgs[0]["train"]["env"]).id

    evals = []
    for i, p in enumerate(paths):
        log(f"evaluating {p.name} ({episodes} episodes)")
        try:
            res = evaluate_run(p, episodes=episodes, device=device, checkpoint=ckpt if i == 0 else None,
                               execution=execution or None)
        except (TrainError, CheckpointError) as e:
            raise TeamError(str(e)) from None
        evals.append(res)
    log("timing decisions")
    latency = measure_latency(algo, env_id, calls=latency_calls)
    dataset = _dataset_summary(cfgs[0])
    agents = team_agents(env_id, algo.spec.n_agents, cfgs[0]["dataset"].get("path"))
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "algo": algo.name,
        "algo_config": config_to_dict(algo.config),
        "execution": dict(execution or {}),
        "spec": algo.spec.to_dict(),
        "seed": algo.seed,
        "act_nets": list(act_nets(algo)),
        "env_id": env_id,
        "agents": agents,
        "dataset": dataset,
        "train": [c["train"] for c in cfgs],
        "source": {"runs": [str(p) for p in paths], "checkpoint": str(ckpt), "checkpoint_name": ckpt.name,
                   "step": algo.step, "dataset_hash": ck.meta.get("dataset_hash")},
        "eval": {**summarize(evals), "per_run": [{k: v for k, v in e.items() if k != "reference_returns"} for e in evals]},
        "latency_ms": latency,
        "package_version": __version__,
        "torch_version": torch.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    weights = weights_bytes(algo)
    from ..integrity.weights_digest import KEY, digests

    config[KEY] = digests(weights, WEIGHTS)  # checked on every load (teams.weights.load_act_weights)
    config = json.loads(json.dumps(config, default=str))  # tuples -> lists, as read back
    files = {
        WEIGHTS: weights,
        CONFIG: (json.dumps(config, indent=2, sort_keys=True) + "\n").encode(),
        CARD: model_card(config).encode(),
    }
    out = write_folder(dest, files, overwrite=overwrite)
    log(f"wrote team {name} to {out} ({sum(len(b) for b in files.values()) / 1e3:.0f} kB)")
    return out
