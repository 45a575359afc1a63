"""``train --precision``: what an update's arithmetic runs in.

- ``fp32``: everything in float32 (bit-exact reruns on CPU).
- ``tf32`` (CUDA only): float32 matrix products on TensorFloat-32 tensor cores
  (``torch.set_float32_matmul_precision("high")``, process-wide).
- ``bf16``: the losses run under bfloat16 autocast (matrix products in bfloat16;
  weights, optimizer state, the networks' outputs and the losses in float32), on
  CUDA, or on a CPU with bfloat16 support (AVX-512 or Arm BF16). Elsewhere (an AVX2
  CPU) torch falls back to slow bfloat16 kernels, 6-7x the float32 time per
  update (measured), so ``train`` refuses it and names ``fp32``.
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


def cpu_has_bf16() -> bool:
    """Whether torch's CPU kernels multiply bfloat16 natively here (oneDNN's own check: AVX-512
    BW/VL/DQ or Arm BF16). An AVX2-only CPU answers no. Unknown (no oneDNN): assume yes."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


SLOW_BF16 = ("--precision bf16: this CPU lacks what torch's fast bfloat16 kernels need (torch reports {cap}; "
             "they need AVX-512 or Arm BF16), so every bfloat16 product runs in a slow fallback: a macflow update took "
             "7.1x as long as in float32 on an AVX2 CPU (benchmarks/results/train_precision_cpu_avx2.md). "
             "Use --precision fp32 (the CPU default); --compile on is the faster float32 update")


def apply_precision(algo, precision: str, device: str, allow_slow_bf16: bool = False) -> str:
    """Set ``algo.precision`` (its losses' autocast) and, on CUDA, the process's float32
    matmul mode (TF32 for ``tf32``, full float32 otherwise); returns the resolved precision.
    ``bf16`` on a CPU without bfloat16 instructions is refused unless ``allow_slow_bf16``
    (benchmarks time it to show the cost)."""
    import torch

    p = resolve_precision(precision, device)
    if p == "bf16" and not str(device).startswith("cuda") and not allow_slow_bf16 and not cpu_has_bf16():
        raise PrecisionError(SLOW_BF16.format(cap=torch.backends.cpu.get_cpu_capability()))
    algo.precision = "bf16" if p == "bf16" else "fp32"
    if str(device).startswith("cuda"):
        torch.set_float32_matmul_precision("high" if p == "tf32" else "highest")
    return p
