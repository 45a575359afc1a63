"""Can a real window open here? Decided before pygame starts, from the environment.

SDL does not fail when there is no display: it falls back to its offscreen
driver and the game runs in an invisible window. ``play`` (the CLI command)
asks ``no_display_reason`` first and stops with one line naming ``--headless``
and ``macflow-arena video`` instead.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

class NoDisplayError(RuntimeError):
    """The window opened on an invisible SDL driver (its message is the reason)."""


# SDL video drivers that draw into memory only: nothing appears on a screen.
INVISIBLE_DRIVERS = ("dummy", "offscreen")


def no_display_reason(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no visible window can open (a short phrase), or None when one can.

    ``environ`` defaults to ``os.environ``, ``platform`` to ``sys.platform``.
    On Linux (and other X11/Wayland systems) a window needs ``DISPLAY`` or
    ``WAYLAND_DISPLAY``; on every system ``SDL_VIDEODRIVER=dummy|offscreen``
    hides it.
    """
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    driver = env.get("SDL_VIDEODRIVER", "").strip().lower()
    if driver in INVISIBLE_DRIVERS:
        return f"SDL_VIDEODRIVER={driver} draws into memory, not on a screen"
    if plat.startswith(("linux", "freebsd", "openbsd", "netbsd")) and driver not in ("kmsdrm", "directfb"):
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            return "neither DISPLAY nor WAYLAND_DISPLAY is set"
    return None


def invisible_driver_reason(driver: str) -> str | None:
    """After pygame's display started: a reason when SDL fell back to an invisible driver."""
    if driver.strip().lower() in INVISIBLE_DRIVERS:
        return f"SDL opened its {driver} video driver, which shows nothing"
    return None


def no_display_message(env_id: str, reason: str) -> str:
    """The one-line error of ``play`` without a display: names ``--headless`` and ``video``."""
    slug = env_id.split("-v")[0].replace("/", "-")
    return (f"no window can open here ({reason}). Render a file instead: "
            f"`macflow-arena video {env_id} --out {slug}.mp4`, or run without a window: "
            f"`macflow-arena play {env_id} --headless --frames 200`")
