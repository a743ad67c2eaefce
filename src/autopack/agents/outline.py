"""Compact views of large files: a map of definitions and the parts relevant to a task.

Pure functions over text (no I/O). For Python, the map lists classes and functions (with
methods one level down) with their signatures and line ranges, read with :mod:`ast`; for
other files, or Python that does not parse, the map is the head and tail of the file.

The relevant parts of a file are the definitions named by the task's keywords or holding a
line an error points at (Python), or windows around lines containing a code-like keyword
(other files), plus the file's head (imports), within a token cap.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "Definition",
    "Keywords",
    "error_lines",
    "excerpt",
    "extract_keywords",
    "fence",
    "file_map",
    "language",
    "python_definitions",
]

Estimator = Callable[[str], int]

_IDENT = re.compile(r"`([^`\n]{1,80})`|([A-Za-z_][A-Za-z0-9_]*)(\()?")
_STOPWORD_TEXT = (
    "about after again also and any are because been before being both but can could does "
    "each file files for from have into its just like make more most must new not now only "
    "other should some such than that the their them then there these they this those use "
    "used uses using was were what when where which while will with within without would "
    "your phase task tests test code change changes add update fix"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_TRACEBACK = re.compile(r"File \"(?P<path>[^\"]+)\", line (?P<line>\d+)")
_PATH_LINE = re.compile(r"(?P<path>[\w./-]+\.[A-Za-z0-9]+):(?P<line>\d+)")


@dataclass(frozen=True)
class Keywords:
    """Words from the task and errors: ``strong`` ones look like code, ``weak`` ones may."""

    strong: frozenset[str] = frozenset()
    weak: frozenset[str] = frozenset()

    @property
    def all(self) -> frozenset[str]:
        """Strong and weak keywords together."""
        return self.strong | self.weak


def extract_keywords(texts: Iterable[str]) -> Keywords:
    """Identifiers in ``texts``. Strong: in backticks, snake_case, camelCase, called ``f(``."""
    strong: set[str] = set()
    weak: set[str] = set()
    for text in texts:
        for match in _IDENT.finditer(text):
            quoted, word, call = match.groups()
            if quoted:
                strong.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", quoted))
                continue
            if len(word) < 3 or word.lower() in _STOPWORDS:
                continue
            codeish = "_" in word.strip("_") or bool(call) or word[1:] != word[1:].lower()
            (strong if codeish else weak).add(word)
    return Keywords(frozenset(strong), frozenset(weak - strong))


def error_lines(errors: Iterable[str], rel_path: str) -> set[int]:
    """Line numbers the error texts point at in ``rel_path`` (tracebacks, ``path:line``)."""
    lines: set[int] = set()
    for text in errors:
        for pattern in (_TRACEBACK, _PATH_LINE):
            for match in pattern.finditer(text):
                path = match.group("path").replace("\\", "/")
                if path == rel_path or path.endswith("/" + rel_path):
                    lines.add(int(match.group("line")))
    return lines


@dataclass(frozen=True)
class Definition:
    """A class or function: ``start``/``end`` are 1-based inclusive line numbers."""

    name: str
    signature: str
    start: int
    end: int
    depth: int = 0


def _signature(node: ast.AST) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in (*node.bases, *node.keywords))
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"


def python_definitions(text: str) -> list[Definition] | None:
    """Top-level classes and functions and the members of classes; ``None`` on a syntax error."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    out: list[Definition] = []
    for node in tree.body:
        if not isinstance(node, kinds):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        out.append(Definition(node.name, _signature(node), start, node.end_lineno or start))
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, kinds):
                    first = min([member.lineno, *(d.lineno for d in member.decorator_list)])
                    end = member.end_lineno or first
                    name = f"{node.name}.{member.name}"
                    out.append(Definition(name, _signature(member), first, end, depth=1))
    return out


def _fit_rows(rows: list[str], max_tokens: int, estimate: Estimator) -> list[str]:
    """The first rows that fit, with a note saying how many were left out."""
    if estimate("\n".join(rows)) <= max_tokens:
        return rows
    keep = len(rows)
    while keep > 1:
        keep = keep * 4 // 5
        trial = [*rows[:keep], f"[... {len(rows) - keep} more definitions not listed ...]"]
        if estimate("\n".join(trial)) <= max_tokens:
            return trial
    return rows[:1]


