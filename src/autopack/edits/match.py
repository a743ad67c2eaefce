"""Locate a hunk in a file and compute its replacement: the ordered table of strategies.

Every strategy locates by content (line numbers claimed by the author are never trusted).
They are tried from the safest to the most tolerant; each one includes the tolerances of
the previous ones. The first strategy that finds the hunk decides: exactly one place is
applied, several places are refused as ambiguous (a more tolerant strategy is never used to
"break a tie"). Removed lines (``-``) must always match modulo trailing whitespace and a
uniform indentation shift; only unchanged context lines (`` ``) may match fuzzily.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from autopack.edits.errors import EditError, ErrorCode
from autopack.edits.model import Hunk, Tag
from autopack.edits.text import FileText

__all__ = ["STRATEGIES", "Match", "Strategy", "apply_hunk", "closest_lines"]

FUZZY_LINE_RATIO = 0.75
"""Minimum similarity of a context line that differs from the file (fuzzy strategy)."""
FUZZY_MIN_ANCHORS = 3
"""Non-blank lines that must match exactly for a fuzzy match to count."""
_MAX_REPORTED = 5


@dataclass(frozen=True, slots=True)
class Strategy:
    """One row of the strategy table: which differences with the file are tolerated."""

    name: str
    whitespace: bool = False
    """Trailing whitespace (and stray CR) ignored."""
    indent: bool = False
    """A uniform indentation shift; the added lines are re-indented the same way."""
    blanks: bool = False
    """Blank context lines missing from, or extra in, the hunk."""
    fuzzy: bool = False
    """A few context lines may differ (above a high similarity); never removed lines."""


STRATEGIES: tuple[Strategy, ...] = (
    Strategy("exact"),
    Strategy("whitespace", whitespace=True),
    Strategy("indentation", whitespace=True, indent=True),
    Strategy("blank_lines", whitespace=True, indent=True, blanks=True),
    Strategy("fuzzy_context", whitespace=True, indent=True, blanks=True, fuzzy=True),
)


@dataclass(frozen=True, slots=True)
class Match:
    """Where a hunk applies: file lines ``[start, end)`` become ``lines``."""

    start: int
    end: int
    lines: tuple[tuple[str, str | None], ...]
    strategy: str


def _blank(text: str) -> bool:
    return not text.strip()


def _lead(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


class _Attempt:
    """Aligns the hunk with the file from one start line under one strategy."""

    def __init__(self, ops: Sequence[tuple[Tag, str]], file: FileText, strat: Strategy) -> None:
        self.ops = ops
        self.file = file
        self.strat = strat
        self.n_ctx = sum(1 for t, s in ops if t == " " and not _blank(s))

    def same(self, hunk_line: str, file_line: str) -> bool:
        if self.strat.indent:
            return hunk_line.strip() == file_line.strip()
        if self.strat.whitespace:
            return hunk_line.rstrip() == file_line.rstrip()
        return hunk_line == file_line

    def run(self, start: int) -> Match | None:
        lines = self.file.lines
        n = len(lines)
        pairs: dict[int, int | None] = {}
        extras: dict[int, list[int]] = {}
        fuzzy: list[tuple[str, str]] = []
        budget = max(1, self.n_ctx // 4) if self.strat.fuzzy else 0
        i = start
        prev_old: Tag | None = None
        added_since = False
        for k, (tag, text) in enumerate(self.ops):
            if tag == "+":
                added_since = True
                continue
            if self.strat.blanks and not _blank(text):
                while i < n and _blank(lines[i]):
                    # An extra blank line of the file must have one obvious place in the
                    # result: not before the first line, not inside a run of removed lines,
                    # not next to added lines (before or after them? that would be a guess).
                    if prev_old is None or added_since or (prev_old == "-" and tag == "-"):
                        return None
                    extras.setdefault(k, []).append(i)
                    i += 1
            missing_blank = i >= n or not _blank(lines[i])
            if self.strat.blanks and tag == " " and _blank(text) and missing_blank:
                pairs[k] = None  # a blank context line the file does not have
                prev_old = tag
                added_since = False
                continue
            if i >= n:
                return None
            if not self.same(text, lines[i]):
                if tag == "-" or len(fuzzy) >= budget or _blank(text) or _blank(lines[i]):
                    return None
                fuzzy.append((text, lines[i]))
            pairs[k] = i
            prev_old = tag
            added_since = False
            i += 1
        if not pairs:
            return None
        shift = self._shift(pairs)
        if shift is None or (fuzzy and not self._fuzzy_ok(pairs, fuzzy)):
            return None
        return self._build(start, i, pairs, extras, shift)

    def _shift(self, pairs: dict[int, int | None]) -> tuple[str, int] | None:
        """The indentation shift (prefix, +1 add / -1 remove) shared by all matched lines."""
        if not self.strat.indent:
            return ("", 1)
        shift: tuple[str, int] | None = None
        for k, i in pairs.items():
            if i is None:
                continue
            h, f = self.ops[k][1], self.file.lines[i]
            if _blank(h) or h.strip() != f.strip():
                continue
            lh, lf = _lead(h), _lead(f)
            if shift is None:
                if lf.startswith(lh):
                    shift = (lf[len(lh) :], 1)
                elif lh.startswith(lf):
                    shift = (lh[len(lf) :], -1)
                else:
                    return None
            prefix, sign = shift
            if (sign > 0 and lf != lh + prefix) or (sign < 0 and lh != lf + prefix):
                return None
        return shift or ("", 1)

    def _fuzzy_ok(self, pairs: dict[int, int | None], fuzzy: list[tuple[str, str]]) -> bool:
        anchors = sum(
            1
            for k, i in pairs.items()
            if i is not None
            and not _blank(self.ops[k][1])
            and self.same(self.ops[k][1], self.file.lines[i])
        )
        if anchors < FUZZY_MIN_ANCHORS:
            return False
        return all(
            difflib.SequenceMatcher(None, h.strip(), f.strip()).ratio() >= FUZZY_LINE_RATIO
            for h, f in fuzzy
        )

    def _build(
        self,
        start: int,
        end: int,
        pairs: dict[int, int | None],
        extras: dict[int, list[int]],
        shift: tuple[str, int],
    ) -> Match:
        prefix, sign = shift
        out: list[tuple[str, str | None]] = []
        file = self.file
        for k, (tag, text) in enumerate(self.ops):
            for i in extras.get(k, ()):
                out.append((file.lines[i], file.endings[i]))
            if tag == " ":
                i = pairs.get(k)
                if i is not None:
                    out.append((file.lines[i], file.endings[i]))
            elif tag == "+":
                out.append((_reindent(text, prefix, sign), None))
        return Match(start, end, tuple(out), self.strat.name)


def _reindent(text: str, prefix: str, sign: int) -> str:
    if not prefix or _blank(text):
        return text
    if sign > 0:
        return prefix + text
    if text.startswith(prefix):
        return text[len(prefix) :]
    raise EditError(
        ErrorCode.REINDENT_FAILED,
        "the block matched with less indentation than you wrote, but this added line has "
        f"less indentation than the shift ({len(prefix)} chars): {text.strip()[:60]!r}",
    )


def _trim_blank_context(ops: Sequence[tuple[Tag, str]]) -> list[tuple[Tag, str]]:
    out = list(ops)
    while out and out[0][0] == " " and _blank(out[0][1]):
        out.pop(0)
    while out and out[-1][0] == " " and _blank(out[-1][1]):
        out.pop()
    return out


def _find(file: FileText, hunk: Hunk, strat: Strategy, lo: int) -> list[Match]:
    ops = _trim_blank_context(hunk.ops) if strat.blanks else list(hunk.ops)
    if not any(t != "+" for t, _ in ops):
        return []
    attempt = _Attempt(ops, file, strat)
    first = next(text for tag, text in ops if tag != "+")
    found: list[Match] = []
    for start in range(lo, len(file.lines)):
        if not strat.fuzzy and not attempt.same(first, file.lines[start]):
            continue
        match = attempt.run(start)
        if match is not None:
            found.append(match)
    return found


def apply_hunk(
    file: FileText, hunk: Hunk, *, prefer_from: int | None = None
) -> tuple[FileText, Match]:
    """Apply one hunk to ``file`` or raise :class:`EditError` (``NO_MATCH``/``AMBIGUOUS``).

    ``prefer_from`` (unified diffs only, whose hunks are ordered by definition) resolves a
    tie when exactly one of the candidates lies after the previous hunk of the same diff.
    """
    if not any(t != "+" for t, _ in hunk.ops):
        if file.lines:
            raise EditError(
                ErrorCode.NO_MATCH,
                "this block has no lines to find (empty SEARCH or no context lines) but the "
                "file is not empty; include some existing lines to say where the change goes",
            )
        match = Match(0, 0, tuple((t, None) for t in hunk.new_lines), "exact")
        return file.replace(0, 0, list(match.lines)), match
    for strat in STRATEGIES:
        found = _find(file, hunk, strat, 0)
        if not found:
            continue
        if len(found) > 1 and prefer_from is not None:
            after = [m for m in found if m.start >= prefer_from]
            if len(after) == 1:
                found = after
        if len(found) > 1:
            places = ", ".join(str(m.start + 1) for m in found[:_MAX_REPORTED])
            raise EditError(
                ErrorCode.AMBIGUOUS_MATCH,
                f"the lines to find occur {len(found)} times (starting at lines {places}); "
                "include more surrounding lines so they match exactly one place",
                did_you_mean=[
                    line for m in found[:3] for line in _excerpt(file, m.start, m.end, pad=0)
                ],
            )
        match = found[0]
        return file.replace(match.start, match.end, list(match.lines)), match
    raise EditError(
        ErrorCode.NO_MATCH,
        "the lines to find are not in the file (the removed lines must match exactly, "
        "modulo whitespace and indentation)",
        did_you_mean=closest_lines(file, hunk.old_lines),
    )


def _excerpt(file: FileText, start: int, end: int, *, pad: int = 1) -> list[str]:
    lo, hi = max(0, start - pad), min(len(file.lines), end + pad)
    return [f"{i + 1:>5} | {file.lines[i]}" for i in range(lo, hi)]


def closest_lines(file: FileText, wanted: Sequence[str]) -> list[str]:
    """The window of the file most similar to ``wanted``, numbered, for "did you mean"."""
    lines = file.lines
    if not lines or not wanted or len(lines) > 50_000:
        return []
    size = min(len(wanted), len(lines))
    target = "\n".join(w.strip() for w in wanted)
    stripped = [line.strip() for line in lines]
    scored: list[tuple[float, int]] = []
    for start in range(len(lines) - size + 1):
        window = "\n".join(stripped[start : start + size])
        matcher = difflib.SequenceMatcher(None, target, window, autojunk=False)
        scored.append((matcher.real_quick_ratio() and matcher.quick_ratio(), start))
    scored.sort(reverse=True)
    best_start, best = 0, -1.0
    for _, start in scored[:8]:
        window = "\n".join(stripped[start : start + size])
        ratio = difflib.SequenceMatcher(None, target, window, autojunk=False).ratio()
        if ratio > best:
            best, best_start = ratio, start
    if best < 0.3:
        return []
    return _excerpt(file, best_start, best_start + size)
