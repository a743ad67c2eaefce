"""A small structural accessibility check of server-rendered pages (standard library only).

Checks what can be checked without a browser: ``lang`` on ``<html>``; ``header``, ``nav``
(when logged in) and ``main`` landmarks; one ``h1`` and no skipped heading level; a label
for every visible form field; ``scope`` on every table header; no inline script, inline
style or event-handler attribute (the CSP would block them anyway).
"""

from __future__ import annotations

from html.parser import HTMLParser
from itertools import pairwise

_FIELDS = {"input", "select", "textarea"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.labels: set[str] = set()
        self.inline_scripts = 0
        self._in_script = False
        self._script_has_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag == "label" and "for" in values:
            self.labels.add(values["for"])
        if tag == "script":
            self._in_script, self._script_has_src = True, "src" in values

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and not self._script_has_src and data.strip():
            self.inline_scripts += 1


def problems(html: str, *, nav: bool = True) -> list[str]:
    """What is wrong with the page's structure ([] when nothing)."""
    page = _Collector()
    page.feed(html)
    found: list[str] = []
    tags = [t for t, _ in page.tags]
    html_attrs = next((a for t, a in page.tags if t == "html"), {})
    if not html_attrs.get("lang"):
        found.append("<html> has no lang")
    for landmark in ("header", "main", *(["nav"] if nav else [])):
        if landmark not in tags:
            found.append(f"no <{landmark}>")
    levels = [int(t[1]) for t in tags if len(t) == 2 and t[0] == "h" and t[1].isdigit()]
    if levels.count(1) != 1:
        found.append(f"{levels.count(1)} h1 elements")
    for before, after in pairwise(levels):
        if after > before + 1:
            found.append(f"heading h{before} followed by h{after}")
    for tag, attrs in page.tags:
        hidden = attrs.get("type") == "hidden"
        if tag in _FIELDS and not hidden and attrs.get("id") not in page.labels:
            found.append(f"<{tag} name={attrs.get('name')!r}> has no label")
        if tag == "th" and attrs.get("scope") not in {"col", "row"}:
            found.append("<th> without scope")
        if "style" in attrs:
            found.append(f"inline style on <{tag}>")
        handlers = [name for name in attrs if name.startswith("on")]
        if handlers:
            found.append(f"event handler attribute {handlers} on <{tag}>")
    if page.inline_scripts:
        found.append(f"{page.inline_scripts} inline script(s)")
    return found
