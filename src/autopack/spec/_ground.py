"""Grounding a phase in the workspace: scope paths that exist, scope from words, the CI.

Each path a phase names is checked against :class:`~autopack.spec._facts.WorkspaceFacts`:

==============================================  ==========================================  =====
the path                                        becomes                                     score
==============================================  ==========================================  =====
exists (file or directory)                      scope (directories get a trailing ``/``)    1.0
a bare file name found once elsewhere           that file, with a warning                   0.9
missing, its directory exists                   scope + deliverable (a new file), warning   0.8
missing, and so is its directory                a warning; not in scope                     0.0
not a workspace-relative path (``/x``, ``..``)  a warning; not in scope                     0.0
==============================================  ==========================================  =====

A phase left with no scope gets one from its words (:func:`scope_from_words`): each
significant word is matched against the parts of every file name (``calculator`` ~ ``calc``:
one is a prefix of the other, four letters at least); the best-scoring files (at most three)
become the scope with a warning. The CI comes from the project (:func:`infer_ci`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from autopack.spec._facts import WorkspaceFacts
from autopack.spec._infer import Mention, is_test_path
from autopack.spec.models import normalize_rel_path

__all__ = ["Grounding", "ground", "infer_ci", "scope_from_words", "test_companions"]

MAX_INFERRED = 3
_GENERIC = frozenset({
    "test", "tests", "testing", "src", "lib", "main", "init", "index", "app", "core", "util",
    "utils", "py", "the", "and", "for", "with", "from", "into", "that", "this", "add", "adds",
    "create", "new", "file", "files", "module", "function", "code", "make", "should", "will",
    "update", "write", "use", "using", "all", "any", "each", "one", "two", "some", "more",
    "when", "then", "also", "via", "per", "phase", "step", "task", "plan", "its", "our",
    "your", "are", "can", "not"
})  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass
class Grounding:
    """What a phase's paths became; ``warnings`` are ``(code, message)`` pairs."""

    paths: list[str] = field(default_factory=list)
    deliverables: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def add(self, bucket: list[str], path: str) -> None:
        if path not in bucket:
            bucket.append(path)


def _basename_match(name: str, facts: WorkspaceFacts) -> str | None:
    hits = [f for f in facts.files if posixpath.basename(f) == name]
    return hits[0] if len(hits) == 1 else None


def ground(items: Iterable[Mention], facts: WorkspaceFacts, *, deliver: set[str]) -> Grounding:
    """Check every mention against the workspace (see the module docstring's table).

    ``deliver`` holds the raw mentions that are explicit deliverables: they are kept as
    deliverables when they exist or are new files in an existing directory.
    """
    out = Grounding()
    for mention in items:
        raw = mention.raw.strip().strip("`")
        try:
            path = normalize_rel_path(raw)
        except ValueError as exc:
            out.scores.append(0.0)
            out.warnings.append(("invalid_path", f"`{raw}` is not usable: {exc}; left out"))
            continue
        path = path.removeprefix("./") or "./"
        bucket = {"scope": out.paths, "context": out.context, "protected": out.protected}[
            mention.role
        ]
        if facts.exists(path):
            if facts.is_dir(path) and not facts.is_file(path) and not path.endswith("/"):
                path = "./" if path == "." else path + "/"
            out.add(bucket, path)
            out.scores.append(1.0)
            if mention.raw in deliver or mention.creates:
                out.add(out.deliverables, path)
            continue
        found = _basename_match(path, facts) if "/" not in path else None
        if found is not None:
            out.add(bucket, found)
            out.scores.append(0.9)
            out.warnings.append(("basename_match", f"`{raw}` taken to be `{found}`"))
            if mention.raw in deliver or mention.creates:
                out.add(out.deliverables, found)
            continue
        parent = posixpath.dirname(path.rstrip("/"))
        if facts.is_dir(parent) and mention.role == "scope":
            out.add(out.paths, path)
            out.add(out.deliverables, path)
            out.scores.append(0.8)
            where = f"its directory `{parent}/`" if parent else "the workspace root"
            out.warnings.append(
                ("new_file", f"`{path}` does not exist yet; {where} does, so it is in scope "
                 "as a new file (and a deliverable)")
            )  # fmt: skip
            continue
        out.scores.append(0.0)
        if mention.role != "scope":
            out.warnings.append(
                ("ungrounded_path", f"`{path}` ({mention.role}) does not exist; ignored")
            )
        else:
            out.warnings.append(
                ("ungrounded_path", f"`{path}` does not exist and neither does its directory "
                 f"`{parent}/`; left out of scope")
            )  # fmt: skip
    return out


