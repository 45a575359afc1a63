"""The training loop: dataset on the device once, windows sampled there, one
``algo.update_device`` per step (its metrics read every few updates: ``read_every``), periodic evaluation, atomic checkpoints, exact resume.

Run folder (``$MACFLOW_ARENA_HOME/runs/<name>`` or ``--out``)::

    config.json            the resolved TrainConfig, algorithm config, team spec, dataset
    metrics.jsonl          one line per ``log_every`` updates (losses)
    eval.jsonl             one line per evaluation
    checkpoints/step-00001000.safetensors (+ .json)   algos/checkpoint.py format
    tb/                    TensorBoard events (only when tensorboard is installed)

A checkpoint holds the weights, optimizer moments, the algorithm's training RNG,
the step, the package version, the dataset manifest sha256 and (as an extra
tensor) the window sampler's RNG state, so ``resume`` continues bit-exactly on
the same device (one process; under DDP ranks other than 0 reseed their sampler).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .config import RunConfigError, TrainConfig, parse_overrides, read_run_config, resolve_run, runs_dir
from .data import DeviceDataset, horizon_gamma, load_device_dataset

READ_EVERY = 10  # updates between host reads of the metrics on CPU (see ``read_every``)


def read_every(log_every: int, device) -> int:
    """Updates between host reads of the metrics: ``READ_EVERY`` on CPU, where a read costs nothing
    and the progress bar moves every 10 updates; on a GPU, where each read drains the queue of
    launched work, every ``--log-every`` updates (at least ``READ_EVERY``)."""
    if torch.device(device).type == "cpu":
        return READ_EVERY
    return max(READ_EVERY, int(log_every or 0))


def read_due(cfg, step: int, unread: int, every: int, is_last: bool, io: bool) -> bool:
    """Whether the loop reads its unread updates now: every ``every`` updates, at a log step, before
    an evaluation or checkpoint (``io``: anything that reads the weights) and at the end."""
    return unread >= every or is_last or io or bool(cfg.log_every and step % cfg.log_every == 0)


CKPT_RE = re.compile(r"^step-(\d+)\.safetensors$")


class TrainError(ValueError):
    """A user-fixable training problem (bad run folder, missing checkpoint ...)."""


def is_compile_failure(e: BaseException) -> bool:
    """Whether ``e`` is torch.compile's backend failing (a missing or broken C++ compiler, an
    inductor error), as opposed to an error in the losses themselves."""
    from torch._dynamo.exc import BackendCompilerFailed

    return isinstance(e, BackendCompilerFailed)


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    history: list[dict[str, float]] = field(default_factory=list)  # every update of this call: {"step", metrics...}
    last_eval: dict[str, Any] | None = None
    updates_per_s: float = float("nan")
    algo: Any = None  # the trained Algorithm
    stopped_by_time: bool = False  # --time-limit ended the run before --steps


def resolve_device(device: str) -> str:
    if device in ("auto", "", None):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TrainError(f"--device {device}: CUDA is not available here; use --device cpu (or auto)")
    return device


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    d = Path(run_dir) / "checkpoints"
    if not d.is_dir():
        return []
    out = [(int(m.group(1)), d / n) for n in os.listdir(d) if (m := CKPT_RE.match(n))]
    return sorted(out)


def latest_checkpoint(run_dir: Path) -> Path:
    found = checkpoints(run_dir)
    if not found:
        raise TrainError(f"{run_dir}: no checkpoint in {Path(run_dir) / 'checkpoints'} (train first, or check the run name)")
    return found[-1][1]


def _default_name(cfg: TrainConfig) -> str:
    ds = Path(cfg.dataset).name
    return f"{cfg.env.replace('/', '-')}-{cfg.algo}-{ds}-s{cfg.seed}"


def _atomic_json(path: Path, obj: Any) -> None:
    from ..algos.checkpoint import atomic_write

    atomic_write(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


class _Logger:
    """metrics.jsonl / eval.jsonl, TensorBoard if installed (lazy), all on rank 0 only."""

    def __init__(self, run_dir: Path, enabled: bool, tensorboard: bool):
        self.enabled = enabled
        self.tb = None
        if not enabled:
            return
        self.metrics = open(run_dir / "metrics.jsonl", "a", buffering=1)
        self.evals = open(run_dir / "eval.jsonl", "a", buffering=1)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

                self.tb = SummaryWriter(str(run_dir / "tb"))
            except ImportError:
                self.tb = None

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        self.metrics.write(json.dumps({"step": step, **metrics}) + "\n")
        if self.tb is not None:
            for k, v in metrics.items():
                self.tb.add_scalar(k, v, step)

    def log_eval(self, step: int, res: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self.evals.write(json.dumps({"step": step, **res}) + "\n")
        if self.tb is not None:
            for k in ("return_mean", "normalized_score", "win_rate", "coverage_success"):
                if k in res:
                    self.tb.add_scalar(f"eval/{k}", res[k], step)

    def close(self) -> None:
        if not self.enabled:
            return
        self.metrics.close()
        self.evals.close()
        if self.tb is not None:
            self.tb.close()


class _Progress:
    def __init__(self, total: int, initial: int, enabled: bool):
        self.bar = None
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, initial=initial, desc="train", dynamic_ncols=True, file=sys.stderr)

    def update(self, n: int, post: dict[str, str]) -> None:
        if self.bar is not None:
            self.bar.update(n)
            if post:
                self.bar.set_postfix(post, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _sampler_seed(seed: int, rank: int) -> int:
    return (int(seed) * 7919 + 1) * 1_000_003 + rank * 104_729


def _check_config(cfg: TrainConfig, where: str) -> None:
    """Types and ranges of every TrainConfig field and override (a hostile run config.json included)."""
    from ..algos.registry import ALGOS
    from ..integrity.config_check import check_train_config

    algo_cls = ALGOS[cfg.algo] if isinstance(cfg.algo, str) and cfg.algo in ALGOS else None
    check_train_config(TrainConfig, cfg.to_dict(), where, algo_cls.Config if algo_cls else None)


def captured_update(update, owner, optimizers, generators, device, info):
    """``--compile graph``: ``update`` captured as a CUDA graph (``algos.captured``); TrainError
    where it cannot be (not CUDA, several ranks, an optimizer without the fused kernel)."""
    from ..algos import captured

    if info.world_size > 1:
        raise TrainError("--compile graph with several ranks (torchrun) is not supported: the gradient "
                         "all-reduce runs outside the graph; use --compile off")
    try:
        return captured.CapturedUpdate(update, owner, optimizers, generators, device)
    except ValueError as e:
        raise TrainError(str(e)) from None


def _check_options(cfg: TrainConfig) -> None:
    if cfg.compile not in ("auto", "on", "off", "graph"):
        raise TrainError(f"--compile {cfg.compile!r}: use 'auto', 'on', 'off' or 'graph' (CUDA)")
    if cfg.compile == "graph":
        from ..algos import captured

        try:
            captured.require_cuda(resolve_device(cfg.device))
        except ValueError as e:
            raise TrainError(str(e)) from None
    if not cfg.time_limit >= 0:
        raise TrainError(f"--time-limit {cfg.time_limit}: use seconds >= 0 (0: no limit)")
    if cfg.sampling not in ("transitions", "windows"):
        raise TrainError(f"--sampling {cfg.sampling!r}: use 'transitions' or 'windows'")
    if not 0.0 <= cfg.holdout < 1.0:
        raise TrainError(f"--holdout {cfg.holdout}: use a fraction of the episodes in [0, 1), e.g. 0.05 (0: none)")
    if not 0.0 <= cfg.start_fraction <= 1.0:
        raise TrainError(f"--start-fraction {cfg.start_fraction}: use a fraction in [0, 1]")
    if cfg.encoder not in ("entity", "flat"):
        raise TrainError(f"--encoder {cfg.encoder!r}: use 'entity' or 'flat'")
    if cfg.lr_decay not in ("cosine", "none"):
        raise TrainError(f"--lr-decay {cfg.lr_decay!r}: use 'cosine' or 'none'")
    from .precision import PRECISIONS

    if cfg.precision not in PRECISIONS:
        raise TrainError(f"--precision {cfg.precision!r}: use one of {', '.join(PRECISIONS)}")


def lr_scale(cfg: TrainConfig, step: int) -> float:
    """The schedule's factor on each parameter group's peak learning rate at ``step``."""
    if cfg.lr_decay == "none":
        return 1.0
    frac = min(step / max(cfg.steps, 1), 1.0)
    return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * frac))


def _resumed_config(cfg: TrainConfig, resume) -> tuple[TrainConfig, Path, dict, Path]:
    try:
        run_dir, saved_all = read_run_config(resume)
    except RunConfigError as e:
        raise TrainError(str(e)) from None
    saved = saved_all["train"]
    keep = {k: getattr(cfg, k) for k in ("eval_every", "eval_episodes", "ckpt_every", "log_every", "progress",
                                         "tensorboard", "threads", "time_limit", "compile")}
    cfg = TrainConfig.from_dict({**saved, **keep, "steps": max(cfg.steps, 0) or saved["steps"]})
    return cfg, run_dir, saved_all, latest_checkpoint(run_dir)


def _check_start(cfg: TrainConfig, resume) -> None:
    if not cfg.env:
        raise TrainError("no env: pass the env id the dataset was recorded on, e.g. particle/spread")
    if not cfg.dataset:
        raise TrainError("no dataset: pass --dataset NAME_OR_PATH (record one with `macflow-arena record ENV --suite`)")
    _check_config(cfg, f"{resume}/config.json" if resume is not None else "train options")
    if resume is None and cfg.name is not None and not cfg.out:
        from ..integrity.names import check_name

        check_name(cfg.name, "run name")  # BadNameError (a ValueError) before anything is read or written
    _check_options(cfg)


def train(cfg: TrainConfig, *, resume: str | os.PathLike | None = None, log=print) -> TrainResult:
    """Train (or resume) a run. With ``resume``, the run's saved config is used and ``cfg``
    only extends ``steps`` (and evaluation/logging cadence); the data must be the same."""
    from . import distributed

    log = log or (lambda _msg: None)
    if cfg.threads > 0 and torch.get_num_threads() != cfg.threads:
        old_threads = torch.get_num_threads()
        torch.set_num_threads(cfg.threads)
        try:
            return train(cfg, resume=resume, log=log)
        finally:
            torch.set_num_threads(old_threads)
    if resume is not None:
        cfg, run_dir, saved_all, ckpt = _resumed_config(cfg, resume)
        _check_start(cfg, run_dir)
        resume = (run_dir, saved_all, ckpt)
    else:
        _check_start(cfg, None)
    get_algo(cfg.algo)  # unknown algo: KeyError listing the known ones
    device = resolve_device(cfg.device)
    info = distributed.setup(device)
    device = distributed.device_for(info, device)
    run = _Run(cfg, device, info, resume=resume, log=log)
    return run.loop()


def get_algo(name: str):
    from ..algos.registry import get

    return get(name)


class _Run:
    """One run folder being trained: its algorithm, sampler, logs, evaluation and checkpoints.
    ``train`` drives one through ``loop``; a seed stack (``train/seeds.py``) drives several,
    one ``after_update`` each per stacked update."""

    def __init__(self, cfg: TrainConfig, device: str, info, *, resume=None, log=print, data: DeviceDataset | None = None):
        from ..algos.checkpoint import load_checkpoint
        from ..algos.registry import make
        from ..algos.base import config_fields
        from . import distributed

        self.cfg, self.device, self.info, self.log = cfg, device, info, log
        self.latest: dict[str, float] = {}  # each metric's latest value (see after_update)
        cls = get_algo(cfg.algo)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True)
            if device.startswith("cuda"):
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if data is None:
            data = load_device_dataset(cfg.dataset, cfg.env, device=device)
            if cfg.encoder == "flat":
                data.spec = dataclasses.replace(data.spec, entities=())
        shaping = None
        if cfg.shaping:
            from .shaping import ShapingError, parse_shaping

            if "gamma" not in config_fields(cls.Config):
                raise TrainError(f"--shaping changes the rewards a critic learns from; {cfg.algo} has no critic "
                                 f"(use it with macflow, td3bc or vdn_cql)")
            try:
                layout = data.recorded_layout  # positions come from it under --encoder flat too
                shaping = (layout, *parse_shaping(cfg.shaping, layout))
            except ShapingError as e:
                raise TrainError(str(e)) from None
        held = None
        if cfg.holdout:
            from .holdout import HoldoutError, split

            try:
                data, held = split(data, cfg.holdout)
            except HoldoutError as e:
                raise TrainError(str(e)) from None
        self.data = data
        spec = data.spec
        if (cls.discrete_ok if spec.discrete else cls.continuous_ok) is False:
            raise TrainError(f"{cfg.algo} does not support {'discrete' if spec.discrete else 'continuous'} actions "
                             f"({data.env_id}); try macflow or bc")
        resume_dir, saved_all, resume_ckpt = resume if resume is not None else (None, {}, None)
        run_dir = resume_dir if resume is not None else self.folder(cfg)
        self.run_dir = run_dir
        gen = torch.Generator(device=device)
        gen.manual_seed(_sampler_seed(cfg.seed, info.rank))
        if resume_ckpt is not None:
            ck = load_checkpoint(resume_ckpt, device=device, spec=spec)
            algo = ck.algo
            if ck.meta.get("dataset_hash") not in (None, data.manifest_sha256):
                raise TrainError(f"{resume_ckpt}: trained on another version of dataset {data.name} "
                                 f"(manifest sha256 differs); resume needs the same data")
            if info.is_main and "sampler_rng" in ck.extra_tensors:
                gen.set_state(ck.extra_tensors["sampler_rng"])
            else:
                gen.manual_seed(_sampler_seed(cfg.seed, info.rank) + algo.step)
            self.latest = {k: float(v) for k, v in ((ck.meta.get("extra") or {}).get("latest_metrics") or {}).items()}
            if info.is_main:
                log(f"resuming {run_dir} from {resume_ckpt.name} (step {algo.step})")
        else:
            from ..algos.registry import make_config
            from ..integrity.config_check import expected_shapes

            overrides = dict(cfg.overrides)
            if "gamma" in config_fields(cls.Config) and overrides.get("gamma") is None:
                overrides["gamma"] = horizon_gamma(data.mean_episode_steps)  # matched to the data's episodes
            expected_shapes(cls, spec, make_config(cfg.algo, spec, cfg.preset, **overrides), "train config")
            algo = make(cfg.algo, spec, cfg.preset, seed=cfg.seed, device=device, **overrides)
            algo.set_obs_stats(data.obs_mean, data.obs_std)
        from .precision import PrecisionError, apply_precision

        try:
            self.precision = apply_precision(algo, cfg.precision, device)
        except PrecisionError as e:
            raise TrainError(str(e)) from None
        if algo.recurrent and cfg.sampling != "windows":
            raise TrainError(f"{cfg.algo} with a recurrent policy learns from windows of consecutive steps: add "
                             f"--sampling windows (e.g. --batch-size 32 --window 20)")
        self.gen, self.algo = gen, algo
        warm = saved_all.get("warm_start") if resume_ckpt is not None else None  # kept in config.json on resume
        if cfg.init_from and resume_ckpt is None:
            from .warm_start import WarmStartError, parse_nets, warm_start

            try:
                warm = warm_start(algo, cfg.init_from, parse_nets(cfg.init_nets), device=device)
            except WarmStartError as e:
                raise TrainError(str(e)) from None
            if info.is_main:
                log(f"warm start: {', '.join(warm['nets'])} from {warm['run']} ({warm['algo']}, step {warm['step']})")
        distributed.attach(algo, info)
        self.refs = refs = data.reference_returns
        if info.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            from ..integrity.run_files import clean_temp_files, truncate_logs

            clean_temp_files(run_dir)  # left by a kill mid-checkpoint
            if resume_ckpt is not None:
                truncate_logs(run_dir, algo.step)  # the steps after the checkpoint are logged again
            from ..algos.base import config_to_dict

            _atomic_json(run_dir / "config.json", {
                "train": cfg.to_dict(),
                "algo": cfg.algo,
                "algo_config": config_to_dict(algo.config),
                "spec": spec.to_dict(),
                "device": device,
                "world_size": info.world_size,
                **({"warm_start": warm} if warm else {}),
                "dataset": {"name": data.name, "path": data.path, "env_id": data.env_id,
                            "manifest_sha256": data.manifest_sha256, "episodes": data.num_episodes,
                            "transitions": data.num_steps, "reference_returns": refs,
                            **({"holdout": {"fraction": cfg.holdout, "episodes": held.num_episodes,
                                            "transitions": held.num_steps}} if held is not None else {})},
            })
        self.logger = _Logger(run_dir, info.is_main, cfg.tensorboard)
        self.bar = _Progress(cfg.steps, algo.step, cfg.progress and info.is_main)
        self.result = TrainResult(run_dir, algo.step)
        self.paused = 0.0  # seconds spent evaluating and checkpointing (not counted in updates/s)
        self.gamma = getattr(algo.config, "gamma", None)
        self.n_step = int(getattr(algo.config, "n_step", 1))
        if shaping is not None:
            from .shaping import shape_rewards

            self.data = data = shape_rewards(data, *shaping, self.gamma)
            held = shape_rewards(held, *shaping, self.gamma) if held is not None else None
        self.base_lr = float(algo.config.lr)
        self.holdout = None
        if held is not None and info.is_main:
            from .holdout import HoldoutLosses

            self.holdout = HoldoutLosses(algo, held, cfg.batch_size, algo.losses, n_step=self.n_step, gamma=self.gamma,
                                         window=cfg.window if cfg.sampling == "windows" else None)
        self.t0, self.s0 = time.perf_counter(), algo.step

    @staticmethod
    def folder(cfg: TrainConfig) -> Path:
        """The run folder of a new run: ``--out``, else runs/NAME (default name from the config)."""
        return Path(cfg.out).expanduser() if cfg.out else runs_dir() / (cfg.name or _default_name(cfg))

    def do_eval(self) -> None:
        from .evaluate import evaluate

        t = time.perf_counter()
        res = evaluate(self.algo, self.cfg.env, episodes=self.cfg.eval_episodes, reference=self.refs or None)
        self.result.last_eval = res
        self.logger.log_eval(self.algo.step, res)
        self.paused += time.perf_counter() - t

    def do_ckpt(self) -> None:
        from ..algos.checkpoint import save_checkpoint

        t = time.perf_counter()
        save_checkpoint(
            self.run_dir / "checkpoints" / f"step-{self.algo.step:08d}.safetensors", self.algo,
            dataset_hash=self.data.manifest_sha256,
            extra={"train": self.cfg.to_dict(), "dataset": self.data.path, "env_id": self.data.env_id,
                   "reference_returns": self.refs, "world_size": self.info.world_size,
                   "latest_metrics": self.latest},
            extra_tensors={"sampler_rng": self.gen.get_state()},
        )
        self.paused += time.perf_counter() - t

    def set_lr(self, step: int) -> None:
        if self.cfg.lr_decay == "none":
            return
        from ..algos.captured import set_group_lr

        scale = lr_scale(self.cfg, step)
        for o in self.algo.optimizers.values():
            for g in o.param_groups:
                set_group_lr(g, g.get("peak_lr", self.base_lr) * scale)

    def sample(self):
        cfg = self.cfg
        if cfg.sampling == "windows":
            return self.data.sample(cfg.batch_size, cfg.window, self.gen)
        return self.data.sample_transitions(cfg.batch_size, self.gen, n_step=self.n_step, gamma=self.gamma,
                                            start_fraction=cfg.start_fraction)

    def io_due(self, step: int, is_last: bool) -> bool:
        """Whether ``after_update`` at ``step`` evaluates or checkpoints (reads the algorithm's weights)."""
        cfg = self.cfg
        if not self.info.is_main:
            return False
        ev = cfg.eval_episodes > 0 and ((cfg.eval_every and step % cfg.eval_every == 0) or is_last)
        return bool(ev or (cfg.ckpt_every and step % cfg.ckpt_every == 0) or is_last)

    def after_update(self, m: dict[str, float], step: int, is_last: bool, out_of_time: bool) -> None:
        """History, logs, evaluation, checkpoint and progress after update ``step``."""
        cfg, result = self.cfg, self.result
        result.history.append({"step": step, **m})
        result.stopped_by_time = out_of_time and step < cfg.steps
        if not self.info.is_main:
            return
        # Keys this update did not compute (TD3+BC's delayed actor: a logged step can be a critic-only
        # step every time) keep their latest value, so that every metric reaches metrics.jsonl.
        self.latest.update(m)
        m = dict(self.latest)
        if cfg.log_every and (step % cfg.log_every == 0 or is_last):
            if self.holdout is not None:
                t = time.perf_counter()
                m = {**m, **self.holdout()}
                self.paused += time.perf_counter() - t
            self.logger.log(step, m)
        if cfg.eval_episodes > 0 and ((cfg.eval_every and step % cfg.eval_every == 0) or is_last):
            self.do_eval()
        if (cfg.ckpt_every and step % cfg.ckpt_every == 0) or is_last:
            self.do_ckpt()
        post = {"loss": f"{m['loss/total']:.3g}"}
        for k in ("critic/loss", "actor/flow_loss", "actor/distill_loss", "actor/nll", "actor/ce", "actor/loss"):
            if k in m:
                post[k.split("/")[1]] = f"{m[k]:.3g}"
        if result.last_eval is not None:
            ev = result.last_eval
            post["eval"] = f"{ev.get('normalized_score', ev['return_mean']):.1f}"
        if step % 10 == 0 or is_last:
            self.bar.update(10 if step % 10 == 0 else step % 10, post)

    def loop(self) -> TrainResult:
        from ..algos.device_step import read_steps
        from . import distributed

        cfg, algo, info = self.cfg, self.algo, self.info
        if cfg.compile == "on":  # static shapes: every batch has batch_size rows
            algo.losses = torch.compile(algo.losses, dynamic=False)
        self.updater = algo.update_device
        if cfg.compile == "graph":
            self.updater = captured_update(algo.update_device, algo, algo.optimizers, [algo.gen], self.device, info)
        if cfg.time_limit and info.world_size > 1:
            raise TrainError("--time-limit with several ranks: the ranks would stop at different updates; use --steps")
        self.t0, self.s0 = time.perf_counter(), algo.step
        out_of_time = False
        pending: list = []  # updates not read back yet (algo.update_device)
        every = read_every(cfg.log_every, self.device)
        try:
            while algo.step < cfg.steps and not out_of_time:
                batch = self.sample()
                self.set_lr(algo.step)
                pending.append(self.run_update(batch))
                step = algo.step
                out_of_time = bool(cfg.time_limit) and time.perf_counter() - self.t0 - self.paused >= cfg.time_limit
                is_last = step == cfg.steps or out_of_time
                # One host read per read_every updates, and before anything reads the weights
                # (held-out loss at a log step, evaluation, checkpoint) or the run ends.
                if read_due(cfg, step, len(pending), every, is_last, self.io_due(step, is_last)):
                    for s, m in zip(pending, read_steps(pending)):
                        last = s.step == step
                        self.after_update(m, s.step, is_last and last, out_of_time and last)
                    pending = []
                if cfg.ckpt_every and step % cfg.ckpt_every == 0:
                    distributed.barrier(info)  # ranks wait while rank 0 writes
        finally:
            self.close()
        return self.finish()

    def run_update(self, batch):
        """``algo.update_device`` (read later, ``read_steps``); with ``--compile on`` a failing compiler
        (TorchInductor needs a C++ compiler on CPU) is a TrainError that names the fix, not a compiler traceback."""
        from ..algos.captured import CaptureError

        try:
            return self.updater(batch)
        except CaptureError as e:
            raise TrainError(f"--compile graph: {e}. Train with --compile off (or on)") from e
        except Exception as e:
            if self.cfg.compile != "on" or not is_compile_failure(e):
                raise
            inner = getattr(e, "inner_exception", None) or e  # what the backend raised
            lines = [ln.strip() for ln in str(inner).splitlines() if ln.strip() and not ln.strip().endswith("raised:")]
            first = lines[0] if lines else type(inner).__name__
            raise TrainError(f"--compile on: torch.compile could not build the update ({first}). Train without "
                             f"it (--compile off, or the default auto), or fix the compiler it needs: on CPU "
                             f"TorchInductor builds C++ with the compiler in $CXX (default g++)") from e

    def close(self) -> None:
        self.bar.close()
        self.logger.close()

    def finish(self, elapsed: float | None = None) -> TrainResult:
        """The result (``elapsed``: seconds of updates when the caller timed them)."""
        algo, result = self.algo, self.result
        dt = (time.perf_counter() - self.t0 - self.paused) if elapsed is None else elapsed
        result.step = algo.step
        result.updates_per_s = (algo.step - self.s0) / dt if dt > 0 and algo.step > self.s0 else float("nan")
        result.algo = algo
        if self.info.is_main:
            msg = f"{self.run_dir}: {algo.step} updates ({result.updates_per_s:.1f}/s)"
            if result.stopped_by_time:
                msg += f", stopped by --time-limit {self.cfg.time_limit:g} s"
            if result.last_eval:
                ev = result.last_eval
                msg += f"; eval return {ev['return_mean']:.3f}"
                if "normalized_score" in ev:
                    msg += f", normalized {ev['normalized_score']:.1f}"
                if "win_rate" in ev:
                    msg += f", win rate {ev['win_rate']:.2f}"
                if "coverage_success" in ev:
                    msg += f", coverage {ev['coverage_success']:.2f}"
            self.log(msg)
        return result


def evaluate_run(run: str | os.PathLike, *, episodes: int = 100, seed: int | None = None, device: str = "auto",
                 checkpoint: str | os.PathLike | None = None,
                 execution: dict[str, Any] | list[str] | None = None, keep_returns: bool = False) -> dict[str, Any]:
    """Score a run's latest (or a given) checkpoint; reference returns from the run's dataset record.
    ``execution``: execution-only config fields to change first (``Algorithm.exec_fields``), as a
    dict or as ``["name=value", ...]`` (the CLI's ``--set``)."""
    from ..algos.checkpoint import load_checkpoint
    from .evaluate import EVAL_SEED, evaluate

    run_dir = resolve_run(run)
    if checkpoint is None and not (run_dir / "config.json").is_file():
        raise TrainError(f"{run_dir} is not a run folder (no config.json); pass the folder `macflow-arena train` wrote")
    path = Path(checkpoint) if checkpoint else latest_checkpoint(run_dir)
    ck = load_checkpoint(path, device=resolve_device(device))
    if execution and not isinstance(execution, dict):
        execution = parse_overrides(list(execution), type(ck.algo.config))
    ck.algo.set_execution(**(execution or {}))
    meta = ck.meta.get("extra", {})
    env_id = meta.get("env_id")
    refs = meta.get("reference_returns") or None
    res = evaluate(ck.algo, env_id, episodes=episodes, seed=EVAL_SEED if seed is None else seed, reference=refs,
                   keep_returns=keep_returns)
    res["checkpoint"] = str(path)
    res["step"] = ck.algo.step
    res["algo"] = ck.algo.name
    if execution:
        res["execution"] = dict(execution)
    return res
