"""Skirmish: a SMAC-like discrete cooperative game with action masks (batched numpy core)."""
