"""Bar charts as geometry for server-rendered SVG: no chart library, no script.

A :class:`Chart` holds rectangles and text positions in SVG user units; the template draws
them inside a ``viewBox`` (so the chart scales with the page) with a ``<title>`` and
``<desc>`` for assistive technology, and the page prints the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Chart", "Label", "columns", "rows"]


@dataclass(frozen=True)
class Bar:
    """One rectangle; ``text`` is its tooltip and accessible name."""

    x: float
    y: float
    width: float
    height: float
    text: str


@dataclass(frozen=True)
class Label:
    """A piece of text at a position (``anchor``: start, middle or end)."""

    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Chart:
    """An SVG bar chart."""

    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]

    @property
    def empty(self) -> bool:
        return not any(b.width > 0 and b.height > 0 for b in self.bars)


def _scale(value: float, top: float, room: float) -> float:
    if top <= 0 or value <= 0:
        return 0.0
    return round(max(1.0, value / top * room), 2)


def rows(
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, float, str]],
    *,
    width: int = 640,
    label_width: int = 190,
    value_width: int = 120,
    bar_height: int = 20,
    gap: int = 10,
) -> Chart:
    """Horizontal bars, one per ``(label, value, value text)``, longest for the largest."""
    top = max((v for _, v, _ in items), default=0)
    room = width - label_width - value_width - 10
    bars, labels = [], []
    for i, (label, value, text) in enumerate(items):
        y = gap + i * (bar_height + gap)
        length = _scale(value, top, room)
        bars.append(Bar(label_width, y, length, bar_height, f"{label}: {text}"))
        middle = y + bar_height * 0.7
        labels.append(Label(label_width - 8, middle, label[:28], "end"))
        labels.append(Label(label_width + length + 6, middle, text))
    height = gap + len(items) * (bar_height + gap)
    description = "; ".join(f"{label}: {text}" for label, _, text in items) or "no data"
    return Chart(chart_id, title, description, width, max(height, 40), bars, labels)


def columns(
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, float, str]],
    *,
    width: int = 720,
    height: int = 220,
    axis_height: int = 30,
    every: int = 5,
) -> Chart:
    """Vertical bars, one per ``(label, value, value text)``; every ``every``-th label shown."""
    top = max((v for _, v, _ in items), default=0)
    plot = height - axis_height - 20
    margin = 24  # room for the first and last labels
    step = (width - 2 * margin) / max(len(items), 1)
    bars, labels = [], []
    for i, (label, value, text) in enumerate(items):
        h = _scale(value, top, plot)
        x = round(margin + i * step + step * 0.15, 2)
        bars.append(Bar(x, 20 + plot - h, round(step * 0.7, 2), h, f"{label}: {text}"))
        if i % every == 0 or i == len(items) - 1:
            labels.append(Label(round(x + step * 0.35, 2), height - 10, label, "middle"))
    if top > 0:
        peak = max(items, key=lambda item: item[1])
        labels.append(Label(4, 14, f"highest: {peak[2]} ({peak[0]})"))
    shown = [f"{label}: {text}" for label, value, text in items if value > 0]
    description = "; ".join(shown) or "no data"
    return Chart(chart_id, title, description, width, height, bars, labels)
