"""``macflow-arena team export | list | info``: trained teams as shippable folders."""

from __future__ import annotations

import argparse
import json
import sys

from . import CommandError

EXAMPLES = """examples:
  macflow-arena team export particle-spread-macflow-particle-spread-v0-expert-s0 --name spread-macflow
  macflow-arena team export run-s0 run-s1 run-s2 --name spread-macflow --episodes 100   # CI over 3 seeds
  macflow-arena team export ./runs/tag-run --name tag-macflow --out agents/tag-macflow     # ship it in the repo
  macflow-arena team list
  macflow-arena team info spread-macflow
  macflow-arena team info spread-macflow --card        # print MODEL_CARD.md
  macflow-arena team retime agents/spread-macflow      # time its decisions again on an idle machine
  macflow-arena play particle/spread --team spread-macflow

A team folder holds weights.safetensors (only what acting needs), config.json
and MODEL_CARD.md. User teams live in $MACFLOW_ARENA_HOME/teams (default
~/.macflow_arena/teams); shipped teams in the package's agents/ folder. A
NAME is looked up there (user first), then as a run under $MACFLOW_ARENA_HOME/runs;
a folder path works too.
"""

from ..install import needs_torch

INSTALL_HINT = needs_torch("teams")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "team",
        help="export trained runs as teams, list and inspect teams",
        description="Export training runs as team folders (weights, config, model card); list and inspect teams.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="team_command", metavar="ACTION")
    q = sub.add_parser("export", help="evaluate runs and write a team folder from the first run's checkpoint")
    q.add_argument("runs", nargs="+", metavar="RUN",
                   help="run names or folders; several = one configuration trained with different seeds")
    q.add_argument("--name", required=True, help="team name: lower-case letters, digits, '.', '_', '-'")
    q.add_argument("--out", metavar="DIR", default=None,
                   help="team folder to write (default $MACFLOW_ARENA_HOME/teams/NAME), e.g. agents/NAME")
    q.add_argument("--episodes", type=int, default=100, help="evaluation episodes per run (default 100)")
    q.add_argument("--checkpoint", metavar="PATH", default=None,
                   help="weights from this checkpoint of the first run instead of its latest")
    q.add_argument("--device", default="auto", help="evaluation device: auto, cpu or cuda (latency is timed on CPU)")
    q.add_argument("--overwrite", action="store_true", help="replace an existing team folder")
    q.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="execution option the team keeps, repeatable (macflow: exec_noise=0)")
    q = sub.add_parser("retime", help="time a team's decisions again on this machine and rewrite its card",
                       description="Time each team's decisions again (batch 1, one torch thread, as at export) and "
                                   "rewrite latency_ms in its config.json and MODEL_CARD.md; the weights are kept byte "
                                   "for byte and the folder is replaced atomically. Run it on an idle machine: export "
                                   "timed whatever load the machine carried then.")
    q.add_argument("teams", nargs="+", metavar="NAME", help="team names or team folders (agents/NAME for a shipped one)")
    q.add_argument("--calls", type=int, default=None, help="timed calls per team (at least and default 200)")
    q.add_argument("--dry-run", action="store_true", help="print the new timing, write nothing")
    q = sub.add_parser("list", help="user and shipped teams: name, env, algo, score, size")
    q.add_argument("--json", action="store_true", help="print the rows as JSON")
    q = sub.add_parser("info", help="load a team (weights checked) and print its summary")
    q.add_argument("team", metavar="NAME", help="team name, team folder or run folder")
    q.add_argument("--card", action="store_true", help="print MODEL_CARD.md instead")
    q.add_argument("--json", action="store_true", help="print the team's config.json")
    p.set_defaults(func=run, parser=p)


def run(args) -> int:
    action = getattr(args, "team_command", None)
    if action is None:
        args.parser.print_help(sys.stderr)
        return 2
    from ..teams.format import TeamError

    try:
        return {"export": _export, "list": _list, "info": _info, "retime": _retime}[action](args)
    except TeamError as e:
        raise CommandError(str(e)) from None


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise CommandError(INSTALL_HINT) from None


def _export(args) -> int:
    _need_torch()
    from ..teams.export import export_team

    if args.episodes < 1:
        raise CommandError(f"--episodes must be >= 1, got {args.episodes}")
    try:
        out = export_team(args.runs, args.name, out_dir=args.out, episodes=args.episodes, checkpoint=args.checkpoint,
                          execution=args.set,
                          overwrite=args.overwrite, device=args.device, log=lambda m: print(m, file=sys.stderr))
    except OSError as e:
        from ..integrity import disk_full

        if not disk_full.is_disk_full(e):
            raise
        raise disk_full.exporting(args.out or args.name) from None
    cfg = json.loads((out / "config.json").read_text())
    print(f"{cfg['name']}: {out}")
    print(_score_line(cfg.get("eval") or {}))
    return 0


