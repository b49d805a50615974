"""Version 1 of the JSON API (django-ninja), mounted at /api/ with its schema at
/api/openapi.json. Every endpoint is under /api/v1/.

Authentication is a bearer token (api.models.ApiToken); each endpoint names the scope it
needs. The endpoints go through the same doors and actions as the web pages:
`Case.objects.visible_to`, `casework.access.case_for_change`, `casework.actions.log_contact`,
`casework.actions.create_referral` (via api.actions.send_referral), and a case read
here writes the same audit event as opening the case page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Path, Query, Schema, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic import AfterValidator

from throughgate.casework import actions as casework_actions
from throughgate.casework.access import case_for_change
from throughgate.casework.models import (
    Attendance,
    Case,
    Contact,
    ContactMode,
    NonAttendanceReason,
    Phase,
    Programme,
    Referral,
    ReferralStatus,
)
from throughgate.core import audit
from throughgate.core.access import get_visible_or_404
from throughgate.core.choices import Ethnicity, Gender

from . import actions
from .models import ApiToken, PartnerReferral
from .scopes import Scope, scopes_for

MAX_ID = 2**31 - 1  # ids beyond any row (and beyond SQLite's integers) are refused first


class MissingScope(Exception):
    def __init__(self, scope: str):
        super().__init__(scope)
        self.scope = scope


class BearerToken(HttpBearer):
    """`Authorization: Bearer tg_…` with the endpoint's scope: unknown, revoked or
    expired tokens answer 401; a token without the scope (or whose owner's role no
    longer allows it) 403 — checked here, before the request body is even read."""

    def __init__(self, scope: Scope):
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = actions.token_for(token)
        if found is None:
            return None
        if self.scope not in found.scopes or self.scope not in scopes_for(found.user):
            raise MissingScope(str(self.scope))
        request.user = found.user  # the doors and actions act as the token's owner
        return found


api = NinjaAPI(
    title="Throughgate API",
    version="1",
    description="Referrals from partners; cases and contacts for staff integrations. "
    "See docs/api.md.",
    urls_namespace="v1",
    docs_url=None,  # ninja's Swagger page loads its scripts from a CDN; docs/api.md instead
)


# --- Errors: one shape, naming what is wrong -----------------------------------------


class Error(Schema):
    detail: str


class ScopeError(Schema):
    detail: str
    missing_scope: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(Schema):
    detail: list[FieldError]


@api.exception_handler(MissingScope)
def _missing_scope(request: HttpRequest, exc: MissingScope) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": f"This token does not have the '{exc.scope}' scope.",
            "missing_scope": exc.scope,
        },
        status=403,
    )


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "Send a valid token: Authorization: Bearer <token>."}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The same words for a missing record and a forbidden one.
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not allowed."}, status=403)


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = [
        {
            "loc": [str(part) if not isinstance(part, int) else part for part in e.get("loc", [])],
            "msg": str(e.get("msg", "Invalid value.")),
            "type": str(e.get("type", "invalid")),
        }
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(DjangoValidationError)
def _refused_by_action(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """An action's ValidationError: each message under the field it names ("body" for
    one about the request as a whole)."""
    if hasattr(exc, "error_dict"):
        pairs = [(field, m) for field, ms in exc.message_dict.items() for m in ms]
    else:
        pairs = [("__all__", m) for m in exc.messages]
    detail = [
        {
            "loc": ["body", *field.split(".")] if field != "__all__" else ["body"],
            "msg": m,
            "type": "invalid",
        }
        for field, m in pairs
    ]
    return api.create_response(request, {"detail": detail}, status=422)


# --- Input types: text without NUL characters, dates in a sensible range -------------


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; say so here rather than fail on saving.
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


def _sensible_date(value: date) -> date:
    if not 1900 <= value.year <= 2100:
        raise ValueError("Enter a date between 1900 and 2100.")
    return value


def _sensible_datetime(value: datetime) -> datetime:
    _sensible_date(value.date())
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Day = Annotated[date, AfterValidator(_sensible_date)]
Moment = Annotated[datetime, AfterValidator(_sensible_datetime)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

REFUSALS = {
    401: Error,
    403: ScopeError | Error,
    404: Error,
    422: ValidationErrors,
}


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=100)


def _page(queryset: Any, query: PageQuery) -> tuple[int, list[Any]]:
    start = (query.page - 1) * query.page_size
    return queryset.count(), list(queryset[start : start + query.page_size])


# --- Programmes (what a partner may refer to) -------------------------------------------


class ProgrammeOut(Schema):
    id: int
    name: str
    kind: str


@api.get(
    "/v1/programmes",
    response={200: list[ProgrammeOut], 401: Error, 403: ScopeError},
    url_name="programmes",
    summary="Programmes that take referrals",
    auth=BearerToken(Scope.REFERRALS_WRITE),
)
def list_programmes(request: HttpRequest) -> Any:
    return list(Programme.objects.filter(active=True).order_by("name"))


# --- Referrals (partners) ---------------------------------------------------------------


class PersonIn(Schema):
    forename: Text = Field(..., min_length=1, max_length=100)
    surname: Text = Field(..., min_length=1, max_length=100)
    preferred_name: Text = Field("", max_length=100)
    date_of_birth: Day
    gender: Literal[tuple(Gender.values)] = Gender.NOT_STATED  # type: ignore[valid-type]
    ethnicity: Literal[tuple(Ethnicity.values)] = Ethnicity.NOT_STATED  # type: ignore[valid-type]
    prison_number: Text = Field("", max_length=20)
    pnc_id: Text = Field("", max_length=20)
    crn: Text = Field("", max_length=20)


class ReferralIn(Schema):
    programme_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    person: PersonIn
    referral_date: Day
    reasons: Text = Field(..., min_length=1, max_length=5000)
    consent_recorded: bool
    referrer_name: Text = Field("", max_length=200)
    referrer_contact: Text = Field("", max_length=200)


class ReferralOut(Schema):
    """What a partner sees of its referral: what it sent, and where it stands."""

    id: int
    programme: str
    referral_date: date
    referring_organisation: str
    referrer_name: str
    consent_recorded: bool
    status: Literal[tuple(ReferralStatus.values)]  # type: ignore[valid-type]
    status_label: str
    decided_at: datetime | None
    decline_reason: str


def _referral_out(referral: Referral) -> dict[str, Any]:
    return {
        "id": referral.pk,
        "programme": referral.programme.name,
        "referral_date": referral.referral_date,
        "referring_organisation": referral.referring_organisation,
        "referrer_name": referral.referrer_name,
        "consent_recorded": referral.consent_recorded,
        "status": referral.status,
        "status_label": referral.get_status_display(),
        "decided_at": referral.decided_at,
        "decline_reason": referral.get_decline_reason_display() if referral.decline_reason else "",
    }


class ReferralPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ReferralOut]


@api.post(
    "/v1/referrals",
    response={201: ReferralOut, 400: Error, 401: Error, 403: ScopeError, 422: ValidationErrors},
    url_name="referrals",
    summary="Send a referral (partners)",
    auth=BearerToken(Scope.REFERRALS_WRITE),
)
def send_referral(request: HttpRequest, payload: ReferralIn) -> Any:
    data = payload.dict()
    person = data.pop("person")
    programme_id = data.pop("programme_id")
    try:
        link = actions.send_referral(request.user, person, programme_id, data)
    except DjangoValidationError as exc:
        # The young person's details are under "person" in the body, so name them there.
        if not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError(
            {
                f"person.{field}" if field in PersonIn.model_fields else field: messages
                for field, messages in exc.message_dict.items()
            }
        ) from None
    return Status(201, _referral_out(link.referral))


@api.get(
    "/v1/referrals",
    response={200: ReferralPage, 401: Error, 403: ScopeError, 422: ValidationErrors},
    summary="The referrals you sent, newest first (partners)",
    auth=BearerToken(Scope.REFERRALS_READ),
)
def list_referrals(request: HttpRequest, query: Query[PageQuery]) -> Any:
    links = (
        PartnerReferral.objects.visible_to(request.user)
        .select_related("referral__programme")
        .order_by("-sent_at", "-id")
    )
    count, rows = _page(links, query)
    return {
        "count": count,
        "page": query.page,
        "page_size": query.page_size,
        "results": [_referral_out(link.referral) for link in rows],
    }


@api.get(
    "/v1/referrals/{referral_id}",
    response={200: ReferralOut, **REFUSALS},
    url_name="referral",
    summary="One referral you sent (partners)",
    auth=BearerToken(Scope.REFERRALS_READ),
)
def get_referral(request: HttpRequest, referral_id: Id) -> Any:
    link = get_visible_or_404(PartnerReferral, request.user, referral_id=referral_id)
    return _referral_out(actions.partner_view(request.user, link))


# --- Cases and contacts (staff integrations) ---------------------------------------------


class PersonOut(Schema):
    id: int
    forename: str
    surname: str
    preferred_name: str
    date_of_birth: date


class CaseOut(Schema):
    id: int
    person: PersonOut
    programme: str
    phase: str
    phase_label: str
    phase_since: date
    opened_on: date
    closed_on: date | None
    mentor: str | None


class ContactOut(Schema):
    id: int
    case_id: int
    occurred_at: datetime
    mode: str
    attendance: str
    non_attendance_reason: str
    duration_minutes: int | None
    staff: str
    summary: str
    next_steps: str


class CaseDetailOut(CaseOut):
    recent_contacts: list[ContactOut]


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CaseOut]


class CaseQuery(PageQuery):
    status: Literal["open", "closed", "all"] = "open"


def _case_out(case: Case) -> dict[str, Any]:
    person = case.person
    return {
        "id": case.pk,
        "person": {
            "id": person.pk,
            "forename": person.forename,
            "surname": person.surname,
            "preferred_name": person.preferred_name,
            "date_of_birth": person.date_of_birth,
        },
        "programme": case.programme.name,
        "phase": case.phase,
        "phase_label": case.get_phase_display(),
        "phase_since": case.phase_since,
        "opened_on": case.opened_on,
        "closed_on": case.closed_on,
        "mentor": str(case.mentor) if case.mentor else None,
    }


def _contact_out(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "case_id": contact.case_id,
        "occurred_at": contact.occurred_at,
        "mode": contact.mode,
        "attendance": contact.attendance,
        "non_attendance_reason": contact.non_attendance_reason,
        "duration_minutes": contact.duration_minutes,
        "staff": str(contact.staff),
        "summary": contact.summary,
        "next_steps": contact.next_steps,
    }


@api.get(
    "/v1/cases",
    response={200: CasePage, 401: Error, 403: ScopeError, 422: ValidationErrors},
    url_name="cases",
    summary="The cases you can see, by surname",
    auth=BearerToken(Scope.CASES_READ),
)
def list_cases(request: HttpRequest, query: Query[CaseQuery]) -> Any:
    cases = Case.objects.visible_to(request.user).select_related("person", "programme", "mentor")
    if query.status == "open":
        cases = cases.open()
    elif query.status == "closed":
        cases = cases.filter(phase=Phase.CLOSED)
    count, rows = _page(cases.order_by("person__surname", "person__forename", "id"), query)
    for case in rows:
        # Each case whose details leave in the list is a view of it, as on its page.
        audit.record_view(request.user, case, summary="via API (list)")
    return {
        "count": count,
        "page": query.page,
        "page_size": query.page_size,
        "results": [_case_out(case) for case in rows],
    }


@api.get(
    "/v1/cases/{case_id}",
    response={200: CaseDetailOut, **REFUSALS},
    url_name="case",
    summary="One case, with its latest contacts",
    auth=BearerToken(Scope.CASES_READ),
)
def get_case(request: HttpRequest, case_id: Id) -> Any:
    case = get_visible_or_404(Case, request.user, pk=case_id)
    audit.record_view(request.user, case, summary="via API")
    contacts = case.contacts.select_related("staff").order_by("-occurred_at", "-id")[:20]
    return {**_case_out(case), "recent_contacts": [_contact_out(c) for c in contacts]}


class ContactIn(Schema):
    occurred_at: Moment
    mode: Literal[tuple(ContactMode.values)]  # type: ignore[valid-type]
    attendance: Literal[tuple(Attendance.values)] = Attendance.ATTENDED  # type: ignore[valid-type]
    non_attendance_reason: Literal[("", *NonAttendanceReason.values)] = ""  # type: ignore[valid-type]
    duration_minutes: Annotated[int, Field(ge=1, le=720)] | None = None
    summary: Text = Field(..., min_length=1, max_length=10_000)
    concerns: Text = Field("", max_length=10_000)
    next_steps: Text = Field("", max_length=10_000)


@api.post(
    "/v1/cases/{case_id}/contacts",
    response={201: ContactOut, 400: Error, **REFUSALS},
    url_name="case_contacts",
    summary="Log a contact on a case you work on",
    auth=BearerToken(Scope.CONTACTS_WRITE),
)
def log_contact(request: HttpRequest, case_id: Id, payload: ContactIn) -> Any:
    case = case_for_change(request, case_id)
    data = payload.dict()
    contact = casework_actions.log_contact(request.user, case, data)
    return Status(201, _contact_out(contact))