def _parts(path: str) -> set[str]:
    stem = posixpath.splitext(path)[0]
    pieces: set[str] = set()
    for chunk in re.split(r"[/_.\-\s]+", stem):
        for part in _CAMEL.split(chunk):
            if part:
                pieces.add(part.lower())
    return pieces


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def _matches(word: str, part: str) -> bool:
    if _singular(word) == _singular(part):
        return True
    short, long = sorted((word, part), key=len)
    return len(short) >= 4 and long.startswith(short)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 3 and w.lower() not in _GENERIC}


def scope_from_words(title: str, body: str, facts: WorkspaceFacts) -> tuple[list[str], list[str]]:
    """Files whose names match the phase's words best: ``(paths, matched words)``.

    Title words count twice; a test file gains half a point when the phase speaks of tests
    and loses half otherwise. Ties beyond :data:`MAX_INFERRED` files mean the words do not
    single anything out, and nothing is returned.
    """
    title_words, body_words = _words(title), _words(body)
    about_tests = re.search(r"\btest(s|ing)?\b", f"{title} {body}", re.I) is not None
    scored: list[tuple[float, str, set[str]]] = []
    for path in facts.files:
        parts = _parts(path)
        hit = {w for w in title_words | body_words if any(_matches(w, p) for p in parts)}
        if not hit:
            continue
        score = sum(2.0 if w in title_words else 1.0 for w in hit)
        if is_test_path(path):
            # Test files win for a phase about tests and lose otherwise.
            score += 0.5 if about_tests else -0.5
        scored.append((score, path, hit))
    if not scored:
        return [], []
    best = max(s for s, _, _ in scored)
    top = sorted((p, w) for s, p, w in scored if s == best)
    if len(top) > MAX_INFERRED:
        return [], []
    words = sorted({w for _, hit in top for w in hit})
    return [p for p, _ in top], words


def test_companions(paths: list[str], facts: WorkspaceFacts) -> list[str]:
    """For a tests phase scoped to Python sources only: ``tests/test_<name>.py`` for each."""
    if any(is_test_path(p) for p in paths) or not facts.is_dir("tests"):
        return []
    return [
        f"tests/test_{posixpath.splitext(posixpath.basename(p))[0]}.py"
        for p in paths
        if p.endswith(".py")
    ]


CiSource = str


def infer_ci(
    facts: WorkspaceFacts, explicit: list[str] | None
) -> tuple[dict[str, Any] | None, CiSource | None]:
    """The phase's ``ci`` from an explicit command or the project: ``(ci, source)``.

    Order: explicit command; pytest (pytest configuration or Python test files); ``npm
    test`` (a real ``test`` script); ``make test``; ``cargo test``; ``go test ./...``.
    """
    if explicit:
        if explicit[0] in ("pytest", "py.test") and len(explicit) == 1:
            return {"type": "pytest"}, "explicit"
        return {"type": "custom", "command": list(explicit)}, "explicit"
    if facts.pytest_configured or facts.python_test_files():
        return {"type": "pytest"}, "pytest"
    if facts.npm_test_script():
        return {"type": "custom", "command": ["npm", "test"]}, "npm"
    if "test" in facts.make_targets:
        return {"type": "custom", "command": ["make", "test"]}, "make"
    if facts.has_marker("Cargo.toml"):
        return {"type": "custom", "command": ["cargo", "test"]}, "cargo"
    if facts.has_marker("go.mod"):
        return {"type": "custom", "command": ["go", "test", "./..."]}, "go"
    return None, None
