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
