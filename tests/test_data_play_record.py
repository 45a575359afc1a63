"""`play --record`: human sessions become a dataset; Ctrl-C or closing loses nothing committed."""

from __future__ import annotations

import pytest

from macflow_arena.data import Dataset, verify
from macflow_arena.play import play
from macflow_arena.play.events import quit_event


class Events:
    """No input for ``n`` frames, then ``end`` (a quit event, or KeyboardInterrupt as Ctrl-C would)."""

    def __init__(self, n: int, end: str):
        self.n, self.end = n, end

    def poll(self):
        self.n -= 1
        if self.n >= 0:
            return []
        if self.end == "ctrl-c":
            raise KeyboardInterrupt
        return [quit_event()]


@pytest.mark.parametrize("end", ["ctrl-c", "window-closed"])
def test_play_record_keeps_finished_episodes(tmp_path, end):
    path = tmp_path / "human"
    kw = dict(seats=["agent_0=keyboard"], headless=True, max_frames=1000, seed=5, record=str(path))
    if end == "ctrl-c":
        with pytest.raises(KeyboardInterrupt):
            play("particle/spread", events=Events(60, end), **kw)
    else:
        play("particle/spread", events=Events(60, end), **kw)
    ds = Dataset(path)
    assert ds.header["quality"] == "human" and ds.num_episodes == 2 and verify(path).ok  # the third is dropped
    data = ds.load()
    assert data.fields["seed"].tolist() == [5, 6] and data.fields["human"][:, 0].all()
    assert data.fields["policy"][0].tolist() == ["keyboard", "scripted", "scripted"]
    play("particle/spread", events=Events(30, "window-closed"), **kw)  # a second session appends
    assert Dataset(path).episode_ids == [0, 1, 2]


@pytest.mark.parametrize("seats, quality", [
    (["agent_0=random"], "mixed"),  # random beside the scripted teammates: nobody played
    (["*=random"], "random"),
    (["agent_0=scripted"], "expert"),
    (["agent_0=gamepad"], "human"),
])
def test_play_record_quality_comes_from_the_seats(tmp_path, seats, quality):
    path = tmp_path / "session"
    play("particle/spread", seats, headless=True, max_episodes=1, seed=0, record=str(path))
    ds = Dataset(path)
    assert ds.header["quality"] == quality and ds.num_episodes == 1


def test_session_quality_counts_the_commander_as_a_person():
    from macflow_arena.play.seats import session_quality

    assert session_quality({"ally_0": "scripted", "enemy_0": "commander"}) == "human"
    assert session_quality({"agent_0": "team:spread-bc", "agent_1": "scripted"}) == "mixed"
