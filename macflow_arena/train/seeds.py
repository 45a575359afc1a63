"""Several seeds of one run in one process: ``macflow-arena train ... --seeds 0-4``.

Each seed writes its own run folder in the format of a single run (config.json with
its seed, metrics, evaluations, checkpoints with its sampler state), so every tool that
reads runs reads these, and ``train --resume`` continues any one of them alone.

Two ways to train them (``--stack``):

* ``on``: one update for all seeds (``algos.seed_stack.SeedStack``: weights stacked
  on a seed axis, one vmapped loss and gradient, one optimizer step). Seed k matches
  the single run of seed k to float tolerance (tests/test_seed_stack.py). This is what
  pays on an accelerator, where an update is bound by kernel launches, not arithmetic.
* ``off``: the seeds one after another, each the single-run path (one dataset load).
* ``auto`` (default): ``on`` on CUDA, ``off`` on CPU, where a stacked update at batch
  512 measured slower than the sequential ones (batched matrix products cost more per
  flop there; ``python benchmarks/train_speed.py --seeds 5``,
  benchmarks/results/train_speed_cpu_seeds.md).
"""

from __future__ import annotations

import dataclasses
import re
import time
import torch

from .config import TrainConfig
from .trainer import (TrainError, TrainResult, _check_start, _Progress, _Run, captured_update, get_algo, lr_scale,
                      read_due, read_every, resolve_device)

SEEDS_RE = re.compile(r"^\d+(-\d+)?$")
MAX_SEEDS = 64


def parse_seeds(text: str) -> list[int]:
    """``"0-4"``, ``"0,2,7"`` or ``"0-2,9"`` -> the seeds, in order, each once."""
    out: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not SEEDS_RE.match(part):
            raise TrainError(f"--seeds {text!r}: use a range and/or a list of seeds >= 0, e.g. 0-4 or 0,2,7")
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi or lo)
        if b < a:
            raise TrainError(f"--seeds {text!r}: range {part} runs backwards; write {b}-{a}")
        out.extend(range(a, b + 1))
    if len(set(out)) != len(out):
        raise TrainError(f"--seeds {text!r}: a seed appears twice")
    if len(out) > MAX_SEEDS:
        raise TrainError(f"--seeds {text!r}: {len(out)} seeds; at most {MAX_SEEDS} per process")
    return out


def seed_config(cfg: TrainConfig, seed: int) -> TrainConfig:
    """The single run of ``seed``: its seed, and a folder of its own (``--out`` may hold ``{seed}``;
    otherwise ``-s<seed>`` is appended to ``--out`` / ``--name``; default names carry it already)."""
    changes: dict = {"seed": seed}
    if cfg.out:
        changes["out"] = cfg.out.format(seed=seed) if "{seed}" in cfg.out else f"{cfg.out}-s{seed}"
    elif cfg.name:
        changes["name"] = cfg.name.format(seed=seed) if "{seed}" in cfg.name else f"{cfg.name}-s{seed}"
    return dataclasses.replace(cfg, **changes)


def resolve_stack(stack: str, device: str) -> bool:
    if stack not in ("auto", "on", "off"):
        raise TrainError(f"--stack {stack!r}: use 'auto', 'on' or 'off'")
    if stack == "auto":
        return device.startswith("cuda")
    return stack == "on"


