from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import audit


class NoStoreMiddleware:
    """Keep personal data out of shared browser caches, and note the request for the audit trail.

    Mentors use shared and lost phones; a page of notes must not be recoverable
    from the back button's cache after log-out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = audit.set_request_info(
            audit.RequestInfo(ip_address=request.META.get("REMOTE_ADDR"), path=request.path)
        )
        try:
            response = self.get_response(request)
        finally:
            audit.reset_request_info(token)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store, private")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response
