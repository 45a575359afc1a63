"""The Discrete action layout of an allied unit (SMAC's).

====================  ==============================================================
index                 action
====================  ==============================================================
0                     no-op: legal only for a dead unit (dead units leave ``agents``,
                      so a live seat never has it; the VectorEnv feeds it for dead ones)
1                     stop (stand still, do not attack)
2, 3, 4, 5            move north (+y), south (-y), east (+x), west (-x)
6 .. 6+E-1            attack enemy k (legal when enemy k is alive and in attack range)
6+E .. 6+E+A-1        heal ally k: only on maps whose ally team can hold a healer
                      (legal for a healer when ally k is alive, biological, not itself
                      and in heal range); maps without ally healers have no heal slots
====================  ==============================================================
"""

from __future__ import annotations

NOOP, STOP, NORTH, SOUTH, EAST, WEST = range(6)
MOVE_NAMES = ("north", "south", "east", "west")
ATTACK0 = 6


class ActionLayout:
    def __init__(self, n_allies: int, n_enemies: int, has_heal: bool):
        self.n_allies = n_allies
        self.n_enemies = n_enemies
        self.has_heal = has_heal
        self.attack0 = ATTACK0
        self.heal0 = ATTACK0 + n_enemies
        self.n = self.heal0 + (n_allies if has_heal else 0)

    def attack(self, enemy: int) -> int:
        return self.attack0 + enemy

    def heal(self, ally: int) -> int:
        if not self.has_heal:
            raise ValueError("this map has no heal actions (no ally healer type)")
        return self.heal0 + ally

    def name(self, a: int) -> str:
        a = int(a)
        if a == NOOP:
            return "no-op"
        if a == STOP:
            return "stop"
        if NORTH <= a <= WEST:
            return f"move {MOVE_NAMES[a - NORTH]}"
        if self.attack0 <= a < self.heal0:
            return f"attack enemy_{a - self.attack0}"
        if self.has_heal and self.heal0 <= a < self.n:
            return f"heal ally_{a - self.heal0}"
        return f"<invalid {a}>"

    def names(self) -> list[str]:
        return [self.name(a) for a in range(self.n)]
