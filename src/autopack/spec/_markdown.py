"""Reading a free-text or markdown plan into a :class:`~autopack.spec._draft.DraftPlan`.

Structure, in this order:

* a single leading ``#`` heading is the plan's title; prose before the first phase is its goal;
* headings below the title are phases. When two heading levels are in use and the upper one
  groups the lower (``## Tier 1`` / ``### Add div``), or the upper reads like a tier (*tier,
  stage, milestone, part, wave*) or the lower like a phase (*phase, step, task*), the upper
  level is tiers and the lower phases; deeper headings belong to their phase;
* headings such as *Overview, Background, Goal, Context* feed the goal; *Notes, Risks,
  Non-goals, Out of scope, Open questions* are ignored (their paths are not scope);
* a heading such as *Tasks, Steps, Checklist, TODO* whose text is a list of two or more items
  has those items as phases; so does a document with no phase heading at all: each top-level
  numbered item, checklist item (``- [ ]``; ticked ``- [x]`` items are left out) or bullet is
  a phase, and its indented lines are its text;
* nothing of that: the whole text is one phase (``prose``).

Explicit fields inside a phase (``Deliverables:``, ``Files:``/``Scope:``, ``Context:``,
``Protected:``/``Do not touch:``, ``Category:``, ``Complexity:``, ``CI:``) are read with the
list items under them. Text in code fences is never structure.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from autopack.spec._draft import DraftPhase, DraftPlan, Structure

__all__ = ["parse_markdown", "strip_markup"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_ITEM = re.compile(r"^(\s*)(\d{1,3}[.)]|[-*+])\s+(?:\[([ xX])\]\s+)?(.*)$")
_INTRO_HEADINGS = re.compile(
    r"^(overview|background|context|goals?|summary|introduction|motivation|objective|purpose)\b",
    re.I,
)
_IGNORED_HEADINGS = re.compile(
    r"^(notes?|risks?|non[- ]goals?|out of scope|open questions?|references?|appendix|"
    r"questions|faq|assumptions|future work)\b",
    re.I,
)
_BODY_HEADINGS = re.compile(
    r"^(deliverables?|outputs?|files?|scope|paths?|acceptance criteria|done when|"
    r"definition of done|context|details|checks?|ci|notes?|complexity|category)\s*:?$",
    re.I,
)
_CONTAINER_HEADINGS = re.compile(
    r"^(tasks?|steps?|plan|to-?do|checklist|phases|work items|milestones|implementation plan"
    r"|action items)\s*:?$",
    re.I,
)
_TIER_WORDS = re.compile(r"^(tier|stage|milestone|part|wave|epic)\b", re.I)
_PHASE_WORDS = re.compile(r"^(phase|step|task)\b", re.I)
_FIELD = re.compile(
    r"^(\s*)(?:[-*+]\s+)?(?:\*\*|__)?"
    r"(deliverables?|outputs?|files?|scope|paths?|category|task[ _]category|complexity|"
    r"context|read[- ]only(?: context)?|protected(?: paths)?|do not touch|ci|checks?|"
    r"test command)"
    r"(?:\*\*|__)?\s*:(?:\*\*|__)?\s*(.*)$",
    re.I,
)
_TITLE_PREFIX = re.compile(
    r"^(?:(?:phase|step|task|stage|tier|milestone|part)\s*[0-9]*[a-z]?\s*[:.)\-–—]\s*"
    r"|(?:phase|step|task|stage|tier|milestone|part)\s+[0-9]+[a-z]?\s+|[0-9]+[.)]\s+)",
    re.I,
)
_TITLE_MAX = 80


def strip_markup(text: str) -> str:
    """Text without emphasis, backticks and link syntax (``[x](url)`` → ``x``)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))", "", text)
    return " ".join(text.split())


def _title(raw: str) -> str:
    """A phase or tier name: markup and ``Phase 2:`` prefixes removed, first sentence."""
    text = strip_markup(raw)
    text = _TITLE_PREFIX.sub("", text, count=1).strip() or text
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    if len(sentence) > _TITLE_MAX:
        sentence = sentence[: _TITLE_MAX - 3].rstrip() + "..."
    return sentence or "untitled"


@dataclass
class _Line:
    text: str
    fenced: bool


@dataclass
class _Section:
    title: str
    level: int
    lines: list[_Line] = field(default_factory=list)
    kind: str = "phase"  # phase | intro | ignored | container


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    fenced = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n"):
        if _FENCE.match(raw):
            fenced = not fenced
            out.append(_Line(raw, True))
            continue
        out.append(_Line(raw.rstrip(), fenced))
    return out


def _heading(line: _Line) -> tuple[int, str] | None:
    if line.fenced:
        return None
    match = _HEADING.match(line.text)
    return (len(match.group(1)), match.group(2).strip()) if match else None


def _kind(title: str) -> str:
    plain = strip_markup(title)
    if _INTRO_HEADINGS.match(plain):
        return "intro"
    if _IGNORED_HEADINGS.match(plain):
        return "ignored"
    if _CONTAINER_HEADINGS.match(plain):
        return "container"
    return "phase"


