"""Recording throughput and load time of datasets.

1. End-to-end recording of ``particle/spread`` with the scripted expert on the
   batched VectorEnv (B=1024 by default): env steps, policy, buffering, shard
   encoding, sha256, fsync, rename and manifest commits, all inside the clock
   (``record_dataset`` from start to ``writer.close()``). Reported in
   agent-steps/s (3 per env step) written to disk. The same loop without any
   recording (env + policy only) is measured alongside, round-robin.
2. Load time of 1M agent-transitions (333,334 env steps of spread: 13,334
   episodes) with ``Dataset(path).load()`` (every shard read, sha256-checked,
   parsed, and every value checked finite / in its space), and with
   ``check=False``. The files are in the page cache (just written), as when a
   trainer re-reads a dataset; a cold read adds disk time.

    python benchmarks/record_throughput.py                 # prints + writes benchmarks/results/record_throughput.md
    python benchmarks/record_throughput.py --episodes 20480 --repeats 3 --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ENV_ID = "particle/spread"
N_AGENTS = 3


def env_only(num_envs: int, episodes: int, seed: int) -> float:
    from macflow_arena import make_vec
    from macflow_arena.data.behaviours import make_actor

    venv = make_vec(ENV_ID, num_envs)
    actor = make_actor(venv, {"name": "scripted"}, seed=seed)
    rounds = -(-episodes // num_envs)
    t = time.perf_counter()
    steps = 0
    obs, _ = venv.reset(seed=seed)  # then same-step auto-reset, as the recorder runs it
    first = np.ones(num_envs, dtype=bool)
    for _ in range(rounds * venv.max_cycles):
        obs, _, _, _, info = venv.step(actor.act_batch(obs, first))
        first = info["done"]
        steps += num_envs
    return steps * N_AGENTS / (time.perf_counter() - t)


def record(root: Path, num_envs: int, episodes: int, seed: int, state: bool) -> tuple[float, Path]:
    from macflow_arena.data import record_dataset

    path = root / f"rec-{time.monotonic_ns()}"
    t = time.perf_counter()
    res = record_dataset(ENV_ID, path, behaviour={"name": "scripted"}, quality="expert", episodes=episodes,
                         seed=seed, num_envs=num_envs, record_state=state)
    dt = time.perf_counter() - t
    return res.steps * N_AGENTS / dt, path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--num-envs", type=int, default=1024)
    ap.add_argument("--episodes", type=int, default=16384, help="episodes per recording run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--load-transitions", type=int, default=1_000_000)
    ap.add_argument("--dir", default=None, help="scratch folder (default: a temp folder)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from macflow_arena.data import Dataset

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        env_rates, rec_rates, rec_state_rates = [], [], []
        for r in range(args.repeats):
            env_rates.append(env_only(args.num_envs, args.episodes, r))
            rate, path = record(root, args.num_envs, args.episodes, r, state=True)
            rec_state_rates.append(rate)
            size = sum(p.stat().st_size for p in path.iterdir())
            rate, path = record(root, args.num_envs, args.episodes, r, state=False)
            rec_rates.append(rate)
            print(f"repeat {r}: env+policy {env_rates[-1]:,.0f}  record {rec_rates[-1]:,.0f}  "
                  f"record+state {rec_state_rates[-1]:,.0f} agent-steps/s", file=sys.stderr)
        steps = -(-args.load_transitions // N_AGENTS)
        episodes = -(-steps // 25)
        from macflow_arena.data import record_dataset

        path = root / "load"
        record_dataset(ENV_ID, path, behaviour={"name": "scripted"}, quality="expert", episodes=episodes,
                       seed=0, num_envs=args.num_envs)
        ds = Dataset(path)
        load_s, load_nocheck_s = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            data = Dataset(path).load()
            load_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            Dataset(path).load(check=False)
            load_nocheck_s.append(time.perf_counter() - t)
        n_trans = data.num_steps * N_AGENTS
        load_bytes = sum(s.bytes for s in ds.shards)
        ep_bytes = size / args.episodes

    med = statistics.median
    rows = [
        ("env + scripted policy only (no recording)", f"{med(env_rates):,.0f}", f"{min(env_rates):,.0f} .. {max(env_rates):,.0f}"),
        ("record end to end (obs, actions, rewards, flags)", f"{med(rec_rates):,.0f}", f"{min(rec_rates):,.0f} .. {max(rec_rates):,.0f}"),
        ("record end to end + global state (default)", f"{med(rec_state_rates):,.0f}",
         f"{min(rec_state_rates):,.0f} .. {max(rec_state_rates):,.0f}"),
    ]
    lines = [
        "# Dataset recording throughput and load time",
        "",
        f"`particle/spread`, scripted expert, B={args.num_envs} worlds, {args.episodes} episodes "
        f"({args.episodes * 25 * N_AGENTS:,} agent-steps) per run, {args.repeats} repeats round-robin; "
        "target >= 200,000 agent-steps/s end to end.",
        "",
        "| configuration | agent-steps/s (median) | min .. max |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        f"On disk: {ep_bytes:,.0f} bytes per episode with state (25 steps x 3 agents).",
        "",
        "| load | seconds (median of %d) | |" % args.repeats,
        "|---|---|---|",
        f"| `Dataset(path).load()` of {n_trans:,} agent-transitions ({load_bytes / 1e6:.0f} MB, "
        f"{len(ds.shards)} shards), sha256 + value checks | {med(load_s):.2f} | target < 5 s |",
        f"| same, `check=False` (sha256 and structure only) | {med(load_nocheck_s):.2f} | |",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}. Shared with other work at measurement time; page cache warm for loads.",
        "",
        "Run: `python benchmarks/record_throughput.py`",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        out = Path(__file__).parent / "results" / "record_throughput.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
