"""Asking for the password again before personal data leaves the system.

A download of the Justice Data Lab file or of the audit trail is a file of personal
data that outlives the session. Someone who finds a manager's laptop unlocked should
not be able to walk away with it, so these downloads need the password to have been
typed within the last `REAUTH_MINUTES` (logging in counts). Otherwise the view sends
the user to the "Confirm it's you" page, which comes back to the same URL.

    def export(request):
        if (confirm := require_recent_password(request)) is not None:
            return confirm
        ...

No app imports (core rule): the confirm page is found by its URL name.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

PASSWORD_AT = "throughgate_password_at"
CONFIRM_URL_NAME = "reauth"


def note_password_entered(request: HttpRequest) -> None:
    """The user has just typed their password correctly (log-in or the confirm page)."""
    request.session[PASSWORD_AT] = int(timezone.now().timestamp())


def password_entered_recently(request: HttpRequest) -> bool:
    entered = request.session.get(PASSWORD_AT)
    if not isinstance(entered, int):
        return False
    age = timezone.now().timestamp() - entered
    return 0 <= age < settings.REAUTH_MINUTES * 60


def require_recent_password(request: HttpRequest) -> HttpResponse | None:
    """None when the password was typed recently enough; otherwise a redirect to the
    confirm page, which returns to this exact URL (query string included)."""
    if password_entered_recently(request):
        return None
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse(CONFIRM_URL_NAME)}?{query}")


def safe_next(request: HttpRequest, candidate: str | None, fallback: str = "/") -> str:
    """`candidate` when it is a URL of this site, else `fallback` (no open redirects)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
