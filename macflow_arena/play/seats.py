"""Seat assignments: ``["agent_0=keyboard", "agent_1=random"]`` -> policies per seat.

Every seat not named gets the default kind (``scripted``; ``*=KIND`` changes
it). Some seats exist only under an env override (particle/tag's ``prey_*``
seats need ``prey_control="external"``): ``seat_overrides`` finds the
overrides that make the named seats exist, from the ``OPTIONAL_SEATS`` table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .input_state import InputState
from .kinds import KINDS, SeatContext, known_kinds

# (family, task) -> overrides that add seats, tried in order.
OPTIONAL_SEATS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("particle", "tag"): [{"prey_control": "external"}],
    ("skirmish", "battle"): [{"enemy_control": "external"}],
    ("skirmish", "procedural"): [{"enemy_control": "external"}],
}
# family -> the kind a lone human gets when no seat is named (``play ENV``).
DEFAULT_HUMAN_KIND: dict[str, str] = {"particle": "keyboard", "skirmish": "keyboard"}
DEFAULT_KIND = "scripted"
WILDCARD = "*"


class SeatError(ValueError):
    """A seat assignment names an unknown seat or kind, or is malformed."""


@dataclass(frozen=True)
class SeatSpec:
    seat: str
    kind: str
    arg: str | None = None

    @property
    def text(self) -> str:
        return self.kind if self.arg is None else f"{self.kind}:{self.arg}"


def parse_kind(text: str, seat: str = "") -> tuple[str, str | None]:
    kind, sep, arg = text.strip().partition(":")
    where = f"{seat}={text}: " if seat else ""
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, known_kinds(), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise SeatError(f"{where}unknown seat kind {kind!r}.{hint} Known kinds: {', '.join(known_kinds())}")
    k = KINDS[kind]
    if sep and not k.arg:
        raise SeatError(f"{where}seat kind {kind!r} takes no ':' argument")
    if sep and not arg:
        raise SeatError(f"{where}empty argument after '{kind}:'")
    if k.arg_required and not sep:
        raise SeatError(f"{where}seat kind {kind!r} needs an argument: {kind}:{k.arg}")
    return kind, (arg if sep else None)


def parse_seats(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, SeatSpec]:
    """``AGENT=KIND[:ARG]`` items (or a mapping) -> specs by seat; ``*`` sets the default kind."""
    pairs: list[tuple[str, str]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        for item in items or ():
            seat, sep, kind = str(item).partition("=")
            if not sep or not seat.strip() or not kind.strip():
                raise SeatError(f"bad seat {item!r}: write AGENT=KIND, e.g. agent_0=keyboard")
            pairs.append((seat.strip(), kind.strip()))
    out: dict[str, SeatSpec] = {}
    for seat, text in pairs:
        if seat in out:
            raise SeatError(f"seat {seat!r} is assigned twice ({out[seat].text} and {text})")
        kind, arg = parse_kind(text, seat)
        out[seat] = SeatSpec(seat, kind, arg)
    return out


def _agents(env_id: str, overrides: Mapping[str, Any]) -> list[str]:
    from ..registry import make

    env = make(env_id, **overrides)
    try:
        return list(env.possible_agents)
    finally:
        env.close()


def seat_overrides(env_id: str, seats: Iterable[str], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Env overrides needed so every name in ``seats`` is a seat (``{}`` when none are).

    Raises ``SeatError`` listing the env's seats (and the optional ones) otherwise.
    """
    from ..registry import resolve

    base = dict(base or {})
    wanted = [s for s in seats if s != WILDCARD]
    agents = _agents(env_id, base)
    missing = [s for s in wanted if s not in agents]
    if not missing:
        return {}
    entry = resolve(env_id)
    optional: list[str] = []
    for extra in OPTIONAL_SEATS.get((entry.family, entry.task), []):
        if all(base.get(k) == v for k, v in extra.items()):
            continue  # already applied
        more = _agents(env_id, {**base, **extra})
        if all(s in more for s in wanted):
            return dict(extra)
        opts = ", ".join(f"{k}={v!r}" for k, v in extra.items())
        optional += [f"{a} (with {opts})" for a in more if a not in agents]
    also = f"; optional seats: {', '.join(optional)}" if optional else ""
    raise SeatError(f"unknown seat(s) {', '.join(missing)} for {entry.id}; seats are: {', '.join(agents)}{also}")


