"""The optional memory backend: Qdrant with sentence embeddings (extra ``memory-qdrant``).

Remote when ``QDRANT_HOST`` is set (``host``, ``host:port`` or a URL), else Qdrant's embedded
local mode in ``<data_dir>/qdrant``. Embedded mode locks its directory for one client per
process, so clients are shared per directory within a process (and a second process gets a
clear :class:`MemoryStoreError`). Notes are points in one collection (cosine, the embedder's
dimension); a point's id is a UUID derived from the note id (Qdrant ids are integers or
UUIDs) and its payload holds the note and its digest, so upserting an unchanged note skips
the embedding and the write. Searches embed the query: a paraphrase finds a note that shares
no word with it.
"""

from __future__ import annotations

import atexit
import threading
import uuid
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autopack.memory.embed import INSTALL_HINT, Embedder, load_embedder
from autopack.memory.notes import Hit, MemoryStoreError, Note

if TYPE_CHECKING:
    from autopack.settings import Settings

__all__ = ["COLLECTION", "QdrantBackend", "point_id", "release_local"]

COLLECTION = "autopack_memory"
_NAMESPACE = uuid.UUID("5d0c9b8e-3f4a-4c51-9a57-6a1f0e4b2c3d")
_LOCAL: dict[Path, Any] = {}
_LOCAL_LOCK = threading.Lock()


def point_id(note_id: str) -> str:
    """The Qdrant point id of a note id (stable: a UUID 5)."""
    return str(uuid.uuid5(_NAMESPACE, note_id))


def _qdrant() -> Any:
    try:
        import qdrant_client
        from qdrant_client import models
    except ImportError as exc:
        raise MemoryStoreError(f"qdrant-client is not installed: {INSTALL_HINT}") from exc
    return qdrant_client, models


def _client(host: str | None, path: Path) -> Any:
    qdrant_client, _ = _qdrant()
    if host:
        url = host if "://" in host else f"http://{host}" if ":" in host else None
        return qdrant_client.QdrantClient(url=url) if url else qdrant_client.QdrantClient(host=host)
    key = path.resolve()
    with _LOCAL_LOCK:
        if key not in _LOCAL:
            path.mkdir(parents=True, exist_ok=True)
            try:
                _LOCAL[key] = qdrant_client.QdrantClient(path=str(key))
            except RuntimeError as exc:  # the directory is locked by another process
                raise MemoryStoreError(f"qdrant local storage {key}: {exc}") from exc
            if len(_LOCAL) == 1:
                atexit.register(release_local)
        return _LOCAL[key]


def release_local(path: Path | None = None) -> None:
    """Close the embedded client of ``path`` (default: all), releasing its directory lock.

    Called at exit (the client's own finaliser fails while the interpreter shuts down).
    """
    with _LOCAL_LOCK:
        keys = list(_LOCAL) if path is None else [path.resolve()]
        for key in keys:
            client = _LOCAL.pop(key, None)
            if client is not None:
                client.close()


def _payload(note: Note) -> dict[str, Any]:
    data = note.model_dump(mode="json")
    data["digest"] = note.digest
    return data


def _note(payload: dict[str, Any]) -> Note:
    return Note.model_validate({k: v for k, v in payload.items() if k != "digest"})


