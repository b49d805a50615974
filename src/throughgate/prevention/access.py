"""Who may do what with prevention records, in one place (built on accounts.roles).

- the prevention facilitator (Pat) and the manager (Ade) record schools, workshops and
  surveys;
- the safeguarding lead (Sam) reads them;
- the manager configures topics, survey questions and reach targets, and alone may
  delete a workshop;
- the analyst (Fay) sees only the reach dashboard, with small numbers suppressed;
- mentors and the coordinator see none of it (404).
"""

from __future__ import annotations

from typing import Any

from throughgate.accounts import roles

_READERS = (roles.Role.PREVENTION_FACILITATOR, roles.Role.SAFEGUARDING_LEAD, roles.Role.ADMIN)
_RECORDERS = (roles.Role.PREVENTION_FACILITATOR, roles.Role.ADMIN)


def may_read(user: Any) -> bool:
    return roles.role_of(user) in _READERS


def may_record(user: Any) -> bool:
    return roles.role_of(user) in _RECORDERS


def may_configure(user: Any) -> bool:
    return roles.is_admin(user)


def may_delete_workshop(user: Any) -> bool:
    return roles.is_admin(user)


def may_see_reach(user: Any) -> bool:
    return may_read(user) or roles.role_of(user) == roles.Role.ANALYST


def sees_exact_reach(user: Any) -> bool:
    """Exact figures for the people who hold the records; the analyst's are suppressed."""
    return may_read(user)


def facilitators() -> Any:
    """Who can be named as running a workshop: active prevention facilitators and
    the manager (who sometimes covers a session)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, role__in=_RECORDERS)
