"""Assessment instruments as data: validating, scoring and scheduling questionnaires.

Pure computation, no Django: plain dataclasses in, dataclasses out. The charity
measures "distance travelled" (how a young person rates their own life, pathway by
pathway) and the trust between mentor and mentee with short questionnaires. Some
good instruments are licensed (the Outcomes Star family, WAI-SR) and must not be
embedded here, so an instrument is *data*: an admin can describe a licensed one the
charity has paid for, and this engine scores it like the two free ones shipped below.

Scoring rules, the same for every instrument:

- an answer is a whole number from ``scale_min`` to ``scale_max``; ``None`` or a
  missing key means "not answered", which is allowed (a young person may skip a
  question they do not want to answer);
- a reverse-scored item ("I feel my mentor judges me.") is flipped before anything
  else, so that a high number always means "better": ``v -> scale_min + scale_max - v``;
- the total is the mean (or the sum) of the answered items, but only when enough
  were answered (``min_answered``, a fraction of the items): a mean of two answers out
  of ten says little, and a sum of fewer answers is simply lower, not worse;
- each subscale follows the same rule on its own items, so one pathway left blank
  does not hide the others.

Means are rounded to 2 decimal places, half to even ("banker's rounding"), on the
*exact* mean (a ``Fraction``), so 3.125 becomes 3.12 and 3.135 becomes 3.14 every
time, never a binary-float accident such as ``round(2.675, 2) == 2.67``. Sums are
whole numbers and are returned exactly (as a float, so that ``Score.total`` has one
type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

SCORING_METHODS = ("mean", "sum")

# A response counts towards a due date if it is given this many days either side of
# it: a check-in at "3 months" done a week late is still the 3-month check-in.
DONE_WINDOW_DAYS = 14
# A due date this close (or today) is shown as "due" so a mentor can plan it in.
DUE_SOON_DAYS = 7

DONE = "done"
OVERDUE = "overdue"
DUE = "due"
UPCOMING = "upcoming"

# The seven resettlement pathways (HMPPS vocabulary), plus "other" for needs that fit
# none. The Django side keys needs by these; DISTANCE_TRAVELLED covers the seven.
PATHWAYS: tuple[tuple[str, str], ...] = (
    ("accommodation", "Accommodation"),
    ("education_skills_work", "Education, skills and work"),
    ("finance_id", "Finance and ID"),
    ("health", "Health"),
    ("drugs_alcohol", "Drugs and alcohol"),
    ("children_families_community", "Children, families and community"),
    ("attitudes_thinking_behaviour", "Attitudes, thinking and behaviour"),
    ("other", "Other"),
)


@dataclass(frozen=True)
class Item:
    """One question of an instrument."""

    key: str  # stable id, e.g. "accommodation" or "t3"
    text: str  # the question as asked
    reverse: bool = False  # reverse-scored: value v counts as (scale_min + scale_max - v)
    subscale: str = ""  # optional grouping, e.g. a pathway or "trust"


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: its items, answer scale, scoring rule and schedule.

    A badly described instrument raises ``ValueError`` as soon as it is built,
    listing every problem, because an admin-entered instrument that silently scores
    nonsense (a scale of 5 to 1, two items with one key) would corrupt every
    outcome report built on it.
    """

    key: str  # e.g. "distance-travelled"
    name: str
    scale_min: int  # e.g. 1
    scale_max: int  # e.g. 10 or 5
    items: tuple[Item, ...]
    scoring: str = "mean"  # "mean" or "sum"
    min_answered: float = 1.0  # fraction of items that must be answered for a total
    interval_days: tuple[int, ...] = ()  # when it is asked, in days from the start date
    anchors: tuple[str, str] = ("", "")  # labels of the scale's ends

    def __post_init__(self) -> None:
        problems = instrument_problems(self)
        if problems:
            raise ValueError(" ".join(problems))

    @property
    def scale_text(self) -> str:
        return f"{self.scale_min} to {self.scale_max}"


@dataclass(frozen=True)
class Score:
    """The result of scoring one set of answers."""

    total: float | None  # None when too few items answered
    subscales: dict[str, float]  # per subscale with enough answers (same rule as total)
    answered: int
    of: int
    missing: tuple[str, ...]  # item keys not answered, in the instrument's order


