"""Helpers shared by every app's action functions (see DESIGN.md: changes go through actions)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def reject_unknown_fields(data: Iterable[str], allowed: Iterable[str]) -> None:
    """Actions take a dict of field values; a name they do not handle is a programming
    error (a typo would otherwise be silently ignored), not bad user input."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"unexpected fields: {', '.join(sorted(unknown))}")


def user_or_none(actor: Any) -> Any:
    """The user to stamp on a row as who did it: None for the seeder, the importer or
    an anonymous actor, which have no account to point at."""
    return actor if getattr(actor, "pk", None) else None
