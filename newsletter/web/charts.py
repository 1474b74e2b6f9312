"""Server-side SVG chart geometry for the report page (no chart library, no script, no CDN).

Functions return plain numbers; the templates draw them (templates/reports/_charts.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 640
BAR_HEIGHT = 22
LABEL_WIDTH = 190
VALUE_WIDTH = 120
LINE_HEIGHT = 220
PAD = 28


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label, value, note, top edge and length in pixels."""

    label: str
    value: int
    note: str
    y: int
    length: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars sharing one scale."""

    title: str
    width: int
    height: int
    label_width: int
    bars: list[Bar]


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a name, a CSS class and its SVG points."""

    name: str
    css: str
    points: str
    total: int


@dataclass(frozen=True)
class LineChart:
    """Lines over hours since the send, with a few x-axis ticks and the y maximum."""

    title: str
    width: int
    height: int
    pad: int
    series: list[Series]
    ticks: list[tuple[float, str]]
    y_max: int


def bar_chart(title: str, items: Sequence[tuple[str, int, str]], *, scale: int | None = None) -> BarChart:
    """Bars for (label, value, note) items, scaled to `scale` (default: the largest value)."""
    top = max([scale or 0, *(value for _, value, _ in items), 1])
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = [
        Bar(label, value, note, i * BAR_HEIGHT, round(room * value / top, 1))
        for i, (label, value, note) in enumerate(items)
    ]
    return BarChart(title, WIDTH, max(len(bars), 1) * BAR_HEIGHT, LABEL_WIDTH, bars)


def line_chart(title: str, hours: Sequence[int], series: Mapping[str, Sequence[int]]) -> LineChart:
    """One line per series over `hours` (equal-length sequences), on one y scale."""
    y_max = max([1, *(max(values, default=0) for values in series.values())])
    first, last = (hours[0], hours[-1]) if hours else (0, 1)
    span = max(last - first, 1)
    inner_w, inner_h = WIDTH - 2 * PAD, LINE_HEIGHT - 2 * PAD

    def x(hour: int) -> float:
        return round(PAD + inner_w * (hour - first) / span, 1)

    def y(value: int) -> float:
        return round(PAD + inner_h * (1 - value / y_max), 1)

    lines = [
        Series(
            name, f"s{i}", " ".join(f"{x(h)},{y(v)}" for h, v in zip(hours, values, strict=True)), sum(values)
        )
        for i, (name, values) in enumerate(series.items())
    ]
    step = max(1, span // 6)
    ticks = [(x(h), f"+{h}h") for h in range(first, last + 1, step)]
    return LineChart(title, WIDTH, LINE_HEIGHT, PAD, lines, ticks, y_max)
