"""user create and token create."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tenure.cli.context import cli_sessions
from tenure.db.session import unit_of_work
from tenure.errors import TenureError
from tenure.identity.actions import create_api_token, create_user
from tenure.identity.models import Role, TokenScope

console = Console()
err = Console(stderr=True)

user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The user's email, used to log in.")],
    role: Annotated[Role, typer.Option(help="admin, manager, sales, marketing, support, analyst.")],
    password: Annotated[
        str | None, typer.Option(help="Prompted for (hidden) when not given.")
    ] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create a user who can log in to the web app."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work(cli_sessions()) as session:
            user = create_user(
                session=session, email=email, role=role, password=password, name=name
            )
            user_id = user.id
    except TenureError as error:
        err.print(f"[red]Cannot create user:[/] {error}")
        raise typer.Exit(1)
    console.print(f"Created user {user_id} <{email}> with role {role.value}.")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="Email of the user the token acts as.")],
    scope: Annotated[TokenScope, typer.Option(help="read or write.")] = TokenScope.read,
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "",
) -> None:
    """Create an API token; it is printed once and only its hash is stored."""
    try:
        with unit_of_work(cli_sessions()) as session:
            _, secret = create_api_token(session=session, email=email, scope=scope, name=name)
    except TenureError as error:
        err.print(f"[red]Cannot create token:[/] {error}")
        raise typer.Exit(1)
    err.print("Store this token now; it will not be shown again.")
    print(secret)
