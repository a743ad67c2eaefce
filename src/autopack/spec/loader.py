"""Load a run specification from a file, a string or already-parsed data.

Every function here returns a :class:`LoadedSpec` or raises :class:`SpecError` — nothing else,
whatever the input — with *all* problems found, each located in the original document::

    try:
        loaded = load_spec("plan.yaml")
    except SpecError as err:
        for issue in err.issues:
            print(f"plan.yaml: {issue}")  # tiers[0].phases[2].complexity: 'hgh' is not ...

Steps: parse (JSON/YAML, syntax errors with line and column) → recognise the shape and
rewrite to the canonical nested document (``_shapes``) → validate with pydantic and translate
its errors back to original locations (``_translate``) → cross-phase checks (``_checks``) →
order tiers and phases by their indices.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from autopack.spec._checks import cross_check
from autopack.spec._locate import Path, format_path
from autopack.spec._normaliser import Normalised, SpecShape
from autopack.spec._parse import Format, ParsedText, guess_format, parse_text
from autopack.spec._shapes import normalise
from autopack.spec._translate import message_for
from autopack.spec.errors import SpecError, SpecIssue
from autopack.spec.models import SKIP_CROSS_CHECKS, RunSpec, TierSpec

__all__ = ["LoadedSpec", "SpecShape", "load_spec", "load_spec_data", "load_spec_text"]

IssueAt = Callable[[Path, str, str], SpecIssue]


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    """A validated run specification and where it came from.

    ``shape`` is the input shape that was recognised; ``format`` is ``json``, ``yaml`` or
    ``None`` when the spec was built from in-memory data.
    """

    spec: RunSpec
    shape: SpecShape
    source: str
    format: Format | None = None


def load_spec(path: str | os.PathLike[str]) -> LoadedSpec:
    """Read and validate the plan at ``path`` (JSON or YAML, chosen by suffix, else sniffed)."""
    source = os.fspath(path)
    file = FsPath(source)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SpecError([SpecIssue("<file>", f"cannot read: {reason}", "io")], source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        issue = SpecIssue("<file>", f"not UTF-8 text (byte {exc.start})", "encoding")
        raise SpecError([issue], source) from None
    return load_spec_text(text, fmt=guess_format(source, text), source=source)


def load_spec_text(text: str, *, fmt: Format | None = None, source: str = "<text>") -> LoadedSpec:
    """Validate a plan given as JSON or YAML text; ``fmt=None`` sniffs the format."""
    if not isinstance(text, str):
        raise SpecError([SpecIssue("<document>", "expected text", "type")], source)
    parsed = parse_text(text, fmt)
    if parsed.issues and parsed.data is None:
        raise SpecError(parsed.issues, source)
    return _build(parsed.data, source, parsed)


def load_spec_data(data: Any, *, source: str = "<data>") -> LoadedSpec:
    """Validate a plan that is already parsed (e.g. the body of an API request)."""
    return _build(data, source, None)


def _build(data: Any, source: str, parsed: ParsedText | None) -> LoadedSpec:
    issues: list[SpecIssue] = list(parsed.issues) if parsed else []
    try:
        norm = normalise(data)
    except RecursionError:
        raise SpecError([*issues, SpecIssue("<document>", "nested too deeply")], source) from None

    def issue_at(path: Path, message: str, code: str) -> SpecIssue:
        pos = parsed.position(path) if parsed else None
        line, column = pos if pos else (None, None)
        return SpecIssue(format_path(path), message, code, line, column)

    issues.extend(issue_at(path, message, code) for path, message, code in norm.issues)
    reported = {format_path(path) for path, _, _ in norm.issues}
    spec: RunSpec | None = None
    if norm.data is not None:
        spec = _validate(norm, issues, reported, issue_at)
        for cross in cross_check(norm.data):
            other = format_path(norm.locs.resolve(cross.other)) if cross.other else None
            message = cross.render(other)
            field = cross.path[-1]
            if cross.path in norm.implicit:
                message += f"; this {field} was not given and comes from the position"
            if cross.other and (*cross.other, field) in norm.implicit:
                message += f"; the {field} of {other} was not given and comes from its position"
            issues.append(issue_at(norm.locs.resolve(cross.path), message, "duplicate"))
    if issues or spec is None or norm.shape is None:
        raise SpecError(_ordered(issues), source)
    return LoadedSpec(_sorted(spec), norm.shape, source, parsed.format if parsed else None)


def _validate(
    norm: Normalised, issues: list[SpecIssue], reported: set[str], issue_at: IssueAt
) -> RunSpec | None:
    """Validate the canonical document; append translated, relocated errors to ``issues``."""
    try:
        return RunSpec.model_validate(norm.data, context={SKIP_CROSS_CHECKS: True})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc: Path = tuple(error["loc"])
            if loc and loc[-1] == "[key]":
                loc = loc[:-1]
            if loc in norm.suppress:
                continue
            path = norm.locs.resolve(loc)
            if error["type"] == "missing" and format_path(path) in reported:
                continue
            message, code = message_for(error)
            issues.append(issue_at(path, message, code))
    except RecursionError:
        issues.append(SpecIssue("<document>", "nested too deeply"))
    return None


def _ordered(issues: list[SpecIssue]) -> list[SpecIssue]:
    """Document order where positions are known; without duplicates."""
    unique = list(dict.fromkeys(issues))
    return sorted(unique, key=lambda i: (i.line is None, i.line or 0, i.column or 0))


def _sorted(spec: RunSpec) -> RunSpec:
    """Tiers by ``tier_index`` and phases by ``phase_index`` (indices are the order)."""
    tiers: list[TierSpec] = [
        tier.model_copy(update={"phases": sorted(tier.phases, key=lambda p: p.phase_index)})
        for tier in sorted(spec.tiers, key=lambda t: t.tier_index)
    ]
    return spec.model_copy(update={"tiers": tiers})
