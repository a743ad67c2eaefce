"""Context assembly: what the Builder sees of the workspace, within a token budget.

Priority order (highest first); a lower item only gets what the higher ones left:

1. the task itself (run goal, phase, deliverables, acceptance criteria) — rendered by the
   caller, which passes its cost as ``reserved``; it is never cut;
2. errors of the previous attempt, then Doctor hints (together at most ``errors_share`` of
   the budget; a long error is trimmed in the middle);
3. scope files: in full when small (≤ ``small_file_tokens``), otherwise the relevant parts
   plus a map of definitions (see :mod:`autopack.agents.outline`); files named explicitly
   in ``scope.paths`` first, then files the task or errors mention, then the rest of the
   scope directories;
4. read-only context files, the same way;
5. memory hits and learned rules;
6. maps: files that did not fit above get their map of definitions, else just their path.

Everything not shown in full is reported in ``dropped`` with the reason. Files matching a
governance deny pattern (``.env*``, keys, credentials, ...) — by their own path or by the path
a symlink points to — and binary files are never read. Paths are normalised; symlinks that
resolve outside the workspace are not followed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from autopack.agents import outline
from autopack.agents.errors import trim_middle
from autopack.agents.files import Drop, WorkspaceFiles
from autopack.agents.redaction import Redactor
from autopack.llm.base import estimate_tokens
from autopack.policy.governance import GovernanceConfig
from autopack.spec.models import PhaseSpec

__all__ = [
    "SEPARATOR",
    "AssembledContext",
    "ContextAssembler",
    "ContextConfig",
    "ContextInputs",
    "ContextSection",
    "DroppedItem",
    "Estimator",
    "FileMode",
]

Estimator = outline.Estimator
SEPARATOR = "\n\n"
"""What a prompt puts between two sections; counted in each section's ``tokens``."""


