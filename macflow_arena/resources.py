"""One resolver for the package's data folders (``envs/``, ``agents/``, ``assets/``).

Lookup order:

1. ``$MACFLOW_ARENA_DATA`` (a folder holding ``envs/`` etc.), when set;
2. the copy bundled inside the installed wheel (``macflow_arena/_data``);
3. the repository checkout (the folder above the package, for editable installs).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "MACFLOW_ARENA_DATA"
_PACKAGE_DIR = Path(__file__).resolve().parent


def data_roots() -> list[Path]:
    """Candidate data roots, in lookup order (existing or not)."""
    roots = []
    override = os.environ.get(ENV_VAR)
    if override:
        roots.append(Path(override).expanduser())
    roots.append(_PACKAGE_DIR / "_data")
    roots.append(_PACKAGE_DIR.parent)
    return roots


def data_dir(kind: str) -> Path:
    """The first existing ``<root>/<kind>`` folder, e.g. ``data_dir("envs")``."""
    tried = []
    for root in data_roots():
        candidate = root / kind
        if candidate.is_dir():
            return candidate
        tried.append(str(candidate))
    raise FileNotFoundError(
        f"macflow-arena data folder {kind!r} not found; looked in: {', '.join(tried)}. "
        f"Set ${ENV_VAR} to a folder that contains {kind}/, or reinstall the package."
    )


def envs_dir() -> Path:
    return data_dir("envs")


def agents_dir() -> Path:
    return data_dir("agents")


def assets_dir() -> Path:
    return data_dir("assets")
