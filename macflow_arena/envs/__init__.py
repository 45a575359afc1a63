"""Game engines. Each family has a pure numpy batched core and thin adapters."""
