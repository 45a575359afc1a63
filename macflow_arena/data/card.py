"""Dataset cards: metadata and summary statistics (like OG-MARL's), and normalized scores."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .schema import space_from_json


def normalized_score(ret, reference: Mapping[str, float]):
    """100 * (R - R_random) / (R_expert - R_random): random maps to 0, expert to 100."""
    try:
        lo, hi = float(reference["random"]), float(reference["expert"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"reference returns need 'random' and 'expert', got {dict(reference or {})}") from None
    if not hi > lo:
        raise ValueError(f"expert reference return {hi} must exceed the random one {lo}")
    return 100.0 * (np.asarray(ret, dtype=np.float64) - lo) / (hi - lo)


def return_stats(returns: np.ndarray) -> dict[str, float]:
    r = np.asarray(returns, dtype=np.float64)
    if not r.size:
        return {"mean": float("nan"), "std": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"mean": float(r.mean()), "std": float(r.std()), "min": float(r.min()), "max": float(r.max())}


def dataset_card(ds) -> dict:
    """The card of a ``Dataset`` from its manifest alone (no shard is read)."""
    h = ds.header
    returns = ds.returns
    refs = h.get("reference_returns") or {}
    card = {
        "name": ds.name,
        "path": str(ds.path),
        "env_id": h["env_id"],
        "scenario_sha256": h.get("scenario_sha256"),
        "agents": list(h["agents"]),
        "observation_spaces": {a: str(space_from_json(s)) for a, s in h["observation_spaces"].items()},
        "action_spaces": {a: str(space_from_json(s)) for a, s in h["action_spaces"].items()},
        "state_space": str(space_from_json(h["state_space"])) if h.get("state_space") else None,
        "fields": sorted(h["layout"]) + [f"info.{k}" for k in h.get("info_keys", [])],
        "behaviour": h.get("behaviour") or {},
        "quality": h.get("quality"),
        "reference_returns": refs,
        "episodes": ds.num_episodes,
        "transitions": ds.num_steps,
        "agent_transitions": ds.num_steps * len(h["agents"]),
        "shards": len(ds.shards),
        "bytes": sum(s.bytes for s in ds.shards),
        "return": return_stats(returns),
        "return_definition": h.get("return_definition"),
        "schema": h.get("schema"),
        "created": h.get("created"),
        "package_version": h.get("package_version"),
        "config": h.get("config") or {},
    }
    if returns.size and "random" in refs and "expert" in refs:
        try:
            card["normalized_return"] = return_stats(normalized_score(returns, refs))
        except ValueError:
            pass
    return card


def _spaces_line(spaces: Mapping[str, str]) -> str:
    vals = list(spaces.values())
    if len(set(vals)) == 1:
        return f"{vals[0]} (each of {len(vals)})"
    return ", ".join(f"{a}: {s}" for a, s in spaces.items())


def format_card(card: Mapping) -> str:
    r = card["return"]
    lines = [
        f"dataset     {card['name']}  ({card['path']})",
        f"env         {card['env_id']}   scenario sha256 {(card.get('scenario_sha256') or '-')[:16]}",
        f"agents      {', '.join(card['agents'])}",
        f"observation {_spaces_line(card['observation_spaces'])}",
        f"action      {_spaces_line(card['action_spaces'])}",
        f"state       {card['state_space'] or '-'}",
        f"fields      {', '.join(card['fields'])}",
        f"behaviour   {_fmt_behaviour(card['behaviour'])}",
        f"quality     {card['quality'] or '-'}",
    ]
    refs = card.get("reference_returns") or {}
    if refs:
        lines.append("references  " + ", ".join(f"{k} {v:.3f}" if isinstance(v, (int, float)) else f"{k} {v}"
                                                for k, v in refs.items()))
    lines += [
        f"episodes    {card['episodes']}   transitions {card['transitions']}   "
        f"agent-transitions {card['agent_transitions']}   shards {card['shards']}   {card['bytes'] / 1e6:.1f} MB",
        f"return      mean {r['mean']:.3f}  std {r['std']:.3f}  min {r['min']:.3f}  max {r['max']:.3f}",
    ]
    if "normalized_return" in card:
        n = card["normalized_return"]
        lines.append(f"normalized  mean {n['mean']:.1f}  std {n['std']:.1f}  (random 0, expert 100)")
    lines.append(f"schema      {card['schema']}   created {card['created']}   macflow-arena {card['package_version']}")
    return "\n".join(lines)


def _fmt_behaviour(b: Mapping) -> str:
    if not b:
        return "-"
    name = b.get("name", "?")
    rest = ", ".join(f"{k}={v}" for k, v in b.items() if k != "name")
    return f"{name} ({rest})" if rest else str(name)
