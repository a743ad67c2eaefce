"""The default memory backend: SQLite FTS5 with BM25 ranking, in ``<data_dir>/memory.sqlite3``.

Its own file, independent of the main database (which may be PostgreSQL), so memory needs no
service and no migration of the main schema. Notes live in a plain table; an external-content
FTS5 index over title, text, paths and category follows it through triggers.

- Ranking: ``bm25()`` with column weights (title 4, text 1, paths 2, category 1).
- Queries: user text is cut into word terms, each one quoted, joined with ``OR``: FTS5 syntax
  in the text (``"``, ``*``, ``:``, ``NEAR``, ``AND``, ``-``, parentheses) is never
  interpreted, and BM25 ranks notes sharing more (and rarer) terms first.
- Concurrency: WAL, a busy timeout, a short-lived connection per operation (so threads never
  share one) and ``BEGIN IMMEDIATE`` for writes: several threads and processes may read and
  write the same file.
- Upsert by id is idempotent: a note whose digest is unchanged is not rewritten.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from autopack.memory.notes import Hit, MemoryStoreError, Note

if TYPE_CHECKING:
    from autopack.settings import Settings

__all__ = ["FILE_NAME", "FtsBackend", "fts_query"]

FILE_NAME = "memory.sqlite3"
WEIGHTS = (4.0, 1.0, 2.0, 1.0)
"""bm25() column weights, in the FTS table's column order: title, text, paths, category."""
MAX_TERMS = 64
_TERM = re.compile(r"\w+", re.UNICODE)
_STOP_WORDS = (
    "a an and are as at be but by for from has have in is it its not of on or that the this to "
    "was were will with"
)
_STOP = frozenset(_STOP_WORDS.split())

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    run_id TEXT,
    phase_id TEXT,
    category TEXT,
    paths TEXT NOT NULL,
    created_at TEXT NOT NULL,
    digest TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_kind ON notes(kind);
CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(
    title, text, paths, category,
    content='notes', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS notes_ai AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, title, text, paths, category)
    VALUES (new.rowid, new.title, new.text, new.paths, coalesce(new.category, ''));
END;
CREATE TRIGGER IF NOT EXISTS notes_ad AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, text, paths, category)
    VALUES ('delete', old.rowid, old.title, old.text, old.paths, coalesce(old.category, ''));
END;
CREATE TRIGGER IF NOT EXISTS notes_au AFTER UPDATE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, text, paths, category)
    VALUES ('delete', old.rowid, old.title, old.text, old.paths, coalesce(old.category, ''));
    INSERT INTO notes_fts(rowid, title, text, paths, category)
    VALUES (new.rowid, new.title, new.text, new.paths, coalesce(new.category, ''));
END;
"""

_UPSERT = """
INSERT INTO notes (id, kind, title, text, run_id, phase_id, category, paths, created_at, digest)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    kind = excluded.kind, title = excluded.title, text = excluded.text,
    run_id = excluded.run_id, phase_id = excluded.phase_id, category = excluded.category,
    paths = excluded.paths, created_at = excluded.created_at, digest = excluded.digest
