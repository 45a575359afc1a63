"""Find and load teams: ``load_team(ref)`` and ``list_teams()``.

``ref`` is a team name (``$MACFLOW_ARENA_HOME/teams/NAME`` first, then the
shipped ``agents/NAME``, then a training run ``runs/NAME``), a team folder, a
training run folder (its latest checkpoint) or a ``.safetensors`` checkpoint.

``backend``: ``"torch"`` (``team.algo`` is the ``Algorithm``), ``"numpy"``
(``team.algo`` is a ``NumpyActor``, ``numpy_act.py``: no torch needed for a
team folder of macflow, bc, td3bc or vdn_cql), ``"auto"`` (default: torch when
it is installed, else numpy) or ``"play"`` (numpy whenever the algorithm has a
numpy actor, which is the faster at batch 1, ``benchmarks/results/team_numpy.md``;
torch otherwise): what ``play`` and ``video`` use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .format import CONFIG, TeamError, folder_bytes, is_team_dir, read_config, shipped_dir, teams_home

@dataclass
class Team:
    """A loaded team, ready to act: ``team.algo.act(obs [B, N, D], generator, avail)``."""

    name: str
    algo: Any  # macflow_arena.algos.base.Algorithm, weights loaded, eval mode
    env_id: str
    spec: Any  # TeamSpec
    agents: list[str]  # the env seats the team plays, in the order of the algorithm's agent axis
    card: dict[str, Any] = field(default_factory=dict)  # config.json (or what a run folder tells)
    path: Path | None = None
    source: str = "team"  # "team" (folder), "run" or "checkpoint"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.algo.name})"


def team_agents(env_id: str, n_agents: int, dataset_path: str | None = None) -> list[str]:
    """The seats a team of ``n_agents`` plays: the dataset's agents when it is at hand,
    else the env's default seats (what the VectorEnv and the recorder use)."""
    agents: list[str] | None = None
    if dataset_path and Path(dataset_path, "manifest.jsonl").is_file():
        try:
            from ..data.loader import Dataset

            agents = list(Dataset(dataset_path).agents)
        except Exception:  # noqa: BLE001 - an unreadable dataset: fall back to the env
            agents = None
    if agents is None:
        from ..registry import make

        env = make(env_id)
        try:
            agents = list(env.possible_agents)
        finally:
            env.close()
    if len(agents) != n_agents:
        raise TeamError(f"{env_id} has {len(agents)} default seats ({', '.join(agents)}) but the team was built "
                        f"for {n_agents} agents")
    return agents


def _looks_like_path(s: str) -> bool:
    return os.sep in s or (os.altsep is not None and os.altsep in s) or s.startswith((".", "~")) or s.endswith(".safetensors")


def _is_run_config(path: Path) -> bool:
    try:
        from ..integrity.json_safe import loads

        cfg = loads(path.read_bytes(), str(path))
        return isinstance(cfg, dict) and "train" in cfg
    except (OSError, UnicodeDecodeError, ValueError, TypeError):
        return False


def known_team_names() -> list[str]:
    return sorted({row["name"] for row in list_teams()})


def resolve_ref(ref: str | os.PathLike) -> tuple[str, Path]:
    """(kind, path) with kind "team", "run" or "checkpoint"."""
    from ..train.config import runs_dir

    s = os.fspath(ref)
    if not s:
        raise TeamError("empty team name; give a team name, a team folder or a run folder")
    candidates: list[Path] = []
    if _looks_like_path(s):
        candidates.append(Path(s).expanduser())
    else:
        candidates.append(teams_home() / s)
        shipped = shipped_dir()
        if shipped is not None:
            candidates.append(shipped / s)
        candidates += [runs_dir() / s, Path(s)]
    for p in candidates:
        if is_team_dir(p):
            return "team", p
        if p.is_dir() and (p / CONFIG).is_file():
            # a run folder (checkpoints/ or a trainer config), else an incomplete team folder,
            # which then fails with its own message
            return ("run" if (p / "checkpoints").is_dir() or _is_run_config(p / CONFIG) else "team"), p
        if p.is_file() and p.suffix.lower() in (".safetensors", ".pt", ".pth", ".pkl", ".ckpt", ".bin"):
            return "checkpoint", p
        if p.exists() and _looks_like_path(s):
            raise TeamError(f"{p} is neither a team folder (config.json + weights.safetensors) nor a run folder")
    names = known_team_names()
    listed = ", ".join(names) if names else "none yet (export one with `macflow-arena team export RUN --name NAME`)"
    raise TeamError(f"no team {s!r}: looked in {', '.join(str(c) for c in candidates)}. Known teams: {listed}")


