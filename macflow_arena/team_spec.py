"""``TeamSpec``: the shapes a team's networks are built for (no torch: team folders are read
and played without it, see ``teams/numpy_act.py``; ``algos.base`` re-exports it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TeamSpec:
    """The shapes an algorithm is built for; a checkpoint records it."""

    n_agents: int  # N, agents in the team
    obs_dim: int  # D, per-agent observation size (without the agent id)
    action_dim: int  # A for continuous actions in [-1, 1]; the number of actions if discrete
    discrete: bool = False  # categorical actions with availability masks
    state_dim: int = 0  # S, global state size (0: none)
    # Entity layout of an observation (``envs/layout.py``): ((name, ((index, ...), ...)), ...),
    # "self" first. Empty: flat (every network reads o_i as one vector, a plain MLP).
    entities: tuple = ()

    def __post_init__(self):
        for k in ("n_agents", "obs_dim", "action_dim"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"TeamSpec.{k} must be a positive int, got {v!r}")
        if self.discrete and self.action_dim < 2:
            raise ValueError("a discrete TeamSpec needs action_dim (number of actions) >= 2")
        if self.entities:
            from .envs.layout import is_flat, normalize_layout

            lay = normalize_layout(self.entities, self.obs_dim)
            object.__setattr__(self, "entities", () if is_flat(lay) else lay)
        else:
            object.__setattr__(self, "entities", ())

    @property
    def layout(self) -> tuple:
        """The entity layout, flat when none was given."""
        from .envs.layout import flat_layout

        return self.entities or flat_layout(self.obs_dim)

    def to_dict(self) -> dict:
        """JSON form (what checkpoints, run configs and teams store)."""
        from .envs.layout import layout_to_json

        d = {k: getattr(self, k) for k in ("n_agents", "obs_dim", "action_dim", "discrete", "state_dim")}
        if self.entities:
            d["entities"] = layout_to_json(self.entities)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TeamSpec":
        return cls(**d)

    def check_compatible(self, other: TeamSpec, what: str = "env") -> None:
        """Raise a ValueError naming every difference (e.g. a team loaded for another env)."""
        diffs = [
            f"{k}: trained with {getattr(self, k)!r}, {what} has {getattr(other, k)!r}"
            for k in ("n_agents", "obs_dim", "action_dim", "discrete")
            if getattr(self, k) != getattr(other, k)
        ]
        if diffs:
            raise ValueError(f"checkpoint does not fit this {what}: " + "; ".join(diffs))
