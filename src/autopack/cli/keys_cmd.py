"""``autopack keys``: create, list and revoke API keys for ``autopack serve``.

A key is printed once, when it is created; only its hash is stored. Roles: ``viewer``
(reads), ``operator`` (reads and run control), ``approver`` (reads and approvals).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from autopack.cli.common import EXIT_USAGE, console, err_console, fail, open_store
from autopack.store.keys import KEY_ROLES

app = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    role: Annotated[
        str, typer.Option("--role", help=f"One of: {', '.join(KEY_ROLES)}.", case_sensitive=False)
    ],
) -> None:
    """Create a key and print it once (store it now: it cannot be shown again)."""
    role = role.lower()
    if role not in KEY_ROLES:
        fail(f"unknown role {role!r}: use one of {', '.join(KEY_ROLES)}", EXIT_USAGE)
    with open_store() as store:
        view, key = store.create_api_key(name, role)
    err_console().print(
        f"created key {view.id} ({view.name}, {view.role}, prefix {view.prefix}). "
        "It is shown once; send it as `Authorization: Bearer <key>`:"
    )
    typer.echo(key)


@app.command("list")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """Keys (never their secrets): id, name, role, prefix, created, last used, revoked."""
    with open_store() as store:
        keys = store.api_keys(include_revoked=all_keys)
    table = Table("id", "name", "role", "prefix", "created", "last used", "revoked")
    for k in keys:
        table.add_row(
            str(k.id),
            k.name,
            k.role,
            k.prefix,
            _when(k.created_at),
            _when(k.last_used_at),
            _when(k.revoked_at),
        )
    out = console()
    out.print(table if keys else "no API keys (create one with `autopack keys create`)")


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id, prefix or name (see `keys list`).")],
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    with open_store() as store:
        view = store.revoke_api_key(key)
    console().print(f"revoked key {view.id} ({view.name}, {view.role}, prefix {view.prefix})")
