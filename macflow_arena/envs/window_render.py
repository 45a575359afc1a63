"""``render()``/``close()`` shared by the PettingZoo adapters.

An env using this mixin provides ``render_frame()`` (an RGB array of the current
state), ``render_mode``, ``env_id`` and ``metadata["render_fps"]``; the mixin
returns frames for ``rgb_array`` and shows them in a window for ``human``.
"""

from __future__ import annotations


class WindowRenderMixin:
    _window = None
    _drawer = None

    def render(self):
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn(
                "render() called with render_mode=None; pass render_mode='rgb_array' or 'human' to make()."
            )
            return None
        frame = self.render_frame()
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from ..render.window import Window

            self._window = Window(self.env_id, frame.shape[1], frame.shape[0], fps=self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
        self._drawer = None
