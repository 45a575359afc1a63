"""Scenario files: strict TOML -> frozen dataclass, with overrides.

A scenario file holds three reserved keys (``task``, ``version``,
``description``) and the task's parameters. Every parameter must be a field of
the task's spec dataclass: unknown keys are an error that lists the valid ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import sys
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RESERVED = ("task", "version", "description", "dataset_episodes")


class SpecError(ValueError):
    """A scenario file or override is invalid."""


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML: {e}") from None


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _coerce(name: str, field: dataclasses.Field, value: Any, where: str) -> Any:
    default = field.default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SpecError(f"{where}: {name} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{where}: {name} must be an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{where}: {name} must be a number, got {value!r}")
        if math.isnan(value):
            raise SpecError(f"{where}: {name} must not be NaN")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise SpecError(f"{where}: {name} must be a string, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise SpecError(f"{where}: {name} must be a list, got {value!r}")
        return tuple(value)
    return value


def build_spec(cls: type, params: Mapping[str, Any], where: str):
    """Instantiate the frozen dataclass ``cls`` from ``params``, strictly."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise SpecError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"valid keys are: {', '.join(sorted(fields))}"
        )
    values = {k: _coerce(k, fields[k], v, where) for k, v in params.items()}
    spec = cls(**values)
    check = getattr(spec, "validate", None)
    if check is not None:
        try:
            check()
        except ValueError as e:
            raise SpecError(f"{where}: {e}") from None
    from .integrity.scenario_ranges import ScenarioRangeError, check_ranges

    try:  # finite and in the documented ranges (before any array is sized from them)
        check_ranges(cls, values)
    except ScenarioRangeError as e:
        raise SpecError(f"{where}: {e}") from None
    return spec


def spec_to_dict(spec) -> dict[str, Any]:
    return dataclasses.asdict(spec)


def scenario_spec(entry, cls: type, overrides: Mapping[str, Any] | None = None):
    """The spec of registry ``entry`` as dataclass ``cls``, with ``overrides`` applied.

    Returns ``(spec, where)``; ``where`` names the id and file for later errors.
    Unknown override names are an error that lists the valid keys.
    """
    params = entry.params()
    if overrides:
        fields = set(cls.__dataclass_fields__)
        bad = sorted(set(overrides) - fields)
        if bad:
            raise SpecError(
                f"{entry.id}: unknown override(s) {', '.join(bad)}; valid keys are: {', '.join(sorted(fields))}"
            )
        params.update(overrides)
    where = f"{entry.id} ({entry.path.name}{' + overrides' if overrides else ''})"
    return build_spec(cls, params, where), where
