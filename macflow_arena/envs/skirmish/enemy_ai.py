"""The built-in enemy AI, batched over battles (SC2's attack-move, simplified).

Each living enemy unit, every step:

* attackers: if an ally is in attack range, attack it: the nearest one
  (``enemy_ai = "nearest"``) or the one with the fewest hit points + shields
  (``"focus"``, ties to the nearer); otherwise advance toward the nearest living
  ally, stopping just inside attack range;
* healers: heal the most damaged living biological friend in heal range;
  otherwise follow the nearest friend that attacks.

``enemy_ai = "idle"`` enemies never act (rule tests, target practice).

Difficulty (1..7) sets a per-unit, per-step chance to hesitate (do nothing).
The hesitation noise is a hash of the battle's noise key (drawn at reset), the
step and the unit, so it is vectorised and replays exactly.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)
_UNIT = np.array([0xD1B54A32D192ED03], dtype=np.uint64)
_M1 = np.array([0xBF58476D1CE4E5B9], dtype=np.uint64)
_M2 = np.array([0x94D049BB133111EB], dtype=np.uint64)


def hash_uniform(key: np.ndarray, t: np.ndarray, n: int) -> np.ndarray:
    """Uniform [0, 1) numbers [B, n] from battle keys [B] and steps [B] (splitmix64)."""
    x = key[:, None] + t.astype(np.uint64)[:, None] * _GOLDEN + (np.arange(1, n + 1, dtype=np.uint64) * _UNIT)[None]
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def orders(core) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Enemy orders: move deltas [B, E, 2], attack targets [B, E] and heal targets [B, E]
    as unit indices (-1: none), from the state at the start of the step."""
    a = core.n_allies
    spec = core.spec
    if spec.enemy_ai == "idle":
        e = core.n_enemies
        none = np.full((core.num_battles, e), -1, dtype=np.intp)
        return np.zeros((core.num_battles, e, 2)), none, none.copy()
    x, y = core.pos[..., 0], core.pos[..., 1]
    xa, ya, xe, ye = x[:, :a], y[:, :a], x[:, a:], y[:, a:]
    dx = xa[:, None, :] - xe[:, :, None]  # [B, E, A] enemy -> ally
    dy = ya[:, None, :] - ye[:, :, None]
    dist = np.sqrt(dx * dx + dy * dy)
    edge = dist - (core.radius[:, a:, None] + core.radius[:, None, :a])
    alive_e, alive_a = core.alive[:, a:], core.alive[:, :a]
    in_range = alive_a[:, None, :] & (edge <= core.range[:, a:, None])
    if spec.enemy_ai == "focus":
        pool = core.hp[:, :a] + core.shield[:, :a]
        score = np.where(in_range, pool[:, None, :] + 1e-6 * dist, np.inf)
    else:
        score = np.where(in_range, dist, np.inf)
    pick = score.argmin(axis=2)
    can_fire = in_range.any(axis=2) & core.can_attack[:, a:] & alive_e
    target = np.where(can_fire, pick, -1)

    # attack-move: in formation (every enemy along the line from its team's centre
    # to the allies' centre) until an ally is in sight, then toward the nearest
    # ally, stopping once it is just inside attack range
    far = np.where(alive_a[:, None, :], dist, np.inf)
    near = far.argmin(axis=2)
    one = near[..., None] == np.arange(a)  # [B, E, A] one-hot of the nearest ally
    gx, gy = (dx * one).sum(axis=2), (dy * one).sum(axis=2)
    d_near, nearest_edge = (dist * one).sum(axis=2), (edge * one).sum(axis=2)
    n_a, n_e = alive_a.sum(axis=1), alive_e.sum(axis=1)
    cx = (xa * alive_a).sum(axis=1) / np.maximum(n_a, 1) - (xe * alive_e).sum(axis=1) / np.maximum(n_e, 1)
    cy = (ya * alive_a).sum(axis=1) / np.maximum(n_a, 1) - (ye * alive_e).sum(axis=1) / np.maximum(n_e, 1)
    seen = d_near <= core.sight[:, a:]
    gx = np.where(seen, gx, cx[:, None])
    gy = np.where(seen, gy, cy[:, None])
    d = np.sqrt(gx * gx + gy * gy)
    want = np.maximum(nearest_edge - 0.8 * core.range[:, a:], 0.0)
    step = np.minimum(core.move_len[:, a:], want)
    advance = core.can_attack[:, a:] & alive_e & ~can_fire & (n_a > 0)[:, None] & (d > 1e-9)
    scale = np.where(advance, step / np.maximum(d, 1e-9), 0.0)
    delta = np.stack([gx * scale, gy * scale], axis=-1)

    heal = np.full(target.shape, -1, dtype=np.intp)
    healers = core.healer[:, a:] & alive_e
    if healers.any():
        heal, hdelta = _healer_orders(core, healers)
        delta = np.where(healers[..., None], hdelta, delta)

    if spec.hesitation > 0:
        idle = hash_uniform(core.noise_key, core.t, core.n_enemies) < spec.hesitation
        target = np.where(idle, -1, target)
        heal = np.where(idle, -1, heal)
        delta = np.where(idle[..., None], 0.0, delta)
    return delta, target, heal


def _healer_orders(core, healers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = core.n_allies
    pe = core.pos[:, a:]
    gap = pe[:, None, :, :] - pe[:, :, None, :]  # [B, E, E, 2] healer -> friend
    dist = np.sqrt(np.einsum("bijk,bijk->bij", gap, gap))
    re = core.radius[:, a:]
    edge = dist - re[:, :, None] - re[:, None, :]
    alive = core.alive[:, a:]
    n = core.n_enemies
    not_self = ~np.eye(n, dtype=bool)[None]
    frac = core.hp[:, a:] / core.max_hp[:, a:]
    ok = alive[:, None, :] & core.biological[:, None, a:] & not_self & (edge <= core.heal_range[:, a:, None])
    ok &= (frac < 1.0)[:, None, :]
    score = np.where(ok, frac[:, None, :], np.inf)
    pick = score.argmin(axis=2)
    heal = np.where(healers & ok.any(axis=2), pick + a, -1)
    # follow the nearest friend that attacks
    follow = alive[:, None, :] & core.can_attack[:, None, a:] & not_self
    far = np.where(follow, dist, np.inf)
    near = far.argmin(axis=2)
    bi = np.arange(core.num_battles)[:, None]
    ei = np.arange(n)[None, :]
    g, d = gap[bi, ei, near], dist[bi, ei, near]
    want = np.maximum(edge[bi, ei, near] - 0.5 * core.heal_range[:, a:], 0.0)
    step = np.where(follow.any(axis=2), np.minimum(core.move_len[:, a:], want), 0.0)
    delta = g / np.maximum(d, 1e-9)[..., None] * step[..., None]
    return heal, delta
