"""Training cost: updates/s of each algorithm on the device-resident dataset loader
(the trainer's own sampling + ``algo.update``), both presets, same process.

    python benchmarks/train_speed.py --device cpu --algos macflow bc td3bc --presets small paper --updates 50

Records a small spread expert dataset under $MACFLOW_ARENA_HOME/datasets when missing.
Writes a markdown table (``--out``); the ratio column is the update time relative to BC.
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
    p.add_argument("--algos", nargs="+", default=["macflow", "bc", "td3bc"])
    p.add_argument("--presets", nargs="+", default=["small", "paper"])
    p.add_argument("--updates", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--window", type=int, default=20)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    import torch

    if a.threads > 0:
        torch.set_num_threads(a.threads)

    from macflow_arena.bench.train import dataset_update_rate
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
    rows = []
    for preset in a.presets:
        for name in a.algos:
            ups = dataset_update_rate(data, name, preset, dev, batch_size=a.batch_size, window=a.window,
                                      updates=a.updates, warmup=a.warmup)
            rows.append((preset, name, ups))
            print(f"{preset:>6} {name:>8}: {ups:8.1f} updates/s", file=sys.stderr, flush=True)
    gpu = torch.cuda.get_device_name() if dev.startswith("cuda") else f"{platform.machine()} CPU, {torch.get_num_threads()} threads"
    lines = [f"# Training cost on {a.env} ({dev}: {gpu}; torch {torch.__version__})", "",
             f"batch {a.batch_size} windows x {a.window} steps, {a.updates} timed updates after {a.warmup} warm-up", "",
             "| preset | algo | updates/s | time per update vs bc |", "|---|---|---|---|"]
    for preset, name, ups in rows:
        bc = next((u for pr, n, u in rows if pr == preset and n == "bc"), None)
        lines.append(f"| {preset} | {name} | {ups:.1f} | {bc / ups:.2f}x |" if bc else f"| {preset} | {name} | {ups:.1f} | - |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
