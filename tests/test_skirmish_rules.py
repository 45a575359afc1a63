"""Skirmish rules, one at a time, from constructed states (``env.reset_to``).

Enemies are ``enemy_ai = "idle"`` unless a test is about the AI, so each test
sees exactly one mechanic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import macflow_arena
from macflow_arena.envs.skirmish.actions import ATTACK0, EAST, NORTH, SOUTH, STOP, WEST
from macflow_arena.envs.skirmish.units import load_units
from macflow_arena.envs.validate import ActionError, IllegalActionError

UNITS = load_units()
DT = 0.375


def battle(allies, enemies, pos, ai="idle", **kw):
    """A ParallelEnv on a custom 1-map battle, started from ``pos`` (+ hp, shield, cooldown)."""
    state = {k: kw.pop(k) for k in ("hp", "shield", "cooldown") if k in kw}
    env = macflow_arena.make("skirmish/3m", allies=list(allies), enemies=list(enemies), enemy_ai=ai, **{"illegal_action": "raise", **kw})
    obs, infos = env.reset_to(pos=pos, seed=0, **state)
    return env, obs, infos


def stand(env):
    return {a: STOP for a in env.agents}


def stats(name):
    return UNITS.types[name]


# -- damage, armour, shields ---------------------------------------------------


def test_damage_minus_armour():
    env, *_ = battle(["marine", "marauder"], ["marauder", "marine"], [[10, 10], [10, 12], [13, 10], [13, 12]])
    env.step({"ally_0": ATTACK0 + 0, "ally_1": ATTACK0 + 1})
    hp = env.core.hp[0]
    marine, marauder = stats("marine"), stats("marauder")
    # marine (6) on a marauder (armour 1): 5; marauder (10, +10 vs armoured) on a marine (armour 0): 10
    assert hp[2] == marauder.hp - (marine.damage - marauder.armour)
    assert hp[3] == marine.hp - marauder.damage
    assert hp[0] == marine.hp and hp[1] == marauder.hp  # idle enemies do nothing


def test_bonus_vs_armoured_and_minimum_damage():
    env, *_ = battle(["marauder"], ["marauder"], [[10, 10], [13, 10]])
    env.step({"ally_0": ATTACK0})
    m = stats("marauder")
    assert env.core.hp[0, 1] == m.hp - (m.damage + m.bonus_vs_armoured - m.armour)
    # a hit always deals at least 0.5, whatever the armour
    env, *_ = battle(["marine"], ["marine"], [[10, 10], [13, 10]])
    env.core.armour[0, 1] = 50.0
    env.step({"ally_0": ATTACK0})
    assert env.core.hp[0, 1] == stats("marine").hp - 0.5


def test_zealot_hits_twice_per_attack():
    env, *_ = battle(["zealot"], ["marine"], [[10, 10], [11.2, 10]])
    env.step({"ally_0": ATTACK0})
    z = stats("zealot")
    assert env.core.hp[0, 1] == stats("marine").hp - z.attacks * z.damage


def test_shields_absorb_before_hit_points():
    env, *_ = battle(["stalker"], ["zealot"], [[10, 10], [14, 10]])
    s, z = stats("stalker"), stats("zealot")
    hit = s.damage - z.armour  # zealots are not armoured: no bonus
    env.step({"ally_0": ATTACK0})
    assert env.core.shield[0, 1] == z.shield - hit and env.core.hp[0, 1] == z.hp
    # a hit larger than the shield left: the rest goes to hit points
    env, *_ = battle(["stalker"], ["zealot"], [[10, 10], [14, 10]], shield=[80, 5])
    env.step({"ally_0": ATTACK0})
    assert env.core.shield[0, 1] == 0 and env.core.hp[0, 1] == z.hp - (hit - 5)


def test_shield_regeneration_after_delay():
    env, *_ = battle(["stalker"], ["zealot"], [[10, 10], [14, 10]])
    z = stats("zealot")
    env.step({"ally_0": ATTACK0})
    after_hit = env.core.shield[0, 1]
    wait = math.ceil(z.shield_regen_delay / DT)  # steps until since_hit >= delay
    for _ in range(wait - 1):
        env.step(stand(env))
        assert env.core.shield[0, 1] == after_hit, "no regeneration before the delay"
    env.step(stand(env))
    assert env.core.shield[0, 1] == pytest.approx(after_hit + z.shield_regen * DT)
    for _ in range(200):
        env.step(stand(env))
        if not env.agents:
            break
    assert env.core.shield[0, 1] <= z.shield


def test_units_without_shields_never_get_any():
    env, *_ = battle(["marine"], ["marine"], [[10, 10], [14, 10]])
    for _ in range(30):
        env.step(stand(env))
    assert (env.core.shield[0] == 0).all()


# -- cooldown and range ------------------------------------------------------------


@pytest.mark.parametrize("unit", ["marine", "stalker", "marauder"])
def test_weapon_cooldown(unit):
    env, *_ = battle([unit], ["marauder"], [[10, 10], [13, 10]])
    period = max(1, round(stats(unit).cooldown / DT))
    hp = [env.core.hp[0, 1]]
    for _ in range(3 * period):
        env.step({"ally_0": ATTACK0})
        hp.append(env.core.hp[0, 1])
    fired = [t for t in range(3 * period) if hp[t + 1] < hp[t]]
    assert fired == [0, period, 2 * period]


def test_attack_range_is_edge_to_edge_and_masked_outside():
    m = stats("marine")
    reach = m.range + 2 * m.radius
    env, obs, infos = battle(["marine"], ["marine"], [[10, 10], [10 + reach - 0.01, 10]])
    assert obs["ally_0"]["action_mask"][ATTACK0] == 1
    assert obs["ally_0"]["observation"][5] == 1.0  # enemy_0/attackable
    env, obs, infos = battle(["marine"], ["marine"], [[10, 10], [10 + reach + 0.01, 10]])
    assert obs["ally_0"]["action_mask"][ATTACK0] == 0
    assert infos["ally_0"]["action_mask"][ATTACK0] == 0
    with pytest.raises(IllegalActionError, match=r"ally_0: action 6 \(attack enemy_0\) is illegal"):
        env.step({"ally_0": ATTACK0})


def test_out_of_sight_enemies_are_invisible():
    m = stats("marine")
    env, obs, _ = battle(["marine"], ["marine"], [[5, 10], [5 + m.sight + 0.1, 10]])
    assert not obs["ally_0"]["observation"][4:10].any()
    env, obs, _ = battle(["marine"], ["marine"], [[5, 10], [5 + m.sight - 0.1, 10]])
    o = obs["ally_0"]["observation"]
    assert o[4] == 1 and o[5] == 0  # visible, not attackable
    assert o[6] == pytest.approx((m.sight - 0.1) / m.sight) and o[7] == pytest.approx(o[6]) and o[8] == 0


# -- healing ---------------------------------------------------------------------------


def test_healing():
    med = stats("medivac")
    env, obs, _ = battle(["medivac", "marine", "stalker"], ["marine"],
                         [[10, 10], [11, 10], [10, 11], [25, 25]], hp=[150, 20, 50, 45])
    heal0 = env.actions.heal0
    mask = obs["ally_0"]["action_mask"]
    assert mask[heal0 + 1] == 1  # the marine: biological, in range
    assert mask[heal0 + 0] == 0  # not itself
    assert mask[heal0 + 2] == 0  # the stalker is mechanical
    assert obs["ally_1"]["action_mask"][heal0:].sum() == 0  # marines do not heal
    assert obs["ally_0"]["action_mask"][ATTACK0] == 0  # medivacs do not attack
    env.step({"ally_0": heal0 + 1, "ally_1": STOP, "ally_2": STOP})
    assert env.core.hp[0, 1] == pytest.approx(20 + med.heal_rate * DT)
    for _ in range(20):
        env.step({"ally_0": heal0 + 1, "ally_1": STOP, "ally_2": STOP})
    assert env.core.hp[0, 1] == stats("marine").hp  # capped at the maximum
    # out of heal range: masked
    reach = med.heal_range + med.radius + stats("marine").radius
    env, obs, _ = battle(["medivac", "marine"], ["marine"], [[10, 10], [10 + reach + 0.05, 10], [25, 25]], hp=[150, 20, 45])
    assert obs["ally_0"]["action_mask"][env.actions.heal0 + 1] == 0


def test_maps_without_healers_have_no_heal_slots():
    env = macflow_arena.make("skirmish/3m")
    assert env.actions.n == 6 + 3 and not env.actions.has_heal
    env = macflow_arena.make("skirmish/gen-5v5")  # medivacs can be drawn
    assert env.actions.n == 6 + 5 + 5 and env.actions.has_heal


# -- death, dead units, battle end -----------------------------------------------------


def test_death_removes_the_unit_from_agents():
    env, *_ = battle(["marine", "marine"], ["marine", "marine"], [[10, 10], [10, 12], [13, 10], [13, 12]],
                     hp=[45, 45, 6, 45])
    obs, rew, term, trunc, info = env.step({"ally_0": ATTACK0, "ally_1": STOP})
    assert env.core.alive[0].tolist() == [True, True, False, True]
    env, *_ = battle(["marine", "marine"], ["marine", "marine"], [[10, 10], [10, 12], [13, 10], [13, 12]],
                     ai="nearest", hp=[5, 45, 45, 45])
    obs, rew, term, trunc, info = env.step({"ally_0": STOP, "ally_1": STOP})
    assert term == {"ally_0": True, "ally_1": False} and trunc == {"ally_0": False, "ally_1": False}
    assert set(obs) == set(rew) == set(info) == {"ally_0", "ally_1"}  # the dying unit still gets its last step
    assert env.agents == ["ally_1"]
    assert info["ally_1"]["dead_allies"] == 1
    # the last observation of a dead unit keeps only its own position and type; mask = no-op only
    last = obs["ally_0"]
    assert last["action_mask"].tolist() == [1] + [0] * (env.actions.n - 1)
    names = env.layout.feature_names()
    kept = {n for n, v in zip(names, last["observation"]) if v != 0}
    assert kept <= {"own/x", "own/y"} and kept, kept
    obs, rew, term, trunc, info = env.step({"ally_1": STOP})
    assert "ally_0" not in obs and "ally_0" not in rew and "ally_0" not in info
    with pytest.raises(ActionError, match="no longer live"):
        env.step({"ally_0": 0, "ally_1": STOP})


def test_dead_units_may_only_noop_in_the_vector_env():
    for mode in ("raise", "noop"):
        venv = macflow_arena.make_vec("skirmish/3m", 2, illegal_action=mode, enemy_ai="idle")
        venv.reset(seed=0)
        venv.core.hp[0, 0] = 0.0
        venv.core.alive[0, 0] = False
        obs, *_ = venv.step(np.full((2, 3), STOP))  # the masks now show the death
        assert obs["action_mask"][0, 0].tolist() == [1] + [0] * 8
        with pytest.raises(ActionError, match="dead|no-op"):
            venv.step(np.full((2, 3), STOP))
        venv.step(np.array([[0, STOP, STOP], [STOP, STOP, STOP]]))
    strict = macflow_arena.make_vec("skirmish/3m", 1, illegal_action="raise")
    strict.reset(seed=0)
    with pytest.raises(IllegalActionError, match="no-op"):
        strict.step(np.zeros((1, 3), dtype=np.int64))  # a live unit may not no-op


def test_battle_end_terminates_every_remaining_agent():
    env, *_ = battle(["marine", "marine"], ["marine"], [[10, 10], [10, 12], [13, 10]], hp=[45, 45, 6])
    obs, rew, term, trunc, info = env.step({"ally_0": ATTACK0, "ally_1": STOP})
    assert term == {"ally_0": True, "ally_1": True} and not any(trunc.values())
    assert info["ally_0"]["battle_won"] is True and env.agents == []
    s = env.scenario
    expected = (6 + s.reward_death_value + s.reward_win) * s.reward_scale / (45 + s.reward_death_value + s.reward_win)
    assert rew["ally_0"] == pytest.approx(expected)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_only_healers_left_loses():
    env, *_ = battle(["medivac", "marine"], ["marine"], [[5, 5], [10, 10], [13, 10]], ai="nearest", hp=[150, 6, 45])
    obs, rew, term, trunc, info = env.step({"ally_0": STOP, "ally_1": STOP})
    assert term == {"ally_0": True, "ally_1": True} and env.agents == []
    assert info["ally_0"]["battle_won"] is False and env.core.outcome()[0] == -1


def test_truncation_at_max_cycles():
    env = macflow_arena.make("skirmish/3m", max_cycles=5, enemy_ai="idle")
    env.reset(seed=0)
    for t in range(1, 6):
        obs, rew, term, trunc, info = env.step(stand(env))
        assert not any(term.values())
        assert all(trunc.values()) == (t == 5) and any(trunc.values()) == (t == 5)
    assert env.agents == [] and env.num_steps == 5


def test_best_return_is_reward_scale():
    env = macflow_arena.make("skirmish/3m", allies=["marine"] * 3, enemies=["marine"], enemy_ai="idle")
    env.reset_to(pos=[[10, 10], [10, 11], [10, 12], [13, 11]], seed=0)
    total = 0.0
    while env.agents:
        _, rew, *_ = env.step({a: ATTACK0 for a in env.agents})
        total += rew["ally_0"]
    assert total == pytest.approx(env.scenario.reward_scale)


# -- masks equal feasibility -----------------------------------------------------------


WALLS = ["........", "...#....", "........", "........", "........", "........", "........", "........"]


def test_no_move_into_a_wall_or_off_the_map():
    # 8x8 cells of 4 units; the wall cell is column 3, row 1 from the top: x in [12, 16], y in [24, 28]
    env = macflow_arena.make("skirmish/3m", allies=["marine"], enemies=["marine"], enemy_ai="idle",
                             layout=WALLS, ally_spawn=[5, 5], enemy_spawn=[27, 5], illegal_action="raise")
    obs, _ = env.reset_to(pos=[[14, 23.5], [30, 2]], seed=0)
    mask = obs["ally_0"]["action_mask"]
    assert mask[NORTH] == 0 and mask[SOUTH] == mask[EAST] == mask[WEST] == 1
    assert obs["ally_0"]["observation"][:4].tolist() == [0, 1, 1, 1]
    env.reset_to(pos=[[0.5, 31.5], [30, 2]], seed=0)
    mask = env.action_mask("ally_0")
    assert mask[NORTH] == 0 and mask[WEST] == 0 and mask[SOUTH] == 1 and mask[EAST] == 1
    with pytest.raises(IllegalActionError, match="move west"):
        env.step({"ally_0": WEST})


def _random_state(rng, env):
    """Units scattered around a random point (some in range, some not), a few dead."""
    task, terr = env.task, env.task.terrain
    u = task.n_units
    centre = rng.uniform(6, 26, size=2)
    pos = centre + rng.uniform(-7, 7, size=(u, 2))
    bad = ~terr.passable(pos)
    while bad.any():
        pos[bad] = centre + rng.uniform(-7, 7, size=(int(bad.sum()), 2))
        bad = ~terr.passable(pos)
    hp = env.core.max_hp[0] * rng.uniform(0.2, 1.0, size=u)
    hp[rng.random(u) < 0.2] = 0.0
    hp[[0, task.n_allies]] = 10.0  # keep both sides in the battle
    return pos, hp


@pytest.mark.parametrize("env_id", ["skirmish/3m", "skirmish/2s3z", "skirmish/gen-5v5"])
def test_masks_equal_feasibility(env_id):
    """Over random states (walls included), every mask bit matches an independent
    feasibility computation, and legal moves land exactly one step away."""
    rng = np.random.default_rng(0)
    extra = {"start_margin": 1.0} if "gen" in env_id else {"ally_spawn": [5, 5], "enemy_spawn": [27, 5]}
    env = macflow_arena.make(env_id, layout=WALLS, **extra)
    task, terr, c = env.task, env.task.terrain, env.core
    a = task.n_allies
    dirs = np.array([(0, 1), (0, -1), (1, 0), (-1, 0)], dtype=float)
    checked = 0
    for trial in range(40):
        env.reset(seed=trial)  # draws the team (procedural maps) before the state is placed
        pos, hp = _random_state(rng, env)
        obs, infos = env.reset_to(pos=pos, hp=hp)
        for agent in env.agents:
            i = env._index[agent]
            mask = obs[agent]["action_mask"]
            assert (mask == infos[agent]["action_mask"]).all()
            assert mask[0] == 0 and mask[STOP] == 1
            for d in range(4):
                assert mask[2 + d] == terr.passable(c.pos[0, i] + c.move_len[0, i] * dirs[d])
            for k in range(task.n_enemies):
                gap = np.linalg.norm(c.pos[0, a + k] - c.pos[0, i])
                edge = gap - c.radius[0, i] - c.radius[0, a + k]
                legal = c.alive[0, a + k] and c.can_attack[0, i] and edge <= c.range[0, i] and gap <= c.sight[0, i]
                assert mask[ATTACK0 + k] == legal
            if task.has_heal:
                for j in range(a):
                    edge = np.linalg.norm(c.pos[0, j] - c.pos[0, i]) - c.radius[0, i] - c.radius[0, j]
                    legal = (c.healer[0, i] and c.alive[0, j] and j != i and c.biological[0, j]
                             and edge <= c.heal_range[0, i])
                    assert mask[env.actions.heal0 + j] == legal
            checked += 1
        moves = {}
        for agent in env.agents:
            legal = np.flatnonzero(obs[agent]["action_mask"][2:6])
            moves[agent] = int(2 + rng.choice(legal)) if legal.size else STOP
        before = c.pos[0].copy()
        env.step(moves)
        for agent, act in moves.items():
            i = env._index[agent]
            if act >= 2 and c.alive[0, i]:
                np.testing.assert_allclose(c.pos[0, i], before[i] + c.move_len[0, i] * dirs[act - 2])
    assert checked > 40
