"""Where datasets live: ``$MACFLOW_ARENA_HOME/datasets`` (default ``~/.macflow_arena/datasets``)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_VAR = "MACFLOW_ARENA_HOME"


def home_dir() -> Path:
    return Path(os.environ.get(HOME_VAR) or "~/.macflow_arena").expanduser()


def datasets_dir() -> Path:
    return home_dir() / "datasets"


def resolve_dataset(name_or_path: str | os.PathLike) -> Path:
    """A path as given when it looks like one (has a separator, starts with '.' or '~', or exists);
    otherwise the dataset of that name under :func:`datasets_dir`."""
    s = os.fspath(name_or_path)
    p = Path(s).expanduser()
    if os.sep in s or s.startswith((".", "~")) or p.exists():
        return p
    return datasets_dir() / s


def default_name(env_id: str, quality: str | None) -> str:
    """``particle/spread-v0`` + ``expert`` -> ``particle-spread-v0-expert``."""
    base = env_id.replace("/", "-")
    return f"{base}-{quality}" if quality else base
