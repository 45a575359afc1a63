"""Where an update's time goes: the torch profiler over a few updates of one algorithm on a recorded
dataset, split into matrix products (``mm``, ``addmm``, ``bmm``) and everything else, per mode.

    python benchmarks/train_profile.py --algo macflow --compile off on --precision fp32 bf16

The matrix products are what bfloat16 (AMX, tensor cores) and bigger batches make cheaper; the rest
(elementwise, reductions, copies, Python and dispatch) is what fusion (``--compile on``) and CUDA graphs
(``--compile graph``) address. With free matrix products a mode would still take its 'rest' column
(the profiled share of everything else applied to the timed update).
"""

from __future__ import annotations

import argparse
import sys
import time

MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="particle/spread")
    p.add_argument("--dataset", default="particle-spread-v0-expert")
    p.add_argument("--algo", default="macflow")
    p.add_argument("--preset", default="small")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--compile", nargs="+", choices=("off", "on"), default=["off", "on"])
    p.add_argument("--precision", nargs="+", choices=("fp32", "bf16"), default=["fp32"])
    p.add_argument("--updates", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--top", type=int, default=0, help="also print the top N ops of each mode")
    a = p.parse_args(argv)

    import torch
    from torch.profiler import profile

    torch.set_num_threads(a.threads)
    from macflow_arena.algos.base import config_fields
    from macflow_arena.algos.registry import get, make
    from macflow_arena.train.data import horizon_gamma, load_device_dataset
    from macflow_arena.train.precision import apply_precision

    data = load_device_dataset(a.dataset, a.env, device="cpu")
    print(f"# Where a {a.algo} update's time goes ({a.env}, {a.preset} preset, batch {a.batch_size}, "
          f"{a.threads} thread(s), torch {torch.__version__})\n")
    print(f"Command: `python benchmarks/train_profile.py {' '.join(sys.argv[1:] if argv is None else argv)}`\n")
    print("| compile | precision | ms per update | matrix products' share (profiled) | the rest, ms | the rest vs the eager fp32 update |")
    print("|---|---|---|---|---|---|")
    base = None
    for mode in a.compile:
        for prec in a.precision:
            kw = {"gamma": horizon_gamma(data.mean_episode_steps)} if "gamma" in config_fields(get(a.algo).Config) else {}
            algo = make(a.algo, data.spec, a.preset, seed=0, device="cpu", **kw)  # the trainer's discount
            algo.set_obs_stats(data.obs_mean, data.obs_std)
            apply_precision(algo, prec, "cpu", allow_slow_bf16=True)
            if mode == "on":
                algo.losses = torch.compile(algo.losses, dynamic=False)
            g = torch.Generator().manual_seed(0)
            n_step = int(getattr(algo.config, "n_step", 1))
            gamma = getattr(algo.config, "gamma", None)

            def sample():
                return data.sample_transitions(a.batch_size, g, n_step=n_step, gamma=gamma)

            for _ in range(3):
                algo.update_device(sample())
            t = time.perf_counter()
            for _ in range(a.updates):
                algo.update_device(sample())
            ms = (time.perf_counter() - t) / a.updates * 1e3
            with profile() as prof:
                for _ in range(a.updates):
                    algo.update_device(sample())
            ev = prof.key_averages()
            total = sum(e.self_cpu_time_total for e in ev) / a.updates / 1e3
            mm = sum(e.self_cpu_time_total for e in ev if e.key in MATMUL) / a.updates / 1e3
            if base is None and mode == "off" and prec == "fp32":
                base = ms
            rest = ms * (1 - mm / total)  # the profiled share applied to the timed update (the profiler adds overhead)
            rel = f"{rest / base:.2f}x" if base else "-"
            print(f"| {mode} | {prec} | {ms:.1f} | {mm / total:.0%} | {rest:.1f} | {rel} |", flush=True)
            if a.top:
                print(ev.table(sort_by="self_cpu_time_total", row_limit=a.top), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
