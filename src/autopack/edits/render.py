"""Render the change from lines ``a`` to lines ``b`` in each form of the protocol.

Used by the property tests and the benchmark, and useful for prompts (showing the Builder a
well-formed example). Hunks are widened until each one is unique in the file at the moment
it applies, as the protocol asks of a Builder.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from autopack.edits.model import Hunk, Tag

__all__ = [
    "diff_hunks",
    "format_search_replace",
    "format_unified_diff",
    "format_whole_file",
]


def _count(haystack: Sequence[str], needle: Sequence[str]) -> int:
    if not needle:
        return 0 if haystack else 1
    k = len(needle)
    first = needle[0]
    return sum(
        1
        for i in range(len(haystack) - k + 1)
        if haystack[i] == first and list(haystack[i : i + k]) == list(needle)
    )


def _hunks(a: Sequence[str], b: Sequence[str], context: int) -> list[Hunk]:
    matcher = difflib.SequenceMatcher(None, list(a), list(b), autojunk=False)
    hunks: list[Hunk] = []
    for group in matcher.get_grouped_opcodes(context):
        ops: list[tuple[Tag, str]] = []
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                ops.extend((" ", line) for line in a[i1:i2])
            else:
                ops.extend(("-", line) for line in a[i1:i2])
                ops.extend(("+", line) for line in b[j1:j2])
        hunks.append(Hunk(tuple(ops), group[0][1] + 1))
    return hunks


def _unique_in_sequence(a: Sequence[str], hunks: list[Hunk]) -> bool:
    current = list(a)
    offset = 0
    for hunk in hunks:
        old, new = hunk.old_lines, hunk.new_lines
        if _count(current, old) != 1:
            return False
        start = (hunk.old_start or 1) - 1 + offset
        current[start : start + len(old)] = new
        offset += len(new) - len(old)
    return True


def diff_hunks(a: Sequence[str], b: Sequence[str], context: int = 3) -> list[Hunk]:
    """Hunks turning ``a`` into ``b``, with at least ``context`` lines of context, widened
    until each is unique where it applies. ``old_start`` is 1-based and correct."""
    if list(a) == list(b):
        return []
    if not a:
        return [Hunk(tuple(("+", line) for line in b), 0)]
    n = context
    while True:
        hunks = _hunks(a, b, n)
        if _unique_in_sequence(a, hunks) or n > len(a) + len(b):
            return hunks
        n = max(n * 2, 1)


def format_unified_diff(
    path: str,
    hunks: Sequence[Hunk],
    *,
    new_path: str | None = None,
    git_header: bool = True,
    numbers: bool = True,
    create: bool = False,
    delete: bool = False,
    old_total: int | None = None,
    new_total: int | None = None,
    old_final_newline: bool = True,
    new_final_newline: bool = True,
) -> str:
    """A unified diff. ``old_total``/``new_total`` (line counts) enable the
    ``\\ No newline at end of file`` markers when a final newline is missing."""
    target = new_path or path
    out: list[str] = []
    if git_header:
        out.append(f"diff --git a/{path} b/{target}")
        if create:
            out.append("new file mode 100644")
        if delete:
            out.append("deleted file mode 100644")
    out.append("--- /dev/null" if create else f"--- a/{path}")
    out.append("+++ /dev/null" if delete else f"+++ b/{target}")
    offset = 0
    for hunk in hunks:
        old_n = len(hunk.old_lines)
        new_n = len(hunk.new_lines)
        start = hunk.old_start or 0
        new_start = start + offset if start else (1 if new_n else 0)
        if old_n == 0 and start:
            start -= 1
        if numbers:
            out.append(f"@@ -{start},{old_n} +{new_start},{new_n} @@")
        else:
            out.append("@@ @@")
        offset += new_n - old_n
        old_i, new_i = start - 1 if old_n else start, new_start - 1
        for tag, text in hunk.ops:
            out.append(f"{tag}{text}")
            if tag != "+":
                old_i += 1
            if tag != "-":
                new_i += 1
            at_old_end = tag != "+" and old_total is not None and old_i == old_total - 1
            at_new_end = tag != "-" and new_total is not None and new_i == new_total - 1
            if (
                (at_old_end and not old_final_newline and tag == "-")
                or (at_new_end and not new_final_newline and tag == "+")
                or (tag == " " and at_old_end and at_new_end and not old_final_newline)
            ):
                out.append("\\ No newline at end of file")
    return "\n".join(out) + "\n"


def format_search_replace(path: str, hunks: Sequence[Hunk]) -> str:
    """One SEARCH/REPLACE block per hunk (an empty SEARCH for a new file)."""
    blocks = []
    for hunk in hunks:
        lines = [path, "<<<<<<< SEARCH", *hunk.old_lines, "=======", *hunk.new_lines]
        lines.append(">>>>>>> REPLACE")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def format_whole_file(path: str, lines: Sequence[str], *, lang: str = "") -> str:
    """The path, then the complete content in a fence long enough not to clash with it."""
    fence = "```"
    while any(line.strip().startswith(fence) for line in lines):
        fence += "`"
    return "\n".join([path, fence + lang, *lines, fence]) + "\n"
