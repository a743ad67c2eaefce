"""``autopack db``: schema management."""

from __future__ import annotations

import typer

from autopack.cli.common import console, get_settings, open_store
from autopack.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(no_args_is_help=True, help="Database schema management.")


@app.command("upgrade")
def upgrade_cmd(
    revision: str = typer.Argument("head", help="Target revision (default: newest)."),
) -> None:
    """Create or upgrade the database schema (SQLite file or DATABASE_URL)."""
    settings = get_settings()
    with open_store(settings, migrate=False) as store:
        before = current_revision(store.engine)
        after = upgrade(store.engine, revision)
    out = console()
    if before == after:
        out.print(f"database already at revision {after}")
    else:
        out.print(f"database upgraded: {before or 'empty'} -> {after}")


@app.command("current")
def current_cmd() -> None:
    """Show the schema revision of the database and the newest this version knows."""
    with open_store(migrate=False) as store:
        current = current_revision(store.engine)
    console().print(f"current: {current or 'empty'}\nhead:    {head_revision()}")
