"""``train --compile graph``: the whole update captured once as a CUDA graph, then replayed.

An update (``Algorithm.update_device`` or ``SeedStack.update_device``: losses, backward, the
gradient norm, the fused Adam step, the targets' Polyak step) launches hundreds of small
kernels; on a GPU their launch cost and Python, not arithmetic, bound it. ``CapturedUpdate``
runs the first ``warmup`` updates eagerly (CUDA: on a side stream, as torch's whole-network
capture recipe asks), captures the next one into a graph with static input buffers, and from
then on copies each batch into those buffers and replays: one launch per update.

What capture needs, and where it comes from:

* no host read inside the update: ``update_device`` keeps value checks, metrics and the skip
  of a bad step on the device;
* the optimizer's learning rate as a device tensor and ``capturable`` Adam (``capture_ready``);
  the trainer's schedule then writes the tensor in place (``set_group_lr``);
* each training generator registered with the graph, so every replay draws new numbers;
* static shapes: the trainer samples the same batch size every update;
* Python that depends on the step (MA-TD3+BC's delayed actor updates on every second step)
  gets one graph per set of active optimizers (``key``).

The metrics of a replay are copied out of the graph's static outputs (a device copy, no sync).
The graph logic runs on CPU in the tests through ``EagerGraph`` (a stand-in that re-runs the
update on the static buffers); the CUDA capture itself runs only on a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch
from torch import Tensor

from .batch import FIELDS, Batch
from .device_step import DeviceStep


class CaptureError(RuntimeError):
    """Capturing the update as a CUDA graph failed (the message says what torch reported)."""


def require_cuda(device) -> None:
    """ValueError naming the fix unless ``device`` is a CUDA device."""
    if torch.device(device).type != "cuda":
        raise ValueError(f"--compile graph captures the update as a CUDA graph: it needs --device cuda, "
                         f"not {device}. On CPU use --compile off (the default) or on")


def set_group_lr(group: dict, value: float) -> None:
    """Set a parameter group's learning rate: in place where it is a tensor (a captured update
    reads that tensor), else the float."""
    lr = group["lr"]
    if isinstance(lr, Tensor):
        lr.fill_(value)
    else:
        group["lr"] = value


def capture_ready(optimizers, device: torch.device) -> None:
    """Make fused Adam optimizers capturable: learning rates as device tensors, ``capturable``
    set. Raises ValueError naming what stops it (an optimizer without the fused kernel)."""
    for name, o in optimizers.items():
        if not o.defaults.get("fused"):
            raise ValueError(f"--compile graph needs the fused Adam; optimizer {name!r} is not fused "
                             f"(torch {torch.__version__}); use --compile off")
        for g in o.param_groups:
            if not isinstance(g["lr"], Tensor):
                g["lr"] = torch.tensor(float(g["lr"]), dtype=torch.float32, device=device)
            g["capturable"] = True


class CudaGraph:
    """One ``torch.cuda.CUDAGraph``: ``capture(fn)`` records fn's kernels (running none) and
    returns its outputs, the graph's static outputs; ``replay()`` runs them again."""

    capture_runs = False  # capturing records the kernels; a replay runs them

    def __init__(self, generators: list[torch.Generator]):
        self.graph = torch.cuda.CUDAGraph()
        self.generators = generators

    def capture(self, fn: Callable):
        for g in self.generators:
            self.graph.register_generator_state(g)
        torch.cuda.synchronize()
        with torch.cuda.graph(self.graph):
            return fn()

    def replay(self) -> None:
        self.graph.replay()


class EagerGraph:
    """A stand-in for ``CudaGraph`` on any device (tests): ``capture`` runs fn once and keeps its
    output tensors; ``replay`` runs fn again and copies the new outputs into the kept ones, as a
    CUDA graph's replay rewrites its static outputs."""

    capture_runs = True

    def __init__(self, generators=None):
        self.fn, self.out = None, None

    def capture(self, fn: Callable):
        self.fn = fn
        self.out = fn()
        return self.out

    def replay(self) -> None:
        for kept, new in zip(_steps(self.out), _steps(self.fn())):
            kept.values.copy_(new.values)
            kept.flags.copy_(new.flags)


