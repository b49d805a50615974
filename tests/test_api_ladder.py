"""The API's own access ladder, by token and scope (the web ladder uses log-in sessions,
which the API does not accept), and a partner account in the web.

For every operation in the schema: no token answers 401; a token without the scope 403
naming it; a token of someone who may not see the record 404, exactly as for a missing
id. `OPERATIONS` is the table; a new operation without a row fails the first test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from throughgate.api import actions
from throughgate.api.models import PartnerReferral
from throughgate.api.scopes import Scope

from . import make
from .ladder_base import LOGGED_IN
from .test_access_ladder import LADDER, url_of, valid_post

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the schema, under /api
    scope: str
    owner: str  # whose token may use it: "partner" or "mo"
    obj: str | None = None  # the path's id: "case" or "referral"


OPERATIONS = [
    Operation("get", "/v1/programmes", Scope.REFERRALS_WRITE, "partner"),
    Operation("post", "/v1/referrals", Scope.REFERRALS_WRITE, "partner"),
    Operation("get", "/v1/referrals", Scope.REFERRALS_READ, "partner"),
    Operation("get", "/v1/referrals/{referral_id}", Scope.REFERRALS_READ, "partner", "referral"),
    Operation("get", "/v1/cases", Scope.CASES_READ, "mo"),
    Operation("get", "/v1/cases/{case_id}", Scope.CASES_READ, "mo", "case"),
    Operation("post", "/v1/cases/{case_id}/contacts", Scope.CONTACTS_WRITE, "mo", "case"),
]


def test_every_api_operation_has_a_row():
    schema = Client().get("/api/openapi.json").json()
    in_schema = {
        (method, path.removeprefix("/api"))
        for path, item in schema["paths"].items()
        for method in item
    }
    assert in_schema == {(op.method, op.path) for op in OPERATIONS}


@pytest.fixture
def people(mo, kim, cara, ade, programme) -> dict[str, Any]:
    partner = actions.add_partner(
        ade, {"username": "feltham", "organisation": "HMP/YOI Feltham", "source_type": "prison"}
    ).user
    other = actions.add_partner(ade, {
        "username": "probation", "organisation": "Lambeth probation", "source_type": "probation",
    }).user  # fmt: skip
    case = make.make_case(mentor=mo, actor=cara)
    referral = make.make_referral(actor=cara)
    PartnerReferral.objects.create(referral=referral, partner=partner)
    return {"mo": mo, "kim": kim, "partner": partner, "other_partner": other,
            "case": case, "referral": referral}  # fmt: skip


def url(op: Operation, objects: dict[str, Any], pk: int | None = None) -> str:
    path = op.path
    if op.obj:
        path = path.replace(f"{{{op.obj}_id}}", str(pk or objects[op.obj].pk))
    return f"/api{path}"


def call(op: Operation, target: str, token: str | None, body: dict | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = Client(headers=headers)
    if op.method == "post":
        return client.post(target, body or {}, content_type="application/json")
    return client.get(target)


def a_valid_contact() -> dict[str, Any]:
    from django.utils import timezone

    return {"occurred_at": timezone.now().isoformat(), "mode": "phone", "summary": "Spoke."}


def token(user: Any, scopes: list[str]) -> str:
    return actions.create_token(user, user, "ladder", scopes)[1] if scopes else ""


params = [pytest.param(op, id=f"{op.method.upper()} {op.path}") for op in OPERATIONS]


@pytest.mark.parametrize("op", params)
def test_no_token_gets_401(op, people):
    assert call(op, url(op, people), None).status_code == 401


@pytest.mark.parametrize("op", params)
def test_token_without_the_scope_gets_403(op, people):
    owner = people[op.owner]
    others = [s for s in (Scope.values) if s != op.scope and s in _allowed(owner)]
    response = call(op, url(op, people), actions.create_token(owner, owner, "x", others)[1])
    assert response.status_code == 403
    assert response.json()["missing_scope"] == op.scope


def _allowed(user: Any) -> list[str]:
    from throughgate.api.scopes import scopes_for

    return scopes_for(user)


@pytest.mark.parametrize("op", params)
def test_token_with_the_scope_gets_past_the_door(op, people):
    owner = people[op.owner]
    response = call(op, url(op, people), token(owner, [op.scope]))
    # A GET answers 200; an empty POST body is refused by validation, not by access.
    assert response.status_code == (422 if op.method == "post" else 200)


@pytest.mark.parametrize("op", [p for p in params if p.values[0].obj])
def test_someone_elses_record_answers_404_exactly_like_a_missing_one(op, people):
    stranger = people["other_partner" if op.owner == "partner" else "kim"]
    secret = token(stranger, [op.scope])
    body = a_valid_contact() if op.method == "post" else None
    forbidden = call(op, url(op, people), secret, body)
    missing = call(op, url(op, people, pk=987_654_321), secret, body)
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content


# --- A partner account in the web: nothing but logging out and its tokens ----------


@pytest.fixture
def partner_client(people: dict[str, Any], login: Any) -> Client:
    return login(people["partner"])


# Its own account (the pages every logged-in account has: home, log out, password,
# two-factor log-in) and its API tokens.
PARTNER_MAY_USE = {p.name for p in LADDER if p.users == LOGGED_IN} | {"api:tokens"}
WEB_PAGES = [
    pytest.param(p, id=p.name) for p in LADDER if not p.public and p.name not in PARTNER_MAY_USE
]


@pytest.mark.parametrize("page", WEB_PAGES)
def test_partner_is_refused_every_web_page_but_its_own(page, people, partner_client):
    objects = {"case": people["case"], "person": people["case"].person,
               "referral": people["referral"], "pending_referral": people["referral"]}  # fmt: skip
    if page.obj and page.obj not in objects:
        objects[page.obj] = type("Missing", (), {"pk": 987_654_321})()
    target = url_of(page, objects)
    for method in page.methods:
        if method == "get":
            response = partner_client.get(target)
        else:
            response = partner_client.post(target, {})
        assert response.status_code in (403, 404), (page.name, method, response.status_code)


def test_partner_can_make_its_own_token_on_the_web(people, partner_client):
    response = partner_client.post(
        reverse("api:tokens"),
        {"name": "Referrals", "scopes": [Scope.REFERRALS_WRITE], "expires_in_days": "90"},
    )
    assert response.status_code == 200
    assert "tg_" in response.content.decode()


def test_valid_post_is_importable_for_the_web_ladder():
    assert callable(valid_post)
