"""Access-ladder rows for two-factor log-in (accounts.two_factor_views) and changing
one's own password (accounts.password_views).

Everyone logged in has these pages for their own account: the code page, setting up an
app, and new recovery codes. The ladder's clients have already given their code
(`make.pass_two_factor`), so the code page sends them straight on (302), and set-up and
new recovery codes first ask for the password again (302 to "Confirm it's you"). What
each page does for someone half-logged-in is in tests/test_two_factor.py.
"""

from __future__ import annotations

from typing import Any

from .ladder_base import FORM, LOGGED_IN, Page
from .make import PASSWORD

PAGES: list[Page] = [
    Page("two_factor", FORM, LOGGED_IN, personal=False, ok=302),
    Page("two_factor_setup", FORM, LOGGED_IN, personal=False, ok=302),
    Page("two_factor_codes", FORM, LOGGED_IN, personal=False),
    Page("change_password", FORM, LOGGED_IN, personal=False),
]

VISIBLE_TO: dict[str, frozenset[str]] = {}


def build(world: Any) -> dict[str, Any]:
    return {}


def valid_post(page: Page, world: Any, objects: dict[str, Any]) -> dict[str, Any] | None:
    if page.name == "two_factor":
        return {"code": "000000"}  # already verified: sent on before the code is read
    if page.name == "two_factor_setup":
        return {"code": "000000"}  # asked for the password first
    if page.name == "two_factor_codes":
        return {}
    if page.name == "change_password":
        new = "kettle violin harbour"
        return {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    return None
