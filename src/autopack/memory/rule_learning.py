"""Learned rules, the pure logic: signatures, proposal, matching and scoring (no I/O).

Definitions (the files are in :mod:`autopack.memory.rules`):

**Failure signature** of a failed attempt: ``"<error class>: <line>"`` where the error class
is the attempt's step (``ci_fail``, ``patch_apply_error``, ``auditor_reject``...) and the line
is the *first meaningful line* of its error text (the feedback plus the check output tail):
the first line naming an exception (``ModuleNotFoundError: No module named 'x'``, pytest's
``E`` prefix removed), else the first pytest ``E`` line, else the first line that is not
decoration. The line is blurred like the Doctor's signature (:mod:`autopack.agents.doctor`):
paths become ``<path>``, hex ids and numbers ``#``, whitespace is collapsed, 200 characters
at most. Two phases failing "the same way" have equal signatures even when file names, line
numbers or counts differ.

**Fix signature** of a successful attempt: the hints its Builder had (failure-hardening
mitigations, the Doctor's hint), each blurred the same way and lower-cased, de-duplicated,
sorted, hashed: ``fx-<10 hex>``. An attempt that succeeded with no hint is not a learnable
fix (the Builder found it alone; there is nothing to tell the next one).

**Observation**: a phase whose last failed attempt had failure signature F and whose
successful attempt had fix signature X (with run, phase, category, scope paths and the hints'
text). A phase is identified by its ``phase_id``: the same phase observed again (a resume, a
second run of the same plan) is still one phase.

**Proposal**: when observations from two or more distinct phases share (F, X) and no rule
exists for that pair (whatever its status: a dropped rule is not proposed again), a candidate
is proposed: id ``r-<8 hex>`` of (F, X); scope = a glob generalising the phases' scope paths
(:func:`scope_pattern`); category = the phases' common ``task_category`` or ``"*"``;
constraint = the latest hints, as an instruction to follow from the start.

**Matching**: a rule applies to a phase when its status is candidate or active, its category
is ``"*"`` or the phase's, and its scope glob matches one of the phase's scope paths (a
directory path matches when the glob could match a file inside it).

**Scoring**, once per phase for each rule injected into its Builder prompt: the phase hit the
rule's failure signature (an attempt failed with it) → ``missed`` +1: an active rule is
demoted to candidate; a candidate with two misses or more, and more misses than helps, is
retired (no longer injected). The phase completed without hitting it → ``helped`` +1: a
candidate is promoted to active. A phase that ended otherwise (failed for another reason,
skipped, stopped) says nothing about the rule and is not scored. A pinned rule (approved by a
person) keeps its status; its counts still move.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from autopack.memory.rules import LearnedRule, Observation, RuleSet, RuleStatus

__all__ = [
    "MAX_RULES_INJECTED",
    "applicable_rules",
    "blur",
    "failure_signature",
    "first_meaningful_line",
    "fix_signature",
    "fix_text",
    "propose",
    "render_rules_note",
    "rule_id",
    "scope_matches",
    "scope_pattern",
    "score",
]

MAX_RULES_INJECTED = 5
"""At most this many rules go into one prompt (active first, then by helps)."""
_LINE_LIMIT = 200
_FIX_TEXT_LIMIT = 1_200
_EXCEPTION = re.compile(
    r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Failure|Exit|Interrupt)|Failed|AssertionError)"
    r"\b(:|$)"
)
_PYTEST_E = re.compile(r"^E\s+")
_DECORATION = re.compile(r"^[\W_]*$|^(?:#|```|Checks:|Command:)")
_EXTENSIONS = r"py|pyi|js|mjs|cjs|ts|tsx|jsx|json|ya?ml|toml|md|rst|txt|cfg|ini|sh|go|rs|java"
_PATH = re.compile(
    r"(?:[A-Za-z]:)?[\w.~@+-]*(?:[/\\][\w.~@+-]+)+/?"
    rf"|\b[\w.-]+\.(?:{_EXTENSIONS})\b"
)
_BLUR = re.compile(r"0x[0-9a-fA-F]+|\b(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b|\d+")


def blur(text: str) -> str:
    """Paths → ``<path>``, hex ids and numbers → ``#``, whitespace collapsed."""
    text = _PATH.sub("<path>", text)
    text = _BLUR.sub("#", text)
    return " ".join(text.split())


