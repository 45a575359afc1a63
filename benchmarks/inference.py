"""Inference and training cost of every algorithm, side by side in one process.

Team: 3 agents with spread-like dimensions (obs 14, continuous action 2).

Inference: wall time per joint decision (all agents) of ``algo.act(obs, gen)``
at batch 1 and batch 1024, median over repeats after warm-up, inside
``torch.inference_mode()``, with ``torch.set_num_threads(--threads)`` (default 1:
one core per decision, the deployment case; also the least noisy on a shared
machine). Ratios are against Gaussian BC of the same network size.

Training: updates per second of ``algo.update(batch)`` for a batch of
``--windows`` windows of ``--horizon`` steps (16 x 20 = 320 transitions, 960
agent-steps), per preset, same process, same threads.

    python benchmarks/inference.py                       # CPU, writes benchmarks/results/inference.md
    python benchmarks/inference.py --device cuda --out benchmarks/results/inference_gpu.md

Targets (issue 5): macflow <= 1.3x bc and >= 30x below the 100-step diffusion
policy at batch 1; a macflow update <= 4x a bc update of the same size.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from macflow_arena.algos import make  # noqa: E402
from macflow_arena.bench.inference import INFER, bench_spec, inference_times  # noqa: E402
from macflow_arena.bench.timing import cpu_name, fmt_ms  # noqa: E402
from macflow_arena.bench.train import TRAIN, update_times  # noqa: E402

SPEC = bench_spec()


def bench_inference(preset: str, device: torch.device, batches: list[int], budget: float) -> list[str]:
    rows = []
    res = inference_times(preset, device, batches, budget, INFER, SPEC)
    head = "| algorithm | forwards | " + " | ".join(f"batch {b}: ms/decision | vs bc" for b in batches) + " |"
    rows += [head, "|" + "---|" * (2 + 2 * len(batches))]
    for label, _, _, fw in INFER:
        cells = []
        for b in batches:
            t, _ = res[label, b]
            cells += [fmt_ms(t), f"{t / res['bc', b][0]:.2f}x"]
        rows.append(f"| {label} | {fw} | " + " | ".join(cells) + " |")
    b1 = batches[0]
    mf, bc, df = res["macflow (shared noise)", b1][0], res["bc", b1][0], res["diffusion (100 steps)", b1][0]
    rows += [
        "",
        f"- batch {b1}: macflow / bc = **{mf / bc:.2f}x** (target <= 1.3x: {'met' if mf / bc <= 1.3 else 'MISSED'}); "
        f"diffusion / macflow = **{df / mf:.1f}x** (target >= 30x: {'met' if df / mf >= 30 else 'MISSED'})",
    ]
    return rows


def bench_training(preset: str, device: torch.device, windows: int, horizon: int, budget: float) -> list[str]:
    res = update_times(preset, device, windows, horizon, budget, TRAIN, SPEC)
    rows = ["| algorithm | ms/update | updates/s | vs bc | timed updates |", "|---|---|---|---|---|"]
    for label, _, _ in TRAIN:
        t, n = res[label]
        rows.append(f"| {label} | {fmt_ms(t)} | {1 / t:.1f} | {t / res['bc'][0]:.1f}x | {n} |")
    r = res["macflow (joint teacher)"][0] / res["bc"][0]
    rows += ["", f"- macflow update / bc update = **{r:.1f}x** (target <= 4x: {'met' if r <= 4 else 'MISSED'})"]
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for the whole run")
    p.add_argument("--presets", nargs="+", default=["small", "paper"])
    p.add_argument("--batches", nargs="+", type=int, default=[1, 1024])
    p.add_argument("--windows", type=int, default=16)
    p.add_argument("--horizon", type=int, default=20)
    p.add_argument("--budget", type=float, default=2.0, help="seconds of repeats per measurement (after the minimum)")
    p.add_argument("--skip-training", action="store_true")
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/inference.md"))
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cmd = "python benchmarks/inference.py " + " ".join(sys.argv[1:] if argv is None else argv)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    lines = [
        "# Inference and training cost",
        "",
        f"Command: `{cmd.strip()}`",
        "",
        f"Device: {device.type} ({where}); torch {torch.__version__}; torch.set_num_threads({args.threads}); "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}.",
        f"Team: {SPEC.n_agents} agents, obs {SPEC.obs_dim}, action {SPEC.action_dim} (spread-like). "
        "Time per joint decision = median wall time of one `act` call for all agents.",
        "",
    ]
    for preset in args.presets:
        hidden = make("bc", SPEC, preset).config.hidden
        lines += [f"## Preset `{preset}` (hidden {'x'.join(map(str, hidden))})", "", "### Inference", ""]
        lines += bench_inference(preset, device, args.batches, args.budget)
        if not args.skip_training:
            lines += ["", f"### Training ({args.windows} windows x {args.horizon} steps x 3 agents per update)", ""]
            lines += bench_training(preset, device, args.windows, args.horizon, args.budget)
        lines.append("")
        print("\n".join(lines), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