def _levels(lines: list[_Line], title_index: int | None) -> tuple[int | None, int | None]:
    """(tier level, phase level) of the structural headings, each ``None`` when absent."""
    heads = [
        (i, level, title)
        for i, line in enumerate(lines)
        if i != title_index and (h := _heading(line)) is not None
        for level, title in [h]
        if not _BODY_HEADINGS.match(strip_markup(title)) and _kind(title) != "ignored"
    ]
    structural = [(i, lvl, t) for i, lvl, t in heads if _kind(t) in ("phase", "container")]
    levels = sorted({lvl for _, lvl, _ in structural})
    if not levels:
        return None, None
    if len(levels) == 1:
        return None, levels[0]
    upper, lower = levels[0], levels[1]
    uppers = [t for _, lvl, t in structural if lvl == upper]
    lowers = [t for _, lvl, t in structural if lvl == lower]
    upper_phases = any(_PHASE_WORDS.match(strip_markup(t)) for t in uppers)
    if upper_phases and not any(_PHASE_WORDS.match(strip_markup(t)) for t in lowers):
        return None, upper
    if any(_TIER_WORDS.match(strip_markup(t)) for t in uppers) or any(
        _PHASE_WORDS.match(strip_markup(t)) for t in lowers
    ):
        return upper, lower
    # Tiers only when every upper heading groups at least one lower one.
    positions = [(i, lvl) for i, lvl, _ in structural if lvl in (upper, lower)]
    groups = all(
        idx + 1 < len(positions) and positions[idx + 1][1] == lower
        for idx, (_, lvl) in enumerate(positions)
        if lvl == upper
    )
    return (upper, lower) if groups else (None, upper)


def _items(lines: list[_Line]) -> list[tuple[str, list[str], bool | None]]:
    """Top-level list items: (first line, following lines, ticked or None if no checkbox)."""
    marks = [
        (i, len(m.group(1)))
        for i, line in enumerate(lines)
        if not line.fenced and (m := _ITEM.match(line.text))
    ]
    if not marks:
        return []
    indent = min(width for _, width in marks)
    starts = [i for i, width in marks if width == indent]
    items: list[tuple[str, list[str], bool | None]] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        match = _ITEM.match(lines[start].text)
        assert match is not None
        box = match.group(3)
        ticked = None if box is None else box.lower() == "x"
        rest = [line.text for line in lines[start + 1 : end]]
        items.append((match.group(4), rest, ticked))
    return items


def _structure_of(lines: list[_Line]) -> Structure:
    kinds = {m.group(2)[0].isdigit() for line in lines if (m := _ITEM.match(line.text))}
    if any((m := _ITEM.match(line.text)) and m.group(3) is not None for line in lines):
        return "checklist"
    return "numbered" if True in kinds else "bullets"


def _field_values(inline: str, follow: list[str]) -> list[str]:
    values = [v.strip() for v in re.split(r"[;,]\s+|,(?=\s*`)", inline) if v.strip()]
    for text in follow:
        match = _ITEM.match(text)
        if match and match.group(4).strip():
            values.append(match.group(4).strip())
    return values


def _read_fields(phase: DraftPhase, lines: list[str]) -> None:
    """Fill the phase's explicit fields from ``Name: value`` lines and the items under them."""
    for index, text in enumerate(lines):
        match = _FIELD.match(text)
        if not match:
            continue
        indent, name, inline = len(match.group(1)), match.group(2).lower(), match.group(3)
        is_item = bool(_ITEM.match(text))
        follow: list[str] = []
        for nxt in lines[index + 1 :]:
            item = _ITEM.match(nxt)
            if not nxt.strip():
                continue
            if item and (len(item.group(1)) > indent or (not is_item and not inline.strip())):
                if _FIELD.match(nxt) and len(item.group(1)) <= indent:
                    break
                follow.append(nxt)
                continue
            break
        values = _field_values(inline, follow)
        _assign(phase, name, inline, values)


def _assign(phase: DraftPhase, name: str, inline: str, values: list[str]) -> None:
    if name.startswith(("deliverable", "output")):
        phase.deliverables.extend(values)
    elif name.startswith(("file", "scope", "path")):
        phase.paths.extend(values)
    elif name.startswith(("context", "read")):
        phase.context.extend(values)
    elif name.startswith(("protected", "do not")):
        phase.protected.extend(values)
    elif name in ("category", "task category", "task_category") and values:
        phase.category = strip_markup(values[0]).lower().replace(" ", "_").replace("-", "_")
    elif name == "complexity" and values:
        phase.complexity = strip_markup(values[0]).lower()
    elif name in ("ci", "check", "checks", "test command"):
        phase.ci_command = command_of(inline)


def command_of(text: str) -> list[str] | None:
    """A command written as ``\\`npm test\\``` or plain text, split like a shell (never run)."""
    ticked = re.search(r"`([^`]+)`", text)
    raw = ticked.group(1) if ticked else text.strip()
    try:
        args = shlex.split(raw)
    except ValueError:
        return None
    return args or None