def _steps(out) -> list[DeviceStep]:
    return out if isinstance(out, list) else [out]


def _batches(x) -> list[Batch]:
    return x if isinstance(x, list) else [x]


def _copy_into(static: list[Batch], batches: list[Batch]) -> None:
    for s, b in zip(static, batches):
        for f in FIELDS:
            dst, src = getattr(s, f), getattr(b, f)
            if (dst is None) != (src is None) or (dst is not None and dst.shape != src.shape):
                raise ValueError(f"--compile graph replays one batch shape: {f} is "
                                 f"{None if src is None else tuple(src.shape)}, the graph was captured with "
                                 f"{None if dst is None else tuple(dst.shape)}")
            if dst is not None:
                dst.copy_(src, non_blocking=True)


class CapturedUpdate:
    """``update(batch) -> DeviceStep`` (or ``update(batches) -> list[DeviceStep]`` for a seed stack)
    run through a captured graph. ``owner``: the object whose ``step`` the update advances (the
    algorithm or the stack) and whose ``active_optimizers()`` picks the graph; ``make_graph``: a
    ``CudaGraph``-like factory (default: ``CudaGraph`` with ``generators``, which needs a CUDA ``device``:
    ValueError naming the way out elsewhere)."""

    def __init__(self, update: Callable, owner, optimizers: dict, generators: list[torch.Generator],
                 device, warmup: int = 3, make_graph: Callable | None = None):
        self.update, self.owner, self.warmup = update, owner, int(warmup)
        self.device = torch.device(device)
        if make_graph is None:
            require_cuda(self.device)
        self.make_graph = make_graph or (lambda: CudaGraph(generators))
        capture_ready(optimizers, self.device)
        self.graphs: dict[tuple, tuple] = {}  # active optimizers -> (graph, static batches, static outputs)
        self.eager_calls: dict[tuple, int] = {}

    def __call__(self, batches):
        key = tuple(self.owner.active_optimizers())
        if key not in self.graphs:
            n = self.eager_calls.get(key, 0)
            if n < self.warmup:
                self.eager_calls[key] = n + 1
                return self._eager(batches)
            static = [replace(b, **{f: None if getattr(b, f) is None else getattr(b, f).clone() for f in FIELDS})
                      for b in _batches(batches)]
            arg = static if isinstance(batches, list) else static[0]
            graph, step = self.make_graph(), self.owner.step
            try:
                out = graph.capture(lambda: self.update(arg))
            except Exception as e:  # torch's capture errors are RuntimeErrors deep in the update
                self.owner.step = step
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                raise CaptureError(f"the CUDA graph capture of the update failed ({type(e).__name__}: {first})") from e
            self.owner.step = step  # the capture's Python ran once; the updates are counted per replay
            self.graphs[key] = (graph, static, out)
            if graph.capture_runs:  # the stand-in ran the update while capturing
                self.owner.step = step + 1
                return self._fresh(out)
        graph, static, out = self.graphs[key]
        _copy_into(static, _batches(batches))
        step = self.owner.step
        graph.replay()
        self.owner.step = step + 1
        return self._fresh(out)

    def _eager(self, batches):
        if self.device.type != "cuda":
            return self.update(batches)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            out = self.update(batches)
        torch.cuda.current_stream().wait_stream(side)
        return out

    def _fresh(self, out):
        """This replay's metrics: copies of the static outputs, numbered with the owner's step."""
        steps = [replace(s, step=self.owner.step, values=s.values.clone(), flags=s.flags.clone()) for s in _steps(out)]
        return steps if isinstance(out, list) else steps[0]
