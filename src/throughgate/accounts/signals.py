"""Log-ins, log-outs and failed attempts go into the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from throughgate.core import audit
from throughgate.core.models import AuditAction


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(user, AuditAction.LOGIN, user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(user, AuditAction.LOGOUT, user)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The attempted name is kept (it may be a typo of a real one); never the password.
    audit.record(
        None,
        AuditAction.LOGIN_FAILED,
        object_type="accounts.user",
        summary=f"username {str(credentials.get('username', ''))[:100]!r}",
    )
