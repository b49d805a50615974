"""/api/: the JSON API (v1.py, token-authenticated) and the pages where people make and
revoke their tokens (views.py, logged in as usual)."""

from django.urls import URLPattern, URLResolver, path

from . import views
from .v1 import api

app_name = "api"


def _token_authenticated(patterns: list) -> list:
    """The API answers to its bearer token, not the log-in session: a request without
    one gets 401 JSON from the API, not a redirect to the log-in page."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _token_authenticated(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback.login_required = False  # type: ignore[attr-defined]
    return patterns


ninja_patterns, _app, _namespace = api.urls
# Mounted inside this app's "api" namespace: ninja reverses its own root by the full name.
api.urls_namespace = "api:v1"
urlpatterns: list = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("manage/", views.token_admin, name="token_admin"),
    path("manage/partners/new/", views.partner_new, name="partner_new"),
    path("", (_token_authenticated(ninja_patterns), "v1", "v1")),
]
