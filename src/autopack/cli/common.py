"""What every command needs: settings, the store, the strategy engine, error rendering.

Errors that are the user's to fix (bad settings, unreachable database, unknown run) are
printed as one clear line on stderr with exit code 2 or 1, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from autopack.policy.strategy import StrategyConfigError, StrategyEngine
from autopack.settings import Settings, SettingsError, load_settings
from autopack.store import SchemaError, Store, StoreError

EXIT_FAILURE = 1
EXIT_USAGE = 2


def console() -> Console:
    """Console for results (stdout)."""
    return Console(highlight=False, soft_wrap=False)


def err_console() -> Console:
    """Console for errors (stderr)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``error: message`` on stderr and exit."""
    err_console().print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


def get_settings() -> Settings:
    """Settings from the environment, or a clear exit."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(f"invalid settings: {exc}", EXIT_USAGE)


def get_strategy_engine(settings: Settings | None = None) -> StrategyEngine:
    """The strategy engine with the project's overrides, or a clear exit."""
    settings = settings or get_settings()
    try:
        return StrategyEngine.load(settings.resolved_strategy_file())
    except StrategyConfigError as exc:
        fail(f"invalid strategy configuration:\n{exc}", EXIT_USAGE)


@contextmanager
def open_store(settings: Settings | None = None, *, migrate: bool | None = None) -> Iterator[Store]:
    """The store, closed afterwards; database and schema problems become clear exits."""
    settings = settings or get_settings()
    try:
        store = Store.open(settings, migrate=migrate)
    except SchemaError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot use the database: {_db_message(exc)}")
    try:
        yield store
    except StoreError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"database error: {_db_message(exc)}")
    finally:
        store.close()


def _db_message(exc: SQLAlchemyError) -> str:
    # The original DB-API message, without SQL text or bound parameters (which may hold data).
    orig = getattr(exc, "orig", None)
    return str(orig).strip().splitlines()[0] if orig is not None else type(exc).__name__
