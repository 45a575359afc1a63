"""SIGKILL a recording process at random points, many times; nothing committed may be lost.

Each trial starts a fresh Python process that records ``particle/spread``
(alternating: the batched recorder, B=8, and the ``RecordEpisodes`` wrapper
around the ParallelEnv) into a new dataset with small shards (a commit every
few episodes: temp file, fsync, rename, fsync folder, manifest append, fsync),
kills it with SIGKILL after a random delay, then checks:

1. ``Dataset(path).load()`` works: every committed episode equals, field by
   field and bit for bit, the same episode of a reference run that was not
   killed (no partial or altered episode is visible);
2. ``repair`` then ``verify`` passes, every committed episode is kept
   unchanged, and the episodes repair recovers (a whole shard whose manifest
   line the kill prevented) equal the reference run's too.

    python benchmarks/kill_recorder.py --trials 200      # prints + writes benchmarks/results/kill_recorder.md
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import sys
from macflow_arena.data import RecordEpisodes, record_dataset
from macflow_arena import make
from macflow_arena.policies import ScriptedPolicy
kind, path, episodes = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
if kind == "batched":
    record_dataset("particle/spread", path, behaviour={"name": "scripted", "noise": 0.2}, quality="mixed",
                   episodes=episodes, seed=0, num_envs=8, episodes_per_shard=4, mode="auto")
else:
    rec = RecordEpisodes(make("particle/spread"), path, episodes_per_shard=3)
    pol = ScriptedPolicy(rec, seed=0, noise=0.2)
    for k in range(episodes):
        obs, _ = rec.reset(seed=k)
        pol.reset(seed=k)
        while rec.agents:
            obs, *_ = rec.step(pol.act(obs))
    rec.close()
"""

SKIP = ("start_time", "wall_time")


def run_child(kind: str, path: Path, episodes: int, kill_after: float | None) -> tuple[float, bool]:
    """Start the recorder; SIGKILL it ``kill_after`` s after it is ready. Returns (seconds it ran, killed)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, kind, str(path), str(episodes)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    t = time.perf_counter()
    if kill_after is None:
        proc.wait()
        if proc.returncode:
            raise RuntimeError(proc.stderr.read())
        return time.perf_counter() - t, False
    try:
        proc.wait(timeout=kill_after)
        return time.perf_counter() - t, False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return time.perf_counter() - t, True
    finally:
        proc.stdout.close()
        proc.stderr.close()


def episodes_of(path: Path) -> dict[int, dict]:
    from macflow_arena.data import Dataset

    data = Dataset(path).load()
    return {int(e): data.episode(i) for i, e in enumerate(data.episode_id)}


def same(got: dict[int, dict], ref: dict[int, dict]) -> str | None:
    for eid, ep in got.items():
        if eid not in ref:
            return f"episode {eid} not in the reference"
        for k, v in ep.items():
            if k not in SKIP and np.asarray(v).tobytes() != np.asarray(ref[eid][k]).tobytes():
                return f"episode {eid} field {k} differs"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--episodes", type=int, default=120, help="episodes each child tries to record")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from macflow_arena.data import repair, verify

    rng = np.random.default_rng(args.seed)
    failures: list[str] = []
    codes: collections.Counter = collections.Counter()
    committed = {"batched": [], "wrapper": []}
    killed_n = 0
    recovered = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        refs, durations = {}, {}
        for kind in ("batched", "wrapper"):
            runs = [run_child(kind, root / f"ref-{kind}-{k}", args.episodes, None)[0] for k in range(3)]
            durations[kind] = min(runs)  # the kill window: [0, the fastest unkilled run]
            refs[kind] = episodes_of(root / f"ref-{kind}-0")
        for trial in range(args.trials):
            kind = ("batched", "wrapper")[trial % 2]
            path = root / f"t{trial}"
            delay = float(rng.uniform(0.0, durations[kind]))
            _, killed = run_child(kind, path, args.episodes, delay)
            killed_n += killed
            try:
                if not (path / "manifest.jsonl").exists():
                    committed[kind].append(0)  # killed before the dataset existed
                    continue
                got = episodes_of(path)
                err = same(got, refs[kind])
                if err:
                    failures.append(f"trial {trial} ({kind}): {err}")
                for p in verify(path).problems:
                    codes[p.code] += 1
                repair(path)
                report = verify(path)
                if not report.ok:
                    failures.append(f"trial {trial} ({kind}): verify after repair: {report}")
                after = episodes_of(path)
                if sorted(after)[: len(got)] != sorted(got) or sorted(after) != list(range(len(after))):
                    failures.append(f"trial {trial} ({kind}): repair lost or renumbered committed episodes")
                err = same(after, refs[kind])
                if err:
                    failures.append(f"trial {trial} ({kind}): after repair: {err}")
                recovered += len(after) - len(got)
                committed[kind].append(len(got))
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failures.append(f"trial {trial} ({kind}): {type(e).__name__}: {e}")
            if (trial + 1) % 20 == 0:
                print(f"{trial + 1}/{args.trials} trials, {len(failures)} failures", file=sys.stderr)
    wall = time.perf_counter() - start

    def dist(v):
        return f"{min(v)} / {statistics.median(v):g} / {max(v)}" if v else "-"

    lines = [
        "# SIGKILL of a recording process",
        "",
        f"{args.trials} trials (half the batched recorder, half the RecordEpisodes wrapper; particle/spread, "
        f"{args.episodes} episodes per run, a commit every 3-4 episodes), kill after a uniform random delay "
        f"in [0, the fastest of 3 unkilled runs] ({durations['batched']:.2f} s batched, {durations['wrapper']:.2f} s "
        f"wrapper, after imports); {killed_n} runs were killed before finishing. Wall time {wall:.0f} s.",
        "",
        "| check | result |",
        "|---|---|",
        f"| committed episodes read back bit-identical to an unkilled run, no partial episode | "
        f"{'all trials' if not failures else f'{len(failures)} FAILURES'} |",
        f"| `verify` passes after `repair`, committed episodes unchanged | {'all trials' if not failures else 'see failures'} |",
        f"| episodes `repair` recovered from whole uncommitted shards (bit-identical to the reference) | {recovered} |",
        f"| committed episodes per trial, batched (min / median / max) | {dist(committed['batched'])} |",
        f"| committed episodes per trial, wrapper (min / median / max) | {dist(committed['wrapper'])} |",
        "| problems `verify` found before `repair` | "
        + (", ".join(f"{k}: {v}" for k, v in sorted(codes.items())) or "none") + " |",
        "",
        "Run: `python benchmarks/kill_recorder.py --trials 200`",
    ]
    if failures:
        lines += ["", "Failures:", *[f"- {f}" for f in failures[:50]]]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        out = Path(__file__).parent / "results" / "kill_recorder.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)
        print(f"wrote {out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
