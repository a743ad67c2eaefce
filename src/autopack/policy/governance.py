"""Governance: which paths a phase may write, as pure decisions over path strings and bytes.

Default deny. A write is allowed only inside the phase's ``scope.paths``, and never to a
path the configuration denies (``.git/``, ``.autopack/``, ``.env*``, keys, credentials, the
phase's ``protected_paths``). Protected-but-approvable paths (CI workflows) and phases whose
strategy requires approval yield ``needs_approval``. Every decision names the rule that made
it, so a refusal can be explained to a person and to the Builder.

Rules are checked in this order; the first that decides wins:

=====================  ===============  =====================================================
rule                   verdict          when
=====================  ===============  =====================================================
``path.invalid``       deny             empty, absolute, ``..``, NUL, or not normalisable
``path.git``           deny             any segment is ``.git``
``protected.deny``     deny             a configured deny pattern or phase protected path
``scope.empty``        deny             the phase has no writable scope at all
``scope.outside``      deny             not under any ``scope.paths`` entry
``scope.root_delete``  deny             deleting or renaming away a scope root itself
``protected.approval``  needs_approval  an approvable pattern (CI workflows, …)
``strategy.approval``  needs_approval  the phase's strategy requires approval
``scope.inside``       allow            inside the scope
=====================  ===============  =====================================================

Content rules (``content.binary``, ``content.too_large``, ``content.total_too_large``) deny
what an answer would write. Filesystem facts (symlinks, device files) are the workspace's to
check: they are not visible from a path string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autopack.config.loader import load_config
from autopack.policy.strategy import PhaseStrategy
from autopack.spec.models import Scope, normalize_rel_path

Operation = Literal["write", "delete", "rename_from", "rename_to"]


class Verdict(StrEnum):
    """Outcome of a governance check; ordered from least to most restrictive."""

    ALLOW = "allow"
    NEEDS_APPROVAL = "needs_approval"
    DENY = "deny"

    @property
    def rank(self) -> int:
        """Severity for combining several decisions."""
        return {Verdict.ALLOW: 0, Verdict.NEEDS_APPROVAL: 1, Verdict.DENY: 2}[self]


class GovernanceConfigError(ValueError):
    """The governance configuration is malformed."""

    code = "governance_config_invalid"


class GovernanceConfig(BaseModel):
    """Deny and approval patterns and content limits (packaged defaults + project file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    deny: tuple[str, ...] = ()
    approval: tuple[str, ...] = ()
    max_file_bytes: int = Field(default=1_000_000, gt=0)
    max_total_bytes: int = Field(default=5_000_000, gt=0)
    allow_binary: bool = False

    @classmethod
    def load(cls, override_path: Path | None = None) -> GovernanceConfig:
        """Packaged defaults, extended by a project file when given."""
        return load_config(
            cls, "governance.yaml", override_path, error=GovernanceConfigError, merge=_extend
        )


def _extend(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Pattern lists are extended (a project cannot drop a packaged protection); the rest
    replaces."""
    out = dict(base)
    for key, value in extra.items():
        if key in ("deny", "approval") and isinstance(value, list):
            out[key] = [*out.get(key, []), *value]
        else:
            out[key] = value
    return out


@lru_cache(maxsize=512)
def _pattern_regex(pattern: str, descendants: bool = True) -> re.Pattern[str]:
    """Compile a .gitignore-style pattern to a regex over normalised relative paths.

    With ``descendants`` a match also covers everything below the matched name (right for
    protections: protecting ``secrets`` protects ``secrets/x``); scope globs grant exactly
    the names they match.
    """
    pat = pattern.strip().replace("\\", "/")
    directory = pat.endswith("/")
    anchored = pat.startswith("/") or "/" in pat.strip("/")
    pat = pat.strip("/")
    out = []
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif pat[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pat[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pat[i]))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if directory else ("(?:/.*)?" if descendants else "")
    return re.compile(f"^{prefix}{body}{suffix}$")


def matches(pattern: str, path: str) -> bool:
    """Whether a normalised relative path matches a .gitignore-style pattern."""
    return bool(_pattern_regex(pattern).match(path))


def _in_scope(scope_path: str, path: str) -> bool:
    if scope_path in (".", "./"):
        return True
    if any(c in scope_path for c in "*?["):
        # Anchored at the root, and granting exactly the names the glob matches.
        return bool(_pattern_regex("/" + scope_path, descendants=False).match(path))
    root = scope_path.rstrip("/")
    return path == root or path.startswith(root + "/")


@dataclass(frozen=True)
class PathDecision:
    """The verdict on one path and the rule that gave it."""

    path: str
    verdict: Verdict
    rule: str
    reason: str
    operation: str = "write"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready."""
        return {
            "path": self.path,
            "verdict": self.verdict.value,
            "rule": self.rule,
            "reason": self.reason,
            "operation": self.operation,
        }


@dataclass(frozen=True)
class GovernanceDecision:
    """All path decisions for one answer; the verdict is the most restrictive one."""

    decisions: tuple[PathDecision, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """The most restrictive verdict (allow when nothing was checked)."""
        return max((d.verdict for d in self.decisions), key=lambda v: v.rank, default=Verdict.ALLOW)

    def with_verdict(self, verdict: Verdict) -> list[PathDecision]:
        """Decisions with the given verdict."""
        return [d for d in self.decisions if d.verdict is verdict]

    def for_model(self) -> str:
        """Explain refusals and approvals to the Builder (allowed paths are not listed)."""
        lines = []
        for d in self.decisions:
            if d.verdict is Verdict.DENY:
                lines.append(f"- {d.path}: refused by rule {d.rule}: {d.reason}")
            elif d.verdict is Verdict.NEEDS_APPROVAL:
                lines.append(f"- {d.path}: needs a person's approval ({d.rule}): {d.reason}")
        return "\n".join(lines)


@dataclass(frozen=True)
class GovernancePolicy:
    """The rules for one phase: its scope, protections and whether approval is required."""

    config: GovernanceConfig
    scope_paths: tuple[str, ...]
    protected_paths: tuple[str, ...] = ()
    approval_required: bool = False
    approval_reason: str = "the phase's strategy requires approval"
    _scope: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        clean = []
        for raw in self.scope_paths:
            try:
                clean.append(normalize_rel_path(raw))
            except ValueError:
                continue  # an invalid scope entry grants nothing
        object.__setattr__(self, "_scope", tuple(clean))

    @classmethod
    def for_phase(
        cls, config: GovernanceConfig, scope: Scope, strategy: PhaseStrategy | None = None
    ) -> GovernancePolicy:
        """The policy for a phase: its scope and protected paths, its strategy's approval."""
        approval = bool(strategy and strategy.approval_required)
        reason = "the phase's strategy requires approval"
        if strategy is not None and strategy.high_risk:
            reason = f"{strategy.category!r} is a high-risk category: a person approves writes"
        return cls(
            config,
            scope_paths=tuple(scope.paths),
            protected_paths=tuple(scope.protected_paths),
            approval_required=approval,
            approval_reason=reason,
        )

    def check_path(self, raw: str, operation: Operation = "write") -> PathDecision:
        """Decide one path for one operation."""
        try:
            path = normalize_rel_path(raw)
        except ValueError as exc:
            return PathDecision(raw, Verdict.DENY, "path.invalid", str(exc), operation)
        if path in (".", "./"):
            return PathDecision(raw, Verdict.DENY, "path.invalid", "not a file path", operation)
        path = path.rstrip("/")
        if ".git" in path.split("/"):
            reason = "git's own data is never written"
            return PathDecision(path, Verdict.DENY, "path.git", reason, operation)
        for pattern in (*self.config.deny, *self.protected_paths):
            if matches(pattern, path):
                reason = f"matches protected pattern {pattern!r}"
                return PathDecision(path, Verdict.DENY, "protected.deny", reason, operation)
        if not self._scope:
            reason = "the phase has no writable scope (scope.paths is empty)"
            return PathDecision(path, Verdict.DENY, "scope.empty", reason, operation)
        if not any(_in_scope(s, path) for s in self._scope):
            reason = f"outside the phase's scope ({', '.join(self._scope)})"
            return PathDecision(path, Verdict.DENY, "scope.outside", reason, operation)
        roots = {s.rstrip("/") for s in self._scope if s not in (".", "./")}
        if operation in ("delete", "rename_from") and path in roots:
            reason = "a scope root itself may not be deleted or moved"
            return PathDecision(path, Verdict.DENY, "scope.root_delete", reason, operation)
        for pattern in self.config.approval:
            if matches(pattern, path):
                reason = f"matches approvable pattern {pattern!r}"
                return PathDecision(
                    path, Verdict.NEEDS_APPROVAL, "protected.approval", reason, operation
                )
        if self.approval_required:
            return PathDecision(
                path, Verdict.NEEDS_APPROVAL, "strategy.approval", self.approval_reason, operation
            )
        return PathDecision(path, Verdict.ALLOW, "scope.inside", "inside the scope", operation)

    def check_paths(self, paths: Iterable[tuple[str, Operation]]) -> GovernanceDecision:
        """Decide several (path, operation) pairs."""
        return GovernanceDecision(tuple(self.check_path(p, op) for p, op in paths))

    def check_contents(self, contents: Mapping[str, bytes | None]) -> GovernanceDecision:
        """Content rules over what would be written (None = deleted)."""
        decisions: list[PathDecision] = []
        total = 0
        for path, data in sorted(contents.items()):
            if data is None:
                continue
            total += len(data)
            if len(data) > self.config.max_file_bytes:
                reason = f"{len(data)} bytes, over the limit of {self.config.max_file_bytes}"
                decisions.append(PathDecision(path, Verdict.DENY, "content.too_large", reason))
            elif not self.config.allow_binary and is_binary(data):
                reason = "binary content (NUL bytes or not UTF-8) is not written"
                decisions.append(PathDecision(path, Verdict.DENY, "content.binary", reason))
        if total > self.config.max_total_bytes:
            reason = f"{total} bytes in all, over the limit of {self.config.max_total_bytes}"
            decisions.append(PathDecision("*", Verdict.DENY, "content.total_too_large", reason))
        return GovernanceDecision(tuple(decisions))


def is_binary(data: bytes) -> bool:
    """NUL bytes in the first 8 KiB, or not decodable as UTF-8."""
    if b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def combine(*decisions: GovernanceDecision) -> GovernanceDecision:
    """One decision from several."""
    return GovernanceDecision(tuple(d for dec in decisions for d in dec.decisions))
