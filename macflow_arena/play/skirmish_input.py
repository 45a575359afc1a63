"""Human control of one skirmish unit: keyboard and mouse, with standing orders.

Keyboard (``keys=True``):
  WASD / arrows   move while held (the newest key wins; releasing stops)
  1..9, 0         attack the enemy labelled with that number (0 = the tenth);
                  a healer heals the ally labelled 0..9 instead
  space / x       stop (cancel the order)
Mouse (``mouse=True``):
  left click      move to that point
  right click     on an enemy: attack it; on an ally (healer): heal it;
                  elsewhere: move there

Orders stand until done: an attack order chases the target until it is in
range, then attacks it every step until it dies; a move order walks (along the
legal move best aligned with the goal) until the unit is there. Every action
sent is legal under the seat's action mask.
"""

from __future__ import annotations

import numpy as np

from ..envs.skirmish.actions import ATTACK0, STOP
from ..envs.skirmish.maps import DIRECTIONS
from .input_state import InputState
from .keyboard import LAYOUT_HELP, LAYOUTS

# keyboard direction -> action (2 north, 3 south, 4 east, 5 west)
MOVE_ACTION = {"up": 2, "down": 3, "right": 4, "left": 5}
DIGITS = {str(d): d for d in range(10)}
DIGITS.update({f"[{d}]": d for d in range(10)})  # keypad, as pygame names it
DIGITS.update({f"keypad {d}": d for d in range(10)})
STOP_KEYS = ("space", "x")


def _unwrap(env):
    return getattr(env, "unwrapped", env)


def unit_for_key(env, digit: int, side: str) -> int | None:
    """The unit of ``side`` ("ally" or "enemy") labelled with number key ``digit``:
    allies carry their index (0..9), enemies 1..9 then 0 for the tenth."""
    a, e = env.task.n_allies, env.task.n_enemies
    if side == "ally":
        return digit if digit < a else None
    k = 9 if digit == 0 else digit - 1
    return a + k if k < e else None


class Side:
    """One seat's view of the sides: its unit, its opponents and friends, its actions."""

    def __init__(self, env, seat: str):
        a = env.task.n_allies
        self.unit = env.unit_of(seat)
        self.is_ally = self.unit < a
        self.opp0, self.friend0 = (a, 0) if self.is_ally else (0, a)
        self.opp_side, self.friend_side = ("enemy", "ally") if self.is_ally else ("ally", "enemy")
        self.actions = env.actions_of(seat)

    def slot(self, order) -> int | None:
        kind, unit = order
        if kind == "attack":
            return ATTACK0 + unit - self.opp0
        if kind == "heal" and self.actions.has_heal:
            return self.actions.heal0 + unit - self.friend0
        return None


def follow_order(env, side: Side, order, mask: np.ndarray) -> tuple[int, bool]:
    """(legal action, order still standing) for ``order`` of ``side``'s unit.

    Attack/heal: act when the mask allows it, else chase the target while it
    lives. Move: the legal move that brings the unit closest to the point; when
    none gets closer the unit has arrived.
    """
    core = env.core
    if order is None:
        return STOP, False
    kind, what = order
    me = core.pos[0, side.unit]
    if kind == "move":
        goal = np.asarray(what) - me
    else:
        slot = side.slot(order)
        if slot is not None and mask[slot]:
            return slot, True
        if not core.alive[0, what] or slot is None:
            return STOP, False
        goal = core.pos[0, what] - me
    after = np.linalg.norm(goal[None] - DIRECTIONS * core.move_len[0, side.unit], axis=1)
    after = np.where(mask[2:6].astype(bool), after, np.inf)
    best = int(np.argmin(after))
    if not after[best] < np.linalg.norm(goal) - 1e-9:
        return STOP, kind != "move"
    return 2 + best, True


def describe(env, order) -> str:
    from ..render.skirmish import enemy_key_label

    if order is None:
        return "no order"
    kind, what = order
    if kind == "move":
        return f"move to ({what[0]:.0f}, {what[1]:.0f})"
    a = env.task.n_allies
    label = f"ally {what}" if what < a else f"enemy {enemy_key_label(what - a)}"
    return f"{kind} {label}"


