"""The timer every benchmark uses (median of repeats after warm-up) and the machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path


def sync(device) -> None:
    """Wait for queued CUDA work so wall time covers it (no-op on CPU)."""
    if getattr(device, "type", str(device).split(":")[0]) == "cuda":
        import torch

        torch.cuda.synchronize()


def timed(fn, device, min_repeats: int, budget_s: float, warmup: int) -> tuple[float, int]:
    """Median seconds per call: at least ``min_repeats`` calls, more while under budget
    (a call slower than 0.5 s gets no more warm-up and at most 3 timed calls)."""
    t0 = time.perf_counter()
    fn()
    sync(device)
    if time.perf_counter() - t0 > 0.5:
        warmup, min_repeats = 0, min(min_repeats, 3)
    for _ in range(max(0, warmup - 1)):
        fn()
    sync(device)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_repeats or (time.perf_counter() - start < budget_s and len(times) < 2000):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def fmt_ms(s: float) -> str:
    """Seconds as milliseconds with 3 significant-ish digits."""
    ms = s * 1e3
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> str:
    """CPU, cores, OS, Python and numpy versions in one line."""
    import numpy

    return (
        f"{cpu_name()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}"
    )