class ContextConfig(BaseModel):
    """Budgets and limits of context assembly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    budget_tokens: int = Field(default=32_000, gt=0, description="Whole prompt budget.")
    small_file_tokens: int = Field(default=3_000, gt=0, description="Shown in full up to this.")
    excerpt_tokens: int = Field(default=2_000, gt=0, description="Cap on a large file's parts.")
    map_tokens: int = Field(default=1_500, gt=0, description="Cap on one file's map.")
    errors_share: float = Field(default=0.4, gt=0, le=1, description="Cap on errors + hints.")
    max_file_bytes: int = Field(default=1_000_000, gt=0, description="Larger files: not read.")
    max_dir_files: int = Field(default=200, gt=0, description="Files taken from a directory.")
    head_lines: int = Field(default=30, ge=0)
    tail_lines: int = Field(default=10, ge=0)


class FileMode(StrEnum):
    """How much of a file a section shows."""

    FULL = "full"
    EXCERPT = "excerpt"
    MAP = "map"
    LISTED = "listed"


@dataclass(frozen=True)
class ContextSection:
    """One rendered piece of context; ``text`` is what goes into the prompt."""

    kind: str  # errors | hints | scope_file | read_only | memory | map
    title: str
    text: str
    tokens: int  # estimate(text + SEPARATOR)
    path: str | None = None
    mode: FileMode | None = None


@dataclass(frozen=True)
class DroppedItem:
    """Something not shown in full: ``action`` is summarised, truncated, omitted or not_read."""

    item: str
    kind: str
    action: str
    reason: str

    def render(self) -> str:
        """One line for the prompt and the logs."""
        return f"{self.item} [{self.kind}]: {self.action} ({self.reason})"


@dataclass(frozen=True)
class ContextInputs:
    """What a phase attempt knows besides the workspace."""

    phase: PhaseSpec
    run_goal: str = ""
    previous_errors: tuple[str, ...] = ()
    doctor_hints: tuple[str, ...] = ()
    memory: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssembledContext:
    """The sections in priority order, what was dropped, and the tokens used (incl. reserved)."""

    sections: tuple[ContextSection, ...]
    dropped: tuple[DroppedItem, ...]
    budget: int
    used: int
    missing: tuple[str, ...] = ()
    """Scope paths that do not exist yet (the Builder may create them)."""

    def of_kind(self, *kinds: str) -> list[ContextSection]:
        """The sections of the given kinds, in order."""
        return [s for s in self.sections if s.kind in kinds]


@dataclass
class _File:
    rel: str
    text: str
    kind: str  # scope_file | read_only
    note: str = ""
    rank: int = 2


@dataclass
class _State:
    budget: int
    used: int
    sections: list[ContextSection] = field(default_factory=list)
    dropped: list[DroppedItem] = field(default_factory=list)

    @property
    def left(self) -> int:
        return self.budget - self.used

    def add(self, section: ContextSection) -> None:
        self.sections.append(section)
        self.used += section.tokens

    def drop(self, item: str, kind: str, action: str, reason: str) -> None:
        self.dropped.append(DroppedItem(item, kind, action, reason))

    def dropper(self, kind: str) -> Drop:
        return lambda item, action, reason: self.drop(item, kind, action, reason)


class ContextAssembler:
    """Reads a workspace safely and assembles a phase's context within the budget."""

    def __init__(
        self,
        root: Path,
        config: ContextConfig | None = None,
        *,
        deny: Sequence[str] | None = None,
        estimate: Estimator = estimate_tokens,
        redactor: Redactor | None = None,
    ) -> None:
        self.config = config or ContextConfig()
        self.files = WorkspaceFiles(
            root,
            deny if deny is not None else GovernanceConfig.load().deny,
            max_file_bytes=self.config.max_file_bytes,
            max_dir_files=self.config.max_dir_files,
            redactor=redactor,
        )
        self.estimate = estimate

    # -- assembly ------------------------------------------------------------------------

    def assemble(self, inputs: ContextInputs, *, reserved: int = 0) -> AssembledContext:
        """The context for one attempt; ``reserved`` tokens are already spent (the task)."""
        cfg = self.config
        state = _State(budget=cfg.budget_tokens, used=reserved)
        if reserved > cfg.budget_tokens:
            state.drop("task", "task", "over_budget", f"{reserved} > budget {cfg.budget_tokens}")
        phase = inputs.phase
        texts = [
            phase.name,
            phase.description,
            inputs.run_goal,
            *inputs.previous_errors,
            *inputs.doctor_hints,
            *(d.target for d in phase.scope.deliverables),
        ]
        keywords = outline.extract_keywords(texts)
        self._notes(state, "errors", "Error of the previous attempt", inputs.previous_errors)
        self._notes(state, "hints", "Doctor hint", inputs.doctor_hints)

        deferred: list[_File] = []
        missing: list[str] = []
        seen: set[str] = set()
        scope_files: list[_File] = []
        for entry in phase.scope.paths:
            found = self.files.expand(entry, state.dropper("scope_file"))
            if found is None:
                missing.append(entry)
                continue
            explicit = len(found) == 1 and found[0] == entry.rstrip("/")
            for rel in found:
                scope_files.append(_File(rel, "", "scope_file", rank=0 if explicit else 2))
        mentioned = " ".join(texts)
        for f in scope_files:
            if f.rank and (f.rel in mentioned or Path(f.rel).name in mentioned):
                f.rank = 1
        scope_files.sort(key=lambda f: f.rank)
        ro_files: list[_File] = []
        for ref in phase.scope.read_only_context:
            found = self.files.expand(ref.path, state.dropper("read_only"))
            if found is None:
                state.drop(ref.path, "read_only", "omitted", "does not exist")
            for rel in found or []:
                ro_files.append(_File(rel, "", "read_only", note=ref.reason or ""))
        for f in [*scope_files, *ro_files]:
            if f.rel in seen:
                continue
            seen.add(f.rel)
            text = self.files.read(f.rel, state.dropper(f.kind))
            if text is None:
                continue
            f.text = text
            if not self._place(f, state, keywords, inputs.previous_errors):
                deferred.append(f)
        for i, note in enumerate(inputs.memory, start=1):
            self._add_or_drop(state, "memory", f"Memory {i}", note, f"memory {i}")
        for f in deferred:
            self._place_map(f, state)
        return AssembledContext(
            sections=tuple(state.sections),
            dropped=tuple(state.dropped),
            budget=cfg.budget_tokens,
            used=state.used,
            missing=tuple(missing),
        )

    def _cost(self, text: str) -> int:
        # Sections are joined with a blank line in the prompt: count it with each section.
        return self.estimate(text + SEPARATOR)

    def _add_or_drop(self, state: _State, kind: str, title: str, body: str, item: str) -> bool:
        text = f"### {title}\n{body}"
        tokens = self._cost(text)
        if tokens <= state.left:
            state.add(ContextSection(kind, title, text, tokens))
            return True
        state.drop(item, kind, "omitted", f"budget: {tokens} tokens, {max(state.left, 0)} left")
        return False

    def _notes(self, state: _State, kind: str, title: str, notes: Sequence[str]) -> None:
        cap = int(self.config.budget_tokens * self.config.errors_share)
        spent = sum(s.tokens for s in state.sections if s.kind in ("errors", "hints"))
        for i, note in enumerate(notes, start=1):
            room = min(cap - spent, state.left)
            head = f"### {title} {i}\n"
            text = head + note
            tokens = self._cost(text)
            if tokens > room:
                limit = len(note)
                while limit > 200 and tokens > room:
                    limit = int(limit * 0.8)
                    text = head + trim_middle(note, limit)
                    tokens = self._cost(text)
                if tokens > room:
                    state.drop(f"{title.lower()} {i}", kind, "omitted", "budget")
                    continue
                state.drop(f"{title.lower()} {i}", kind, "truncated", "trimmed in the middle")
            state.add(ContextSection(kind, f"{title} {i}", text, tokens))
            spent += tokens

    def _header(self, f: _File, mode: FileMode) -> str:
        label = {"scope_file": "scope, writable", "read_only": "read-only"}[f.kind]
        note = f"; {f.note}" if f.note else ""
        return f"### {f.rel} ({label}, {mode.value}{note})"

    def _place(
        self, f: _File, state: _State, keywords: outline.Keywords, errors: Sequence[str]
    ) -> bool:
        cfg = self.config
        full = f"{self._header(f, FileMode.FULL)}\n{outline.fence(f.text, outline.language(f.rel))}"
        full_tokens = self._cost(full)
        if full_tokens <= cfg.small_file_tokens:
            if full_tokens <= state.left:
                state.add(ContextSection(f.kind, f.rel, full, full_tokens, f.rel, FileMode.FULL))
                return True
            return False
        parts, shown = outline.excerpt(
            f.rel,
            f.text,
            keywords=keywords,
            lines_hit=outline.error_lines(errors, f.rel),
            max_tokens=cfg.excerpt_tokens,
            estimate=self.estimate,
            head_lines=cfg.head_lines,
        )
        fmap = self._map(f)
        text = (
            f"{self._header(f, FileMode.EXCERPT)}\nRelevant parts (copy SEARCH text from here "
            f"exactly):\n{outline.fence(parts, outline.language(f.rel))}\n"
            f"Map of the whole file:\n{outline.fence(fmap)}"
        )
        tokens = self._cost(text)
        if tokens > state.left:
            return False
        state.add(ContextSection(f.kind, f.rel, text, tokens, f.rel, FileMode.EXCERPT))
        state.drop(
            f.rel,
            f.kind,
            "summarised",
            f"{full_tokens} tokens > small-file limit {cfg.small_file_tokens}: "
            f"{shown} relevant part(s) + map of definitions",
        )
        return True

    def _map(self, f: _File) -> str:
        cfg = self.config
        return outline.file_map(
            f.rel,
            f.text,
            head_lines=cfg.head_lines,
            tail_lines=cfg.tail_lines,
            max_tokens=cfg.map_tokens,
            estimate=self.estimate,
        )

    def _place_map(self, f: _File, state: _State) -> None:
        fmap = self._map(f)
        text = f"{self._header(f, FileMode.MAP)}\n{outline.fence(fmap)}"
        tokens = self._cost(text)
        if tokens <= state.left:
            state.add(ContextSection("map", f.rel, text, tokens, f.rel, FileMode.MAP))
            state.drop(f.rel, f.kind, "summarised", "budget: only the map of definitions")
            return
        text = f"{self._header(f, FileMode.LISTED)}: not shown (budget)"
        tokens = self._cost(text)
        if tokens <= state.left:
            state.add(ContextSection("map", f.rel, text, tokens, f.rel, FileMode.LISTED))
            state.drop(f.rel, f.kind, "omitted", "budget: only the path is listed")
            return
        state.drop(f.rel, f.kind, "omitted", "budget exhausted")
