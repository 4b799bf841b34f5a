"""`--version`, and each command's help: what it does, an example that the parser accepts, and
the exit codes."""

from __future__ import annotations

import argparse
import re
import shlex
from importlib.metadata import version

import pytest

from bot.cli import build_parser, main

COMMANDS = ("serve", "lookup", "scan", "demo", "types", "check", "health")


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"whocreated {version('whocreated')}\n"


def test_every_command_has_a_help() -> None:
    assert tuple(command_parsers()) == COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_help_describes_gives_an_example_and_the_exit_codes(name: str) -> None:
    text = command_parsers()[name].format_help()
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 8, text
    example = re.search(r"^example:\n  (whocreated .+)$", text, flags=re.MULTILINE)
    assert example, text
    argv = shlex.split(example[1].split(">")[0])[1:]
    assert build_parser().parse_args(argv).command == name  # the example is a valid command line
    codes = re.findall(r"^  ([0-3])  \S", text.split("exit codes:\n", 1)[1], flags=re.MULTILINE)
    assert "0" in codes and len(codes) >= 2, text


def test_the_log_options_are_listed_in_each_command() -> None:
    for name, parser in command_parsers().items():
        text = parser.format_help()
        assert "--log-level {debug,info,warning,error}" in text, name
        assert "--log-format {text,json}" in text, name
