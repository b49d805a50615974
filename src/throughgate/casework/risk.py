"""The exploitation risk grid on a case page: indicators × checks (newest first), with
the number present at each check, so a worker sees the trend at a glance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .safeguarding_models import RiskCheck, RiskIndicator

MAX_COLUMNS = 8  # the latest checks shown; older ones are counted, not drawn


@dataclass
class RiskGrid:
    checks: list[RiskCheck]
    rows: list[tuple[RiskIndicator, list[bool]]]
    counts: list[int]
    older: int = 0  # checks not shown
    trend: str = ""  # "up", "down", "same" between the last two checks
    notes: list[RiskCheck] = field(default_factory=list)

    @property
    def latest_count(self) -> int | None:
        return self.counts[0] if self.counts else None


def risk_grid(case: Any) -> RiskGrid:
    every = list(
        RiskCheck.objects.filter(case=case)
        .prefetch_related("indicators")
        .order_by("-checked_on", "-id")
    )
    checks = every[:MAX_COLUMNS]
    present = [{i.pk for i in check.indicators.all()} for check in checks]
    used = set().union(*present) if present else set()
    indicators = [i for i in RiskIndicator.objects.all() if i.active or i.pk in used]
    rows = [(indicator, [indicator.pk in p for p in present]) for indicator in indicators]
    counts = [len(p) for p in present]
    trend = ""
    if len(counts) >= 2:
        trend = "up" if counts[0] > counts[1] else "down" if counts[0] < counts[1] else "same"
    return RiskGrid(
        checks=checks,
        rows=rows,
        counts=counts,
        older=len(every) - len(checks),
        trend=trend,
        notes=[c for c in checks if c.notes],
    )
