"""The trainer's configuration (no torch import: the CLI builds its options from these fields).

``TrainConfig`` fields become ``macflow-arena train`` options (``--eval-every``
for ``eval_every`` ...); the algorithm's own config fields are set with
``--set name=value`` (validated against the algorithm's config dataclass, see
``parse_overrides``). The resolved config is saved as ``config.json`` in the run folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def opt(default: Any, help: str) -> Any:  # noqa: A002
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    env: str = opt("", "env id the dataset was recorded on, e.g. particle/spread")
    dataset: str = opt("", "dataset name (under $MACFLOW_ARENA_HOME/datasets) or path")
    algo: str = opt("macflow", "algorithm (macflow, bc, td3bc, flowbc, diffusion, vdn_cql)")
    preset: str = opt("small", "network sizes: 'small' (CPU) or 'paper' (GPU)")
    steps: int = opt(20000, "total gradient updates")
    batch_size: int = opt(512, "transitions per update (windows with --sampling windows)")
    sampling: str = opt("transitions", "'transitions': i.i.d. steps (feed-forward networks); 'windows': "
                                       "B windows of --window steps")
    window: int = opt(20, "steps per window (T) with --sampling windows")
    start_fraction: float = opt(0.0, "with --sampling transitions: this fraction of each batch are episodes' first "
                                     "steps (cover: 0.25 teaches the team to aim its first move)")
    holdout: float = opt(0.0, "hold out this fraction of the dataset's episodes (the same ones for every seed "
                              "and algorithm): training never samples them and every --log-every the "
                              "algorithm's losses on them are logged as holdout/... (over-fitting shows as a "
                              "held-out loss that turns up); 0: train on every episode")
    shaping: str = opt("", "potential-based reward shaping for the critics, 'GROUP' or 'GROUP:WEIGHT': every "
                           "recorded reward gains gamma * Phi(o') - Phi(o), Phi = -WEIGHT (default 1) * the alive "
                           "agents' mean distance to the nearest entity of GROUP (an entity group of the "
                           "observations, e.g. 'prey' on particle/tag). Policy-invariant; scores keep the env's "
                           "reward. '' (default): the recorded rewards")
    lr_decay: str = opt("cosine", "learning-rate schedule over --steps: 'cosine' (down to 5 percent of lr at the end; extending --steps on resume stretches it) or 'none'")
    encoder: str = opt("entity", "'entity': networks read observations as entity tokens (the dataset's layout); "
                                 "'flat': plain MLPs over the observation vector")
    compile: str = opt("auto", "'on': torch.compile the update's losses (forward and backward); 'graph' (CUDA "
                               "only): capture the whole update, optimizer step included, as one CUDA graph and "
                               "replay it (its speed is not measured yet: no GPU was lent); 'off', or 'auto' "
                               "(eager: on the 2-core CPUs a compiled macflow update took 0.69-0.84x the eager time, "
                               "0.61-0.68x with --precision bf16, and a cold compile 3-4 minutes, seconds once cached; "
                               "benchmarks/results/train_speed_cpu_compile*.md, train_speed_cpu_reads.md)")
    precision: str = opt("auto", "what an update computes in: 'fp32', 'tf32' (CUDA matrix products on "
                                 "TensorFloat-32), 'bf16' (bfloat16 autocast of the losses; weights and optimizer "
                                 "in float32; on CPU only where it has AVX-512 or Arm BF16, refused on AVX2 where it "
                                 "is 7x slower), or 'auto' (tf32 on CUDA, fp32 on CPU). Training only: teams play in "
                                 "float32 (benchmarks/results/train_precision_cpu*.md)")
    time_limit: float = opt(0.0, "stop after this many seconds of updates (evaluation and checkpoints not "
                                 "counted; 0: no limit); the run then ends as at --steps, with its final "
                                 "evaluation and checkpoint at the update it reached")
    seed: int = opt(0, "seed of the weights, the sampler and the evaluation")
    device: str = opt("auto", "'auto' (cuda if available, else cpu), 'cpu', 'cuda', 'cuda:1' ...")
    eval_every: int = opt(5000, "evaluate every N updates (0: only at the end)")
    eval_episodes: int = opt(32, "episodes per evaluation")
    ckpt_every: int = opt(5000, "checkpoint every K updates (and at the end)")
    log_every: int = opt(100, "write metrics every N updates")
    threads: int = opt(0, "CPU threads for torch (0: the measured default of macflow_arena/threads.py, 1)")
    deterministic: bool = opt(False, "torch deterministic algorithms (bit-exact reruns on CPU)")
    tensorboard: bool = opt(True, "TensorBoard logs in the run folder when tensorboard is installed")
    progress: bool = opt(True, "show a progress bar")
    name: str | None = opt(None, "run name (default ENV-ALGO-DATASET-sSEED)")
    out: str | None = opt(None, "run folder (default $MACFLOW_ARENA_HOME/runs/NAME)")
    init_from: str | None = opt(None, "warm start: copy networks from this run's latest checkpoint (e.g. a flowbc "
                                      "run's teacher into macflow); new runs only")
    init_nets: str = opt("", "with --init-from: comma-separated networks to copy (default: every network both "
                             "algorithms have with the same shapes)")
    overrides: dict = field(default_factory=dict, metadata={"help": "algorithm config overrides (--set name=value)"})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)



def runs_dir() -> Path:
    from ..data.paths import home_dir

    return home_dir() / "runs"


def resolve_run(name_or_path: str | os.PathLike) -> Path:
    """A run folder: the path as given if it exists or looks like a path, else ``runs/<name>``."""
    s = os.fspath(name_or_path)
    p = Path(s).expanduser()
    if p.exists() or os.sep in s or s.startswith((".", "~")):
        return p
    return runs_dir() / s


class RunConfigError(ValueError):
    """A run's ``config.json`` cannot be read; the message names the file (or folder) and the fix."""


