"""Command a whole skirmish team with the mouse, RTS style (``play --against``).

One policy drives every seat given to the ``commander`` kind (usually all the
enemy seats, with ``enemy_control = "external"``):

  left click on one of your units     select it (shift: add / remove it)
  left drag                           select your units inside the box
  Tab                                 select all your units
  right click on an opponent          the selected units attack it
  right click on one of your units    the selected healers heal it
  right click elsewhere               the selected units move there
  space / x                           the selected units stop

Units without an order fight on their own: they attack the weakest opponent in
range (healers heal the most wounded friend in range). Every action sent is
legal under the seat's mask. The selection is ringed, the first selected unit
shows its ranges, a move order its point.
"""

from __future__ import annotations

import numpy as np

from ..envs.skirmish.actions import ATTACK0, STOP
from .input_state import InputState
from .skirmish_input import STOP_KEYS, Side, _unwrap, follow_order

DRAG = 6  # pixels a left drag must exceed to be a box


class SkirmishCommander:
    human = True
    name = "commander"

    def __init__(self, env, seats: list[str], state: InputState):
        env = _unwrap(env)
        if getattr(env, "family", None) != "skirmish":
            raise ValueError(f"{getattr(env, 'env_id', env)} is not a skirmish map")
        bad = [s for s in seats if s not in env.possible_agents]
        if bad:
            raise ValueError(f"{bad} are not seats of {env.env_id}; seats: {env.possible_agents}")
        self.env = env
        self.state = state
        self.seats = list(seats)
        self.sides = {s: Side(env, s) for s in self.seats}
        self.units = {self.sides[s].unit: s for s in self.seats}
        ally_side = {side.is_ally for side in self.sides.values()}
        if len(ally_side) != 1:
            raise ValueError("a commander drives the units of one side only")
        self.side_name = "ally" if ally_side.pop() else "enemy"
        self.selected: list[int] = []
        self.orders: dict[int, tuple | None] = {}
        self._drag_from = None
        env.overlays.append(self.overlay)
        self.reset()

    @property
    def controls(self) -> str:
        return f"{len(self.selected)} selected: click/drag select, right-click attack/move, Tab all"

    def reset(self, seed: int | None = None) -> None:
        self.selected = sorted(self.units)
        self.orders = {u: None for u in self.units}
        self._drag_from = None

    def overlay(self) -> dict:
        alive = self.env.core.alive[0]
        sel = [u for u in self.selected if alive[u]]
        marker = next((o[1] for u in sel if (o := self.orders.get(u)) is not None and o[0] == "move"), None)
        return {"highlight": sel, "selected": sel[0] if sel else None, "marker": marker,
                "hud": [f"you command the {self.side_name} side: {self.controls}"]}

    # -- input ------------------------------------------------------------------------
    def _read_input(self) -> None:
        st = self.state
        if "tab" in st.pressed:
            self.selected = sorted(self.units)
        if any(k in st.pressed for k in STOP_KEYS):
            for u in self.selected:
                self.orders[u] = None
        shift = st.active("left shift") or st.active("right shift")
        for e in st.events:
            if e.pos is None:
                continue
            if e.kind == "mousedown" and e.button == 1:
                self._drag_from = e.pos
            elif e.kind == "mouseup" and e.button == 1 and self._drag_from is not None:
                self._select(self._drag_from, e.pos, shift)
                self._drag_from = None
            elif e.kind == "mousedown" and e.button == 3:
                self._command(e.pos)

    def _select(self, start, end, add: bool) -> None:
        env = self.env
        (x0, y0), (x1, y1) = start, end
        if max(abs(x1 - x0), abs(y1 - y0)) <= DRAG:
            unit = env.unit_at_pixel(x1, y1, side=self.side_name)
            if unit is None or unit not in self.units:
                return
            if add:
                self.selected = sorted(set(self.selected) ^ {unit})
            else:
                self.selected = [unit]
            return
        pix = env.drawer.to_pixels(env.core.pos[0])
        lo, hi = np.minimum(start, end), np.maximum(start, end)
        inside = [u for u in self.units if env.core.alive[0, u] and (lo <= pix[u]).all() and (pix[u] <= hi).all()]
        self.selected = sorted(set(self.selected) | set(inside)) if add else sorted(inside)

    def _command(self, pos) -> None:
        env = self.env
        px, py = pos
        foe_side = "ally" if self.side_name == "enemy" else "enemy"
        foe = env.unit_at_pixel(px, py, side=foe_side)
        friend = env.unit_at_pixel(px, py, side=self.side_name)
        healer = env.task.units.is_healer[env.core.types[0]]
        point = tuple(float(v) for v in env.pixel_to_world(px, py))
        for u in self.selected:
            if foe is not None and not healer[u]:
                self.orders[u] = ("attack", foe)
            elif friend is not None and healer[u] and friend != u:
                self.orders[u] = ("heal", friend)
            else:
                self.orders[u] = ("move", point)

    # -- actions -------------------------------------------------------------------------
    def act(self, obs):
        self._read_input()
        out = {}
        for seat in self.seats:
            if seat not in obs:
                continue
            side = self.sides[seat]
            mask = np.asarray(obs[seat]["action_mask"])
            order = self.orders.get(side.unit)
            if order is not None:
                act, keep = follow_order(self.env, side, order, mask)
                if not keep:
                    self.orders[side.unit] = None
            else:
                act = self._idle(side, mask)
            out[seat] = np.int64(act)
        return out

    def _idle(self, side: Side, mask: np.ndarray) -> int:
        """No order: attack the weakest opponent in range, or heal the most wounded friend."""
        core = self.env.core
        pool = core.hp[0] + core.shield[0]
        n_opp = side.actions.heal0 - ATTACK0
        attack = np.flatnonzero(mask[ATTACK0 : ATTACK0 + n_opp])
        if attack.size:
            return int(ATTACK0 + attack[np.argmin(pool[side.opp0 + attack])])
        if side.actions.has_heal:
            heal = np.flatnonzero(mask[side.actions.heal0 :])
            if heal.size:
                frac = core.hp[0, side.friend0 + heal] / core.max_hp[0, side.friend0 + heal]
                if frac.min() < 1.0:
                    return int(side.actions.heal0 + heal[np.argmin(frac)])
        return STOP


def commander_seats(ctx, seats: list[str], arg: str | None):
    if arg is not None:
        raise ValueError("the commander seat kind takes no argument")
    return SkirmishCommander(ctx.env, seats, ctx.input)


def against_seats(env_id: str, kind: str = "commander") -> list[str]:
    """Seat items that hand every enemy unit of ``env_id`` to one human commander
    (``play --against``; the seats exist with ``enemy_control="external"``)."""
    from ..registry import make

    env = make(env_id, enemy_control="external")
    try:
        return [f"{s}={kind}" for s in env.possible_agents if s.startswith("enemy_")]
    finally:
        env.close()
