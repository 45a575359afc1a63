"""Training cost: updates/s of each algorithm on the device-resident dataset loader
(the trainer's own sampling + ``algo.update``), per preset and per compile mode, same process.

    python benchmarks/train_speed.py --device cpu --algos macflow bc --presets small --updates 50 --compile off on

Sampling is the trainer's default (i.i.d. transitions, ``--batch-size`` 512); ``--sampling windows``
with ``--batch-size 16 --window 20`` is the old path. ``--compile off on`` times each algorithm eager
and through ``torch.compile`` (``train --compile on``; compilation happens in the untimed warm-up) and
prints the compiled/eager time ratio; ``--precision fp32 bf16`` does the same for ``train --precision``. ``--seeds 5`` adds, per algorithm, the seed-updates/s of 5
seeds trained as one stacked update (``train --seeds 0-4 --stack on``) against one seed's updates/s
(= 5 sequential runs' seed-updates/s). An algorithm may carry config overrides (``macflow:flow_steps=2``):
a row of its own. ``--batch-size 512 128`` times each batch size (a row each); the table also prints
the updates a ``--budget-min`` wall-clock budget (10 minutes) allows at the measured rate. Records a
small spread expert dataset under
$MACFLOW_ARENA_HOME/datasets when missing. Writes a markdown table (``--out``).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="particle/spread")
    p.add_argument("--dataset", default=None, help="dataset (default: record ENV expert, 200 episodes)")
    p.add_argument("--algos", nargs="+", metavar="ALGO[:NAME=VALUE,...]", default=["macflow", "bc", "td3bc"])
    p.add_argument("--presets", nargs="+", default=["small", "paper"])
    p.add_argument("--updates", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--sampling", choices=("transitions", "windows"), default="transitions")
    p.add_argument("--batch-size", type=int, nargs="+", default=[512],
                   help="transitions (or windows) per update; several: a row each")
    p.add_argument("--budget-min", type=float, default=10.0,
                   help="wall-clock budget in minutes for the 'updates in budget' column")
    p.add_argument("--window", type=int, default=20, help="steps per window with --sampling windows")
    p.add_argument("--compile", nargs="+", choices=("sync", "off", "on", "graph"), default=["off"],
                   help="modes to time side by side (ratios against 'off'): 'off' eager, metrics read every 10 "
                        "updates (the trainer); 'sync' eager with a host read after every update (the loop before "
                        "update_device); 'on' torch.compile; 'graph' the whole update as a CUDA graph (CUDA only; "
                        "with --seeds the stacked update too)")
    p.add_argument("--precision", nargs="+", choices=("fp32", "tf32", "bf16"), default=["fp32"],
                   help="train --precision modes to time side by side (ratios against fp32 eager)")
    p.add_argument("--seeds", type=int, nargs="*", default=[], metavar="K",
                   help="also time K seeds as one stacked update (seed-updates/s against one seed's updates/s)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    import torch

    if a.threads > 0:
        torch.set_num_threads(a.threads)

    from macflow_arena.algos.registry import get
    from macflow_arena.bench.train import dataset_update_rate, stacked_update_rate
    from macflow_arena.train.config import parse_overrides
    from macflow_arena.data import datasets_dir, record_dataset
    from macflow_arena.train.data import load_device_dataset
    from macflow_arena.train.trainer import resolve_device

    dev = resolve_device(a.device)
    ds = a.dataset
    if ds is None:
        ds = datasets_dir() / f"{a.env.replace('/', '-')}-speed-expert"
        if not (ds / "manifest.jsonl").exists():
            record_dataset(a.env, ds, behaviour={"name": "scripted"}, quality="expert", episodes=200, num_envs=200)
    data = load_device_dataset(ds, a.env, device=dev)
    rows, stacked, failed = {}, {}, {}
    for preset in a.presets:
        for name in a.algos:
            algo, _, sets = name.partition(":")
            try:
                overrides = parse_overrides([s for s in sets.split(",") if s], get(algo).Config)
            except (KeyError, ValueError) as e:
                raise SystemExit(f"bad algorithm {name!r}: {e}") from None
            for bs in a.batch_size:
                for mode in a.compile:
                    for prec in a.precision:
                        try:
                            ups = dataset_update_rate(data, algo, preset, dev, batch_size=bs, window=a.window,
                                                      updates=a.updates, warmup=a.warmup, sampling=a.sampling,
                                                      compile=mode, overrides=overrides, precision=prec)
                        except Exception as e:  # one mode that cannot run here must not cost the table
                            failed[preset, name, bs, mode, prec] = f"{type(e).__name__}: {e}".splitlines()[0]
                            print(f"{preset:>6} {name:>8} batch {bs} compile {mode} {prec}: failed: "
                                  f"{failed[preset, name, bs, mode, prec]}", file=sys.stderr, flush=True)
                            continue
                        rows[preset, name, bs, mode, prec] = ups
                        print(f"{preset:>6} {name:>8} batch {bs} compile {mode:>3} {prec}: {ups:8.1f} updates/s",
                              file=sys.stderr, flush=True)
                for k in a.seeds:
                    if a.sampling != "transitions":
                        raise SystemExit("--seeds times i.i.d. transition batches; drop --sampling windows")
                    for graph in ([False, True] if "graph" in a.compile else [False]):
                        try:
                            sups = stacked_update_rate(data, algo, preset, dev, seeds=k, batch_size=bs,
                                                       updates=a.updates, warmup=a.warmup, overrides=overrides, graph=graph)
                        except Exception as e:
                            failed[preset, name, bs, f"{k} seeds", "graph" if graph else "off"] = \
                                f"{type(e).__name__}: {e}".splitlines()[0]
                            continue
                        stacked[preset, name, bs, k, "graph" if graph else "off"] = sups
                        print(f"{preset:>6} {name:>8} batch {bs} {k} seeds stacked{' graph' if graph else ''}: "
                              f"{sups:8.1f} seed-updates/s", file=sys.stderr, flush=True)
    gpu = torch.cuda.get_device_name() if dev.startswith("cuda") else f"{platform.machine()} CPU, {torch.get_num_threads()} threads"
    shape = "i.i.d. transitions" if a.sampling == "transitions" else f"windows of {a.window} steps"
    budget = f"{a.budget_min:g} min"
    lines = [f"# Training cost on {a.env} ({dev}: {gpu}; torch {torch.__version__})", "",
             f"Command: `python benchmarks/train_speed.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
             f"batches of {shape}, {a.updates} timed updates after {a.warmup} warm-up", "",
             f"| preset | algo | batch | compile | precision | updates/s | ms per update | updates in {budget} "
             "| time per update vs eager fp32 | vs bc (same mode and batch) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (preset, name, bs, mode, prec), ups in rows.items():
        eager = rows.get((preset, name, bs, "off", "fp32"))
        bc = rows.get((preset, "bc", bs, mode, prec))
        vs_eager = f"{eager / ups:.2f}x" if eager else "-"
        vs_bc = f"{bc / ups:.2f}x" if bc else "-"
        lines.append(f"| {preset} | {name} | {bs} | {mode} | {prec} | {ups:.1f} | {1000 / ups:.1f} "
                     f"| {ups * 60 * a.budget_min:,.0f} | {vs_eager} | {vs_bc} |")
    for (preset, name, bs, mode, prec), err in failed.items():
        if not str(mode).endswith("seeds"):
            lines.append(f"| {preset} | {name} | {bs} | {mode} | {prec} | failed | - | - | - | - |")
    if stacked:
        lines += ["", "Seeds in one process (`train --seeds ... --stack on`): seed-updates/s of K seeds stacked "
                  "on a seed axis, against one seed's eager updates/s (what K sequential runs get per seed)", "",
                  "| preset | algo | batch | seeds | compile | seed-updates/s | vs sequential |", "|---|---|---|---|---|---|---|"]
        for (preset, name, bs, k, mode), sups in stacked.items():
            one = rows.get((preset, name, bs, "off", "fp32"))
            lines.append(f"| {preset} | {name} | {bs} | {k} | {mode} | {sups:.1f} | {f'{sups / one:.2f}x' if one else '-'} |")
    if failed:
        lines += ["", "Failed (not timed):", ""] + [f"- {' '.join(map(str, k))}: {v}" for k, v in failed.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