RUN_CONFIG_KEYS = ("train", "algo", "spec", "dataset")


def read_run_config(run: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The run's folder (``resolve_run``) and its ``config.json``, checked for the keys every run has
    (``RUN_CONFIG_KEYS``; ``train`` and ``dataset`` objects). ``RunConfigError`` naming the fix otherwise."""
    path = resolve_run(run)
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        where = f"no folder {path}" if not path.exists() else f"{path} has no config.json"
        raise RunConfigError(f"{os.fspath(run)}: not a training run folder ({where}); pass a run name under "
                             f"{runs_dir()} or the folder `macflow-arena train --out` wrote")
    try:
        from ..integrity.json_safe import load_file

        cfg = load_file(cfg_path)
    except (OSError, ValueError) as e:  # ValueError: JSONDecodeError and UnicodeDecodeError
        raise RunConfigError(f"{cfg_path}: unreadable run config ({e}); the file is not the JSON "
                             "`macflow-arena train` writes: retrain the run or leave it out") from None
    if not isinstance(cfg, dict):
        raise RunConfigError(f"{cfg_path}: garbled run config (a JSON {type(cfg).__name__}, not an object); "
                             "retrain the run or leave it out")
    missing = [k for k in RUN_CONFIG_KEYS if k not in cfg]
    if missing:
        raise RunConfigError(f"{cfg_path}: garbled run config, missing key(s) {missing} (a run config has "
                             f"{list(RUN_CONFIG_KEYS)}); retrain the run or leave it out")
    bad = [k for k in ("train", "dataset") if not isinstance(cfg[k], dict)]
    if bad:
        raise RunConfigError(f"{cfg_path}: garbled run config, {bad} should be JSON object(s); retrain the run "
                             "or leave it out")
    return path, cfg


def _parse_value(raw: str, annotation: str) -> Any:
    ann = str(annotation).replace(" ", "")
    if raw.lower() in ("none", "null") and "None" in ann:
        return None
    if ann.startswith("tuple"):
        txt = raw.strip("[]() ")
        return tuple(int(x) if x.strip().lstrip("-").isdigit() else float(x) for x in txt.split(",") if x.strip())
    if ann.startswith("bool"):
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true/false, got {raw!r}")
    if ann.startswith("int"):
        return int(raw)
    if ann.startswith("float"):
        return float(raw)
    if ann.startswith("str"):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def config_options(config_cls) -> dict[str, tuple[str, Any, str]]:
    """name -> (type annotation, default, help) of a config dataclass."""
    out = {}
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        out[f.name] = (str(f.type), default, f.metadata.get("help", ""))
    return out


def parse_overrides(items: list[str], config_cls) -> dict[str, Any]:
    """``["alpha=3.0", "hidden=256,256"]`` -> typed values for ``config_cls`` (unknown names list the known ones)."""
    opts = config_options(config_cls)
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set expects NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        k = k.strip().replace("-", "_")
        if k not in opts:
            raise ValueError(f"{config_cls.__name__} has no field {k!r}; known: {', '.join(sorted(opts))}")
        try:
            out[k] = _parse_value(v.strip(), opts[k][0])
        except ValueError as e:
            raise ValueError(f"--set {k}: {e} (type {opts[k][0]})") from None
    return out