def train_seeds(cfg: TrainConfig, seeds: list[int], *, stack: str = "auto", log=print) -> list[TrainResult]:
    """Train ``cfg`` once per seed in this process; returns one result per seed (in order)."""
    from . import distributed
    from .data import load_device_dataset

    log = log or (lambda _msg: None)
    if not seeds:
        raise TrainError("--seeds: give at least one seed")
    if distributed.launched():
        raise TrainError("--seeds under torchrun: run the seeds as separate torchrun jobs, or drop torchrun")
    if cfg.threads > 0 and torch.get_num_threads() != cfg.threads:
        old = torch.get_num_threads()
        torch.set_num_threads(cfg.threads)
        try:
            return train_seeds(cfg, seeds, stack=stack, log=log)
        finally:
            torch.set_num_threads(old)
    cfgs = [seed_config(cfg, s) for s in seeds]
    for c in cfgs:
        _check_start(c, None)
    dirs = [str(_Run.folder(c)) for c in cfgs]
    if len(set(dirs)) != len(dirs):
        raise TrainError(f"--seeds: the runs would share a folder ({dirs[0]}); put {{seed}} in --out or --name")
    get_algo(cfg.algo)
    device = resolve_device(cfg.device)
    stacked = resolve_stack(stack, device)
    if stacked and cfg.holdout:
        raise TrainError("--holdout with a stacked seed update is not supported; use --stack off")
    if stacked and cfg.compile == "on":
        raise TrainError("--compile on with a stacked seed update is not supported; use --stack off, --compile off, "
                         "or --compile graph (CUDA)")
    info = distributed.DistInfo()
    data = load_device_dataset(cfg.dataset, cfg.env, device=device)
    if cfg.encoder == "flat":
        data.spec = dataclasses.replace(data.spec, entities=())
    if not stacked:
        out = []
        for c in cfgs:
            out.append(_Run(c, device, info, log=log, data=data).loop())
        return out
    quiet = [dataclasses.replace(c, progress=False) for c in cfgs]
    runs = [_Run(c, device, info, log=log, data=data) for c in quiet]
    return _stacked_loop(cfg, runs, log)


def _stacked_loop(cfg: TrainConfig, runs: list[_Run], log) -> list[TrainResult]:
    from ..algos.device_step import read_steps
    from ..algos.seed_stack import SeedStack

    stack = SeedStack([r.algo for r in runs])
    update = stack.update_device
    if cfg.compile == "graph":
        update = captured_update(stack.update_device, stack.host, stack.host.optimizers, [r.algo.gen for r in runs],
                                 stack.host.device, runs[0].info)
    bar = _Progress(cfg.steps, stack.step, cfg.progress)
    t0, s0, paused = time.perf_counter(), stack.step, 0.0
    out_of_time = False
    pending: list = []  # updates not read back yet, a DeviceStep per seed each
    every = read_every(cfg.log_every, stack.host.device)
    try:
        while stack.step < cfg.steps and not out_of_time:
            batches = [r.sample() for r in runs]
            if cfg.lr_decay != "none":
                scale = lr_scale(cfg, stack.step)
                base = runs[0].base_lr
                stack.set_lr(lambda g: g.get("peak_lr", base) * scale)
            pending.append(update(batches))
            step = stack.step
            out_of_time = bool(cfg.time_limit) and time.perf_counter() - t0 - paused >= cfg.time_limit
            is_last = step == cfg.steps or out_of_time
            io = any(r.io_due(step, is_last) for r in runs)
            if not read_due(cfg, step, len(pending), every, is_last, io):
                continue
            read = read_steps([s for group in pending for s in group])  # one host read, K per update
            for j, group in enumerate(pending):
                stp, ms = group[0].step, read[j * len(runs):(j + 1) * len(runs)]
                last = stp == step
                t_io = time.perf_counter()
                if io and last:  # evaluation and checkpoints read each seed's own algorithm
                    stack.write_back()
                for r, m in zip(runs, ms):
                    r.after_update(m, stp, is_last and last, out_of_time and last)
                if io and last:
                    paused += time.perf_counter() - t_io
                if stp % 10 == 0 or (is_last and last):
                    mean_loss = sum(m["loss/total"] for m in ms) / len(ms)
                    post = {"seeds": str(len(runs)), "loss": f"{mean_loss:.3g}"}
                    evs = [r.result.last_eval for r in runs if r.result.last_eval]
                    if evs:
                        post["eval"] = f"{sum(e.get('normalized_score', e['return_mean']) for e in evs) / len(evs):.1f}"
                    bar.update(10 if stp % 10 == 0 else stp % 10, post)
            pending = []
    finally:
        bar.close()
        for r in runs:
            r.close()
    stack.write_back()
    elapsed = time.perf_counter() - t0 - paused
    results = [r.finish(elapsed) for r in runs]
    if results and stack.step > s0 and elapsed > 0:
        log(f"{len(runs)} seeds stacked: {(stack.step - s0) * len(runs) / elapsed:.1f} seed-updates/s")
    return results

