"""K seeds of one algorithm updated as one: weights stacked on a leading seed axis.

``SeedStack(algos)`` takes K algorithms of one class, config and spec (built from K
seeds) and trains them together: every parameter and Adam moment becomes one
``[K, ...]`` tensor of a host algorithm, and an update is one
``torch.func.vmap(torch.func.grad(losses))`` over the seed axis followed by one
optimizer step and the algorithm's own ``end_step`` (Polyak averaging works on the
stacked tensors as it does on single ones). Nothing in the algorithms changes.

What keeps seed k of a stack the run of seed k alone (to float tolerance; a test
checks it for every algorithm):

* weights and optimizer moments start from each seed's own algorithm;
* every random number of an update comes from seed k's own training generator, in
  the order the single run draws it: the host's ``randn``/``rand``/``randint`` read
  from numbers drawn per seed before the vmapped call. The sequence of draws (kinds
  and shapes) is found once per set of active optimizers by a forward pass of
  seed 0's algorithm;
* parameters the single run leaves without a gradient (a module the loss does not
  reach this step) are not stepped: that pass records them too;
* the batch of seed k comes from seed k's sampler (the caller's job).

``write_back()`` copies the stacked state into the K algorithms (weights, moments,
step), which then evaluate, checkpoint and resume exactly as single runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from .base import Algorithm
from .batch import FIELDS, Batch
from .captured import set_group_lr
from .device_step import DeviceStep, skip_step_if


class SeedStackError(ValueError):
    """The algorithms cannot be stacked (names what differs)."""


class _Losses(nn.Module):
    """``host.losses`` as a module call, so ``torch.func.functional_call`` can swap the weights."""

    def __init__(self, host: Algorithm):
        super().__init__()
        self.nets = host.nets
        self._host = [host]  # a list: not a submodule

    def forward(self, fields: dict[str, Tensor], draws: list[Tensor]):
        host = self._host[0]
        it = iter(draws)
        host._draws = lambda kind, shape, high: next(it)
        try:
            with host.autocast():
                total, metrics = host.losses(Batch(**fields))
        finally:
            host._draws = None
        return total, (total.detach(), {k: v.detach() for k, v in metrics.items()})


class SeedStack:
    """See the module doc. ``algos``: one per seed, same class/config/spec/device/step."""

    def __init__(self, algos: Sequence[Algorithm]):
        algos = list(algos)
        if not algos:
            raise SeedStackError("a seed stack needs at least one algorithm")
        a0 = algos[0]
        for a in algos[1:]:
            if type(a) is not type(a0) or a.config != a0.config or a.spec != a0.spec or a.device != a0.device:
                raise SeedStackError("every seed must be the same algorithm, config, team and device")
            if a.step != a0.step:
                raise SeedStackError(f"seeds at different steps ({a0.step} and {a.step}); stack runs at one step")
        seeds = [a.seed for a in algos]
        if len(set(seeds)) != len(seeds):
            raise SeedStackError(f"seeds repeat: {seeds}")
        ref_buffers = {k: v for k, v in a0.nets.state_dict().items() if k not in dict(a0.nets.named_parameters())}
        for a in algos[1:]:
            for k, v in a.nets.state_dict().items():
                if k in ref_buffers and not torch.equal(v, ref_buffers[k]):
                    raise SeedStackError(f"buffer {k} differs between seeds (observation statistics of another dataset?)")
        self.algos = algos
        self.K = len(algos)
        self.host = type(a0)(a0.spec, a0.config, seed=a0.seed, device=a0.device)
        self.host.nets.load_state_dict(a0.nets.state_dict())
        self._names = [n for n, _ in self.host.nets.named_parameters()]
        for n in self._names:  # parameters become [K, ...] (targets keep requires_grad False)
            mod_name, _, leaf = n.rpartition(".")
            mod = self.host.nets.get_submodule(mod_name) if mod_name else self.host.nets
            old = mod._parameters[leaf]
            mod._parameters[leaf] = nn.Parameter(torch.stack([dict(a.nets.named_parameters())[n].detach() for a in algos]),
                                                 requires_grad=old.requires_grad)
        self.host.optimizers = self.host.build_optimizers()
        self.host.step = a0.step
        self._load_moments()
        self._call = _Losses(self.host)
        self._plans: dict[tuple[str, ...], tuple[list, set[str]]] = {}
        grad = torch.func.grad(self._loss_of, has_aux=True)
        self._vgrad = torch.func.vmap(grad, in_dims=(0, 0, 0, 0), randomness="error")

    @property
    def step(self) -> int:
        return self.host.step

    @property
    def seeds(self) -> list[int]:
        return [a.seed for a in self.algos]

    # -- state in and out ------------------------------------------------------------
    def _load_moments(self) -> None:
        """Adam moments of every seed, stacked (zeros and step 0 before any update)."""
        sds = [a.state_dict() for a in self.algos]
        for name, o in self.host.optimizers.items():
            i = 0
            for g in o.param_groups:
                for p in g["params"]:
                    key = f"optim.{name}.{i}."
                    if (key + "step") not in sds[0]:
                        raise SeedStackError(f"optimizer {name} has a different layout on the host")
                    step = sds[0][key + "step"]
                    if float(step) > 0:
                        o.state[p] = {"step": step.clone(),
                                      "exp_avg": torch.stack([sd[key + "exp_avg"] for sd in sds]).to(p.device),
                                      "exp_avg_sq": torch.stack([sd[key + "exp_avg_sq"] for sd in sds]).to(p.device)}
                    i += 1

    def write_back(self) -> None:
        """Copy the stacked weights, moments and step into each seed's algorithm."""
        sd = self.host.state_dict()
        stacked = {f"nets.{n}" for n in self._names}
        for k, a in enumerate(self.algos):
            own = a.state_dict()
            out = {}
            for key, v in sd.items():
                if key in stacked or key.endswith(".exp_avg") or key.endswith(".exp_avg_sq"):
                    out[key] = v[k]
                elif key == "rng.train":
                    out[key] = own[key]  # seed k's generator (it drew seed k's numbers)
                else:
                    out[key] = v
            a.load_state_dict(out)

    # -- one update -----------------------------------------------------------------
    def _loss_of(self, train_p: dict[str, Tensor], frozen_p: dict[str, Tensor], fields: dict[str, Tensor], draws: list[Tensor]):
        params = {f"nets.{n}": v for n, v in {**train_p, **frozen_p}.items()}
        return torch.func.functional_call(self._call, params, (fields, draws), strict=False)

    def _plan(self, batch: Batch) -> tuple[list, set[str]]:
        """The draws of one update (kind, shape, high) and the parameters it leaves without a
        gradient, from a forward and backward pass of seed 0's own algorithm (its generator and
        weights are left as they were)."""
        key = tuple(self.host.active_optimizers())
        if key in self._plans:
            return self._plans[key]
        a = self.algos[0]
        draws: list[tuple[str, tuple[int, ...], int]] = []
        g = torch.Generator(device=a.device)
        g.set_state(a.gen.get_state())

        def record(kind, shape, high):
            draws.append((kind, tuple(int(s) for s in shape), int(high)))
            return _draw(kind, shape, high, g, a.device)

        saved_step, a.step = a.step, self.host.step
        a._draws = record
        try:
            with a.autocast():
                total, _ = a.losses(batch)
            params = [p for _, p in a.nets.named_parameters() if p.requires_grad]
            grads = torch.autograd.grad(total, params, allow_unused=True)
        finally:
            a._draws = None
            a.step = saved_step
        trainable = [n for n, p in a.nets.named_parameters() if p.requires_grad]
        unused = {n for n, gr in zip(trainable, grads) if gr is None}
        self._plans[key] = (draws, unused)
        return self._plans[key]

    def update(self, batches: Sequence[Batch]) -> list[dict[str, float]]:
        """One gradient step of every seed (``batches[k]`` for seed k); returns each seed's float
        metrics. Raises FloatingPointError naming the seed (and steps nobody) on a non-finite loss
        or gradient."""
        if len(batches) != self.K:
            raise ValueError(f"{len(batches)} batches for {self.K} seeds")
        batches = [self.host.prepare(b) for b in batches]
        keys, table, apply = self._grads(batches)
        out = [dict(zip(keys, row)) for row in table.T.tolist()]  # [K, M]
        for k, row in enumerate(out):
            bad = [m for m, v in row.items() if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(f"{self.host.name} seed {self.algos[k].seed}: non-finite {bad}")
        apply(None)
        return out

    def update_device(self, batches: Sequence[Batch]) -> list[DeviceStep]:
        """``update`` without a host sync (``Algorithm.update_device``): each seed's metrics come
        back unread, one ``DeviceStep`` per seed (``device_step.read_steps``); where any seed's batch
        fails a value check or any seed's loss or gradient is not finite, no seed steps (one fused
        optimizer step for all) and ``read_steps`` names that seed."""
        if len(batches) != self.K:
            raise ValueError(f"{len(batches)} batches for {self.K} seeds")
        batches = [b.to(self.host.device) for b in batches]
        checked = [b.value_checks(self.host.spec) for b in batches]
        keys, table, apply = self._grads(batches)
        flags = torch.stack([f for _, f in checked])  # [K, C]
        apply(flags.any() | ~torch.isfinite(table).all())
        return [DeviceStep(f"{self.host.name} seed {a.seed}", self.host.step, keys, table[:, k], checked[k][0], flags[k])
                for k, a in enumerate(self.algos)]

    def _grads(self, batches: list[Batch]):
        """Every seed's losses and gradients: the metric names, their values [M, K] on the device,
        and ``apply(bad)``, which steps the optimizers (skipped on the device where the 0-d bool
        ``bad`` is True; None: step) and the targets."""
        draws, unused = self._plan(batches[0])
        per_seed = [[_draw(kind, shape, high, a.gen, a.device) for kind, shape, high in draws] for a in self.algos]
        stacked_draws = [torch.stack([d[j] for d in per_seed]) for j in range(len(draws))]
        fields = {f: torch.stack([getattr(b, f) for b in batches]) for f in FIELDS if getattr(batches[0], f) is not None}
        named = dict(self.host.nets.named_parameters())
        train_p = {n: p.detach() for n, p in named.items() if p.requires_grad}
        frozen_p = {n: p.detach() for n, p in named.items() if not p.requires_grad}
        grads, (total, metrics) = self._vgrad(train_p, frozen_p, fields, stacked_draws)
        used = [n for n in train_p if n not in unused]
        norms = torch.stack([grads[n].flatten(1).norm(dim=1) for n in used]) if used else total.new_zeros(1, self.K)
        gnorm = torch.linalg.vector_norm(norms, dim=0)
        keys = list(metrics) + ["loss/total", "grad/norm"]
        table = torch.stack([*(metrics[k].float() for k in metrics), total.float(), gnorm])  # [M, K]

        def apply(bad: Tensor | None) -> None:
            names = self.host.active_optimizers()
            for o in self.host.optimizers.values():
                o.zero_grad(set_to_none=True)
            for n in used:
                named[n].grad = grads[n]
            for k in names:
                if bad is None:
                    self.host.optimizers[k].step()
                else:
                    skip_step_if(self.host.optimizers[k], bad)
            self.host.end_step()
            self.host.step += 1

        return keys, table, apply

    def set_lr(self, fn: Callable[[dict], float]) -> None:
        """Set every parameter group's ``lr`` to ``fn(group)``."""
        for o in self.host.optimizers.values():
            for g in o.param_groups:
                set_group_lr(g, fn(g))


def _draw(kind: str, shape, high: int, gen: torch.Generator, device) -> Tensor:
    if kind == "randn":
        return torch.randn(tuple(shape), generator=gen, device=device)
    if kind == "rand":
        return torch.rand(tuple(shape), generator=gen, device=device)
    return torch.randint(0, high, tuple(shape), generator=gen, device=device)
