"""Draw small bar charts as inline SVG on the server: readable without JavaScript, numbers beside the bars.

Why server-side SVG: the pages carry no script (or only a nonce'd one), and an office on a slow line
gets a chart in the same few kilobytes as the table. Every label is escaped; the chart has a <title>
and each bar repeats its number as text, so a screen reader and a printout read the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
ROW = 22
LABEL_WIDTH = 190
NUMBER_WIDTH = 120
COLOURS = ("#0a4f8b", "#a31010", "#6b4f0a", "#555555", "#0a6b2d")


@dataclass(frozen=True)
class Bar:
    """One row: a label, the value that sets its length (None: no bar, e.g. a hidden small group), its text."""

    label: str
    value: float | None
    text: str


@dataclass(frozen=True)
class Stack:
    """One row of a stacked chart: a label and its parts in the chart's legend order."""

    label: str
    parts: tuple[int, ...]


def bar_chart(title: str, bars: Sequence[Bar], *, css_class: str = "chart") -> Markup:
    """Return an SVG of horizontal bars scaled to the largest value, each with its text after it."""
    top = max((b.value for b in bars if b.value is not None), default=0.0) or 1.0
    span = WIDTH - LABEL_WIDTH - NUMBER_WIDTH
    height = ROW * len(bars) + 8
    out = [_open(title, height, css_class)]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        out.append(_label(bar.label, y))
        length = 0.0 if bar.value is None else max(0.0, bar.value) / top * span
        if bar.value is not None:
            out.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" '
                       f'fill="{COLOURS[0]}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>')
        out.append(f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + ROW - 8}" font-size="12">'
                   f'{escape(bar.text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every label and text above went through escape()


def stacked_chart(title: str, legend: Sequence[str], rows: Sequence[Stack], *, css_class: str = "chart") -> Markup:
    """Return an SVG of 100 % stacked bars (how each row's total divides), the legend and totals as text."""
    span = WIDTH - LABEL_WIDTH - NUMBER_WIDTH
    height = ROW * (len(rows) + 1) + 8
    out = [_open(title, height, css_class)]
    x = float(LABEL_WIDTH)
    for i, name in enumerate(legend):
        out.append(f'<rect x="{x:.0f}" y="6" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
                   f'<text x="{x + 14:.0f}" y="15" font-size="11">{escape(name)}</text>')
        x += 14 + 7 * len(name) + 12
    for r, row in enumerate(rows):
        y = 4 + (r + 1) * ROW
        out.append(_label(row.label, y))
        total = sum(row.parts)
        x = float(LABEL_WIDTH)
        for i, part in enumerate(row.parts):
            if total and part:
                width = part / total * span
                out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 8}" '
                           f'fill="{COLOURS[i % len(COLOURS)]}"><title>{escape(row.label)}: '
                           f'{escape(legend[i])} {part}</title></rect>')
                x += width
        parts = " / ".join(str(p) for p in row.parts)
        out.append(f'<text x="{LABEL_WIDTH + span + 6}" y="{y + ROW - 8}" font-size="12">{parts}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every label and text above went through escape()


def _open(title: str, height: int, css_class: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" role="img" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>')


def _label(text: str, y: int) -> str:
    short = text if len(text) <= 28 else text[:27] + "…"
    return f'<text x="0" y="{y + ROW - 8}" font-size="12">{escape(short)}</text>'
