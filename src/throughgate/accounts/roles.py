"""Roles and what each may do. Scoping managers and views ask these helpers,
never `user.role == …` directly, so the rules live in one place."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse


class Role(models.TextChoices):
    MENTOR = "mentor", "Peer mentor"
    COORDINATOR = "coordinator", "Coordinator"
    SAFEGUARDING_LEAD = "safeguarding_lead", "Safeguarding lead"
    PREVENTION_FACILITATOR = "prevention_facilitator", "Prevention facilitator"
    ADMIN = "admin", "Manager / admin"
    ANALYST = "analyst", "Analyst / funder viewer"
    # A prison resettlement team, probation, a school: sends referrals through the JSON
    # API (throughgate.api) and reads their status; sees nothing else.
    PARTNER = "partner", "Partner organisation"


# Roles that carry a personal caseload: they see only cases assigned to them.
CASEWORKER_ROLES = {Role.MENTOR, Role.PREVENTION_FACILITATOR}


def role_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.role


def sees_personal_data(user: Any) -> bool:
    return role_of(user) not in (None, Role.ANALYST, Role.PARTNER)


def is_partner(user: Any) -> bool:
    """A partner organisation's account: its own referrals through the API, nothing else."""
    return role_of(user) == Role.PARTNER


def sees_everyone(user: Any) -> bool:
    """Organisation-wide read access to people and cases."""
    return role_of(user) in (Role.ADMIN, Role.SAFEGUARDING_LEAD)


def is_admin(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def is_coordinator(user: Any) -> bool:
    return role_of(user) == Role.COORDINATOR


def has_caseload(user: Any) -> bool:
    return role_of(user) in CASEWORKER_ROLES


def caseworkers() -> Any:
    """Active users who can hold a caseload: the choices for mentor and gate meeting."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, role__in=CASEWORKER_ROLES)


def is_active_caseworker(user: Any) -> bool:
    return bool(user.is_active and user.role in CASEWORKER_ROLES)


def leads_safeguarding(user: Any) -> bool:
    """The safeguarding lead(s) and the manager/admin: they see and act on every
    safeguarding concern."""
    return role_of(user) in (Role.SAFEGUARDING_LEAD, Role.ADMIN)


def manages_cases(user: Any) -> bool:
    """Triage referrals, assign mentors, move phases and close cases."""
    return role_of(user) in (Role.ADMIN, Role.COORDINATOR)


def nav_links_for(user: Any) -> list[tuple[str, str]]:
    role = role_of(user)
    links: list[tuple[str, str]] = [("Home", reverse("home"))]
    if role in CASEWORKER_ROLES:
        links.append(("My caseload", reverse("casework:caseload")))
    if role in (Role.COORDINATOR, Role.ADMIN):
        links.append(("Referrals", reverse("casework:referral_queue")))
    if role in (Role.COORDINATOR, Role.ADMIN, Role.SAFEGUARDING_LEAD):
        links.append(("Releases", reverse("custody:release_calendar")))
        links.append(("Mentors", reverse("mentors:list")))
    if role in (Role.COORDINATOR, Role.ADMIN):
        links.append(("Match", reverse("mentors:batch")))
    if role == Role.MENTOR:
        links.append(("My profile", reverse("mentors:mine")))
    if sees_personal_data(user) and role not in CASEWORKER_ROLES:
        links.append(("Cases", reverse("casework:case_list")))
    if sees_personal_data(user):
        links.append(("Find a person", reverse("people:search")))
    if role in (Role.ADMIN, Role.ANALYST):
        links.append(("Reports", reverse("reports:dashboard")))
        links.append(("Outcomes", reverse("outcomes:dashboard")))
    if leads_safeguarding(user):
        links.append(("Safeguarding", reverse("casework:safeguarding_queue")))
    if role in (Role.PREVENTION_FACILITATOR, Role.SAFEGUARDING_LEAD, Role.ADMIN):
        links.append(("Schools", reverse("prevention:venue_list")))
        links.append(("Workshops", reverse("prevention:workshop_list")))
    if role in (Role.PREVENTION_FACILITATOR, Role.SAFEGUARDING_LEAD, Role.ADMIN, Role.ANALYST):
        links.append(("Reach", reverse("prevention:reach")))
    if role in (Role.PREVENTION_FACILITATOR, Role.ADMIN):
        links.append(("Training", reverse("training:course_list")))
    if role == Role.ANALYST:
        links.append(("Training figures", reverse("training:summary")))
    if role == Role.ADMIN:
        links.append(("Manage", reverse("manage")))  # audit, duplicates, imports, API
    return links
