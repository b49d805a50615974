"""The periods a funder or board report covers, and the reoffending cohort that is mature
for one (pure date arithmetic; no Django)."""

from __future__ import annotations

from datetime import date, timedelta

from .reoffending import FOLLOW_UP_MONTHS, WAITING_MONTHS, add_months


def last_full_quarter(today: date) -> tuple[date, date]:
    """The calendar quarter before the one `today` is in (quarters start in January,
    April, July and October, so they are also financial-year quarters)."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    this_quarter = date(today.year, first_month, 1)
    end = this_quarter - timedelta(days=1)
    return date(end.year, end.month - 2, 1), end


def financial_year(today: date, *, previous: bool = False) -> tuple[date, date]:
    """The April–March financial year `today` is in (or the one before it)."""
    year = today.year if today.month >= 4 else today.year - 1
    if previous:
        year -= 1
    return date(year, 4, 1), date(year + 1, 3, 31)


def mature_cohort(end: date) -> tuple[date, date]:
    """The index dates of the latest cohort whose proven reoffending is known on `end`:
    the twelve months ending 18 months (follow-up and waiting period) before it, so
    everyone in it is mature on `end`."""
    # Mature means end > index + 18 months - 1 day: the latest such index is end - 18m.
    last = add_months(end, -(FOLLOW_UP_MONTHS + WAITING_MONTHS))
    first = add_months(last, -12) + timedelta(days=1)
    return first, last
