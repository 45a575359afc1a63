"""The team folder format: file names, the name rule, config.json reading, atomic folder writes.

A team folder::

    weights.safetensors   the weights ``act`` needs (``Algorithm.act_nets``), float32, no optimizer state;
                          its header metadata repeats algo, spec, config and seed
    config.json           FORMAT/FORMAT_VERSION, name, algo, algo_config, spec, seed, env_id, agents,
                          dataset (name, manifest sha256, card summary), train (each run's TrainConfig),
                          source (runs, checkpoint, step), eval, latency_ms, package and torch versions
    MODEL_CARD.md         human-readable: training command, dataset, score with its CI, latency

No torch import here (``team list`` reads config.json only).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

FORMAT = "macflow-arena/team"
FORMAT_VERSION = 1
WEIGHTS = "weights.safetensors"
CONFIG = "config.json"
CARD = "MODEL_CARD.md"
FILES = (WEIGHTS, CONFIG, CARD)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_NAME = 64
MAX_CONFIG_BYTES = 4 * 1024 * 1024
WEIGHTS_FORMAT = "macflow-arena/team-weights"  # the weights file's header metadata "format"
WEIGHTS_VERSION = 1
TEAM_FIX = ("export the team again (`macflow-arena team export RUN --name NAME --overwrite`) or restore the "
            "folder from a backup")


class TeamError(ValueError):
    """A team cannot be found, exported or used; the message names the team and the fix."""


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_NAME or ".." in name:
        raise TeamError(
            f"bad team name {name!r}: use lower-case letters, digits, '.', '_' and '-', starting with a letter "
            f"or digit (at most {MAX_NAME} characters), e.g. spread-macflow"
        )
    return name


def teams_home() -> Path:
    """User teams: ``$MACFLOW_ARENA_HOME/teams``."""
    from ..data.paths import home_dir

    return home_dir() / "teams"


def shipped_dir() -> Path | None:
    """The shipped ``agents/`` data folder, or None when the installation has none."""
    from ..resources import agents_dir

    try:
        return agents_dir()
    except FileNotFoundError:
        return None


def is_team_dir(path: Path) -> bool:
    return (path / CONFIG).is_file() and (path / WEIGHTS).is_file()


def read_config(folder: Path) -> dict[str, Any]:
    """config.json of a team folder, checked for format and version."""
    path = Path(folder) / CONFIG
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise TeamError(f"{path}: {size} bytes is too large for a team config (limit {MAX_CONFIG_BYTES})")
        from ..integrity.json_safe import loads

        cfg = loads(path.read_bytes(), str(path), max_bytes=MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise TeamError(f"{folder} is not a team folder (no {CONFIG}); export one with `macflow-arena team export`") from None
    except (OSError, ValueError) as e:  # ValueError: bad JSON, not UTF-8, too deep or too large
        raise TeamError(f"{path}: unreadable team config ({e})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise TeamError(f"{path}: not a macflow-arena team config (format {cfg.get('format') if isinstance(cfg, dict) else None!r})")
    if cfg.get("format_version") != FORMAT_VERSION:
        raise TeamError(f"{path}: team format version {cfg.get('format_version')!r}; this release reads version "
                        f"{FORMAT_VERSION} (upgrade macflow-arena, or export the team again)")
    missing = [k for k in ("name", "algo", "algo_config", "spec", "env_id", "agents") if k not in cfg]
    if missing:
        raise TeamError(f"{path}: team config lacks {missing}")
    return cfg


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in Path(folder).iterdir() if f.is_file())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_folder(dest: Path, files: dict[str, bytes], *, overwrite: bool = False) -> Path:
    """Create folder ``dest`` holding ``files`` atomically: written into a temp folder next to it,
    each file fsynced, then renamed into place. An existing ``dest`` is an error unless
    ``overwrite`` (then it is replaced only once the new folder is complete)."""
    dest = Path(dest)
    parent = dest.parent
    parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and not overwrite:
        raise TeamError(f"{dest} exists; pass overwrite=True (CLI: --overwrite) to replace it, or choose another name")
    token = secrets.token_hex(4)
    tmp = parent / f".{dest.name}.tmp-{token}"
    old = parent / f".{dest.name}.old-{token}"
    tmp.mkdir()
    try:
        for name, data in files.items():
            path = tmp / name
            with open(path, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        _fsync(tmp)
        if dest.exists():
            if not overwrite:  # appeared meanwhile
                raise TeamError(f"{dest} exists; pass overwrite=True to replace it")
            os.replace(dest, old)
        os.replace(tmp, dest)
        with contextlib.suppress(OSError):
            _fsync(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not dest.exists():
            os.replace(old, dest)  # put the previous team back
        raise
    shutil.rmtree(old, ignore_errors=True)
    return dest
