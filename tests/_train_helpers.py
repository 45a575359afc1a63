"""Tiny datasets and configs for the trainer tests (tens of steps, small nets)."""

from __future__ import annotations

from pathlib import Path

TINY = {"hidden": (32, 32)}


def record_tiny(root: Path, env_id: str = "particle/spread", episodes: int = 20, quality: str = "expert",
                seed: int = 0) -> Path:
    from macflow_arena.data import record_dataset, reference_returns

    path = Path(root) / f"{env_id.replace('/', '-')}-{quality}"
    if (path / "manifest.jsonl").exists():
        return path
    refs = reference_returns(env_id, episodes=32, num_envs=32)
    behaviour = {"name": "scripted"} if quality == "expert" else {"name": "random"}
    record_dataset(env_id, path, behaviour=behaviour, quality=quality, episodes=episodes, seed=seed,
                   num_envs=episodes, reference=refs, mode="create")
    return path


def tiny_config(dataset: Path, out: Path, env_id: str = "particle/spread", **kw):
    from macflow_arena.train.config import TrainConfig

    base = dict(env=env_id, dataset=str(dataset), algo="macflow", preset="small", steps=10, batch_size=4, window=5,
                seed=0, device="cpu", threads=1, eval_every=0, eval_episodes=0, ckpt_every=5, log_every=1, progress=False,
                tensorboard=False, out=str(out), overrides=dict(TINY))
    base.update(kw)
    if base["algo"] in ("macflow", "flowbc") and "flow_steps" not in base["overrides"]:
        base["overrides"] = {**base["overrides"], "flow_steps": 3}
    return TrainConfig(**base)