def with_team(specs: Mapping[str, SeatSpec], team: str) -> dict[str, SeatSpec]:
    """``specs`` plus team ``team`` on every seat they do not name (``play/video --team NAME``)."""
    if WILDCARD in specs:
        raise SeatError(f"--team {team} fills every seat not named by --seat, and so does "
                        f"'*={specs[WILDCARD].text}': drop one of them")
    kind, arg = parse_kind(f"team:{team}")
    return {**specs, WILDCARD: SeatSpec(WILDCARD, kind, arg)}


# kinds driven by a person besides the per-seat ``human`` kinds: the commander drives a whole side
PERSON_KINDS = frozenset({"commander"})


def session_quality(kinds: Mapping[str, str]) -> str:
    """The dataset quality label of a recorded play session, from its seat kinds (seat -> kind text).

    ``human`` when a person drives any seat; ``expert`` when every seat is
    scripted; ``random`` when every seat is random; otherwise ``mixed``.
    """
    names = {str(k).split(":", 1)[0] for k in kinds.values()}
    if any(n in PERSON_KINDS or (n in KINDS and KINDS[n].human) for n in names):
        return "human"
    if names == {"scripted"}:
        return "expert"
    if names == {"random"}:
        return "random"
    return "mixed"


def default_human_seats(env) -> dict[str, SeatSpec]:
    """You on the first seat with the family's human kind (keyboard for particle games)."""
    family = str(getattr(env, "env_id", "")).split("/")[0]
    kind, arg = parse_kind(DEFAULT_HUMAN_KIND.get(family, "keyboard"))
    first = env.possible_agents[0]
    return {first: SeatSpec(first, kind, arg)}


@dataclass
class Seating:
    """The policies of one game and the seats each drives."""

    groups: list[tuple[Any, tuple[str, ...]]]
    kinds: dict[str, str]  # seat -> kind text, e.g. "keyboard", "scripted"
    humans: list[Any] = field(default_factory=list)  # human policies (have .seat and .controls)

    @property
    def human_seats(self) -> list[str]:
        return [p.seat for p in self.humans]

    def reset(self, seed: int | None = None) -> None:
        for policy, _ in self.groups:
            policy.reset(seed)

    def act(self, obs: Mapping[str, Any]) -> dict[str, Any]:
        """Each policy sees only its own seats' observations; returns the merged actions."""
        actions: dict[str, Any] = {}
        for policy, seats in self.groups:
            mine = {a: obs[a] for a in seats if a in obs}
            if not mine:
                continue
            got = policy.act(mine)
            if set(got) != set(mine):
                raise RuntimeError(
                    f"policy {getattr(policy, 'name', policy)!r} returned actions for {sorted(got)}, "
                    f"expected {sorted(mine)}"
                )
            actions.update(got)
        return actions


def build_seating(env, specs: Mapping[str, SeatSpec], state: InputState, seed: int | None = None) -> Seating:
    """Policies for every seat of ``env`` (unnamed seats get the ``*`` kind or ``scripted``)."""
    agents = list(getattr(env, "possible_agents"))
    unknown = [s for s in specs if s != WILDCARD and s not in agents]
    if unknown:
        raise SeatError(
            f"unknown seat(s) {', '.join(unknown)} for {getattr(env, 'env_id', env)}; seats are: {', '.join(agents)}"
        )
    default = specs.get(WILDCARD, SeatSpec(WILDCARD, DEFAULT_KIND))
    full = {a: specs.get(a, SeatSpec(a, default.kind, default.arg)) for a in agents}
    ctx = SeatContext(env=env, input=state, seed=seed)
    groups: list[tuple[Any, tuple[str, ...]]] = []
    humans: list[Any] = []
    shared: dict[tuple[str, str | None], list[str]] = {}
    for a, spec in full.items():
        if KINDS[spec.kind].human:
            policy = _build(spec, ctx, [a])
            groups.append((policy, (a,)))
            humans.append(policy)
        else:
            shared.setdefault((spec.kind, spec.arg), []).append(a)
    kinds = {a: s.text for a, s in full.items()}
    for (kind, arg), seats in shared.items():
        policy = _build(SeatSpec(seats[0], kind, arg), ctx, seats)
        groups.append((policy, tuple(seats)))
        label = getattr(policy, "seat_label", None)  # e.g. "team:spread-macflow" for team:./path/to/folder
        if label:
            kinds.update(dict.fromkeys(seats, str(label)))
    return Seating(groups=groups, kinds=kinds, humans=humans)


def _build(spec: SeatSpec, ctx: SeatContext, seats: list[str]):
    try:
        return KINDS[spec.kind].build(ctx, seats, spec.arg)
    except SeatError:
        raise
    except ValueError as e:
        raise SeatError(f"{', '.join(seats)}={spec.text}: {e}") from None
