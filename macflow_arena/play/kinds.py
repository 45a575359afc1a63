"""Seat kinds: the names users write after ``AGENT=`` and how each builds a policy.

A kind is looked up by the text before the first ``:``; the rest is its
argument (``keyboard:wasd``, ``gamepad:1``, ``team:NAME``). Human kinds
build one policy per seat and read the shared ``InputState``; other kinds
build one policy for all their seats (same kind and argument).
Add a kind with ``register_kind(SeatKind(...))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .input_state import InputState


@dataclass(frozen=True)
class SeatContext:
    env: Any  # the PettingZoo ParallelEnv being played
    input: InputState  # updated by the play loop every frame; human policies read it
    seed: int | None = None  # run seed (policies are also reset with each episode's seed)


@dataclass(frozen=True)
class SeatKind:
    name: str
    build: Callable[[SeatContext, list[str], "str | None"], Any]  # (ctx, seats, arg) -> Policy
    help: str  # one line for --help and error messages
    human: bool = False  # one policy per seat, driven by the InputState
    arg: str = ""  # what ":ARG" means ("" = the kind takes no argument)
    arg_required: bool = False


KINDS: dict[str, SeatKind] = {}


def register_kind(kind: SeatKind, replace: bool = False) -> None:
    if kind.name in KINDS and not replace:
        raise ValueError(f"seat kind {kind.name!r} is already registered")
    if not kind.name or ":" in kind.name or "=" in kind.name:
        raise ValueError(f"bad seat kind name {kind.name!r}")
    KINDS[kind.name] = kind


def known_kinds() -> list[str]:
    return list(KINDS)


def describe_kinds() -> str:
    """``name[:ARG]  help`` lines, for --help."""
    rows = []
    for k in KINDS.values():
        head = k.name + (f":{k.arg}" if k.arg and k.arg_required else f"[:{k.arg}]" if k.arg else "")
        rows.append(f"  {head:<24} {k.help}")
    return "\n".join(rows)


def _family(env) -> str:
    return getattr(getattr(env, "unwrapped", env), "family", "")


def _keyboard(ctx: SeatContext, seats: list[str], arg: str | None):
    if _family(ctx.env) == "skirmish":  # skirmish units: moves, attacks and standing orders
        from .skirmish_input import skirmish_seat

        return skirmish_seat(ctx, seats, "keyboard", arg)
    from .keyboard import KeyboardPolicy

    (seat,) = seats
    return KeyboardPolicy(ctx.env, seat, ctx.input, layout=arg or "both")


def _gamepad(ctx: SeatContext, seats: list[str], arg: str | None):
    from .keyboard import GamepadPolicy

    (seat,) = seats
    if arg is not None and not arg.isdigit():
        raise ValueError(f"gamepad:{arg}: the argument is a gamepad number (0, 1, ...)")
    return GamepadPolicy(ctx.env, seat, ctx.input, device=None if arg is None else int(arg))


def _mouse(ctx: SeatContext, seats: list[str], arg: str | None):
    if _family(ctx.env) != "skirmish":
        raise ValueError("mouse seats play skirmish maps; use keyboard or gamepad here")
    from .skirmish_input import skirmish_seat

    return skirmish_seat(ctx, seats, "mouse", arg)


def _commander(ctx: SeatContext, seats: list[str], arg: str | None):
    if _family(ctx.env) != "skirmish":
        raise ValueError("commander seats play skirmish maps (play --against)")
    from .skirmish_commander import commander_seats

    return commander_seats(ctx, seats, arg)


def _scripted(ctx: SeatContext, seats: list[str], arg: str | None):
    from ..policies import ScriptedPolicy

    return ScriptedPolicy(ctx.env, seed=ctx.seed)


def _random(ctx: SeatContext, seats: list[str], arg: str | None):
    from ..policies import RandomPolicy

    return RandomPolicy(ctx.env, seed=ctx.seed)


def _team(ctx: SeatContext, seats: list[str], arg: str | None):
    from ..teams.load import load_team
    from ..teams.policy import TeamPolicy

    # numpy for one-forward algorithms (faster at batch 1, no torch needed), torch for the others
    return TeamPolicy(load_team(arg, backend="play"), ctx.env, seats)


for _k in (
    SeatKind("keyboard", _keyboard, "you, with WASD and/or arrow keys (skirmish: + number keys, mouse)", human=True,
             arg="wasd|arrows"),
    SeatKind("gamepad", _gamepad, "you, with a gamepad's left stick", human=True, arg="N"),
    SeatKind("scripted", _scripted, "the scenario's scripted expert (default for unnamed seats)"),
    SeatKind("random", _random, "uniform random actions"),
    SeatKind("mouse", _mouse, "you, with the mouse (skirmish: click to move, right-click to attack)", human=True),
    # not ``human``: one commander drives all its seats (it reads the mouse itself)
    SeatKind("commander", _commander, "you, commanding all these units with the mouse (skirmish --against)"),
    SeatKind("team", _team, "a trained team (name, team folder or run folder; see `macflow-arena team list`)",
             arg="NAME", arg_required=True),
):
    register_kind(_k)