class InvalidAnswers(ValueError):
    """Answers that cannot be scored; ``errors`` is what ``validate`` returned."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def instrument_problems(instrument: Instrument) -> list[str]:
    """Everything wrong with an instrument's description, in plain English."""
    problems = []
    name = instrument.name or instrument.key or "The instrument"
    if not instrument.key:
        problems.append("An instrument needs a key.")
    if not _is_whole(instrument.scale_min) or not _is_whole(instrument.scale_max):
        problems.append(f"{name}: the scale's ends must be whole numbers.")
    elif instrument.scale_min >= instrument.scale_max:
        problems.append(
            f"{name}: the scale must go up (got {instrument.scale_min} to {instrument.scale_max})."
        )
    if not instrument.items:
        problems.append(f"{name}: an instrument needs at least one question.")
    keys = [item.key for item in instrument.items]
    if any(not key for key in keys):
        problems.append(f"{name}: every question needs a key.")
    repeated = sorted({key for key in keys if key and keys.count(key) > 1})
    if repeated:
        problems.append(f"{name}: question keys must be unique ({', '.join(repeated)}).")
    if instrument.scoring not in SCORING_METHODS:
        problems.append(f"{name}: scoring must be 'mean' or 'sum' (got {instrument.scoring!r}).")
    # Zero is refused too: "a total from no answers at all" is not a score.
    if not 0 < instrument.min_answered <= 1:
        problems.append(
            f"{name}: the share of questions that must be answered is a fraction "
            f"above 0 and at most 1 (got {instrument.min_answered})."
        )
    days = instrument.interval_days
    if any(not _is_whole(d) or d < 0 for d in days) or list(days) != sorted(set(days)):
        problems.append(
            f"{name}: the days it is asked on must be whole numbers from 0 up, "
            f"each later than the one before (got {days})."
        )
    return problems