def file_map(
    path: str,
    text: str,
    *,
    head_lines: int = 30,
    tail_lines: int = 10,
    max_tokens: int | None = None,
    estimate: Estimator | None = None,
) -> str:
    """The compact map of a file: Python definitions, else head and tail.

    With ``max_tokens`` (and ``estimate``) a long map drops class members first, then the
    last definitions, saying so.
    """
    lines = text.splitlines()
    defs = python_definitions(text) if path.endswith((".py", ".pyi")) else None
    if defs is not None:
        title = f"{len(lines)} lines; definitions (line range, signature):"
        rows = [f"{'    ' * d.depth}L{d.start}-{d.end} {d.signature}" for d in defs]
        if max_tokens is not None and estimate is not None:
            if estimate("\n".join([title, *rows])) > max_tokens:
                rows = [f"L{d.start}-{d.end} {d.signature}" for d in defs if d.depth == 0]
                title = f"{len(lines)} lines; top-level definitions (line range, signature):"
            rows = _fit_rows([title, *rows], max_tokens, estimate)[1:]
        return "\n".join([title, *(rows or ["(no classes or functions)"])])
    if len(lines) <= head_lines + tail_lines:
        return "\n".join(lines)
    skipped = len(lines) - head_lines - tail_lines
    head = "\n".join(lines[:head_lines])
    tail = "\n".join(lines[-tail_lines:]) if tail_lines else ""
    return f"{head}\n[... {skipped} lines not shown ...]\n{tail}".rstrip()


def fence(body: str, lang: str = "") -> str:
    """``body`` in a code fence longer than any backtick run inside it.

    One final newline is dropped: the fence's own line break stands for it.
    """
    body = body[:-1] if body.endswith("\n") else body
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}{lang}\n{body}\n{ticks}"


def language(path: str) -> str:
    """The fence language for a path ('' when unknown)."""
    suffix = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return {"py": "python", "md": "markdown", "toml": "toml", "json": "json"}.get(suffix, "")


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _candidate_ranges(
    path: str, text: str, keywords: Keywords, lines_hit: set[int], context: int
) -> list[tuple[int, int]]:
    """Ranges in priority order: those errors point at, then those keywords name."""
    lines = text.splitlines()
    defs = python_definitions(text) if path.endswith((".py", ".pyi")) else None
    by_line: list[tuple[int, int]] = []
    by_name: list[tuple[int, int]] = []
    if defs is not None:
        # Innermost first so a method is preferred over its whole class.
        for d in sorted(defs, key=lambda d: -d.depth):
            short = d.name.rsplit(".", 1)[-1]
            span = (d.start, d.end)
            if any(d.start <= n <= d.end for n in lines_hit):
                # A class around a method already chosen adds nothing but bulk.
                if not any(d.start <= s and e <= d.end for s, e in by_line):
                    by_line.append(span)
            elif short in keywords.all and span not in by_name:
                by_name.append(span)
    else:
        by_line = [(max(1, n - context), min(len(lines), n + context)) for n in sorted(lines_hit)]
        pattern = (
            re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(keywords.strong))) + r")\b")
            if keywords.strong
            else None
        )
        for number, line in enumerate(lines, start=1):
            if pattern is not None and pattern.search(line):
                by_name.append((max(1, number - context), min(len(lines), number + context)))
    return by_line + by_name


def excerpt(
    path: str,
    text: str,
    *,
    keywords: Keywords,
    lines_hit: set[int],
    max_tokens: int,
    estimate: Estimator,
    head_lines: int = 30,
    context: int = 3,
) -> tuple[str, int]:
    """The relevant parts of a file within ``max_tokens``; returns (text, parts shown).

    The head (imports, up to ``head_lines``) comes first when it fits; every part is shown
    with its line range. When nothing is relevant, only the head is shown (0 parts).
    """
    lines = text.splitlines()
    defs = python_definitions(text) if path.endswith((".py", ".pyi")) else None
    first_def = min((d.start for d in defs), default=len(lines) + 1) if defs else head_lines + 1
    head_end = min(len(lines), head_lines, max(1, first_def - 1))
    chosen: list[tuple[int, int]] = []
    parts = 0

    def render(ranges: list[tuple[int, int]]) -> str:
        blocks = []
        for start, end in _merge(ranges):
            body = "\n".join(lines[start - 1 : end])
            blocks.append(f"lines {start}-{end}:\n{body}")
        return "\n\n".join(blocks)

    if estimate(render([(1, head_end)])) <= max_tokens:
        chosen.append((1, head_end))
    for span in _candidate_ranges(path, text, keywords, lines_hit, context):
        trial = [*chosen, span]
        if estimate(render(trial)) <= max_tokens:
            chosen = trial
            parts += 1
    return render(chosen), parts