BACKENDS = ("auto", "torch", "numpy", "play")


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def load_team(ref: str | os.PathLike, device: str = "cpu", backend: str = "auto") -> Team:
    """Load a team (see the module doc for ``ref`` and ``backend``); weights are loaded strictly."""
    if backend not in BACKENDS:
        raise TeamError(f"unknown team backend {backend!r}; use one of {BACKENDS}")
    kind, path = resolve_ref(ref)
    if backend in ("auto", "play") and kind == "team":
        from .numpy_load import numpy_capable

        if backend == "play" and numpy_capable(*_algo_card(path)):
            backend = "numpy"
        elif backend == "auto":
            backend = "torch" if torch_available() else "numpy"  # numpy_load names a torch-only algorithm
    if backend in ("auto", "play"):
        backend = "torch"
    if kind == "team":
        if backend == "numpy":
            from .numpy_load import load_numpy_folder

            return load_numpy_folder(path)
        _need_torch(f"team {path.name!r}")
        return _load_folder(path, device)
    _need_torch(f"{path} (a training run or checkpoint; an exported team folder plays without torch)")
    team = _load_checkpoint(kind, path, device)
    if backend == "numpy":
        from .numpy_act import NUMPY_ACTORS, NumpyActor

        if team.algo.name not in NUMPY_ACTORS:
            raise TeamError(f"{team.algo.name} acts in torch only (more than one forward pass)")
        if team.algo.recurrent:
            raise TeamError(f"{team.algo.name} with a recurrent policy acts in torch only (a state between steps)")
        team.algo = NumpyActor.from_algo(team.algo)
    return team


def _algo_card(folder: Path) -> tuple[str | None, Any]:
    """(algorithm name, algo_config) of a team folder's config.json."""
    try:
        card = read_config(folder)
    except TeamError:
        return None, None  # the chosen loader reports it
    return card.get("algo"), card.get("algo_config")


def _need_torch(what: str) -> None:
    if not torch_available():
        from ..install import needs_torch

        raise TeamError(needs_torch(what))


def _load_folder(folder: Path, device: str) -> Team:
    from ..algos.base import TeamSpec, saved_config
    from ..algos.registry import get
    from .format import WEIGHTS
    from .weights import load_act_weights

    from ..integrity import config_check as cc

    cfg = read_config(folder)
    name = str(cfg["name"])
    try:
        cls = get(cfg["algo"])
        cc.check_spec(cfg["spec"], "spec")
        cc.check_algo_config(cls.Config, cfg["algo_config"], "algo_config")
        spec = TeamSpec(**cfg["spec"])
        config = saved_config(cls.Config, cfg["algo_config"])
        expected = cc.expected_shapes(cls, spec, config, "algo_config")
        if expected is not None:  # a team ships only the act nets
            expected = {k: v for k, v in expected.items() if k.split(".", 1)[0] in tuple(cls.act_nets)}
    except (KeyError, TypeError, ValueError) as e:
        raise TeamError(f"team {name!r} ({folder}): bad algo, spec or config in {CONFIG} ({e.args[0] if e.args else e})") from None
    agents = cfg["agents"]
    if not (isinstance(agents, list) and all(isinstance(a, str) for a in agents) and len(agents) == spec.n_agents):
        raise TeamError(f"team {name!r} ({folder}): 'agents' must list {spec.n_agents} seat names, got {agents!r}")
    _check_declared_shapes(folder / WEIGHTS, expected, name)  # before the networks are allocated
    algo = cls(spec, config, seed=int(cfg.get("seed", 0)), device=device)
    load_act_weights(folder / WEIGHTS, algo, name)
    algo.nets.eval()
    return Team(name, algo, str(cfg["env_id"]), spec, list(agents), cfg, folder, "team")


