"""Data-parallel training across processes (``torchrun --nproc_per_node=K -m macflow_arena train ...``).

The algorithms own their optimizers, so instead of wrapping modules in DDP the
trainer installs ``Algorithm.grad_hook``: after backward, the gradients of every
trainable parameter are averaged over the ranks (one flat all-reduce), then each
rank takes the same optimizer step. Weights start equal (same seed, and rank 0's
are broadcast), so the ranks stay in sync. Backend: NCCL on CUDA, gloo on CPU.
Each rank samples its own windows (sampler seeded by rank); only rank 0 writes
checkpoints, logs and evaluations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """True when started by torchrun (its environment variables are set) with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def setup(device: str) -> DistInfo:
    """Join the process group torchrun prepared (no-op for one process). Returns this rank's place."""
    if not launched():
        return DistInfo()
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    cuda = torch.device(device).type == "cuda"
    if not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(local)
        dist.init_process_group(backend="nccl" if cuda else "gloo")
        # Leave the group before the interpreter tears down: gloo's threads left to process exit
        # can abort a rank ("terminate called without an active exception", seen in CI).
        import atexit

        atexit.register(cleanup, DistInfo(rank, world, local))
    return DistInfo(rank, world, local)


def device_for(info: DistInfo, device: str) -> str:
    """One GPU per process under torchrun (``cuda`` -> ``cuda:LOCAL_RANK``)."""
    if info.enabled and device == "cuda":
        return f"cuda:{info.local_rank}"
    return device


def allreduce_grads(algo, params) -> None:
    """The grad hook: average the gradients of ``params`` over the ranks (in place)."""
    import torch.distributed as dist

    world = dist.get_world_size()
    ps = [p for p in params if p.grad is not None]  # the same set on every rank (same code path)
    if not ps:
        return
    flat = torch.cat([p.grad.reshape(-1) for p in ps])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= world
    off = 0
    for p in ps:
        n = p.numel()
        p.grad = flat[off : off + n].view_as(p).clone()
        off += n


def attach(algo, info: DistInfo) -> None:
    """Broadcast rank 0's weights and install the gradient all-reduce hook."""
    if not info.enabled:
        return
    import torch.distributed as dist

    with torch.no_grad():
        for t in algo.nets.state_dict().values():
            dist.broadcast(t, src=0)
    algo.grad_hook = allreduce_grads


def barrier(info: DistInfo) -> None:
    if info.enabled:
        import torch.distributed as dist

        dist.barrier()


def cleanup(info: DistInfo) -> None:
    if info.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()  # no rank leaves while another still talks to it
            dist.destroy_process_group()
