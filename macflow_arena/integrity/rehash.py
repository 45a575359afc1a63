"""One-off: record the content checksum of weights you trust in their JSON companion.

Teams exported and checkpoints saved by this release carry their checksum
already. For a team folder or checkpoint made before checksums existed
(loading it says "no content checksum ... recorded"), once you trust the
file::

    python -m macflow_arena.integrity.rehash agents/spread-macflow runs/my-run/checkpoints/step-00020000.safetensors

A team folder gets ``weights_checksum`` in its ``config.json``; a checkpoint in
its ``.json`` sidecar. The file's framing and metadata are checked first (a
pickle or a garbled file is refused, not blessed). The shipped teams in
``agents/`` were stamped this way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import weights_digest as wd


def _write_json(path: Path, obj: dict) -> None:
    from ..algos.checkpoint import atomic_write

    atomic_write(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def rehash(target: str | Path) -> Path:
    """Stamp the checksum of a team folder's weights (or of a checkpoint) into its JSON companion."""
    from ..algos.checkpoint import FORMAT, FORMAT_VERSION, read_tagged, sidecar
    from ..teams.format import CONFIG, WEIGHTS, read_config
    from ..teams.weights import WEIGHTS_FORMAT, WEIGHTS_VERSION
    from .json_safe import load_file

    target = Path(target)
    if target.is_dir():
        weights, companion = target / WEIGHTS, target / CONFIG
        cfg = read_config(target)
        read_tagged(weights, WEIGHTS_FORMAT, WEIGHTS_VERSION, "team weights file")
        name = WEIGHTS
    else:
        weights, companion = target, sidecar(target)
        read_tagged(weights, FORMAT, FORMAT_VERSION, "checkpoint")
        cfg = load_file(companion) if companion.is_file() else {}
        if not isinstance(cfg, dict):
            raise ValueError(f"{companion}: not a JSON object")
        name = weights.name
    cfg[wd.KEY] = wd.digests(weights.read_bytes(), name)
    _write_json(companion, cfg)
    return companion


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    for a in args:
        print(f"recorded the checksum of {a} in {rehash(a)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
