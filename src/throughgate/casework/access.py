"""The door to a case that is about to be changed (pages of casework and its support plan)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from throughgate.core.access import get_visible_or_404

from .models import Case


def case_for_change(request: HttpRequest, pk: int, manage: bool = False) -> Case:
    """The open case `pk`, if this user may change it: 404 if they cannot see it, 403 if
    they can see it but not change it (`manage`: its mentor, phase and closure; else its
    contacts and support plan) or it is closed."""
    case = get_visible_or_404(Case, request.user, pk=pk)
    allowed = (
        Case.objects.manageable_by(request.user)
        if manage
        else Case.objects.editable_by(request.user)
    )
    if not allowed.filter(pk=pk).exists():
        raise PermissionDenied("You can see this case but not change it.")
    if not case.is_open:
        raise PermissionDenied("This case is closed.")
    return case
