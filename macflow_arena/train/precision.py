"""``train --precision``: what an update's arithmetic runs in.

- ``fp32``: everything in float32 (bit-exact reruns on CPU).
- ``tf32`` (CUDA only): float32 matrix products on TensorFloat-32 tensor cores
  (``torch.set_float32_matmul_precision("high")``, process-wide).
- ``bf16``: the losses run under bfloat16 autocast (matrix products in bfloat16;
  weights, optimizer state, the networks' outputs and the losses in float32), on
  CPU (where the CPU has bfloat16 instructions) or CUDA.
- ``auto`` (default): ``tf32`` on CUDA, ``fp32`` on CPU.

Training only: evaluation, teams and play run in float32 whatever a run trained in.
Measured speed and returns: README "Training", ``benchmarks/results/train_precision_cpu.md``.
"""

from __future__ import annotations

PRECISIONS = ("auto", "fp32", "tf32", "bf16")


class PrecisionError(ValueError):
    """A precision that does not exist or does not apply to the device."""


def resolve_precision(precision: str, device: str) -> str:
    """``auto`` -> ``tf32`` on CUDA, ``fp32`` elsewhere; checks the others against the device."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"--precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    cuda = str(device).startswith("cuda")
    if precision == "auto":
        return "tf32" if cuda else "fp32"
    if precision == "tf32" and not cuda:
        raise PrecisionError("--precision tf32 is a CUDA matrix-product mode; on CPU use fp32 (default) or bf16")
    return precision


def apply_precision(algo, precision: str, device: str) -> str:
    """Set ``algo.precision`` (its losses' autocast) and, on CUDA, the process's float32
    matmul mode (TF32 for ``tf32``, full float32 otherwise); returns the resolved precision."""
    import torch

    p = resolve_precision(precision, device)
    algo.precision = "bf16" if p == "bf16" else "fp32"
    if str(device).startswith("cuda"):
        torch.set_float32_matmul_precision("high" if p == "tf32" else "highest")
    return p
