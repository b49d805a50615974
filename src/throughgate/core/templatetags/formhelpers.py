"""Template helpers for the accessible form templates in templates/forms/."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def widget_type(field: BoundField) -> str:
    return field.field.widget.__class__.__name__.lower().replace("input", "") or "text"


@register.filter
def with_aria(field: BoundField) -> SafeString:
    """Render the widget with aria-describedby pointing at its hint and error, and
    aria-invalid when it has an error, so screen readers announce both."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_helptext")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    attrs: dict[str, str] = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def error_anchor(field: BoundField) -> str:
    """Where an error-summary link should jump: the first option of a choice list."""
    if widget_type(field) in ("radioselect", "checkboxselectmultiple"):
        return f"{field.auto_id}_0"
    return field.auto_id
