"""The `tenure` command line (Typer + rich)."""
