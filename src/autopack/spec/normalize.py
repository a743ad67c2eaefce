"""The plan normaliser: a free-text or markdown plan → a run specification, with confidence.

Pure (no I/O): the caller passes the plan text and :class:`WorkspaceFacts` (gathered by
:func:`autopack.workspace.facts.gather_facts`). Steps, each in its own module:

1. read the text into a draft: title, goal, tiers and phases, explicit fields
   (:mod:`~autopack.spec._markdown`);
2. per phase, find the paths it mentions and their roles, its category and complexity
   (:mod:`~autopack.spec._infer`);
3. ground every path in the workspace, infer a scope from words when none is grounded, and
   the CI command from the project (:mod:`~autopack.spec._ground`);
4. build the canonical nested document and validate it with the loader, so what comes out is
   exactly what ``autopack spec validate`` accepts.

A draft from a model (:func:`normalize_draft`) goes through steps 2-4 the same way: a path the
model made up is a warning, never a silent scope.

Confidence (0..1) is a weighted mean of five components, each 0..1::

    0.40 grounding     mean over phases of the mean score of its paths (exists 1.0, found by
                       name 0.9, new file in an existing directory 0.8, ungrounded 0.0);
                       a scope inferred from words 0.5, no scope 0.0
    0.20 structure     headings/tiers 1.0, numbered or checklist 0.95, model 0.9,
                       bullets 0.8, prose 0.3
    0.15 categories    mean: explicit 1.0, model 0.9, keywords/paths 0.85, unknown 0.7,
                       guessed 0.4
    0.15 deliverables  mean: a phase with at least one 1.0, else 0.5
    0.10 ci            explicit or found in the project 1.0, none 0.4

A plan with no phase scores 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from autopack.spec._draft import DraftPhase, DraftPlan, NormalizationResult, NormalizationWarning
from autopack.spec._facts import WorkspaceFacts
from autopack.spec._ground import ground, infer_ci, scope_from_words, test_companions
from autopack.spec._infer import (
    KNOWN_CATEGORIES,
    Mention,
    infer_category,
    infer_complexity,
    is_test_path,
    mentions,
    test_phrases,
)
from autopack.spec._markdown import parse_markdown, strip_markup
from autopack.spec.errors import SpecError, SpecIssue
from autopack.spec.loader import load_spec_data
from autopack.spec.models import RunSpec

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "KNOWN_CATEGORIES",
    "WEIGHTS",
    "DraftPhase",
    "DraftPlan",
    "NormalizationResult",
    "NormalizationWarning",
    "WorkspaceFacts",
    "normalize_draft",
    "normalize_plan",
    "parse_markdown",
    "slug",
]

DEFAULT_MIN_CONFIDENCE = 0.6
"""Below this confidence the CLI and the API ask a model to refine the draft."""

WEIGHTS: dict[str, float] = {
    "grounding": 0.40,
    "structure": 0.20,
    "categories": 0.15,
    "deliverables": 0.15,
    "ci": 0.10,
}
_STRUCTURE = {
    "headings": 1.0,
    "tiers": 1.0,
    "numbered": 0.95,
    "checklist": 0.95,
    "model": 0.9,
    "bullets": 0.8,
    "prose": 0.3,
}
_CATEGORY = {"explicit": 1.0, "model": 0.9, "keywords": 0.85, "paths": 0.85, "unknown": 0.7}
_GUESSED = 0.4
_SLUG_MAX = 40
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def slug(text: str, fallback: str = "plan") -> str:
    """A safe id: lower-case words joined by ``-``, cut at a word, at most 40 characters."""
    out = ""
    for word in re.findall(r"[a-z0-9]+", strip_markup(text).lower()):
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > _SLUG_MAX:
            break
        out = candidate
    if not out:
        # One very long word: cut it.
        out = "".join(re.findall(r"[a-z0-9]+", text.lower()))[:_SLUG_MAX]
    return out or fallback


def _unique(base: str, taken: set[str]) -> str:
    value, n = base, 2
    while value in taken:
        value = f"{base[: _SLUG_MAX - 4]}-{n}"
        n += 1
    taken.add(value)
    return value


@dataclass
class _Phase:
    """One phase being built, with what its confidence components need."""

    data: dict[str, Any]
    grounding: float
    category: float
    deliverables: float
    warnings: list[NormalizationWarning] = field(default_factory=list)


def _value_mentions(value: str, facts: WorkspaceFacts) -> list[Mention]:
    """The paths of one explicit field value: backticked ones, else a leading path token
    (``calc.py``, ``calc.py: note``, ``calc.py (note)``), else bare path-like tokens."""
    if "`" not in value:
        tokens = value.split()
        if len(tokens) == 1 or (
            len(tokens) > 1
            and (tokens[0].endswith((":", ",")) or tokens[1].startswith(("(", "-", "–", "—")))
        ):
            value = f"`{tokens[0].rstrip(':,')}` " + " ".join(tokens[1:])
    return mentions(value, facts)


def _explicit_mentions(
    phase: DraftPhase, facts: WorkspaceFacts
) -> tuple[list[Mention], set[str], set[str]]:
    """Mentions from the explicit fields (first, so their roles win); the raw deliverable
    paths; and the deliverable values that named a path (not kept as free text)."""
    listed: list[Mention] = []
    deliver: set[str] = set()
    path_values: set[str] = set()
    fields: list[tuple[str, list[str]]] = [
        ("scope", phase.paths),
        ("deliverable", phase.deliverables),
        ("context", phase.context),
        ("protected", phase.protected),
    ]
    for role, values in fields:
        for value in values:
            for found in _value_mentions(value, facts):
                listed.append(Mention(found.raw, "scope" if role == "deliverable" else role))  # type: ignore[arg-type]
                if role == "deliverable":
                    deliver.add(found.raw)
                    path_values.add(value)
    return listed, deliver, path_values


def _merge(first: list[Mention], then: list[Mention]) -> list[Mention]:
    seen: dict[str, Mention] = {}
    for mention in [*first, *then]:
        seen.setdefault(mention.raw.strip("/") or mention.raw, mention)
    return list(seen.values())


def _build_phase(
    phase: DraftPhase,
    phase_id: str,
    facts: WorkspaceFacts,
    ci: dict[str, Any] | None,
    *,
    from_model: bool,
) -> _Phase:
    warn: list[NormalizationWarning] = []
    text = f"{phase.title}\n{phase.body}"
    explicit, deliver, path_values = _explicit_mentions(phase, facts)
    found = ground(_merge(explicit, mentions(text, facts)), facts, deliver=deliver)
    warn.extend(NormalizationWarning(phase_id, c, m) for c, m in found.warnings)
    scores = list(found.scores)
    paths = list(found.paths)
    if not paths:
        inferred, words = scope_from_words(phase.title, phase.body, facts)
        if inferred:
            paths = inferred
            scores = [*scores, 0.5] if scores else [0.5]
            warn.append(NormalizationWarning(
                phase_id, "inferred_scope",
                f"no existing path named; scope inferred from its words "
                f"({', '.join(words)}): {', '.join(inferred)}",
            ))  # fmt: skip
        else:
            warn.append(NormalizationWarning(
                phase_id, "no_scope",
                "no path named and none found from its words: the phase has no scope "
                "(name the files it may change)",
            ))  # fmt: skip
    category, source = _category(phase, phase_id, paths, from_model, warn)
    if category == "tests":
        for companion in test_companions(paths, facts):
            paths.append(companion)
            if not facts.exists(companion):
                found.deliverables.append(companion)
                warn.append(NormalizationWarning(
                    phase_id, "new_file", f"tests phase: `{companion}` added as a new test file",
                ))  # fmt: skip
    deliverables = _deliverables(phase, found.deliverables, path_values)
    if not deliverables:
        warn.append(NormalizationWarning(phase_id, "no_deliverables", "no deliverable stated"))
    complexity, _ = infer_complexity(phase.title, phase.body, paths, phase.complexity)
    phase_ci = infer_ci(facts, phase.ci_command)[0] if phase.ci_command else ci
    scope: dict[str, Any] = {"paths": paths, "deliverables": deliverables}
    if found.context:
        scope["read_only_context"] = found.context
    if found.protected:
        scope["protected_paths"] = found.protected
    if phase_ci is not None:
        scope["ci"] = phase_ci
    data = {
        "phase_id": phase_id,
        "name": phase.title,
        "description": phase.body or phase.title,
        "task_category": category,
        "complexity": complexity.value,
        "scope": scope,
    }
    grounding = sum(scores) / len(scores) if scores else 0.0
    category_score = _CATEGORY.get(source, _GUESSED)
    return _Phase(data, grounding, category_score, 1.0 if deliverables else 0.5, warn)


def _category(
    phase: DraftPhase,
    phase_id: str,
    paths: list[str],
    from_model: bool,
    warn: list[NormalizationWarning],
) -> tuple[str, str]:
    given = (phase.category or "").strip().lower().replace("-", "_").replace(" ", "_")
    if given in KNOWN_CATEGORIES:
        return given, "model" if from_model else "explicit"
    if given and _IDENT.match(given) and not from_model:
        warn.append(NormalizationWarning(
            phase_id, "unknown_category",
            f"category {given!r} is not one of the strategy's; its defaults are medium",
        ))  # fmt: skip
        return given, "unknown"
    category, source = infer_category(phase.title, phase.body, paths)
    if given:
        warn.append(NormalizationWarning(
            phase_id, "category_rejected",
            f"category {given!r} is not known; inferred {category!r} instead",
        ))  # fmt: skip
    elif source == "default":
        warn.append(NormalizationWarning(
            phase_id, "category_guessed",
            f"no word suggests a category; guessed {category!r}",
        ))  # fmt: skip
    return category, source


def _deliverables(phase: DraftPhase, grounded: list[str], path_values: set[str]) -> list[str]:
    """Grounded paths, explicit free-text deliverables, then "tests for …" phrases (when no
    test file is a deliverable). A path that could not be grounded is not kept."""
    out = list(grounded)
    for value in phase.deliverables:
        plain = strip_markup(value)
        if value not in path_values and plain and plain not in out:
            out.append(plain)
    if not any(is_test_path(d) for d in out):
        for phrase in test_phrases(f"{phase.title}\n{phase.body}"):
            if phrase not in out:
                out.append(phrase)
    return out


def _tiers(built: list[tuple[str | None, _Phase]], title: str | None) -> list[dict[str, Any]]:
    tiers: list[dict[str, Any]] = []
    by_name: dict[str | None, dict[str, Any]] = {}
    taken: set[str] = set()
    for tier_name, phase in built:
        tier = by_name.get(tier_name)
        if tier is None:
            name = tier_name or title or "Plan"
            tier_id = _unique(slug(tier_name, "tier") if tier_name else "main", taken)
            tier = {"tier_id": tier_id, "tier_index": len(tiers), "name": name, "phases": []}
            by_name[tier_name] = tier
            tiers.append(tier)
        tier["phases"].append({**phase.data, "phase_index": len(tier["phases"])})
    return tiers


def normalize_plan(
    text: str,
    facts: WorkspaceFacts,
    *,
    run_id: str | None = None,
    source_name: str | None = None,
) -> NormalizationResult:
    """Normalise a markdown or free-text plan (see the module docstring).

    ``run_id`` wins; else the title's slug; else ``source_name``'s (e.g. the file name).
    """
    return normalize_draft(parse_markdown(text), facts, run_id=run_id, source_name=source_name)


def normalize_draft(
    draft: DraftPlan,
    facts: WorkspaceFacts,
    *,
    run_id: str | None = None,
    source_name: str | None = None,
) -> NormalizationResult:
    """Ground, infer, score and validate a draft (from markdown or from a model)."""
    from_model = draft.structure == "model"
    warnings: list[NormalizationWarning] = [
        NormalizationWarning(None, "workspace", note) for note in facts.notes
    ]
    if facts.truncated:
        warnings.append(NormalizationWarning(
            None, "workspace_truncated",
            f"the workspace listing stopped at {len(facts.files)} files: some paths may exist "
            "although reported missing",
        ))  # fmt: skip
    for title in draft.skipped:
        message = f"{title!r} is ticked as done; left out"
        warnings.append(NormalizationWarning(None, "done_item", message))
    ci, ci_source = infer_ci(facts, draft.ci_command)
    if ci is None:
        warnings.append(NormalizationWarning(
            None, "no_ci",
            "no test command found (no pytest configuration or tests, package.json test "
            "script, Makefile test target, Cargo.toml or go.mod): the default, pytest, applies",
        ))  # fmt: skip
    taken: set[str] = set()
    built: list[tuple[str | None, _Phase]] = []
    for phase in draft.phases:
        phase_id = _unique(slug(phase.title, "phase"), taken)
        result = _build_phase(phase, phase_id, facts, ci, from_model=from_model)
        warnings.extend(result.warnings)
        built.append((phase.tier, result))
    rid = run_id or slug(draft.title or source_name or "", "plan")
    data: dict[str, Any] = {"run_id": rid, "goal": draft.goal.strip() or draft.title or rid}
    if built:
        data["tiers"] = _tiers(built, draft.title)
    else:
        data["tiers"] = []
        warnings.append(NormalizationWarning(None, "no_phases", "no phase found in the plan"))
    components = _components(draft, [p for _, p in built], ci_source is not None)
    confidence = round(sum(WEIGHTS[k] * v for k, v in components.items()), 3) if built else 0.0
    spec, issues = _validate(data, rid)
    return NormalizationResult(
        data=data,
        spec=spec,
        confidence=confidence,
        components=components,
        warnings=tuple(warnings),
        issues=issues,
    )


def _components(draft: DraftPlan, phases: list[_Phase], has_ci: bool) -> dict[str, float]:
    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 3) if values else 0.0

    return {
        "grounding": mean([p.grounding for p in phases]),
        "structure": _STRUCTURE.get(draft.structure, 0.3) if phases else 0.0,
        "categories": mean([p.category for p in phases]),
        "deliverables": mean([p.deliverables for p in phases]),
        "ci": 1.0 if has_ci else 0.4,
    }


def _validate(data: dict[str, Any], source: str) -> tuple[RunSpec | None, tuple[SpecIssue, ...]]:
    try:
        return load_spec_data(data, source=source).spec, ()
    except SpecError as err:
        return None, tuple(err.issues)
