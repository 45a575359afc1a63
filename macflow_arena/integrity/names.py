"""Names given on the command line are one path component of a safe character set.

``record --name ../../x`` or ``train --name /abs`` must not write outside the
datasets or runs folder: a name is letters, digits, ``.``, ``_`` and ``-``,
starting with a letter or digit, at most ``MAX_NAME`` characters, never ``.``
or ``..`` (the rule team names already follow, upper case allowed). A user who
wants a path says ``--out PATH``.
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_NAME = 128


class BadNameError(ValueError):
    """A name is not a single safe path component."""


def check_name(name: str, what: str = "name", out_flag: str = "--out PATH") -> str:
    """Return ``name`` if it is one safe path component, else raise ``BadNameError`` naming the fix."""
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_NAME or ".." in name:
        raise BadNameError(
            f"bad {what} {name!r}: a name is one folder name of letters, digits, '.', '_' and '-', starting "
            f"with a letter or digit (at most {MAX_NAME} characters, no '..', '/' or '\\'); "
            f"to write somewhere else give {out_flag}"
        )
    return name