def _check_declared_shapes(path: Path, expected, team: str) -> None:
    """The weights file's declared tensor shapes (its header only) against the config's networks."""
    from ..integrity.config_check import check_shapes

    try:
        with open(path, "rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else 0
            data = head + f.read(min(n, 32 << 20))
    except OSError as e:
        raise TeamError(f"team {team!r}: cannot read {path} ({e.strerror or e})") from None
    try:
        check_shapes(_header_only(path, data), expected, "", f"team {team!r}: {path}")
    except ValueError as e:
        raise TeamError(str(e) if str(e).startswith("team ") else f"team {team!r}: {e}") from None


def _header_only(path: Path, data: bytes) -> dict:
    from ..integrity.json_safe import loads

    if len(data) < 8:
        return {}
    n = int.from_bytes(data[:8], "little")
    try:
        header = loads(data[8 : 8 + n], str(path))
    except ValueError:
        return {}  # the full framing check (load_act_weights) names the problem
    return header if isinstance(header, dict) else {}


def _load_checkpoint(kind: str, path: Path, device: str) -> Team:
    from ..algos.checkpoint import CheckpointError, load_checkpoint
    from ..train.trainer import TrainError, latest_checkpoint

    try:
        ckpt = latest_checkpoint(path) if kind == "run" else path
        ck = load_checkpoint(ckpt, device=device)
    except (TrainError, CheckpointError) as e:
        raise TeamError(str(e)) from None
    extra = ck.meta.get("extra") or {}
    env_id = extra.get("env_id")
    if not env_id:
        raise TeamError(f"{ckpt}: the checkpoint does not record its env id; train it with `macflow-arena train`")
    from ..registry import UnknownEnvError, resolve

    try:
        env_id = resolve(env_id).id
    except UnknownEnvError as e:
        raise TeamError(f"{ckpt}: trained on {env_id}, which this installation does not have ({e})") from None
    name = path.name if kind == "run" else path.stem
    card: dict[str, Any] = {"source": kind, "algo": ck.algo.name, "env_id": env_id, "checkpoint": str(ckpt),
                            "step": ck.algo.step, "dataset_hash": ck.meta.get("dataset_hash")}
    if kind == "run":
        evals = path / "eval.jsonl"
        if evals.is_file():
            lines = [ln for ln in evals.read_text().splitlines() if ln.strip()]
            if lines:
                try:
                    from ..integrity.json_safe import loads

                    card["eval"] = loads(lines[-1], str(evals))
                except ValueError:
                    pass
    agents = team_agents(env_id, ck.algo.spec.n_agents, extra.get("dataset"))
    ck.algo.nets.eval()
    return Team(name, ck.algo, env_id, ck.algo.spec, agents, card, path, kind)


def _score(cfg: dict) -> float | None:
    ev = cfg.get("eval") or {}
    for key in ("normalized_score", "return_mean"):
        if isinstance(ev.get(key), (int, float)):
            return float(ev[key])
    return None


def list_teams() -> list[dict[str, Any]]:
    """User and shipped teams (config.json only, no weights loaded): name, env, algo, score,
    score_kind, size (bytes), source, path; a broken folder has ``error`` set. A user team
    shadows a shipped one of the same name (``shadowed`` on the shipped row)."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for source, root in (("user", teams_home()), ("shipped", shipped_dir())):
        if root is None or not root.is_dir():
            continue
        for p in sorted(root.iterdir()):
            if not p.is_dir() or p.name.startswith(".") or not (p / CONFIG).exists():
                continue
            row: dict[str, Any] = {"name": p.name, "source": source, "path": str(p), "size": folder_bytes(p),
                                   "env": None, "algo": None, "score": None, "score_kind": None}
            try:
                cfg = read_config(p)
                ev = cfg.get("eval") or {}
                row.update(env=cfg["env_id"], algo=cfg["algo"], score=_score(cfg),
                           score_kind="normalized" if "normalized_score" in ev else ("return" if ev else None))
            except TeamError as e:
                row["error"] = str(e)
            if p.name in seen:
                row["shadowed"] = True
            seen.add(p.name)
            rows.append(row)
    return rows
