"""Reading a phase's words: the paths it mentions, its category, its complexity.

Heuristics, all of them pure and table-driven:

* **paths** — a backticked token that looks like a path (has a ``/``, a known file
  extension, or names something in the workspace), or a bare token with a known extension
  or a ``/`` whose first segment exists in the workspace. The words before it on its line
  give its role: *see, read, refer to, based on, like* → read-only context; *do not touch,
  must not change* → protected; *create/add/write (a new file)* right before it → deliverable.
* **category** — keywords scored title ×3, body ×1. High-risk categories need a score of 2
  (one title hit or two body hits): security words → ``security_auth_change``; schema,
  migration, public API, contract → ``schema_contract_change``; refactoring →
  ``cross_cutting_refactor`` when it spans more than three paths or says *across*,
  *throughout*…, else ``debt_cleanup``. Then paths (all docs → ``docs``, all tests →
  ``tests``), then the best of docs / tests / feature words (ties: feature), else
  ``feature_scaffolding`` as a guess.
* **complexity** — an explicit value (aliases allowed), else words (*trivial, simple, small*
  vs *complex, large, rewrite*…), else size: up to 2 scope entries low, up to 5 medium, more
  high (a directory counts as 3).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from autopack.spec._facts import WorkspaceFacts
from autopack.spec._markdown import strip_markup
from autopack.spec.models import COMPLEXITY_ALIASES, Complexity

__all__ = [
    "KNOWN_CATEGORIES",
    "Mention",
    "infer_category",
    "infer_complexity",
    "is_docs_path",
    "is_test_path",
    "mentions",
    "test_phrases",
]

KNOWN_CATEGORIES: tuple[str, ...] = (
    "feature_scaffolding",
    "docs",
    "tests",
    "debt_cleanup",
    "cross_cutting_refactor",
    "index_registry_change",
    "schema_contract_change",
    "bulk_multi_file_operation",
    "security_auth_change",
    "external_code_intake",
)
"""The categories of the packaged ``config/strategy.yaml`` (a test keeps them in step)."""

KNOWN_EXTENSIONS = frozenset({
    "py", "pyi", "md", "rst", "txt", "toml", "yaml", "yml", "json", "cfg", "ini", "js", "mjs",
    "cjs", "ts", "tsx", "jsx", "go", "rs", "rb", "java", "kt", "c", "h", "cc", "cpp", "hpp",
    "cs", "sh", "bash", "html", "htm", "css", "scss", "sql", "j2", "jinja", "xml", "csv",
    "lock", "vue", "svelte", "php", "swift", "mod", "sum", "gradle", "properties", "env"
})  # fmt: skip
_DOC_EXTENSIONS = frozenset({"md", "rst", "txt", "adoc"})

Role = Literal["scope", "context", "protected"]


@dataclass(frozen=True)
class Mention:
    """A path-like token of the plan, as written, with what the text says about it."""

    raw: str
    role: Role = "scope"
    creates: bool = False


_BACKTICK = re.compile(r"`([^`\n]{1,200})`")
_NOT_PATH = re.compile(r"[\s()=,;<>{}|$*?\[\]\"'@]|://")
_CONTEXT_BEFORE = re.compile(
    r"\b(see|read|refer to|reference|based on|for reference|look at|as in|like|mirror|"
    r"following)\b[^`]{0,30}$",
    re.I,
)
_PROTECTED_BEFORE = re.compile(
    r"\b(do not|don't|must not|never|without)\s+(touch|touching|modify|modifying|change|"
    r"changing|edit|editing|alter)\b",
    re.I,
)
_CREATE_BEFORE = re.compile(
    r"\b(create|add|write|introduce|generate)\s+(?:(?:a|an|the|new|file|module|test|tests)\s+)*$",
    re.I,
)
_STRIP = "()[]{}<>\"',;:.!?*"


def _extension(token: str) -> str:
    name = posixpath.basename(token.rstrip("/"))
    return name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def _path_like(token: str, facts: WorkspaceFacts, *, ticked: bool) -> bool:
    if not token or _NOT_PATH.search(token) or token.startswith("-"):
        return False
    if token.rstrip("/") in ("", ".", ".."):
        return False
    if _extension(token) in KNOWN_EXTENSIONS:
        return True
    if "/" in token:
        if ticked:
            return True
        return token.split("/", 1)[0] in facts.dirs or token.split("/", 1)[0] in facts.file_set
    return ticked and facts.exists(token)


def _role(before: str) -> tuple[Role, bool]:
    if _PROTECTED_BEFORE.search(before):
        return "protected", False
    if _CONTEXT_BEFORE.search(before):
        return "context", False
    return "scope", bool(_CREATE_BEFORE.search(before))


def mentions(text: str, facts: WorkspaceFacts) -> list[Mention]:
    """Path-like tokens of ``text`` in order, each once (its first role wins)."""
    found: dict[str, Mention] = {}
    for line in text.splitlines():
        spans: list[tuple[int, str, bool]] = []
        for match in _BACKTICK.finditer(line):
            spans.append((match.start(), match.group(1).strip(), True))
        bare = _BACKTICK.sub(lambda m: " " * len(m.group(0)), line)
        for match in re.finditer(r"\S+", bare):
            token = match.group(0).strip(_STRIP)
            if token.endswith("/") is False:
                token = token.rstrip("/")
            spans.append((match.start(), token, False))
        for start, token, ticked in sorted(spans):
            if token in found or not _path_like(token, facts, ticked=ticked):
                continue
            role, creates = _role(line[:start])
            found[token] = Mention(token, role, creates)
    return list(found.values())


_TEST_PHRASE = re.compile(
    r"\b((?:unit |integration |regression |end-to-end )?tests? (?:for|covering|of|that cover)"
    r" [^.;:\n]{2,80}?)\s*(?=[.;:\n]|$)",
    re.I,
)


_PATH_TAIL = re.compile(r"\s+(?:in|to|into|under|at)\s+\S*[/.]\S*")


def test_phrases(text: str) -> list[str]:
    """Free-text deliverables such as ``tests for div by zero``."""
    found = []
    for line in text.splitlines():
        for match in _TEST_PHRASE.finditer(strip_markup(line)):
            phrase = _PATH_TAIL.split(match.group(1))[0].strip()
            if phrase not in found:
                found.append(phrase)
    return found


def _kw(*words: str) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(words) + r")\b", re.I)


_KEYWORDS: dict[str, re.Pattern[str]] = {
    "security_auth_change": _kw(
        r"auth(?:n|z|entication|enticate|orization|orisation|orize|orise)?",
        r"security", r"secure", r"permissions?", r"log ?in", r"log ?out",
        r"passwords?", r"credentials?", r"oauth", r"rbac", r"access control", r"api keys?",
        r"secrets?", r"csrf", r"xss", r"encrypt\w*", r"sso", r"jwt", r"roles? based",
    ),
    "schema_contract_change": _kw(
        r"schemas?", r"migrations?", r"migrate", r"alembic", r"database tables?",
        r"public api", r"api contract", r"contracts?", r"breaking change", r"wire format",
        r"data model", r"openapi", r"protobuf",
    ),
    "refactor": _kw(
        r"refactor\w*", r"restructur\w*", r"reorgani[sz]\w*", r"rename", r"renaming",
        r"extract", r"split up", r"move \w+ (?:in)?to",
    ),
    "debt_cleanup": _kw(
        r"clean ?up", r"tidy", r"lint\w*", r"dead code", r"remove unused", r"deprecat\w*",
        r"tech(?:nical)? debt", r"simplify", r"type hints",
    ),
    "bulk_multi_file_operation": _kw(r"bulk", r"mass", r"every file", r"all files"),
    "index_registry_change": _kw(r"registry", r"entry points?"),
    "external_code_intake": _kw(r"vendor\w*", r"third[- ]party code", r"external code"),
    "docs": _kw(
        r"docs", r"documentation", r"document", r"readme", r"docstrings?", r"changelog",
        r"guide", r"tutorial", r"usage examples?",
    ),
    "tests": _kw(
        r"tests?", r"testing", r"unit tests?", r"coverage", r"pytest", r"test cases?",
        r"regression tests?",
    ),
    "feature_scaffolding": _kw(
        r"add", r"adds", r"implement\w*", r"new", r"create", r"feature", r"support",
        r"introduce", r"build", r"enable", r"allow", r"extend",
    ),
}  # fmt: skip
_CROSS = _kw(
    r"across", r"throughout", r"every module", r"all modules", r"everywhere",
    r"codebase[- ]wide", r"project[- ]wide", r"whole codebase",
)  # fmt: skip
_HIGH_RISK_ORDER = (
    "security_auth_change",
    "schema_contract_change",
    "bulk_multi_file_operation",
    "index_registry_change",
    "external_code_intake",
)
_TITLE_OBJECT = re.compile(
    r"^(?:add|write|create|improve|extend|update|expand|more)\s+(?:the\s+|more\s+)?"
    r"(?:unit\s+|integration\s+|regression\s+)?"
    r"(tests?|docs|documentation|readme|changelog)\b",
    re.I,
)
CategorySource = Literal["explicit", "model", "keywords", "paths", "default"]


def is_test_path(path: str) -> bool:
    name = posixpath.basename(path.rstrip("/"))
    return (
        path.startswith(("tests/", "test/", "spec/", "__tests__/"))
        or "/tests/" in path
        or name.startswith("test_")
        or re.search(r"[._-](test|spec)\.[a-z]+$", name) is not None
    )


def is_docs_path(path: str) -> bool:
    return path.startswith(("docs/", "doc/")) or _extension(path) in _DOC_EXTENSIONS


def _score(name: str, title: str, body: str) -> int:
    pattern = _KEYWORDS[name]
    return 3 * len(pattern.findall(title)) + len(pattern.findall(body))


def infer_category(title: str, body: str, paths: Sequence[str]) -> tuple[str, CategorySource]:
    """The category a phase's words and paths suggest (see the module docstring)."""
    title, body = strip_markup(title), strip_markup(body)
    for name in _HIGH_RISK_ORDER:
        if _score(name, title, body) >= 2:
            return name, "keywords"
    if _score("refactor", title, body) >= 2:
        spread = len(paths) > 3 or _CROSS.search(f"{title}\n{body}") is not None
        return ("cross_cutting_refactor" if spread else "debt_cleanup"), "keywords"
    if _score("debt_cleanup", title, body) >= 2:
        return "debt_cleanup", "keywords"
    lead = _TITLE_OBJECT.match(title)
    if lead:
        docs = lead.group(1).lower().startswith(("doc", "readme", "change"))
        return ("docs" if docs else "tests"), "keywords"
    if paths and all(is_docs_path(p) for p in paths):
        return "docs", "paths"
    if paths and all(is_test_path(p) for p in paths):
        return "tests", "paths"
    scores = {name: _score(name, title, body) for name in ("feature_scaffolding", "tests", "docs")}
    best = max(scores.values())
    if best == 0:
        return "feature_scaffolding", "default"
    winner = next(name for name, value in scores.items() if value == best)
    return winner, "keywords"


