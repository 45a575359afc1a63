"""The CLI's argument parser: no abbreviations, and errors from the sub-command that was typed.

Plain argparse accepts unique prefixes of long options (``--episode`` for
``--episodes``), which then break when a command gains a second option with the
same prefix; and an unknown option of a sub-command is reported with the
top-level usage. ``StrictParser`` turns abbreviations off and reports an unknown
option with the usage of the (sub-)command it was given to, plus the closest
known option. Sub-parsers inherit the class.
"""

from __future__ import annotations

import argparse
import difflib


class StrictParser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        ns, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(unrecognized_message(extras, list(self._option_string_actions)))
        return ns, extras


def unrecognized_message(extras: list[str], known: list[str]) -> str:
    """``unrecognized arguments: --episdoes 3 (did you mean --episodes?)``."""
    hints = []
    for arg in extras:
        if arg.startswith("-"):
            close = difflib.get_close_matches(arg.split("=", 1)[0], known, n=1, cutoff=0.6)
            if close and close[0] not in hints:
                hints.append(close[0])
    msg = "unrecognized arguments: " + " ".join(extras)
    if hints:
        msg += " (did you mean " + " or ".join(hints) + "?)"
    return msg
