"""The one install hint for features that need torch (play/video with teams, train, eval, report ...).

Every "needs torch" error ends with ``torch_hint()`` so the advice is the same
wherever a newcomer meets it: the ``train`` extra, and on machines where PyPI's
torch is the CUDA build (Linux), the CPU wheel index.
"""

from __future__ import annotations

TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def torch_hint() -> str:
    return (f'pip install "macflow-arena[train]" (without a CUDA GPU on Linux, first '
            f"pip install torch=={TORCH_VERSION} --index-url {CPU_INDEX})")


def needs_torch(what: str, error: BaseException | None = None) -> str:
    """``"<what> needs torch (<error>): <hint>"``."""
    detail = f" ({error})" if error is not None else ""
    return f"{what} needs torch{detail}: {torch_hint()}"