_LOW_WORDS = _kw(
    r"trivial", r"simple", r"small", r"tiny", r"quick", r"minor", r"typo", r"one[- ]line",
    r"easy",
)  # fmt: skip
_HIGH_WORDS = _kw(
    r"complex", r"complicated", r"large", r"major", r"difficult", r"hard", r"significant",
    r"rewrite", r"overhaul", r"extensive", r"risky",
)  # fmt: skip
ComplexitySource = Literal["explicit", "words", "size"]


def complexity_alias(value: str | None) -> Complexity | None:
    """``value`` as a complexity (aliases allowed), or ``None``."""
    if not value:
        return None
    return COMPLEXITY_ALIASES.get(strip_markup(value).strip().lower())


def infer_complexity(
    title: str, body: str, scope: Sequence[str], explicit: str | None
) -> tuple[Complexity, ComplexitySource]:
    """The complexity a phase states or suggests (see the module docstring)."""
    given = complexity_alias(explicit)
    if given is not None:
        return given, "explicit"
    title, body = strip_markup(title), strip_markup(body)
    low = 2 * len(_LOW_WORDS.findall(title)) + len(_LOW_WORDS.findall(body))
    high = 2 * len(_HIGH_WORDS.findall(title)) + len(_HIGH_WORDS.findall(body))
    if low != high:
        return (Complexity.LOW if low > high else Complexity.HIGH), "words"
    size = sum(3 if p.endswith("/") else 1 for p in scope)
    if size <= 2:
        return Complexity.LOW, "size"
    return (Complexity.MEDIUM if size <= 5 else Complexity.HIGH), "size"
