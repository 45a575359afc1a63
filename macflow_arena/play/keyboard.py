"""Human policies: keyboard (WASD / arrow keys) and gamepad (left analog stick).

Each drives exactly one seat and reads the ``InputState`` the play loop
updates every frame. Continuous action spaces get a force in [-1, 1]^2
(+x right, +y up; diagonals normalised to unit length); discrete ones get the
MPE moves 0 no-op, 1 left, 2 right, 3 down, 4 up (the most recently pressed
direction wins when several are held).
"""

from __future__ import annotations

import math

import numpy as np

from .input_state import InputState

# direction -> keys, per layout; "keyboard" uses both so one player can pick either.
LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "wasd": {"left": ("a",), "right": ("d",), "down": ("s",), "up": ("w",)},
    "arrows": {"left": ("left",), "right": ("right",), "down": ("down",), "up": ("up",)},
}
LAYOUTS["both"] = {d: LAYOUTS["wasd"][d] + LAYOUTS["arrows"][d] for d in LAYOUTS["wasd"]}
LAYOUT_HELP = {"wasd": "WASD", "arrows": "arrow keys", "both": "WASD/arrows"}

DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "down": (0.0, -1.0), "up": (0.0, 1.0)}
DISCRETE_MOVE = {"left": 1, "right": 2, "down": 3, "up": 4}  # 0 is no-op


def _unwrap(env):
    return getattr(env, "unwrapped", env)


class _HumanSeat:
    """Shared plumbing: one seat, its action space, the shared input state."""

    human = True
    controls = ""

    def __init__(self, env, seat: str, state: InputState):
        env = _unwrap(env)
        if seat not in env.possible_agents:
            raise ValueError(f"{seat!r} is not a seat of {getattr(env, 'env_id', env)}; seats: {env.possible_agents}")
        self.seat = seat
        self.state = state
        self.space = env.action_space(seat)
        self.discrete = hasattr(self.space, "n")
        force = getattr(self.space, "shape", None) == (2,) and not self.discrete
        if not (force or (self.discrete and self.space.n == 5)):
            raise ValueError(
                f"this seat kind plays a 2-D force or the 5 MPE moves; {seat} of "
                f"{getattr(env, 'env_id', env)} has action space {self.space}: use a seat kind made for it"
            )

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs):
        if self.seat not in obs:
            return {}
        return {self.seat: self.action()}

    def action(self):
        raise NotImplementedError

    def _continuous(self, x: float, y: float) -> np.ndarray:
        return np.clip(np.array([x, y], dtype=np.float32), -1.0, 1.0)


class KeyboardPolicy(_HumanSeat):
    """WASD and/or arrow keys for one seat (``layout``: "both", "wasd" or "arrows")."""

    def __init__(self, env, seat: str, state: InputState, layout: str = "both"):
        super().__init__(env, seat, state)
        if layout not in LAYOUTS:
            raise ValueError(f"unknown keyboard layout {layout!r}; known: {', '.join(LAYOUTS)}")
        self.layout = layout
        self.keys = LAYOUTS[layout]
        self.name = "keyboard" if layout == "both" else f"keyboard:{layout}"
        self.controls = LAYOUT_HELP[layout]
        self._key_dir = {k: d for d, ks in self.keys.items() for k in ks}

    def direction(self) -> tuple[float, float]:
        """The held direction, unit length on diagonals; (0, 0) when none."""
        x = y = 0.0
        for d, keys in self.keys.items():
            if any(self.state.active(k) for k in keys):
                dx, dy = DIRECTIONS[d]
                x += dx
                y += dy
        n = math.hypot(x, y)
        return (x / n, y / n) if n > 1.0 else (x, y)

    def action(self):
        if self.discrete:
            x, y = self.direction()
            if x == 0.0 and y == 0.0:  # nothing held, or opposite keys cancel
                return np.int64(0)
            for k in self.state.recent(self._key_dir):  # newest key that still counts
                d = self._key_dir[k]
                dx, dy = DIRECTIONS[d]
                if dx * x > 0 or dy * y > 0:
                    return np.int64(DISCRETE_MOVE[d])
            return np.int64(0)  # pragma: no cover (x or y is non-zero, so some key counts)
        return self._continuous(*self.direction())


class GamepadPolicy(_HumanSeat):
    """Left analog stick (axes 0 and 1) of one gamepad, with a radial deadzone.

    Inside ``deadzone`` the stick reads zero; outside it the magnitude is
    rescaled so it starts from zero at the edge of the deadzone.
    ``device=None`` reads the first gamepad that reports.
    """

    def __init__(self, env, seat: str, state: InputState, device: int | None = None, deadzone: float = 0.2):
        super().__init__(env, seat, state)
        if not 0.0 <= deadzone < 1.0:
            raise ValueError(f"deadzone must be in [0, 1), got {deadzone}")
        self.device = device
        self.deadzone = float(deadzone)
        self.name = "gamepad" if device is None else f"gamepad:{device}"

    @property
    def controls(self) -> str:
        return "left stick" if self.state.axes else "left stick: move it (gamepad connected?)"

    def stick(self) -> tuple[float, float]:
        x = self.state.axis(0, self.device)
        y = -self.state.axis(1, self.device)  # pygame's +y is down
        m = math.hypot(x, y)
        if m <= self.deadzone:
            return 0.0, 0.0
        scale = min(1.0, (m - self.deadzone) / (1.0 - self.deadzone)) / m
        return x * scale, y * scale

    def action(self):
        x, y = self.stick()
        if self.discrete:
            if x == 0.0 and y == 0.0:
                return np.int64(0)
            if abs(x) >= abs(y):
                return np.int64(DISCRETE_MOVE["left" if x < 0 else "right"])
            return np.int64(DISCRETE_MOVE["down" if y < 0 else "up"])
        return self._continuous(x, y)
