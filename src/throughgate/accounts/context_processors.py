from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .roles import nav_links_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation links for the current user's role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    from throughgate.api.scopes import may_have_tokens

    return {"nav_links": nav_links_for(user), "may_have_api_tokens": may_have_tokens(user)}