def _phase(title: str, body: list[str], tier: str | None) -> DraftPhase:
    text = "\n".join(body).strip("\n")
    phase = DraftPhase(title=_title(title), body=_dedent(text), tier=tier)
    _read_fields(phase, body)
    if strip_markup(title) != phase.title:
        # A long item or heading keeps its full wording in the description.
        phase.body = (strip_markup(title) + "\n" + phase.body).strip()
    return phase


def _dedent(text: str) -> str:
    lines = text.split("\n")
    widths = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
    cut = min(widths) if widths else 0
    return "\n".join(ln[cut:] for ln in lines).strip()


def _from_items(lines: list[_Line], tier: str | None, skipped: list[str]) -> list[DraftPhase]:
    phases = []
    for first, rest, ticked in _items(lines):
        if ticked:
            skipped.append(_title(first))
            continue
        phases.append(_phase(first, rest, tier))
    return phases


def _sections(lines: list[_Line], title_index: int | None) -> tuple[list[_Line], list[_Section]]:
    """Lines before the first structural heading, and the sections at tier/phase levels."""
    tier_level, phase_level = _levels(lines, title_index)
    intro: list[_Line] = []
    sections: list[_Section] = []
    current: _Section | None = None
    for i, line in enumerate(lines):
        if i == title_index:
            continue
        head = _heading(line)
        if head is not None and phase_level is not None:
            level, text = head
            kind = _kind(text)
            meta = kind in ("intro", "ignored")
            if level <= phase_level and (meta or not _BODY_HEADINGS.match(strip_markup(text))):
                tier = tier_level is not None and level <= tier_level
                if tier and kind in ("phase", "container"):
                    kind = "tier"
                current = _Section(text, level, kind=kind)
                sections.append(current)
                continue
            if current is not None:
                # A deeper heading is part of its phase: "### Deliverables" reads as a field.
                current.lines.append(_Line(strip_markup(text) + ":", False))
                continue
        if current is None:
            intro.append(line)
        else:
            current.lines.append(line)
    return intro, sections


def _groups_phases(sections: list[_Section], index: int) -> bool:
    """Whether the tier section at ``index`` is followed by a phase before the next tier."""
    for section in sections[index + 1 :]:
        if section.kind == "tier":
            return False
        if section.kind in ("phase", "container"):
            return True
    return False


def _prose(lines: list[_Line]) -> str:
    return "\n".join(line.text for line in lines).strip()


def parse_markdown(text: str) -> DraftPlan:
    """The draft of a markdown or free-text plan (see the module docstring for the rules)."""
    lines = _lines(text)
    heads = [(i, h) for i, line in enumerate(lines) if (h := _heading(line)) is not None]
    title_index: int | None = None
    title: str | None = None
    if heads and heads[0][1][0] == 1 and sum(1 for _, h in heads if h[0] == 1) == 1:
        title_index, title = heads[0][0], strip_markup(heads[0][1][1])
    intro, sections = _sections(lines, title_index)
    skipped: list[str] = []
    goal_parts = [_prose(intro)]
    phases: list[DraftPhase] = []
    structure: Structure = "headings"
    tier: str | None = None
    if sections:
        has_tiers = any(s.kind == "tier" for s in sections)
        structure = "tiers" if has_tiers else "headings"
        for n, section in enumerate(sections):
            if section.kind == "intro":
                goal_parts.append(_prose(section.lines))
            elif section.kind == "tier":
                tier = _title(section.title)
                if not _groups_phases(sections, n):
                    # A tier heading with no phase under it is a phase of its own tier.
                    phases.append(_phase(section.title, [ln.text for ln in section.lines], tier))
            elif section.kind == "container" and len(_items(section.lines)) >= 2:
                phases.extend(_from_items(section.lines, tier, skipped))
                structure = structure if has_tiers else _structure_of(section.lines)
            elif section.kind in ("phase", "container"):
                phases.append(_phase(section.title, [ln.text for ln in section.lines], tier))
    if not sections:
        items = _from_items(intro, None, skipped)
        if items or skipped:
            first_item = next(i for i, ln in enumerate(intro) if _ITEM.match(ln.text))
            goal_parts = [_prose(intro[:first_item])]
            phases, structure = items, _structure_of(intro)
    goal = "\n\n".join(p for p in goal_parts if p).strip()
    if not phases and not skipped and (goal or title):
        phases = [_phase(title or _title(goal), [goal] if goal else [], None)]
        structure = "prose"
    plan_ci = None
    for line in intro:
        match = _FIELD.match(line.text)
        if match and match.group(2).lower() in ("ci", "check", "checks", "test command"):
            plan_ci = command_of(match.group(3))
    return DraftPlan(
        title=title,
        goal=goal or (title or ""),
        phases=phases,
        structure=structure,
        ci_command=plan_ci,
        skipped=skipped,
    )
