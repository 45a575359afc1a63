"""Where a MAC-Flow tag run loses to BC: the teacher or the students. Plays, on the same held-out
tag episodes (predators; the prey is the env's script), the scripted expert (and the expert with its
actions shrunk, as an MSE fit to 20%-random data shrinks them), the run's joint teacher from the noise
centre (centralized, K Euler steps) and the run's students (the team's default action). Prints the
mean team return of each (normalized scores divide by the dataset's expert reference).

    python benchmarks/tag_teacher_gap.py RUN [--episodes 256]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("--episodes", type=int, default=256)
    a = p.parse_args(argv)

    import torch

    import macflow_arena as ma
    from macflow_arena import make_vec
    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.algos.nets import euler
    from macflow_arena.envs.particle.scripted import TagScript
    from macflow_arena.train.evaluate import EVAL_SEED
    from macflow_arena.train.trainer import latest_checkpoint

    torch.set_num_threads(1)
    algo = load_checkpoint(latest_checkpoint(Path(a.run))).algo
    algo.nets.eval()
    b = a.episodes

    def play(policy) -> float:
        venv = make_vec("particle/tag", b)
        o, _ = venv.reset(seed=EVAL_SEED)
        ret = np.zeros(b)
        for _ in range(venv.max_cycles):
            o, r, _, _, _ = venv.step(policy(np.asarray(o, dtype=np.float32)))
            ret += np.asarray(r).mean(-1)
        return float(ret.mean())

    script = TagScript(ma.make("particle/tag").task)
    n = algo.spec.n_agents

    def expert(o):
        return script.act(o, list(range(n)), np.zeros(len(o), dtype=bool), None)

    def teacher(o):
        with torch.no_grad():
            oi = algo.with_id(algo._obs_in(torch.from_numpy(o)))
            z = torch.zeros(len(o), n, algo.spec.action_dim)
            return euler(algo.nets["teacher"], oi, z, algo.config.flow_steps, algo.config.flow_target).clamp(-1, 1).numpy()

    def students(o):
        with torch.no_grad():
            return algo.act(torch.from_numpy(o), torch.Generator().manual_seed(0)).numpy()

    print(f"{a.run}: {algo.step} updates, {b} episodes; mean team return")
    print("| actor | return |\n|---|---|")
    print(f"| scripted expert | {play(expert):.1f} |")
    for s in (0.9, 0.8):
        print(f"| scripted expert, actions x {s} | {play(lambda o, s=s: s * expert(o)):.1f} |")
    print(f"| joint teacher, noise centre, centralized | {play(teacher):.1f} |")
    print(f"| students (the team) | {play(students):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