WHERE notes.digest != excluded.digest
"""

_COLUMNS = "n.id, n.kind, n.title, n.text, n.run_id, n.phase_id, n.category, n.paths, n.created_at"


def fts_query(text: str, *, max_terms: int = MAX_TERMS) -> str:
    """An FTS5 query matching any word of ``text``: each term quoted, joined with ``OR``.

    Empty when ``text`` has no word. Quoting makes every term a string token: nothing of the
    user's text is read as FTS5 syntax (operators, column filters, prefixes, ``NEAR``).
    """
    terms: list[str] = []
    for match in _TERM.finditer(text.lower()):
        term = match.group()
        if len(term) < 2 or term in _STOP or term in terms:
            continue
        terms.append(term)
        if len(terms) >= max_terms:
            break
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _note(row: sqlite3.Row | tuple) -> Note:
    id_, kind, title, text, run_id, phase_id, category, paths, created_at = row[:9]
    return Note(
        id=id_,
        kind=kind,
        title=title,
        text=text,
        run_id=run_id,
        phase_id=phase_id,
        category=category,
        paths=tuple(json.loads(paths)),
        created_at=created_at,
    )


class FtsBackend:
    """Notes in one SQLite file with an FTS5 index (see the module docstring)."""

    name = "fts"

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> FtsBackend:
        """The backend at ``<data_dir>/memory.sqlite3``."""
        try:
            data_dir = settings.ensure_data_dir()
        except OSError as exc:
            raise MemoryStoreError(f"data directory {settings.data_dir}: {exc}") from exc
        return cls(data_dir / FILE_NAME, busy_timeout_ms=settings.sqlite_busy_timeout_ms)

    # -- connections -----------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise MemoryStoreError(f"memory database {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            self._ensure_schema(conn)
            if write:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            else:
                yield conn
        except sqlite3.Error as exc:
            raise MemoryStoreError(f"memory database {self.path}: {exc}") from exc
        finally:
            conn.close()

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise MemoryStoreError(f"memory database {self.path}: WAL unavailable ({mode})")
            # One transaction (inside the script: executescript commits anything pending), so
            # two processes creating the schema at once wait for each other.
            try:
                conn.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._ready = True

    # -- the backend protocol --------------------------------------------------------------

    def upsert(self, notes: Sequence[Note]) -> int:
        """Insert or replace by id; a note with an unchanged digest is left untouched."""
        if not notes:
            return 0
        changed = 0
        with self._connect(write=True) as conn:
            for n in notes:
                cur = conn.execute(
                    _UPSERT,
                    (
                        n.id,
                        n.kind,
                        n.title,
                        n.text,
                        n.run_id,
                        n.phase_id,
                        n.category,
                        json.dumps(list(n.paths)),
                        n.created_at,
                        n.digest,
                    ),
                )
                changed += cur.rowcount
        return changed

    def search(
        self, query: str, *, kinds: Collection[str] | None = None, limit: int = 10
    ) -> list[Hit]:
        """BM25-ranked notes sharing words with ``query`` (plain text, never FTS syntax)."""
        match = fts_query(query)
        if not match or limit <= 0 or (kinds is not None and not kinds):
            return []
        weights = ", ".join(str(w) for w in WEIGHTS)
        sql = (
            f"SELECT {_COLUMNS}, bm25(notes_fts, {weights}) AS rank "  # noqa: S608 (constants)
            "FROM notes_fts JOIN notes n ON n.rowid = notes_fts.rowid WHERE notes_fts MATCH ?"
        )
        params: list[object] = [match]
        if kinds is not None:
            sql += f" AND n.kind IN ({', '.join('?' for _ in kinds)})"
            params.extend(kinds)
        sql += " ORDER BY rank, n.id LIMIT ?"
        params.append(limit)
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        # bm25() is lower-is-better (negative); a Hit's score is higher-is-better.
        return [Hit(_note(r), -float(r[9])) for r in rows]

    def get(self, note_id: str) -> Note | None:
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM notes n WHERE n.id = ?", (note_id,))  # noqa: S608
            found = row.fetchone()
        return _note(found) if found else None

    def delete(self, ids: Iterable[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return 0
        deleted = 0
        with self._connect(write=True) as conn:
            for note_id in wanted:
                deleted += conn.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount
        return deleted

    def count(self, kinds: Collection[str] | None = None) -> int:
        sql, params = "SELECT count(*) FROM notes", list(kinds or ())
        if kinds is not None:
            if not kinds:
                return 0
            sql += f" WHERE kind IN ({', '.join('?' for _ in params)})"
        with self._connect() as conn:
            return int(conn.execute(sql, params).fetchone()[0])

    def ids(self, prefix: str = "") -> dict[str, str]:
        # Prefix match with substr, not LIKE: ids may contain % and _.
        sql = "SELECT id, digest FROM notes WHERE substr(id, 1, ?) = ? ORDER BY id"
        with self._connect() as conn:
            return dict(conn.execute(sql, (len(prefix), prefix)).fetchall())

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own connection."""
