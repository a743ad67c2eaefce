"""Issue keys: one stable name per problem, so repeats de-duplicate and age across runs.

The key names the problem's *place*, not the words a model used for it (an Auditor words the
same finding differently every run, which would keep it forever young):

- a failing test: ``test:<test id>`` (the pytest node id as the checks report it);
- a problem in a file: ``file:<path>#<category>`` (path normalised, category slugged), one
  issue per file and category whichever reviewer (Auditor, judge, external) reported it;
- anything else: ``<source>:<category>:<title slug>`` (the title lower-cased, numbers and
  hex ids blurred, non-alphanumerics folded to ``-``, at most 80 characters).

The Doctor's findings are keyed by phase (``doctor:<phase_id>:<action>``, see
:mod:`autopack.issues.extract`). A key is at most :data:`MAX_KEY_LENGTH` characters.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_KEY_LENGTH",
    "doctor_key",
    "file_key",
    "id_of_test_key",
    "issue_key",
    "key_for_test",
    "kind_of",
    "normalize_path",
    "slug",
]

MAX_KEY_LENGTH = 255
_SLUG_LIMIT = 80
_BLUR = re.compile(r"0x[0-9a-f]+|\b[0-9a-f]{7,40}\b|\d+")
_NON_WORD = re.compile(r"[^a-z0-9]+")

TEST_PREFIX = "test:"
FILE_PREFIX = "file:"
DOCTOR_PREFIX = "doctor:"
TEST_SOURCES = frozenset({"checks", "ci"})
"""Sources whose issues are failing tests (their title is the test id)."""


def slug(text: str, limit: int = _SLUG_LIMIT) -> str:
    """Lower-case words joined by ``-``, numbers and hex ids blurred to ``n``."""
    blurred = _BLUR.sub("n", text.strip().lower())
    return _NON_WORD.sub("-", blurred).strip("-")[:limit].rstrip("-") or "untitled"


def normalize_path(path: str) -> str:
    """A repository path as keys use it: ``/`` separators, no ``./``, no trailing ``/``."""
    parts = [p for p in path.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def _cap(key: str) -> str:
    return key if len(key) <= MAX_KEY_LENGTH else key[:MAX_KEY_LENGTH]


def key_for_test(test_id: str) -> str:
    """The key of a failing test."""
    return _cap(f"{TEST_PREFIX}{test_id.strip()}")


def file_key(path: str, category: str) -> str:
    """The key of a problem of ``category`` in ``path``."""
    return _cap(f"{FILE_PREFIX}{normalize_path(path)}#{slug(category, 40)}")


def doctor_key(phase_id: str, action: str) -> str:
    """The key of a Doctor's finding about a phase."""
    return _cap(f"{DOCTOR_PREFIX}{phase_id}:{slug(action, 40)}")


def issue_key(source: str, category: str, file: str | None, title: str) -> str:
    """The key of an issue given without one (see the module docstring)."""
    if source.strip().lower() in TEST_SOURCES and title.strip():
        return key_for_test(title)
    if file and normalize_path(file):
        return file_key(file, category)
    return _cap(f"{slug(source, 32)}:{slug(category, 40)}:{slug(title)}")


def kind_of(key: str) -> str:
    """``test``, ``file``, ``doctor`` or ``other``: which resolution rule applies."""
    for prefix in (TEST_PREFIX, FILE_PREFIX, DOCTOR_PREFIX):
        if key.startswith(prefix):
            return prefix[:-1]
    return "other"


def id_of_test_key(key: str) -> str | None:
    """The test id of a ``test:`` key (None for any other key)."""
    return key[len(TEST_PREFIX) :] if key.startswith(TEST_PREFIX) else None