class SkirmishHumanPolicy:
    human = True

    def __init__(self, env, seat: str, state: InputState, keys: bool = True, mouse: bool = True,
                 layout: str = "both"):
        env = _unwrap(env)
        if getattr(env, "family", None) != "skirmish":
            raise ValueError(f"{getattr(env, 'env_id', env)} is not a skirmish map")
        if seat not in env.possible_agents:
            raise ValueError(f"{seat!r} is not a seat of {env.env_id}; seats: {env.possible_agents}")
        if layout not in LAYOUTS:
            raise ValueError(f"unknown keyboard layout {layout!r}; known: {', '.join(LAYOUTS)}")
        if not (keys or mouse):
            raise ValueError("a human seat needs keys or the mouse")
        self.env = env
        self.seat = seat
        self.state = state
        self.keys, self.mouse = keys, mouse
        self.side = Side(env, seat)
        self.unit = self.side.unit
        self.healer = False  # read from the unit's type every step (procedural maps draw types)
        self._move_keys = {k: d for d, ks in LAYOUTS[layout].items() for k in ks}
        self.name = "keyboard" if keys else "mouse"
        parts = []
        if keys:
            parts.append(f"{LAYOUT_HELP[layout]}, 1-9 attack")
        if mouse:
            parts.append("mouse")
        self._help = ", ".join(parts)
        self.order: tuple | None = None  # ("move", (x, y)) | ("attack", unit) | ("heal", unit)
        env.overlays.append(self.overlay)

    # -- Policy protocol ------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        self.order = None

    def act(self, obs):
        if self.seat not in obs:
            return {}
        mask = np.asarray(obs[self.seat]["action_mask"])
        return {self.seat: np.int64(self.action(mask))}

    @property
    def controls(self) -> str:
        return f"{self._help} | {describe(self.env, self.order)}"

    def overlay(self) -> dict:
        """What the renderer adds for this seat: the point of a move order."""
        return {"marker": self.order[1] if self.order is not None and self.order[0] == "move" else None}

    # -- input -> orders -> action ------------------------------------------------------
    def action(self, mask: np.ndarray) -> int:
        core = self.env.core
        self.healer = bool(self.env.task.units.is_healer[core.types[0, self.unit]])
        if self.keys:
            held = self._read_keys()
            if held is not None:
                self.order = None
                return held if mask[held] else STOP
        if self.mouse:
            self._read_mouse()
        act, keep = follow_order(self.env, self.side, self.order, mask)
        if not keep:
            self.order = None
        return act

    def _read_keys(self) -> int | None:
        """Number/stop keys set orders; a held direction key is returned as a move."""
        side = self.side
        for key in self.state.pressed:
            if key in DIGITS:
                if self.healer:
                    unit = unit_for_key(self.env, DIGITS[key], side.friend_side)
                    if unit is not None and unit != self.unit:
                        self.order = ("heal", unit)
                else:
                    unit = unit_for_key(self.env, DIGITS[key], side.opp_side)
                    if unit is not None:
                        self.order = ("attack", unit)
            elif key in STOP_KEYS:
                self.order = None
        recent = self.state.recent(self._move_keys)
        if recent:
            return MOVE_ACTION[self._move_keys[recent[0]]]
        return None

    def _read_mouse(self) -> None:
        side = self.side
        for click in self.state.clicks:
            if click.pos is None:
                continue
            px, py = click.pos
            if click.button == 3:
                foe = self.env.unit_at_pixel(px, py, side=side.opp_side)
                if foe is not None and not self.healer:
                    self.order = ("attack", foe)
                    continue
                friend = self.env.unit_at_pixel(px, py, side=side.friend_side)
                if friend is not None and self.healer and friend != self.unit:
                    self.order = ("heal", friend)
                    continue
            if click.button in (1, 3):
                self.order = ("move", tuple(float(v) for v in self.env.pixel_to_world(px, py)))


def skirmish_seat(ctx, seats: list[str], kind: str, arg: str | None):
    """Build the human policy of a ``keyboard`` or ``mouse`` seat on a skirmish map."""
    (seat,) = seats
    if kind == "mouse":
        if arg is not None:
            raise ValueError("the mouse seat kind takes no argument")
        return SkirmishHumanPolicy(ctx.env, seat, ctx.input, keys=False, mouse=True)
    return SkirmishHumanPolicy(ctx.env, seat, ctx.input, keys=True, mouse=True, layout=arg or "both")
