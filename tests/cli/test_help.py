"""--help documents every option, shows flags as flags, and lists the --map targets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tenure.cli.main import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _commands(group: Any, prefix: str = "tenure") -> Iterator[tuple[str, Any]]:
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        else:
            yield path, command


COMMANDS = dict(_commands(typer.main.get_command(app)))


def _help(path: str) -> str:
    args = [*path.split()[1:], "--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def _options(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option" and not p.hidden]


def test_flags_print_as_flags():
    text = _help("tenure import csv")
    assert "<bool>" not in text
    dry_run = next(line for line in text.splitlines() if "--dry-run" in line)
    assert "Report what would change" in dry_run
    help_line = next(line for line in text.splitlines() if "--help" in line)
    assert help_line.split("--help")[1].split()[:2] == ["Show", "this"]


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_help_has_no_bool_metavar(path):
    assert "<bool>" not in _help(path)


def test_map_lists_its_targets():
    text = " ".join(_help("tenure import csv").replace("│", " ").split())
    for target in ("external:SYSTEM", "attribute:KEY", "social:NETWORK", "email", "ignore"):
        assert target in text
    assert "COLUMN=TARGET" in text


def test_every_option_has_help():
    missing = [
        f"{path} {option.opts[0]}"
        for path, command in COMMANDS.items()
        for option in _options(command)
        if not option.help
    ]
    assert missing == []


def test_every_option_is_in_the_readme():
    """Each option appears on a README line that names its command."""
    missing = []
    for path, command in COMMANDS.items():
        lines = [line for line in README.splitlines() if f"`{path}" in line]
        for option in _options(command):
            names = [o for o in [*option.opts, *option.secondary_opts] if o.startswith("--")]
            documented = any(name in line for name in names for line in lines)
            if names and names != ["--help"] and not documented:
                missing.append(f"{path} {names[0]}")
    assert missing == []
