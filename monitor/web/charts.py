"""Server-side layout of the small inline SVG charts (no JavaScript, no external assets).

The functions return coordinates and labels; templates draw them with autoescaped attributes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class DatePoint:
    """One version's date statement placed on the chart."""

    x: float
    y: float | None
    version: int
    fetched: str
    stated: str | None


@dataclass
class DateChart:
    """The notice's own date statement (y) against when each version was seen (x)."""

    width: int
    height: int
    points: list[DatePoint] = field(default_factory=list)
    steps: str = ""
    y_labels: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high <= low:
        return (out_low + out_high) / 2
    return round(out_low + (value - low) / (high - low) * (out_high - out_low), 1)


def date_chart(rows: list[tuple[int, dt.datetime, dt.date | None, str | None]], *, width: int = 640,
               height: int = 180) -> DateChart:
    """Lay out (version number, seen at, stated date or None, stated label) as a step chart."""
    chart = DateChart(width, height)
    if not rows:
        return chart
    left, right, top, bottom = 70, width - 20, 16, height - 28
    seen = [_as_date(r[1]).toordinal() for r in rows]
    stated = [r[2].toordinal() for r in rows if r[2] is not None]
    x_low, x_high = min(seen), max(seen)
    y_low, y_high = (min(stated), max(stated)) if stated else (0, 0)
    for (number, seen_at, value, label), x_ord in zip(rows, seen, strict=True):
        y = _scale(value.toordinal(), y_low, y_high, bottom, top) if value is not None else None
        chart.points.append(DatePoint(_scale(x_ord, x_low, x_high, left, right), y, number,
                                      _as_date(seen_at).isoformat(), label))
    path: list[str] = []
    previous_y = None
    for point in chart.points:
        if point.y is None:
            previous_y = None
            continue
        if previous_y is None:
            path.append(f"M{point.x},{point.y}")
        else:
            path.append(f"H{point.x}V{point.y}")
        previous_y = point.y
    if path and chart.points[-1].y is not None:
        path.append(f"H{right}")
    chart.steps = "".join(path)
    if stated:
        for ordinal in sorted({y_low, y_high}):
            chart.y_labels.append((_scale(ordinal, y_low, y_high, bottom, top),
                                   dt.date.fromordinal(ordinal).isoformat()))
    for ordinal in sorted({x_low, x_high}):
        chart.x_labels.append((_scale(ordinal, x_low, x_high, left, right), dt.date.fromordinal(ordinal).isoformat()))
    return chart


@dataclass
class Sparkline:
    """A row's change timeline as two SVG paths (material and cosmetic ticks): cheap to draw by the thousand."""

    material: str
    cosmetic: str
    count: int
    last: str | None


def sparkline(times: list[tuple[float, bool]], start: float, end: float, width: int = 120) -> Sparkline:
    """Ticks for (epoch seconds, material) changes on a `width`-pixel line from `start` to `end`."""
    paths: dict[bool, list[str]] = {True: [], False: []}
    for when, material in times:
        paths[material].append(f"M{_scale(when, start, end, 3, width - 3)},2v12")
    last = dt.datetime.fromtimestamp(times[-1][0], dt.UTC).date().isoformat() if times else None
    return Sparkline("".join(paths[True]), "".join(paths[False]), len(times), last)
