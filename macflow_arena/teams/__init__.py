"""Trained teams: export training runs as shippable team folders, load them, play them.

Usage::

    from macflow_arena.teams import export_team, load_team, list_teams, TeamPolicy

    export_team(["spread-run-s0", "spread-run-s1", "spread-run-s2"], "spread-macflow")   # -> ~/.macflow_arena/teams/spread-macflow
    export_team(["spread-run-s0"], "spread-macflow", out_dir="agents/spread-macflow")  # ship it in the repo
    team = load_team("spread-macflow")         # a name, a team folder, or a run folder (latest checkpoint)
    team.algo.act(obs, generator, avail)       # decentralized, obs [B, N, D]
    list_teams()                               # user + shipped teams: name, env, algo, score, size

    env = macflow_arena.make(team.env_id)
    policy = TeamPolicy(team, env, seats=team.agents)   # the Policy protocol: reset(seed), act(obs_by_agent)

Command line::

    macflow-arena team export RUN [RUN ...] --name NAME [--out DIR] [--episodes 100]
    macflow-arena team list
    macflow-arena team info NAME
    macflow-arena play particle/spread --team spread-macflow            # you + the team
    macflow-arena play particle/tag --team tag-macflow --seat prey_0=keyboard
    macflow-arena play skirmish/3m --against --team 3m-macflow         # you command the enemy
    macflow-arena video particle/cover --team cover-macflow --episodes 4 --out cover.mp4
    macflow-arena video particle/spread --compare spread-macflow spread-bc --out cmp.mp4

A team folder holds ``weights.safetensors`` (only the modules ``act`` uses,
``Algorithm.act_nets``; no optimizer state), ``config.json`` and
``MODEL_CARD.md`` (see ``format.py``). User teams live in
``$MACFLOW_ARENA_HOME/teams``; shipped ones in the package's ``agents/`` data
folder. Exporting needs torch (``pip install "macflow-arena[train]"``); a team
folder of macflow, bc, td3bc or vdn_cql also loads and acts without it
(``load_team(ref, backend="numpy")``, ``numpy_act.py``: its acting network in
plain numpy), which ``play``/``video``/``eval`` use; ``list_teams`` reads config
files only.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_EXPORTS = {
    "TeamError": "format",
    "check_name": "format",
    "teams_home": "format",
    "Team": "load",
    "load_team": "load",
    "list_teams": "load",
    "resolve_ref": "load",
    "export_team": "export",
    "TeamPolicy": "policy",
    "check_team_fits": "policy",
    "measure_latency": "latency",
    "compare_video": "compare",
    "model_card": "card",
    "train_command": "card",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
