"""The one door to personal data.

Each personal-data model has a manager with `visible_to(user)` (what the user may
see) and, where edits are allowed, `editable_by(user)`. Views fetch objects only
through `get_visible_or_404`, so a forbidden object answers exactly like a
missing one, and `require_editable` turns "can see but may not change" into 403.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


def get_visible_or_404(model: type[M], user: Any, **lookup: Any) -> M:
    queryset = model._default_manager.visible_to(user)  # type: ignore[attr-defined]
    try:
        return queryset.get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {model._meta.verbose_name} matches the given query.") from None


def is_editable(obj: models.Model, user: Any) -> bool:
    """Whether the model's editable_by() door lets this user change `obj` (pages use it
    to show or hide their change links)."""
    manager = type(obj)._default_manager
    return manager.editable_by(user).filter(pk=obj.pk).exists()  # type: ignore[attr-defined]


def require_editable(obj: models.Model, user: Any) -> None:
    if not is_editable(obj, user):
        raise PermissionDenied("You can see this record but not change it.")
