"""The run queue's tables: procrastinate's own SQL schema, installed once, in its own namespace.

The queue is optional (``AUTOPACK_DISPATCH=queue``, PostgreSQL only), so its schema is not an
Alembic migration of Autopack's: :func:`ensure_queue_schema` installs it, idempotently, when
something first needs the queue (the API starting with the queue dispatcher, ``autopack
worker``). SQLite databases, and PostgreSQL databases that never use the queue, stay
untouched; parallel Alembic revisions of Autopack's own tables never conflict with it.

It lives in the PostgreSQL schema ``procrastinate``: Autopack's tables (and the test that
compares models with migrations) never see its tables, and dropping the queue is one
``DROP SCHEMA procrastinate CASCADE``. procrastinate's functions and triggers name their
tables without a schema, so each of them is pinned to ``search_path = procrastinate`` when
installed: an enqueue (a qualified function call) works inside any of Autopack's
transactions. procrastinate's worker, whose queries also name tables without a schema, gets
``procrastinate`` as the search path of its own connections.

The procrastinate version that installed the schema is recorded as the schema's comment. A
database installed by another minor version (whose SQL may differ) is refused with a clear
error rather than used half-compatible; an Autopack release that moves the pin applies
procrastinate's migration scripts here.
"""

from __future__ import annotations

from importlib.metadata import version

from sqlalchemy import Connection, Engine, text

from autopack.engine.run import EngineError

SCHEMA = "procrastinate"
_INSTALL_LOCK = 0x41505155  # pg_advisory_xact_lock key: one installer at a time


class QueueError(EngineError):
    """The run queue cannot be used (wrong database, foreign schema version)."""

    code = "queue_unavailable"


def procrastinate_version() -> str:
    """The installed procrastinate's version (``3.10.0``)."""
    return version("procrastinate")


def _minor(ver: str) -> tuple[str, ...]:
    return tuple(ver.split(".")[:2])


def ensure_queue_schema(engine: Engine) -> bool:
    """Install procrastinate's schema unless present; ``True`` when it was installed now.

    Raises :class:`QueueError` on a database that is not PostgreSQL, or whose queue schema
    was installed by another minor version of procrastinate.
    """
    if engine.dialect.name != "postgresql":
        raise QueueError(f"the run queue needs PostgreSQL; this database is {engine.dialect.name}")
    installed = procrastinate_version()
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INSTALL_LOCK})
        row = conn.execute(
            text(
                "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = :s"
            ),
            {"s": SCHEMA},
        ).first()
        if row is not None:
            recorded = (row[0] or "").removeprefix("procrastinate ").strip()
            if _minor(recorded) != _minor(installed):
                raise QueueError(
                    f"the queue schema {SCHEMA!r} was installed by procrastinate "
                    f"{recorded or '(unknown)'}; this Autopack uses {installed}"
                )
            return False
        _install(conn, installed)
    return True


_PIN_FUNCTIONS = """
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'procrastinate'
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = procrastinate', f.sig);
    END LOOP;
END;
$$
"""


def _install(conn: Connection, installed: str) -> None:
    from procrastinate.schema import SchemaManager

    conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    conn.exec_driver_sql(f"SET LOCAL search_path TO {SCHEMA}")
    # One multi-statement script; the driver reads '%' as a placeholder, hence '%%'.
    conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    # Its functions (triggers included) name tables without a schema: pin their search_path
    # so they work from any connection (an enqueue inside Autopack's own transactions).
    conn.exec_driver_sql(_PIN_FUNCTIONS.replace("%", "%%"))
    conn.exec_driver_sql(f"COMMENT ON SCHEMA {SCHEMA} IS 'procrastinate {installed}'")