def validate(instrument: Instrument, answers: Mapping[str, int | None]) -> dict[str, str]:
    """Errors keyed by item key, each naming the question; empty if all is well.

    Only ``int`` counts as a whole number: not ``bool`` (``True`` is 1 to Python but
    never a deliberate answer), not ``7.0`` or ``"7"`` (the form layer converts what
    was typed; the engine does not guess what a caller meant).
    """
    by_key = {item.key: item for item in instrument.items}
    errors = {}
    for key, value in answers.items():
        item = by_key.get(key)
        if item is None:
            errors[key] = f"Not a question of {instrument.name}."
        elif value is None:
            continue
        elif not _is_whole(value):
            errors[key] = (
                f'"{item.text}": answer a whole number from {instrument.scale_text} '
                f"(got {value!r})."
            )
        elif not instrument.scale_min <= value <= instrument.scale_max:
            errors[key] = f'"{item.text}": answer {instrument.scale_text} (got {value}).'
    return errors


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Score one set of answers; raises ``InvalidAnswers`` (a ``ValueError``)."""
    errors = validate(instrument, answers)
    if errors:
        raise InvalidAnswers(errors)
    values: dict[str, int] = {}
    missing = []
    for item in instrument.items:
        value = answers.get(item.key)
        if value is None:
            missing.append(item.key)
        elif item.reverse:
            values[item.key] = instrument.scale_min + instrument.scale_max - value
        else:
            values[item.key] = value

    groups: dict[str, list[Item]] = {}
    for item in instrument.items:
        if item.subscale:
            groups.setdefault(item.subscale, []).append(item)
    subscales = {}
    for name, items in groups.items():
        result = _combine(instrument, [values[i.key] for i in items if i.key in values], len(items))
        if result is not None:
            subscales[name] = result

    return Score(
        total=_combine(instrument, list(values.values()), len(instrument.items)),
        subscales=subscales,
        answered=len(values),
        of=len(instrument.items),
        missing=tuple(missing),
    )


def change(before: Score, after: Score) -> dict[str, float]:
    """Distance travelled: ``after - before`` for the total ("total") and for every
    subscale scored both times. Rounded to 2 places so that 6.3 - 6.2 reads 0.1."""
    result = {}
    if before.total is not None and after.total is not None:
        result["total"] = round(after.total - before.total, 2)
    for name, value in before.subscales.items():
        if name in after.subscales:
            result[name] = round(after.subscales[name] - value, 2)
    return result


def due_dates(
    instrument: Instrument, start: date, done: Sequence[date], today: date
) -> list[tuple[date, str]]:
    """Each scheduled date (``start`` + interval) with its status, in schedule order.

    "done" if a response was given within 14 days either side; otherwise "overdue"
    once the date has passed, "due" from 7 days before it up to the day itself, and
    "upcoming" before that. Each response counts for one due date only, and the
    closest (due date, response) pairs are matched first: with check-ins at 28 and
    42 days and one response on day 40, that response is the day-42 check-in (2 days
    off), not the day-28 one (12 days off) - the mentor still owes the earlier one.
    """
    due = [start + timedelta(days=d) for d in instrument.interval_days]
    pairs = sorted(
        (abs((response - when).days), i, j)
        for i, when in enumerate(due)
        for j, response in enumerate(done)
        if abs((response - when).days) <= DONE_WINDOW_DAYS
    )
    matched: set[int] = set()
    used: set[int] = set()
    for _, i, j in pairs:  # ties go to the earlier due date, then the earlier response
        if i not in matched and j not in used:
            matched.add(i)
            used.add(j)

    schedule = []
    for i, when in enumerate(due):
        if i in matched:
            status = DONE
        elif when < today:
            status = OVERDUE
        elif when <= today + timedelta(days=DUE_SOON_DAYS):
            status = DUE
        else:
            status = UPCOMING
        schedule.append((when, status))
    return schedule


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _combine(instrument: Instrument, values: list[int], of: int) -> float | None:
    """Mean or sum of ``values`` out of ``of`` items, or None if too few answered."""
    if not values or len(values) / of < instrument.min_answered:
        return None
    if instrument.scoring == "sum":
        return float(sum(values))
    return float(round(Fraction(sum(values), len(values)), 2))


# -- Shipped instruments ---------------------------------------------------------------
# Both are the charity's own wording, free to use; neither copies a licensed scale.

DISTANCE_TRAVELLED = Instrument(
    key="distance-travelled",
    name="Distance travelled",
    scale_min=1,
    scale_max=10,
    # One self-rating per pathway, each item its own subscale, so the change on each
    # pathway can be shown beside the overall one. Worded to be read aloud to a young
    # person and answered "not at all" to "completely".
    items=(
        Item("accommodation", "How settled is where you are living?", subscale="accommodation"),
        Item(
            "education_skills_work",
            "How on track are you with work, training or education?",
            subscale="education_skills_work",
        ),
        Item(
            "finance_id",
            "How on top of your money, bills and ID are you?",
            subscale="finance_id",
        ),
        Item(
            "health",
            "How well are you looking after your health, in body and mind?",
            subscale="health",
        ),
        Item(
            "drugs_alcohol",
            "How in control are you of any drinking or drug use?",
            subscale="drugs_alcohol",
        ),
        Item(
            "children_families_community",
            "How supported do you feel by your family, friends and the people around you?",
            subscale="children_families_community",
        ),
        Item(
            "attitudes_thinking_behaviour",
            "How in control do you feel of the choices you make and how you react?",
            subscale="attitudes_thinking_behaviour",
        ),
    ),
    scoring="mean",
    # 5 of 7 pathways: one or two may honestly not apply yet (no drink or drugs).
    min_answered=0.7,
    # At the start (in custody or at the gate), then every three months for a year.
    interval_days=(0, 91, 182, 273, 365),
    anchors=("Not at all", "Completely"),
)

TRUST_CHECK_IN = Instrument(
    key="trust-check-in",
    name="Trust check-in",
    scale_min=1,
    scale_max=5,
    # Mentee-reported trust in the mentor, in the style of the Youth Strength of
    # Relationship scale but in the charity's own words. Two items are negatively
    # worded and reverse-scored, so that someone ticking "5" all the way down does not
    # score top marks without reading.
    items=(
        Item("t1", "My mentor is someone I can trust.", subscale="trust"),
        Item("t2", "My mentor listens to me.", subscale="trust"),
        Item("t3", "I can be honest with my mentor.", subscale="trust"),
        Item("t4", "My mentor keeps their promises.", subscale="trust"),
        Item("t5", "My mentor understands where I am coming from.", subscale="trust"),
        Item("t6", "I feel my mentor judges me.", reverse=True, subscale="trust"),
        Item("t7", "My mentor is there for me when things go wrong.", subscale="trust"),
        Item("t8", "I would go to my mentor if I needed help.", subscale="trust"),
        Item("t9", "I feel my mentor would give up on me.", reverse=True, subscale="trust"),
        Item("t10", "My mentor believes I can change.", subscale="trust"),
    ),
    scoring="mean",
    min_answered=0.8,
    # First at four weeks, once there is a relationship to rate, then 3 and 6 months.
    interval_days=(28, 91, 182),
    anchors=("Not at all true", "Very true"),
)

SHIPPED: tuple[Instrument, ...] = (DISTANCE_TRAVELLED, TRUST_CHECK_IN)
