"""How long a log-in lasts: an idle time-out and an absolute cap.

A mentor's phone left in a café, still logged in, shows everything its owner may see.
So a session ends after `SESSION_IDLE_MINUTES` without a request, and
`SESSION_MAX_HOURS` after log-in however busy it has been.

Both are checked here, from two timestamps kept in the session (seconds since the
epoch, as the session is JSON), rather than left to the session's own expiry: a
session that simply vanished could not tell its owner *why* they are looking at the
log-in page. A session that ends here is logged out (an audited LOGOUT with the
reason), a message says why, and LoginRequiredMiddleware then sends the request to
the log-in page with `next`, so that logging in again returns to the same page.

"Last seen" is written at most once a minute (`REFRESH_SECONDS`): a busy user costs
one session write a minute instead of one per request, at the price of being logged
out up to a minute before the full idle time has passed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

LOGIN_AT = "throughgate_login_at"
LAST_SEEN = "throughgate_last_seen"
REFRESH_SECONDS = 60


def _now() -> int:
    return int(timezone.now().timestamp())


def start(request: HttpRequest) -> None:
    """Start both clocks: called when someone logs in (accounts.signals)."""
    now = _now()
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def ended_because(request: HttpRequest) -> tuple[str, str] | None:
    """Why this logged-in session must end now, or None: a short reason for the audit
    trail and a message for its owner.

    Moves the "last seen" clock on when it is more than a minute old.
    """
    session = request.session
    now = _now()
    login_at = session.get(LOGIN_AT)
    last_seen = session.get(LAST_SEEN)
    if not isinstance(login_at, int) or not isinstance(last_seen, int):
        # A session from before these limits (or one tampered with): start the clocks
        # now rather than throw the user out mid-task; the cap then runs from here.
        login_at = login_at if isinstance(login_at, int) else now
        last_seen = last_seen if isinstance(last_seen, int) else now
        session[LOGIN_AT], session[LAST_SEEN] = login_at, last_seen
    max_hours = settings.SESSION_MAX_HOURS
    idle_minutes = settings.SESSION_IDLE_MINUTES
    if now - login_at >= max_hours * 3600:
        return (
            f"session limit: {_plural(max_hours, 'hour')} since log-in",
            f"You were logged out because you had been logged in for "
            f"{_plural(max_hours, 'hour')}. Log in again to carry on.",
        )
    if now - last_seen >= idle_minutes * 60:
        return (
            f"idle time-out: {_plural(idle_minutes, 'minute')} without activity",
            f"You were logged out after {_plural(idle_minutes, 'minute')} without "
            f"activity. Log in again to carry on.",
        )
    if now - last_seen >= REFRESH_SECONDS:
        session[LAST_SEEN] = now
    return None


class SessionLimitsMiddleware:
    """End sessions that have been idle too long or have lasted too long."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            ended = ended_because(request)
            if ended is not None:
                reason, message = ended
                # Read by accounts.signals for the LOGOUT event's summary.
                request.throughgate_logout_reason = reason  # type: ignore[attr-defined]
                logout(request)  # flushes the session: nothing of it survives
                messages.info(request, message)
        return self.get_response(request)
