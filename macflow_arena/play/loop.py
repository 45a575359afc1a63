"""The interactive play loop: humans and policies mixed per seat, one env step per frame.

Keys (whatever the seats): R resets the episode (next seed), P pauses,
Esc or closing the window quits. Episodes restart by themselves when they
end, until ``max_episodes``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from .events import EventSource, NoEvents
from .input_state import InputState
from .seats import build_seating, default_human_seats, parse_seats, seat_overrides, session_quality, with_team
from .session import Session, random_seed

KEYS_HELP = "R reset  P pause  Esc quit"


@dataclass
class PlayResult:
    env_id: str
    seed: int  # episode k used seed + k
    seats: dict[str, str]  # seat -> kind
    human_seats: list[str] = field(default_factory=list)
    frames: int = 0  # loop iterations (one env step each, except on reset and pause)
    steps: int = 0  # env steps in total
    episodes: int = 0  # episodes that reached their end
    returns: list[float] = field(default_factory=list)  # team return of each finished episode
    resets: int = 0  # episodes restarted with R
    quit: bool = False  # Esc or window closed
    episode_step: int = 0  # steps into the episode running when the loop stopped
    last_obs: dict[str, Any] = field(default_factory=dict)
    frames_rgb: list[np.ndarray] | None = None  # when record_frames=True
    wall_s: float = 0.0



class FpsMeter:
    def __init__(self, window: int = 20):
        self._t: deque[float] = deque(maxlen=window)

    def tick(self) -> float:
        self._t.append(time.perf_counter())
        if len(self._t) < 2:
            return 0.0
        return (len(self._t) - 1) / max(self._t[-1] - self._t[0], 1e-9)


def play(
    env_id: str,
    seats: Iterable[str] | Mapping[str, str] | None = None,
    *,
    events: EventSource | None = None,
    headless: bool = False,
    max_frames: int | None = None,
    max_episodes: int | None = None,
    fps: int | None = None,
    seed: int | None = None,
    record_frames: bool = False,
    overrides: Mapping[str, Any] | None = None,
    size: int | None = None,
    record: str | None = None,
    team: str | None = None,
    require_display: bool = False,
) -> PlayResult:
    """Play ``env_id``: ``seats`` like ``["agent_0=keyboard", "agent_1=random"]``.

    ``seats=None`` puts you on the first seat (keyboard in particle games,
    see ``seats.DEFAULT_HUMAN_KIND``); unnamed seats are scripted. ``events`` defaults to the pygame window's events (none when
    headless). The window runs at ``fps`` (default: the env's
    ``render_fps``); headless runs as fast as possible and draws only when
    ``record_frames``. Stops at ``max_frames`` / ``max_episodes`` / Esc.
    ``record`` names a dataset that stores every finished episode (quality from the seats:
    "human" when a person plays, see ``seats.session_quality``).
    ``team`` (a team name or folder) plays every seat ``seats`` does not name
    (with ``seats=None``: you on the first seat, the team on the others).
    ``require_display`` raises ``display.NoDisplayError`` when the window opened on
    SDL's invisible dummy/offscreen driver (the CLI sets it; tests drive the window there).
    """
    from ..registry import make

    if headless and max_frames is None and max_episodes is None:
        raise ValueError("headless play needs max_frames or max_episodes (it would never end)")
    seed = random_seed() if seed is None else int(seed)
    specs = parse_seats(seats) if seats is not None else None
    env_overrides = dict(overrides or {})
    if specs:
        env_overrides.update(seat_overrides(env_id, specs, env_overrides))
    env = make(env_id, render_mode="rgb_array", **env_overrides)
    window = None
    try:
        state = InputState()
        specs = specs if specs is not None else default_human_seats(env)
        if team is not None:
            specs = with_team(specs, team)
        seating = build_seating(env, specs, state, seed)
        if record is not None:  # a dataset (name or path): finished episodes commit at once, see data/human.py
            from ..data.human import record_play

            env = record_play(env, record, quality=session_quality(seating.kinds))
            env.set_seats(policies=seating.kinds, human_seats=seating.human_seats)
        session = Session(env, seating, seed=seed, size=size)
        fps = int(fps or env.metadata.get("render_fps", 10))
        result = PlayResult(env_id=env.metadata.get("name", env_id), seed=session.seed, seats=dict(seating.kinds))
        result.human_seats = seating.human_seats
        result.frames_rgb = [] if record_frames else None
        session.reset()
        if not headless:
            from ..render.window import Window

            first = session.frame(_hud(seating, fps, 0.0, False))
            window = Window(result.env_id, first.shape[1], first.shape[0], fps=fps)
            if require_display:
                from .display import NoDisplayError, invisible_driver_reason

                reason = invisible_driver_reason(window.driver)
                if reason is not None:
                    raise NoDisplayError(reason)
            window.show(first)
        if events is None:
            if headless:
                events = NoEvents()
            else:
                from .events import PygameEventSource

                events = PygameEventSource()
        _run(session, state, events, window, result, fps, max_frames, max_episodes)
        result.steps = session.total_steps
        result.episode_step = session.t
        result.last_obs = dict(session.obs)
        return result
    finally:
        if window is not None:
            window.close()
        env.close()


def _run(session, state, events, window, result, fps, max_frames, max_episodes) -> None:
    meter = FpsMeter()
    paused = False
    start = time.perf_counter()
    while max_frames is None or result.frames < max_frames:
        state.update(events.poll())
        if state.quit or state.was_pressed("escape"):
            result.quit = True
            break
        if state.was_pressed("p"):
            paused = not paused
        if state.was_pressed("r"):
            session.reset()
            result.resets += 1
        elif not paused:
            if session.done:
                session.reset()
            elif session.step():
                result.episodes += 1
                result.returns.append(session.episode_return)
        measured = meter.tick()
        if window is not None or result.frames_rgb is not None:
            frame = session.frame(_hud(session.seating, fps, measured, paused))
            if result.frames_rgb is not None:
                result.frames_rgb.append(frame)
            if window is not None:
                window.show(frame)
        result.frames += 1
        if max_episodes is not None and result.episodes >= max_episodes:
            break
    result.wall_s = time.perf_counter() - start


def _hud(seating, fps: int, measured: float, paused: bool) -> list[str]:
    lines = [f"fps {measured:.0f}/{fps}"]
    for p in seating.humans:
        lines.append(f"you: {p.seat} ({p.controls})")
    for p, _ in seating.groups:  # teams: per-decision latency
        line = getattr(p, "hud_line", None)
        if callable(line):
            lines.append(line())
    if paused:
        lines.append("PAUSED (P resumes)")
    lines.append(KEYS_HELP)
    return lines
