"""Env throughput in agent-steps/s (one agent acting in one world for one step).

Particle/spread workloads return ``(run(n_steps) -> seconds, agent-steps per step)``
and are measured together by :func:`measure` (round-robin, so load from other
processes hits all of them alike). Skirmish rates step random legal actions for
a fixed time. Actions are generated before the clock starts where possible;
``step`` (and ``reset`` at episode ends) is what is timed.
"""

from __future__ import annotations

import time

import numpy as np

ENV_ID = "particle/spread"
N_AGENTS = 3
MAX_CYCLES = 25
MPE2_LABEL = "mpe2 simple_spread_v3 (parallel)"


def ours_vector(num_envs: int, seed: int = 0, env_id: str = ENV_ID):
    """``make_vec(env_id, B)``, one ``step(actions[B, N, A])`` per iteration, auto-reset included."""
    import macflow_arena

    venv = macflow_arena.make_vec(env_id, num_envs)
    venv.reset(seed=seed)
    rng = np.random.default_rng(seed)
    bank = rng.uniform(-1, 1, size=(64,) + venv.action_shape).astype(np.float32)

    def run(n: int) -> float:
        t0 = time.perf_counter()
        for t in range(n):
            venv.step(bank[t % 64])
        return time.perf_counter() - t0

    return run, num_envs * venv.n_agents


def dict_loop(env, seed: int):
    """A PettingZoo ParallelEnv stepped with pre-drawn uniform actions; ``reset`` when all agents are done."""
    env.reset(seed=seed)
    agents = list(env.possible_agents)
    rng = np.random.default_rng(seed)
    bank = []
    for _ in range(256):
        acts = {}
        for a in agents:
            sp = env.action_space(a)
            acts[a] = rng.uniform(sp.low, sp.high, size=sp.shape).astype(sp.dtype)
        bank.append(acts)

    def run(n: int) -> float:
        step, reset = env.step, env.reset
        t0 = time.perf_counter()
        for t in range(n):
            step(bank[t & 255])
            if not env.agents:
                reset()
        return time.perf_counter() - t0

    return run, len(agents)


def ours_parallel(seed: int = 0, env_id: str = ENV_ID):
    import macflow_arena

    return dict_loop(macflow_arena.make(env_id), seed)


def mpe2_parallel(seed: int = 0):
    """mpe2's ``simple_spread_v3`` (N=3, max_cycles=25, continuous); ImportError when mpe2 is missing."""
    from mpe2 import simple_spread_v3

    env = simple_spread_v3.parallel_env(N=N_AGENTS, max_cycles=MAX_CYCLES, continuous_actions=True)
    return dict_loop(env, seed)


def measure(workloads: dict, repeats: int, seconds: float) -> dict[str, list[float]]:
    """Round-robin: calibrate each workload's step count to ~``seconds``, then repeat; agent-steps/s per repeat."""
    steps = {}
    for name, (run, _) in workloads.items():
        run(30)  # warmup (first calls, caches, allocator)
        n, dt = 50, 0.0
        while dt < 0.2:
            dt = run(n)
            if dt < 0.2:
                n *= 4
        steps[name] = max(50, int(n * seconds / dt))
    rates: dict[str, list[float]] = {name: [] for name in workloads}
    for _ in range(repeats):
        for name, (run, per_step) in workloads.items():
            dt = run(steps[name])
            rates[name].append(steps[name] * per_step / dt)
    return rates


def skirmish_vector(env_id: str, batch: int, seconds: float, seed: int = 0) -> tuple[float, float, int]:
    """(agent-steps/s wall, per CPU-second, env steps) of ``make_vec(env_id, batch)`` with random legal actions."""
    import macflow_arena

    venv = macflow_arena.make_vec(env_id, batch)
    rng = np.random.default_rng(seed)
    obs, _ = venv.reset(seed=seed)
    for _ in range(3):  # warm-up
        mask = obs["action_mask"]
        obs, *_ = venv.step((rng.random(mask.shape) * mask).argmax(-1))
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        mask = obs["action_mask"]
        obs, *_ = venv.step((rng.random(mask.shape) * mask).argmax(-1))
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    n = steps * batch * venv.n_agents
    return n / elapsed, n / max(time.process_time() - cpu, 1e-9), steps


def skirmish_parallel(env_id: str, seconds: float, seed: int = 0) -> tuple[float, float, int]:
    """The same through the PettingZoo ParallelEnv dict API (B = 1)."""
    import macflow_arena

    env = macflow_arena.make(env_id)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    agent_steps, steps, start, cpu = 0, 0, time.perf_counter(), time.process_time()
    while True:
        if not env.agents:
            obs, _ = env.reset()
        actions = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in env.agents}
        agent_steps += len(actions)
        obs, *_ = env.step(actions)
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    return agent_steps / elapsed, agent_steps / max(time.process_time() - cpu, 1e-9), steps
