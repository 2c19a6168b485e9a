from tests.cli.conftest import cli_database  # noqa: F401  (the CLI tests' fresh database)
