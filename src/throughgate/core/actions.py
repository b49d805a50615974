"""Helpers shared by every app's action functions (see DESIGN.md: changes go through actions)."""

from __future__ import annotations

from collections.abc import Iterable


def reject_unknown_fields(data: Iterable[str], allowed: Iterable[str]) -> None:
    """Actions take a dict of field values; a name they do not handle is a programming
    error (a typo would otherwise be silently ignored), not bad user input."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"unexpected fields: {', '.join(sorted(unknown))}")