class QdrantBackend:
    """Notes as Qdrant points with sentence embeddings (see the module docstring)."""

    name = "qdrant"

    def __init__(
        self,
        *,
        path: Path,
        host: str | None = None,
        embedder: Embedder | None = None,
        collection: str = COLLECTION,
    ) -> None:
        self._models = _qdrant()[1]
        self.embedder = embedder or load_embedder()
        self.collection = collection
        self.where = host or str(path)
        self._remote = bool(host)
        self._lock = threading.Lock()
        try:
            self._client = _client(host, path)
            if not self._client.collection_exists(collection):
                params = self._models.VectorParams(
                    size=self.embedder.dimension, distance=self._models.Distance.COSINE
                )
                self._client.create_collection(collection, vectors_config=params)
        except MemoryStoreError:
            raise
        except Exception as exc:  # the client raises transport and HTTP errors of several kinds
            raise MemoryStoreError(f"qdrant at {self.where}: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> QdrantBackend:
        """Remote with ``QDRANT_HOST``, else embedded in ``<data_dir>/qdrant``."""
        host = settings.qdrant_host
        path = settings.data_dir / "qdrant"
        if not host:
            try:
                settings.ensure_data_dir()
            except OSError as exc:
                raise MemoryStoreError(f"data directory {settings.data_dir}: {exc}") from exc
        return cls(path=path, host=host)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with self._lock:
                return fn(*args, **kwargs)
        except Exception as exc:  # wrapped at the adapter boundary (transport, HTTP, storage)
            raise MemoryStoreError(f"qdrant at {self.where}: {what}: {exc}") from exc

    def _filter(self, kinds: Collection[str] | None) -> Any:
        if kinds is None:
            return None
        m = self._models
        return m.Filter(must=[m.FieldCondition(key="kind", match=m.MatchAny(any=list(kinds)))])

    # -- the backend protocol --------------------------------------------------------------

    def upsert(self, notes: Sequence[Note]) -> int:
        """Embed and write new or changed notes (unchanged digests are skipped)."""
        if not notes:
            return 0
        latest = {n.id: n for n in notes}
        known = self._call(
            "retrieve",
            self._client.retrieve,
            self.collection,
            ids=[point_id(i) for i in latest],
            with_payload=["id", "digest"],
        )
        current = {r.payload["id"]: r.payload.get("digest") for r in known}
        todo = [n for n in latest.values() if current.get(n.id) != n.digest]
        if not todo:
            return 0
        vectors = self.embedder.encode([f"{n.title}\n{n.text}" for n in todo])
        points = [
            self._models.PointStruct(id=point_id(n.id), vector=v, payload=_payload(n))
            for n, v in zip(todo, vectors, strict=True)
        ]
        self._call("upsert", self._client.upsert, self.collection, points=points, wait=True)
        return len(todo)

    def search(
        self, query: str, *, kinds: Collection[str] | None = None, limit: int = 10
    ) -> list[Hit]:
        """Notes nearest in meaning to ``query`` (cosine similarity as the score)."""
        if not query.strip() or limit <= 0 or (kinds is not None and not kinds):
            return []
        [vector] = self.embedder.encode([query])
        found = self._call(
            "query",
            self._client.query_points,
            self.collection,
            query=vector,
            query_filter=self._filter(kinds),
            limit=limit,
            with_payload=True,
        )
        return [Hit(_note(p.payload), float(p.score)) for p in found.points]

    def get(self, note_id: str) -> Note | None:
        found = self._call(
            "retrieve", self._client.retrieve, self.collection, ids=[point_id(note_id)]
        )
        return _note(found[0].payload) if found else None

    def delete(self, ids: Iterable[str]) -> int:
        wanted = [point_id(i) for i in dict.fromkeys(ids)]
        if not wanted:
            return 0
        existing = self._call("retrieve", self._client.retrieve, self.collection, ids=wanted)
        if existing:
            selector = self._models.PointIdsList(points=[r.id for r in existing])
            self._call(
                "delete",
                self._client.delete,
                self.collection,
                points_selector=selector,
                wait=True,
            )
        return len(existing)

    def count(self, kinds: Collection[str] | None = None) -> int:
        if kinds is not None and not kinds:
            return 0
        result = self._call(
            "count",
            self._client.count,
            self.collection,
            count_filter=self._filter(kinds),
            exact=True,
        )
        return int(result.count)

    def ids(self, prefix: str = "") -> dict[str, str]:
        out: dict[str, str] = {}
        offset = None
        while True:
            records, offset = self._call(
                "scroll",
                self._client.scroll,
                self.collection,
                limit=512,
                offset=offset,
                with_payload=["id", "digest"],
            )
            for r in records:
                if r.payload["id"].startswith(prefix):
                    out[r.payload["id"]] = r.payload.get("digest", "")
            if offset is None:
                return dict(sorted(out.items()))

    def close(self) -> None:
        """Remote clients are closed; an embedded client stays open for the process."""
        if self._remote:
            self._client.close()
