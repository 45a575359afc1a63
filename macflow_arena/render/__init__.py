"""State -> RGB array drawers (pygame surfaces, no display needed) and the window."""