def _retime(args) -> int:
    _need_torch()
    from ..teams.retime import retime_team

    for ref in args.teams:
        before, now = retime_team(ref, calls=args.calls, write=not args.dry_run)
        was = f"{before['median_ms']:.3f} ms" if before else "none"
        print(f"{ref}: {now['median_ms']:.3f} ms per decision (median, batch 1, {now['device']}, {now['threads']} "
              f"thread(s); p90 {now['p90_ms']:.3f}); the card said {was}" + (" (dry run: not written)" if args.dry_run else ""))
    return 0


def _score_line(ev: dict) -> str:
    if not ev:
        return "score       -"
    over = ev.get("ci_over", "episodes")
    lo, hi = ev["return_ci95"]
    s = f"return      {ev['return_mean']:.3f}  (95% CI {lo:.3f} .. {hi:.3f} over {over})"
    if "normalized_score" in ev:
        nlo, nhi = ev["normalized_ci95"]
        s += f"\nnormalized  {ev['normalized_score']:.1f}  (95% CI {nlo:.1f} .. {nhi:.1f}; random 0, expert 100)"
    if "win_rate" in ev:
        s += f"\nwin rate    {ev['win_rate']:.3f}"
    if "coverage_success" in ev:
        s += f"\ncoverage    {ev['coverage_success']:.3f}"
    return s


def _list(args) -> int:
    from ..teams.load import list_teams

    rows = list_teams()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no teams yet: export one with `macflow-arena team export RUN --name NAME`")
        return 0
    print(f"{'name':<24} {'env':<24} {'algo':<10} {'score':>8}  {'size':>8}  source")
    for r in rows:
        if "error" in r:
            print(f"{r['name']:<24} BROKEN: {r['error']}")
            continue
        score = "-" if r["score"] is None else f"{r['score']:.1f}" + ("" if r["score_kind"] == "normalized" else "R")
        src = r["source"] + (" (shadowed)" if r.get("shadowed") else "")
        print(f"{r['name']:<24} {r['env']:<24} {r['algo']:<10} {score:>8}  {r['size'] / 1e3:>6.0f}kB  {src}")
    print("score: normalized (random 0, expert 100); R marks a raw return")
    return 0


def _info(args) -> int:
    _need_torch()
    from ..teams.format import CARD
    from ..teams.load import load_team

    team = load_team(args.team)
    if args.json:
        print(json.dumps(team.card, indent=2, sort_keys=True))
        return 0
    if args.card:
        if team.source != "team" or team.path is None or not (team.path / CARD).is_file():
            raise CommandError(f"{args.team} has no {CARD} (it is a {team.source}, not an exported team)")
        print((team.path / CARD).read_text(encoding="utf-8"), end="")
        return 0
    spec = team.spec
    n_params = sum(p.numel() for net in type(team.algo).act_nets for p in team.algo.nets[net].parameters())
    print(f"team        {team.name}  ({team.path}, {team.source})")
    print(f"env         {team.env_id}   seats {', '.join(team.agents)}")
    print(f"algorithm   {team.algo.name}   acting modules {', '.join(type(team.algo).act_nets)} "
          f"({n_params / 1e3:.1f}k parameters)")
    print(f"spec        {spec.n_agents} agents, obs {spec.obs_dim}, "
          f"{'discrete' if spec.discrete else 'continuous'} actions {spec.action_dim}")
    card = team.card
    if team.source == "team":
        print(f"dataset     {card['dataset'].get('name')}  sha256 {str(card['dataset'].get('manifest_sha256'))[:16]}")
        print(f"trained     step {card['source']['step']}, {len(card['train'])} run(s)")
        print(_score_line(card.get("eval") or {}))
        lat = card.get("latency_ms") or {}
        if lat:
            print(f"latency     {lat['median_ms']:.3f} ms per decision (median, batch 1, {lat['device']}, "
                  f"{lat['threads']} thread(s))")
        print(f"version     macflow-arena {card.get('package_version')}, torch {card.get('torch_version')}")
    else:
        print(f"checkpoint  {card['checkpoint']} (step {card['step']}); not exported: "
              f"`macflow-arena team export {team.path} --name NAME`")
        if card.get("eval"):
            print("last eval   " + _score_line(card["eval"]).replace("\n", "\n            "))
    return 0
