"""Server-rendered SVG charts: one code path for the page and, later, the PDF.

Colours are set with presentation attributes (not style) so the strict
Content-Security-Policy holds; every chart is paired with a table of its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_COLOUR = "#01579b"
SUPPRESSED_COLOUR = "#9e9e9e"


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[int | None],
    chart_id: str,
    width: int = 640,
) -> SafeString:
    """Horizontal bars; a None value (suppressed) draws a hatched placeholder."""
    row_h, label_w, pad = 28, 220, 8
    height = row_h * len(labels) + 2 * pad
    top = max([v for v in values if v is not None] or [1]) or 1
    plot_w = width - label_w - 70
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)} (numbers in the table beside)</title>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = pad + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h * 0.65:.1f}" text-anchor="end" '
            f'font-size="13" fill="currentColor">{escape(label)}</text>'
        )
        if value is None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 5}" width="24" height="{row_h - 10}" '
                f'fill="none" stroke="{SUPPRESSED_COLOUR}" stroke-dasharray="3 2"/>'
                f'<text x="{label_w + 30}" y="{y + row_h * 0.65:.1f}" font-size="13" '
                f'fill="currentColor">suppressed</text>'
            )
            continue
        bar_w = plot_w * value / top
        parts.append(
            f'<rect x="{label_w}" y="{y + 5}" width="{bar_w:.1f}" height="{row_h - 10}" '
            f'fill="{BAR_COLOUR}"/>'
            f'<text x="{label_w + bar_w + 6:.1f}" y="{y + row_h * 0.65:.1f}" font-size="13" '
            f'fill="currentColor">{value:,}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic value is escaped above


LATEST_COLOUR = "#01579b"
FIRST_COLOUR = "#90a4ae"


def paired_bars(
    title: str,
    labels: Sequence[str],
    first: Sequence[int | None],
    latest: Sequence[int | None],
    *,
    scale_max: int,
    legend: tuple[str, str],
    chart_id: str,
    width: int = 480,
) -> SafeString:
    """Two bars per row on a fixed scale (0..scale_max): a first and a latest value, so
    the change per row shows at a glance. The lighter bar is the first, with its legend."""
    row_h, label_w, pad, legend_h = 36, 190, 8, 24
    height = legend_h + row_h * len(labels) + 2 * pad
    plot_w = width - label_w - 50
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)} (numbers in the table beside)</title>',
    ]
    for k, (name, colour) in enumerate(zip(legend, (FIRST_COLOUR, LATEST_COLOUR), strict=True)):
        if not name:  # a series with no values gets no key
            continue
        x = label_w + k * 120
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 18}" y="16" font-size="12" fill="currentColor">{escape(name)}</text>'
        )
    for i, label in enumerate(labels):
        y = legend_h + pad + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h * 0.55:.1f}" text-anchor="end" '
            f'font-size="12" fill="currentColor">{escape(label)}</text>'
        )
        for k, (value, colour) in enumerate(((first[i], FIRST_COLOUR), (latest[i], LATEST_COLOUR))):
            bar_y = y + 4 + k * (row_h - 8) / 2
            if value is None:
                continue
            bar_w = plot_w * value / max(scale_max, 1)
            parts.append(
                f'<rect x="{label_w}" y="{bar_y:.1f}" width="{bar_w:.1f}" '
                f'height="{(row_h - 10) / 2:.1f}" fill="{colour}"/>'
                f'<text x="{label_w + bar_w + 4:.1f}" y="{bar_y + (row_h - 10) / 2 - 1:.1f}" '
                f'font-size="11" fill="currentColor">{value}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic value is escaped above


def line_chart(
    title: str,
    points: Sequence[tuple[str, float | None]],
    *,
    y_min: float,
    y_max: float,
    chart_id: str,
    width: int = 640,
    height: int = 220,
    tick_step: float = 1,
    point_labels: bool = True,
) -> SafeString:
    """A line through values on a fixed scale, each point labelled with its value (unless
    there are too many to read: `point_labels=False`, the table beside has them)."""
    left, right, top, bottom = 40, 20, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - y_min) / max(y_max - y_min, 1))

    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)} (numbers in the table beside)</title>',
    ]
    ticks = [y_min + i * tick_step for i in range(int((y_max - y_min) / tick_step) + 1)]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{FIRST_COLOUR}" stroke-width="0.5"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="currentColor">{tick:g}</text>'
        )
    xy = [
        (left + i * step, y_of(v), label, v) for i, (label, v) in enumerate(points) if v is not None
    ]
    if len(xy) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _l, _v in xy)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LATEST_COLOUR}" stroke-width="2"/>'
        )
    for x, y, label, value in xy:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{LATEST_COLOUR}"/>')
        if point_labels:
            parts.append(
                f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="11" '
                f'fill="currentColor">{value:g}</text>'
            )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" font-size="11" '
            f'fill="currentColor">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic value is escaped above
