"""Log-ins, log-outs and failed attempts go into the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from throughgate.core import audit
from throughgate.core.models import AuditAction

from . import session_limits


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(user, AuditAction.LOGIN, user)
    if request is not None and hasattr(request, "session"):
        session_limits.start(request)  # the idle and absolute clocks start now


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        # Why, when it was not the user's own choice (time-out, lock-out).
        reason = getattr(request, "throughgate_logout_reason", "")
        audit.record(user, AuditAction.LOGOUT, user, summary=reason)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The attempted name is kept (it may be a typo of a real one); never the password.
    # On the "Confirm it's you" page the user is logged in, so the event names them.
    confirming = getattr(request, "throughgate_reauth", False)
    audit.record(
        request.user if confirming else None,
        AuditAction.LOGIN_FAILED,
        object_type="accounts.user",
        summary=f"username {str(credentials.get('username', ''))[:100]!r}"
        + (" (confirming the password)" if confirming else ""),
    )
