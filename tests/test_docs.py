"""The public surface stays documented: every setting and every CLI command is in README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tenure.cli.main import app
from tenure.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _command_paths(group: Any, prefix: str = "tenure") -> list[str]:
    # Typer vendors its own click, so groups are recognised by their sub-commands.
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            paths.extend(_command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_setting_is_documented():
    missing = [
        f"TENURE_{name.upper()}"
        for name in Settings.model_fields
        if f"`TENURE_{name.upper()}`" not in README
    ]
    assert missing == []


def test_every_cli_command_is_documented():
    group = typer.main.get_command(app)
    paths = _command_paths(group)
    assert "tenure user create" in paths
    missing = [path for path in paths if f"`{path}" not in README]
    assert missing == []
