"""Access-ladder rows for the API's pages (throughgate.api): your own tokens, revoking
one, and the manager/admin's page of every token and the partner organisations.

Everyone who may hold a token (mentors, the prevention facilitator, the coordinator,
the manager/admin) makes and revokes their own; Ade sees and revokes anyone's and adds
partners. Fay (analyst) has no API access, and Sam (safeguarding lead) keeps her
organisation-wide reading in the browser: both get 404.

The JSON endpoints themselves (namespace `api:v1`, listed in `TOKEN_AUTHENTICATED`)
answer to a bearer token, not to the log-in session this ladder uses: without a token
every one of them answers 401 JSON, never a page or a redirect to log in. They have
their own ladder by token and scope in tests/test_api_ladder.py, which fails when an
operation is added without a row there.
"""

from __future__ import annotations

from typing import Any

from throughgate.api import actions
from throughgate.api.scopes import Scope

from .ladder_base import FORM, POST, Page

HOLDERS = frozenset({"mo", "kim", "pat", "cara", "ade"})
ADMIN = frozenset({"ade"})
# URL namespaces authenticated by token, whose ladder is tests/test_api_ladder.py.
TOKEN_AUTHENTICATED = ("api:v1",)

PAGES: list[Page] = [
    # A new token is shown once, on the page that made it (no redirect).
    Page("api:tokens", FORM, HOLDERS, personal=False, posted=200),
    Page("api:token_revoke", POST, frozenset({"mo", "ade"}), "api_token", personal=False),
    Page("api:token_admin", FORM, ADMIN, personal=False, posted=200),
    Page("api:partner_new", FORM, ADMIN, personal=False),
]

VISIBLE_TO: dict[str, frozenset[str]] = {
    # Mo's token: his, and the manager/admin's to revoke.
    "api_token": frozenset({"mo", "ade"}),
}


def build(world: Any) -> dict[str, Any]:
    mo, ade = world.users["mo"], world.users["ade"]
    token, _secret = actions.create_token(mo, mo, "Mo's phone app", [Scope.CASES_READ])
    partner = actions.add_partner(ade, {
        "username": "feltham", "organisation": "HMP/YOI Feltham resettlement team",
        "source_type": "prison",
    }).user  # fmt: skip
    return {"api_token": token, "api_partner": partner}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "api:tokens":
        return {"name": "Case system sync", "scopes": [str(Scope.CASES_READ)],
                "expires_in_days": "90"}  # fmt: skip
    if page.name == "api:token_revoke":
        return {}
    if page.name == "api:token_admin":
        return {"user": objects["api_partner"].pk, "name": "Referrals from Feltham",
                "scopes": [str(Scope.REFERRALS_WRITE), str(Scope.REFERRALS_READ)],
                "expires_in_days": "365"}  # fmt: skip
    if page.name == "api:partner_new":
        return {"organisation": "Lambeth probation", "source_type": "probation",
                "username": "lambeth-probation"}  # fmt: skip
    return None
