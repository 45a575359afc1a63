import os

# Headless: no display, no audio, no pygame banner. Set before anything imports pygame.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import random

import pytest


@pytest.fixture(autouse=True)
def _seeded_global_rngs():
    """Every test starts from the same global RNG state, whatever ran before it: a test that draws
    from torch's / numpy's global generator sees the same numbers alone, in the suite and in CI."""
    import numpy as np

    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(0)
    yield