def first_meaningful_line(text: str) -> str:
    """The line that says what went wrong (see the module docstring), unblurred."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if _EXCEPTION.search(line):
            return _PYTEST_E.sub("", line)
    for line in lines:
        if _PYTEST_E.match(line):
            return _PYTEST_E.sub("", line)
    for line in lines:
        if not _DECORATION.search(line):
            return line
    return lines[0] if lines else ""


def failure_signature(error_class: str, text: str) -> str:
    """``"<error class>: <blurred first meaningful line>"``."""
    line = blur(first_meaningful_line(text))[:_LINE_LIMIT]
    return f"{error_class}: {line}" if line else error_class


def fix_signature(hints: Iterable[str]) -> str | None:
    """``fx-<10 hex>`` of the blurred hints; ``None`` when there is no hint (not learnable)."""
    normal = sorted({blur(h).lower() for h in hints if h.strip()})
    if not normal:
        return None
    return "fx-" + hashlib.sha256("\n".join(normal).encode("utf-8")).hexdigest()[:10]


def fix_text(hints: Iterable[str]) -> str:
    """The hints as one instruction text (de-duplicated, in order, trimmed)."""
    text = " ".join(dict.fromkeys(" ".join(h.split()) for h in hints if h.strip()))
    return text if len(text) <= _FIX_TEXT_LIMIT else text[: _FIX_TEXT_LIMIT - 1] + "…"


def rule_id(failure: str, fix: str) -> str:
    """The stable id of the rule learned from (failure, fix)."""
    return "r-" + hashlib.sha256(f"{failure}\n{fix}".encode()).hexdigest()[:8]


# --- scope globs -------------------------------------------------------------------------


def _normal(path: str) -> tuple[tuple[str, ...], bool]:
    """Segments of a scope path and whether it names a directory (trailing / or no suffix)."""
    text = path.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    is_dir = text.endswith("/") or not PurePosixPath(text).suffix
    parts = tuple(p for p in text.split("/") if p and p != ".")
    return parts, is_dir


def scope_pattern(paths: Iterable[str]) -> str:
    """A glob covering every path: their common directory, ``**``, and their common suffix.

    ``pkg/a.py`` + ``pkg/sub/b.py`` → ``pkg/**/*.py``; ``a.py`` + ``docs/x.md`` → ``**``;
    one file → itself; one directory → ``dir/**``; no path at all → ``**``.
    """
    items = [_normal(p) for p in paths if p.strip()]
    items = [(parts, is_dir) for parts, is_dir in items if parts]
    if not items:
        return "**"
    unique = set(items)
    if len(unique) == 1:
        parts, is_dir = next(iter(unique))
        return "/".join(parts) + ("/**" if is_dir else "")
    dirs = [parts if is_dir else parts[:-1] for parts, is_dir in items]
    common: list[str] = []
    for segments in zip(*dirs, strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    suffixes = {PurePosixPath(parts[-1]).suffix for parts, is_dir in items if not is_dir}
    all_files = not any(is_dir for _, is_dir in items)
    tail = f"/*{next(iter(suffixes))}" if all_files and len(suffixes) == 1 else ""
    return "/".join([*common, "**"]) + tail


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:[^/]+/)*", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def scope_matches(pattern: str, paths: Sequence[str]) -> bool:
    """Whether the glob matches one of a phase's scope paths (see the module docstring)."""
    pattern = pattern.strip().replace("\\", "/").strip("/") or "**"
    regex = _glob_regex(pattern)
    segments = pattern.split("/")
    literal: list[str] = []
    for segment in segments:
        if any(c in segment for c in "*?["):
            break
        literal.append(segment)
    wild = len(literal) < len(segments)
    for path in paths:
        parts, is_dir = _normal(path)
        if regex.fullmatch("/".join(parts)):
            return True
        # A directory may hold a file the glob matches: the directory and the glob's literal
        # prefix agree as far as both go (and a glob without wildcards is not deeper).
        n = min(len(parts), len(literal))
        if is_dir and tuple(literal[:n]) == parts[:n] and (wild or len(parts) < len(literal)):
            return True
    return False


def applicable_rules(rules: RuleSet, *, category: str, scope: Sequence[str]) -> list[LearnedRule]:
    """The rules to inject for a phase, active first, then by helps; at most the limit."""
    found = [
        r
        for r in rules.rules
        if r.status.injected
        and (r.category == "*" or r.category.lower() == category.lower())
        and scope_matches(r.scope, scope)
    ]
    found.sort(key=lambda r: (r.status is not RuleStatus.ACTIVE, -r.helped))
    return found[:MAX_RULES_INJECTED]


def render_rules_note(rules: Sequence[LearnedRule]) -> str:
    """One prompt note listing the rules (empty when there are none)."""
    if not rules:
        return ""
    lines = [
        "Learned rules: in earlier phases like this one, these failures were fixed this "
        "way. Follow them from the start:"
    ]
    for rule in rules:
        lines.append(f"- [{rule.id}, {rule.status.value}] {rule.constraint}")
    return "\n".join(lines)


# --- proposal and scoring ----------------------------------------------------------------


def _constraint(failure: str, text: str) -> str:
    return f"To avoid `{failure}`: {text}"


def propose(observations: Sequence[Observation], rules: RuleSet) -> list[LearnedRule]:
    """New candidates: (failure, fix) pairs seen in two or more distinct phases, no rule yet."""
    known = {(r.failure, r.fix) for r in rules.rules} | {r.id for r in rules.rules}
    groups: dict[tuple[str, str], list[Observation]] = {}
    for obs in observations:
        groups.setdefault((obs.failure, obs.fix), []).append(obs)
    out: list[LearnedRule] = []
    for (failure, fix), seen in groups.items():
        phases = list(dict.fromkeys(o.phase_id for o in seen))
        rid = rule_id(failure, fix)
        if len(phases) < 2 or (failure, fix) in known or rid in known:
            continue
        categories = {o.category for o in seen}
        scoped = all(o.scope for o in seen)  # a phase without scope paths: any path
        out.append(
            LearnedRule(
                id=rid,
                scope=scope_pattern(p for o in seen for p in o.scope) if scoped else "**",
                category=categories.pop() if len(categories) == 1 else "*",
                constraint=_constraint(failure, seen[-1].fix_text),
                failure=failure,
                fix=fix,
                phases=phases,
            )
        )
    return out


def score(rule: LearnedRule, *, hit: bool) -> LearnedRule:
    """The rule after one scored phase (see the module docstring)."""
    if hit:
        missed = rule.missed + 1
        status = rule.status
        if not rule.pinned:
            if rule.status is RuleStatus.ACTIVE:
                status = RuleStatus.CANDIDATE
            elif rule.status is RuleStatus.CANDIDATE and missed >= 2 and missed > rule.helped:
                status = RuleStatus.RETIRED
        return rule.model_copy(update={"missed": missed, "status": status})
    status = rule.status
    if rule.status is RuleStatus.CANDIDATE:
        status = RuleStatus.ACTIVE
    return rule.model_copy(update={"helped": rule.helped + 1, "status": status})
