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


COMPARISON_COLOUR = "#e65100"  # orange against the blue: apart for most colour vision


def _open_svg(title: str, chart_id: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)} (numbers in the table beside)</title>',
    ]


def love_plot(
    title: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    threshold: float,
    chart_id: str,
    width: int = 640,
) -> SafeString:
    """Balance before and after matching: per covariate, the absolute standardised mean
    difference before (hollow circle) and after (filled square), with the threshold as a
    dashed line. A None (infinite) value is drawn at the right edge."""
    row_h, label_w, pad, legend_h, axis_h = 22, 280, 8, 26, 24
    height = legend_h + row_h * len(rows) + pad + axis_h
    values = [abs(v) for _n, b, a in rows for v in (b, a) if v is not None]
    top = max([threshold * 2, *values]) * 1.05
    plot_w = width - label_w - 20

    def x_of(value: float | None) -> float:
        return label_w + plot_w * (1.0 if value is None else min(abs(value) / top, 1.0))

    parts = _open_svg(title, chart_id, width, height)
    parts.append(
        f'<circle cx="{label_w + 6}" cy="12" r="5" fill="none" stroke="{FIRST_COLOUR}" '
        'stroke-width="2"/>'
        f'<text x="{label_w + 16}" y="16" font-size="12" fill="currentColor">Before matching</text>'
        f'<rect x="{label_w + 140}" y="7" width="10" height="10" fill="{LATEST_COLOUR}"/>'
        f'<text x="{label_w + 156}" y="16" font-size="12" fill="currentColor">After</text>'
    )
    bottom = legend_h + row_h * len(rows) + pad
    limit = x_of(threshold)
    parts.append(
        f'<line x1="{limit:.1f}" x2="{limit:.1f}" y1="{legend_h}" y2="{bottom}" '
        f'stroke="{COMPARISON_COLOUR}" stroke-dasharray="4 3"/>'
        f'<text x="{limit:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" '
        f'fill="currentColor">{threshold:g}</text>'
        f'<line x1="{label_w}" x2="{label_w}" y1="{legend_h}" y2="{bottom}" '
        f'stroke="{FIRST_COLOUR}"/>'
        f'<text x="{label_w}" y="{bottom + 16}" text-anchor="middle" font-size="11" '
        f'fill="currentColor">0</text>'
    )
    for i, (name, before, after) in enumerate(rows):
        y = legend_h + i * row_h + row_h / 2
        parts.append(
            f'<line x1="{label_w}" x2="{label_w + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{FIRST_COLOUR}" stroke-width="0.3"/>'
            f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="currentColor">{escape(name)}</text>'
            f'<circle cx="{x_of(before):.1f}" cy="{y:.1f}" r="5" fill="none" '
            f'stroke="{FIRST_COLOUR}" stroke-width="2"/>'
            f'<rect x="{x_of(after) - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
            f'fill="{LATEST_COLOUR}"/>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic value is escaped above


def step_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[Sequence[float]]]],
    *,
    x_max: float,
    y_min: float,
    y_max: float,
    x_label: str,
    chart_id: str,
    width: int = 640,
    height: int = 260,
    x_step: float = 60,
    y_step: float = 10,
) -> SafeString:
    """Step functions on a numeric x axis (e.g. survival curves), one per series
    ([[x, y], ...] in order of x), the first in blue and the second in orange dashes,
    each named in a key."""
    left, right, top, bottom = 44, 20, 30, 44
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(value: float) -> float:
        return left + plot_w * value / max(x_max, 1)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - y_min) / max(y_max - y_min, 1e-9))

    parts = _open_svg(title, chart_id, width, height)
    tick = y_min
    while tick <= y_max + 1e-9:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y_of(tick):.1f}" '
            f'y2="{y_of(tick):.1f}" stroke="{FIRST_COLOUR}" stroke-width="0.5"/>'
            f'<text x="{left - 6}" y="{y_of(tick) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="currentColor">{tick:g}</text>'
        )
        tick += y_step
    tick = 0.0
    while tick <= x_max + 1e-9:
        parts.append(
            f'<text x="{x_of(tick):.1f}" y="{height - 26}" text-anchor="middle" '
            f'font-size="11" fill="currentColor">{tick:g}</text>'
        )
        tick += x_step
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'font-size="12" fill="currentColor">{escape(x_label)}</text>'
    )
    styles = ((LATEST_COLOUR, ""), (COMPARISON_COLOUR, ' stroke-dasharray="6 3"'))
    for k, ((name, points), (colour, dash)) in enumerate(zip(series, styles, strict=False)):
        path: list[str] = []
        previous: float | None = None
        for x, y in points:
            if previous is not None:
                path.append(f"{x_of(x):.1f},{y_of(previous):.1f}")
            path.append(f"{x_of(x):.1f},{y_of(y):.1f}")
            previous = y
        parts.append(
            f'<polyline points="{" ".join(path)}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
            f'<line x1="{left + k * 200}" x2="{left + k * 200 + 24}" y1="12" y2="12" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{left + k * 200 + 30}" y="16" font-size="12" '
            f'fill="currentColor">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic value is escaped above
