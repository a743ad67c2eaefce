"""Governed apply: governance → edit engine → integrity checks, all or nothing.

The edit engine resolves an answer in memory first; only when every edit applies, every
changed path is allowed by governance (and by the filesystem: no symlinks, no device files),
and the new contents pass the integrity checks, are the files written — atomically, by
:func:`autopack.edits.directory.write_files`. On any refusal nothing under ``root`` changes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from autopack.edits import ApplyResult, EditError, ErrorCode, RenameFile, UnifiedDiff, apply_edits
from autopack.edits.directory import answer_paths, read_files, write_files
from autopack.edits.parse import parse_answer
from autopack.policy.governance import (
    GovernanceDecision,
    GovernancePolicy,
    Operation,
    PathDecision,
    Verdict,
    combine,
)
from autopack.spec.models import normalize_rel_path
from autopack.workspace.integrity import IntegrityIssue, check_integrity


class ApplyOutcome(StrEnum):
    """How a governed apply ended."""

    APPLIED = "applied"
    CHECKED = "checked"  # would apply (dry run)
    REFUSED_EDITS = "refused_edits"
    REFUSED_POLICY = "refused_policy"
    REFUSED_INTEGRITY = "refused_integrity"
    NEEDS_APPROVAL = "needs_approval"
    IO_ERROR = "io_error"


@dataclass(frozen=True)
class GovernedApplyResult:
    """What happened, with everything needed to explain it to a person or the Builder."""

    outcome: ApplyOutcome
    governance: GovernanceDecision = field(default_factory=GovernanceDecision)
    edits: ApplyResult | None = None
    integrity: tuple[IntegrityIssue, ...] = ()
    changes: dict[str, str | None] = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        """Applied, or would apply."""
        return self.outcome in (ApplyOutcome.APPLIED, ApplyOutcome.CHECKED)

    def for_model(self) -> str:
        """The refusal written for the Builder (empty when it applied)."""
        if self.ok:
            return ""
        nothing = "Nothing was changed."
        if self.outcome is ApplyOutcome.REFUSED_EDITS and self.edits is not None:
            return self.edits.for_model()
        if self.outcome is ApplyOutcome.REFUSED_POLICY:
            return (
                "Your answer was NOT applied: it writes where this phase may not write. "
                f"{nothing}\n{self.governance.for_model()}\n"
                "Change only files inside the phase's scope, and no protected files."
            )
        if self.outcome is ApplyOutcome.REFUSED_INTEGRITY:
            lines = "\n".join(i.for_model() for i in self.integrity)
            return (
                "Your answer was NOT applied: the files it would produce are broken. "
                f"{nothing}\n{lines}\nSend the whole answer again with these fixed."
            )
        if self.outcome is ApplyOutcome.NEEDS_APPROVAL:
            return (
                f"The answer waits for a person's approval. {nothing}\n"
                + self.governance.for_model()
            )
        return f"The answer could not be written: {self.message}. {nothing}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "outcome": self.outcome.value,
            "ok": self.ok,
            "governance": [d.to_dict() for d in self.governance.decisions],
            "edits": self.edits.to_dict() if self.edits is not None else None,
            "integrity": [i.to_dict() for i in self.integrity],
            "changed": sorted(self.changes),
            "message": self.message,
        }


def _fs_decision(root: Path, raw: str, operation: Operation) -> PathDecision | None:
    """Refuse writing through symlinks and into anything but regular files."""
    try:
        rel = normalize_rel_path(raw)
    except ValueError:
        return None  # governance's path.invalid explains it
    current = root
    for part in rel.split("/"):
        current = current / part
        try:
            info = current.lstat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return PathDecision(rel, Verdict.DENY, "path.unreadable", str(exc), operation)
        if stat.S_ISLNK(info.st_mode):
            reason = f"{current.relative_to(root)} is a symbolic link; links are never followed"
            return PathDecision(rel, Verdict.DENY, "path.symlink", reason, operation)
    if not stat.S_ISREG(info.st_mode):
        reason = "not a regular file (directory, device, fifo or socket)"
        return PathDecision(rel, Verdict.DENY, "path.not_regular", reason, operation)
    return None


def _structural(policy: GovernancePolicy, root: Path, name: str) -> PathDecision | None:
    """Paths no answer may name at all: invalid, inside .git, through links, non-files."""
    decision = policy.check_path(name)
    if decision.rule in ("path.invalid", "path.git"):
        return decision
    return _fs_decision(root, name, "write")


def _operations(
    changes: dict[str, str | None], renamed_from: set[str]
) -> list[tuple[str, Operation]]:
    ops: list[tuple[str, Operation]] = []
    for path, text in sorted(changes.items()):
        if text is None:
            ops.append((path, "rename_from" if path in renamed_from else "delete"))
        else:
            ops.append((path, "write"))
    return ops


def governed_apply(
    root: str | os.PathLike[str],
    answer: str,
    policy: GovernancePolicy,
    *,
    check: bool = False,
    approved: bool = False,
    ignored: Callable[[list[str]], set[str]] | None = None,
) -> GovernedApplyResult:
    """Apply a model answer under ``root`` if, and only if, every rule allows it.

    ``approved`` marks that a person approved this answer (``needs_approval`` then applies);
    ``check`` runs every step but writes nothing. ``ignored`` tells which paths git ignores:
    writes there are refused (``path.git_ignored``), because an attempt's rollback restores
    tracked and new files exactly but keeps ignored files as they are.
    """
    root_path = Path(root).resolve()
    parsed = parse_answer(answer)
    names = answer_paths(parsed)
    # Structural refusals come first, before a single file is read.
    structural = GovernanceDecision(
        tuple(d for n in sorted(names) if (d := _structural(policy, root_path, n)) is not None)
    )
    if structural.verdict is Verdict.DENY:
        return GovernedApplyResult(ApplyOutcome.REFUSED_POLICY, structural)
    files, read_errors = read_files(root_path, names)
    escaping = {e.path for e in read_errors if e.code is ErrorCode.UNSAFE_PATH and e.path}
    if escaping:  # resolved outside the root although no link was seen: refuse all the same
        denials = tuple(
            PathDecision(p, Verdict.DENY, "path.symlink_escape", "resolves outside the worktree")
            for p in sorted(escaping)
        )
        return GovernedApplyResult(ApplyOutcome.REFUSED_POLICY, GovernanceDecision(denials))
    edits = apply_edits(files, parsed.edits, parse_errors=[*parsed.errors, *read_errors])
    if not edits.ok:
        return GovernedApplyResult(ApplyOutcome.REFUSED_EDITS, edits=edits)

    changes = dict(edits.files)
    renamed_from = {
        e.path
        for e in parsed.edits
        if isinstance(e, RenameFile) or (isinstance(e, UnifiedDiff) and e.new_path)
    }
    ops = _operations(changes, renamed_from)
    fs = tuple(d for p, op in ops if (d := _fs_decision(root_path, p, op)) is not None)
    if ignored is not None:
        hidden = ignored([p for p, _ in ops])
        fs += tuple(
            PathDecision(p, Verdict.DENY, "path.git_ignored", "git ignores this path", op)
            for p, op in ops
            if p in hidden
        )
    contents = {p: (t.encode("utf-8") if t is not None else None) for p, t in changes.items()}
    decision = combine(
        policy.check_paths(ops),
        GovernanceDecision(fs),
        policy.check_contents(contents),
    )
    if decision.verdict is Verdict.DENY:
        return GovernedApplyResult(ApplyOutcome.REFUSED_POLICY, decision, edits, changes=changes)

    old = {p: files[p].decode("utf-8", errors="replace") for p in changes if p in files}
    issues = tuple(check_integrity(old, changes))
    if issues:
        return GovernedApplyResult(ApplyOutcome.REFUSED_INTEGRITY, decision, edits, issues, changes)
    if decision.verdict is Verdict.NEEDS_APPROVAL and not approved:
        return GovernedApplyResult(ApplyOutcome.NEEDS_APPROVAL, decision, edits, changes=changes)
    if check:
        return GovernedApplyResult(ApplyOutcome.CHECKED, decision, edits, changes=changes)
    try:
        write_files(root_path, changes)
    except (OSError, EditError) as exc:
        return GovernedApplyResult(
            ApplyOutcome.IO_ERROR, decision, edits, changes=changes, message=str(exc)
        )
    return GovernedApplyResult(ApplyOutcome.APPLIED, decision, edits, changes=changes)
