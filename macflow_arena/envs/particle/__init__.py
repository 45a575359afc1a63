"""Particle games with MPE physics: batched numpy core, PettingZoo adapters."""
