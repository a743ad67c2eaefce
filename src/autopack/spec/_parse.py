"""Text → Python data for plans written in JSON or YAML, with positions for error messages.

Besides the data, parsing keeps the YAML node tree (JSON text is composed as YAML too, which
almost always works) so that a problem found later at ``tiers[0].phases[2].complexity`` can
also say *line 14, column 9*. Duplicate mapping keys — silently dropped by both ``json`` and
PyYAML — are reported as issues.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from autopack.spec._locate import Path, format_path
from autopack.spec.errors import DOCUMENT_LOC, SpecIssue

Format = Literal["json", "yaml"]
MAX_TEXT_CHARS = 5_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class ParsedText:
    """The data of a document plus what is needed to point back into its text."""

    data: Any
    format: Format
    root: yaml.Node | None = None
    issues: list[SpecIssue] = field(default_factory=list)

    def position(self, path: Path) -> tuple[int, int] | None:
        """1-based (line, column) of the deepest node on ``path`` that exists in the text."""
        node = self.root
        if node is None:
            return None
        mark = node.start_mark
        for segment in path:
            child = _child(node, segment)
            if child is None:
                break
            key_node, node = child
            mark = (key_node or node).start_mark
        return mark.line + 1, mark.column + 1


def _child(node: yaml.Node, segment: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(segment, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == segment:
                return key, value
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(segment, int)
        and 0 <= segment < len(node.value)
    ):
        return None, node.value[segment]
    return None


def guess_format(name: str | None, text: str) -> Format | None:
    """``json``/``yaml`` from a file suffix; ``None`` (try both) when it says nothing."""
    lowered = (name or "").lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return None


def parse_text(text: str, fmt: Format | None = None) -> ParsedText:
    """Parse ``text``; syntax problems come back as issues (never as exceptions)."""
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_TEXT_CHARS:
        issue = SpecIssue(DOCUMENT_LOC, f"document too large (> {MAX_TEXT_CHARS} characters)")
        return ParsedText(None, fmt or "yaml", issues=[issue])
    if fmt is None:
        fmt = "json" if text.lstrip()[:1] in ("{", "[") else "yaml"
        if fmt == "json":
            parsed = _parse_json(text)
            if parsed.issues and parsed.issues[0].code == "syntax":
                as_yaml = _parse_yaml(text)  # e.g. a YAML flow mapping `{a: 1}`
                if not as_yaml.issues:
                    return as_yaml
            return parsed
    return _parse_json(text) if fmt == "json" else _parse_yaml(text)


def _parse_json(text: str) -> ParsedText:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        issue = SpecIssue(
            f"line {exc.lineno}, column {exc.colno}",
            f"invalid JSON: {exc.msg}",
            code="syntax",
            line=exc.lineno,
            column=exc.colno,
        )
        return ParsedText(None, "json", issues=[issue])
    except RecursionError:
        return ParsedText(None, "json", issues=[_too_deep()])
    parsed = ParsedText(data, "json")
    try:  # positions and duplicate keys only; JSON that YAML cannot read just loses them
        parsed.root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        parsed.root = None
    parsed.issues.extend(_duplicate_keys(parsed.root))
    return parsed


def _parse_yaml(text: str) -> ParsedText:
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # e.g. a control character, found before any parsing
        return ParsedText(None, "yaml", issues=[_yaml_issue(exc)])
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ": ".join(p for p in (exc.context, exc.problem) if p) or "syntax error"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        loc = f"line {line}, column {column}" if mark else DOCUMENT_LOC
        issue = SpecIssue(loc, f"invalid YAML: {problem}", "syntax", line, column)
        return ParsedText(None, "yaml", issues=[issue])
    except yaml.YAMLError as exc:
        return ParsedText(None, "yaml", issues=[_yaml_issue(exc)])
    except RecursionError:
        return ParsedText(None, "yaml", issues=[_too_deep()])
    finally:
        loader.dispose()
    return ParsedText(data, "yaml", root=root, issues=_duplicate_keys(root))


def _yaml_issue(exc: yaml.YAMLError) -> SpecIssue:
    text = " ".join(str(exc).split())  # PyYAML messages span lines
    return SpecIssue(DOCUMENT_LOC, f"invalid YAML: {text}", code="syntax")


def _too_deep() -> SpecIssue:
    return SpecIssue(DOCUMENT_LOC, "document is nested too deeply", code="syntax")


def _duplicate_keys(root: yaml.Node | None) -> list[SpecIssue]:
    """Every mapping key given twice in the same mapping (the later value would win)."""
    issues: list[SpecIssue] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, Path]] = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:  # aliases can make the node graph shared or cyclic
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                    continue
                if key.value in first:
                    line, column = key.start_mark.line + 1, key.start_mark.column + 1
                    issues.append(
                        SpecIssue(
                            format_path((*path, key.value)),
                            f"duplicate key {key.value!r} (first given on line "
                            f"{first[key.value]}); the later value would silently win",
                            code="duplicate",
                            line=line,
                            column=column,
                        )
                    )
                else:
                    first[key.value] = key.start_mark.line + 1
                stack.append((value, (*path, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    return issues
