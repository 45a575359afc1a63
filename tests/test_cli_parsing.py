"""Option parsing: no abbreviations anywhere; an unknown option is reported by its sub-command with a suggestion."""

from __future__ import annotations

import argparse

import pytest

from macflow_arena.cli import build_parser, main


def _all_parsers(parser, path=("macflow-arena",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, path + (name,))


def test_every_parser_refuses_abbreviations():
    parsers = list(_all_parsers(build_parser()))
    assert len(parsers) > 15  # commands and their actions (dataset info, team export ...)
    assert [" ".join(p) for p, parser in parsers if parser.allow_abbrev] == []


@pytest.mark.parametrize("argv", [
    ["video", "particle/spread", "--out", "x.mp4", "--episode", "2"],
    ["record", "particle/spread", "--episode", "2"],
])
def test_prefix_of_an_option_is_an_error(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"macflow-arena {argv[0]}: error: unrecognized arguments: --episode 2 (did you mean --episodes?)" in err


def test_typo_names_the_subcommand_and_suggests(capsys):
    assert main(["record", "particle/spread", "--episdoes", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: macflow-arena record ")
    assert "did you mean --episodes?" in err


def test_typo_in_a_nested_subcommand(capsys):
    assert main(["dataset", "info", "x", "--jsno"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: macflow-arena dataset info ") and "did you mean --json?" in err
