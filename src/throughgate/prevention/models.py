"""Schools and other venues, workshops, and their anonymous pre/post surveys.

Children in workshops are anonymous: a workshop records counts by year group and
gender, never a name. The people here are adults — school contacts, designated
safeguarding leads and the facilitators — so every change is audited all the same.

Schools and other venues are one model, `Venue`, with a `kind`: a youth club, a
community centre or a youth offending service is booked, reached and reported exactly
like a school, and one list with one filter is quicker to use than two. The fields
only a school has (DfE URN, school type, phase) are required for schools and left
blank for the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from throughgate.core.models import TimeStampedModel
from throughgate.people.models import BOROUGH_CHOICES

from .access import may_configure, may_read, may_record

# The largest group one workshop can plausibly hold: a facilitator's biggest format is a
# whole-year-group assembly in a large secondary school (about 300-350 pupils). A
# number above this is far likelier a typing slip (4000 for 40) than a real session,
# so it is refused with a message rather than silently inflating the reach figures.
MAX_WORKSHOP_HEADCOUNT = 400
# A workshop is at least a short lesson slot and at most a full school day.
MIN_DURATION_MINUTES = 10
MAX_DURATION_MINUTES = 480
# The charity was founded in 2006; an earlier date is a typing slip.
EARLIEST_WORKSHOP_DATE = date(2006, 1, 1)
# Reach target when Ade has set none for an academic year (the figure).
DEFAULT_REACH_TARGET = 25_000


def academic_year_of(day: date) -> int:
    """The academic year (September to August) a date falls in, by its first calendar
    year: 14 Oct 2025 and 3 Jul 2026 are both in 2025 (shown as "2025/26")."""
    return day.year if day.month >= 9 else day.year - 1


def academic_year_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def academic_year_bounds(start: int) -> tuple[date, date]:
    return date(start, 9, 1), date(start + 1, 8, 31)


class VenueKind(models.TextChoices):
    SCHOOL = "school", "School or college"
    YOUTH_CLUB = "youth_club", "Youth club"
    COMMUNITY_CENTRE = "community_centre", "Community centre"
    ALTERNATIVE_PROVISION = "alternative_provision", "Alternative provision (not a school)"
    YOUTH_OFFENDING = "youth_offending", "Youth offending / youth justice service"
    OTHER = "other", "Other venue"


class SchoolType(models.TextChoices):
    COMMUNITY = "community", "Community (maintained)"
    FOUNDATION = "foundation", "Foundation or voluntary aided"
    ACADEMY = "academy", "Academy"
    FREE_SCHOOL = "free_school", "Free school"
    INDEPENDENT = "independent", "Independent"
    SPECIAL = "special", "Special school"
    PRU_AP = "pru_ap", "Pupil referral unit / alternative provision"
    FE_COLLEGE = "fe_college", "Further education college"
    SIXTH_FORM = "sixth_form", "Sixth-form college"


class SchoolPhase(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    ALL_THROUGH = "all_through", "All-through"
    POST_16 = "post_16", "Post-16"


class _ReadRecordQuerySet(models.QuerySet):
    """Prevention records are not about identifiable children, but school contacts and
    facilitators are people: the prevention team and the manager keep them, the
    safeguarding lead reads them, nobody else sees them (core.access)."""

    def visible_to(self, user: Any) -> Any:
        return self.all() if may_read(user) else self.none()

    def editable_by(self, user: Any) -> Any:
        return self.all() if may_record(user) else self.none()


class _ConfigQuerySet(models.QuerySet):
    """Configuration (topics, survey questions, targets): read like the records,
    changed by the manager only."""

    def visible_to(self, user: Any) -> Any:
        return self.all() if may_read(user) else self.none()

    def editable_by(self, user: Any) -> Any:
        return self.all() if may_configure(user) else self.none()


URN_VALIDATOR = RegexValidator(r"^\d{6}$", "A DfE URN is 6 digits, like 100001.")


class Venue(TimeStampedModel):
    name = models.CharField(max_length=150)
    kind = models.CharField(
        "kind of place", max_length=30, choices=VenueKind.choices, default=VenueKind.SCHOOL
    )
    urn = models.CharField(
        "DfE URN",
        max_length=6,
        blank=True,
        validators=[URN_VALIDATOR],
        help_text="The school's unique reference number on Get Information about Schools.",
    )
    school_type = models.CharField(
        "type of school", max_length=20, choices=SchoolType.choices, blank=True
    )
    phase = models.CharField(max_length=20, choices=SchoolPhase.choices, blank=True)
    borough = models.CharField(max_length=40, choices=BOROUGH_CHOICES)
    contact_name = models.CharField("main contact", max_length=100, blank=True)
    contact_email = models.EmailField("main contact's email", blank=True)
    contact_phone = models.CharField("main contact's phone", max_length=30, blank=True)
    dsl_name = models.CharField("designated safeguarding lead", max_length=100, blank=True)
    dsl_email = models.EmailField("safeguarding lead's email", blank=True)
    dsl_phone = models.CharField("safeguarding lead's phone", max_length=30, blank=True)
    active = models.BooleanField(
        default=True, help_text="Untick when the charity no longer works with this place."
    )
    notes = models.TextField(blank=True, max_length=2000)

    objects = _ReadRecordQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "school or venue"
        verbose_name_plural = "schools and venues"
        constraints = [
            models.UniqueConstraint(
                fields=["urn"], condition=~Q(urn=""), name="prevention_venue_unique_urn"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == VenueKind.SCHOOL:
            if not self.school_type:
                errors["school_type"] = "Choose the type of school."
            if not self.phase:
                errors["phase"] = "Choose the school's phase."
        else:
            if self.urn:
                errors["urn"] = "Only a school has a DfE URN: clear it or choose 'School'."
        if errors:
            raise ValidationError(errors)

    @property
    def is_school(self) -> bool:
        return self.kind == VenueKind.SCHOOL


class WorkshopTopic(TimeStampedModel):
    name = models.CharField(max_length=80, unique=True)
    active = models.BooleanField(
        default=True, help_text="Untick to retire it: past workshops keep it."
    )
    order = models.PositiveSmallIntegerField(default=0)

    objects = _ConfigQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class YearGroup(models.TextChoices):
    RECEPTION = "R", "Reception"
    Y1 = "Y1", "Year 1"
    Y2 = "Y2", "Year 2"
    Y3 = "Y3", "Year 3"
    Y4 = "Y4", "Year 4"
    Y5 = "Y5", "Year 5"
    Y6 = "Y6", "Year 6"
    Y7 = "Y7", "Year 7"
    Y8 = "Y8", "Year 8"
    Y9 = "Y9", "Year 9"
    Y10 = "Y10", "Year 10"
    Y11 = "Y11", "Year 11"
    Y12 = "Y12", "Year 12"
    Y13 = "Y13", "Year 13"
    MIXED = "mixed", "Mixed or other"


class Workshop(TimeStampedModel):
    held_on = models.DateField("date")
    venue = models.ForeignKey(
        Venue, on_delete=models.PROTECT, related_name="workshops", verbose_name="school or venue"
    )
    topics = models.ManyToManyField(WorkshopTopic, related_name="workshops")
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="prevention_workshops"
    )
    duration_minutes = models.PositiveSmallIntegerField(
        "length in minutes",
        validators=[
            MinValueValidator(MIN_DURATION_MINUTES),
            MaxValueValidator(MAX_DURATION_MINUTES),
        ],
    )
    repeat_group = models.BooleanField(
        "repeat session",
        default=False,
        help_text="These children were already counted at an earlier workshop this "
        "academic year, so they are not counted again in children reached.",
    )
    teacher_rating = models.PositiveSmallIntegerField(
        "teacher's rating",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    teacher_comment = models.TextField("teacher's comment", blank=True, max_length=1000)
    # Kept by the actions from the group rows, so the reach dashboard sums one column
    # in the database instead of joining every group row.
    headcount = models.PositiveIntegerField(default=0, editable=False)
    academic_year = models.PositiveSmallIntegerField(editable=False, db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = _ReadRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["academic_year", "held_on"])]

    def __str__(self) -> str:
        return f"{self.venue} — {self.held_on:%-d %b %Y}"

    @property
    def academic_year_label(self) -> str:
        return academic_year_label(self.academic_year)


class WorkshopGroup(models.Model):
    """One year group (or mixed group) at a workshop: counts only, never names."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="groups")
    year_group = models.CharField(max_length=10, choices=YearGroup.choices)
    girls = models.PositiveIntegerField(default=0)
    boys = models.PositiveIntegerField(default=0)
    other = models.PositiveIntegerField("other or not recorded", default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.get_year_group_display()}: {self.headcount}"

    @property
    def headcount(self) -> int:
        return self.girls + self.boys + self.other


class SurveyQuestion(TimeStampedModel):
    text = models.CharField(max_length=200, unique=True)
    topic = models.ForeignKey(
        WorkshopTopic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions",
        help_text="Optional: ask it only at workshops on this topic.",
    )
    active = models.BooleanField(default=True, help_text="Untick to stop asking it.")
    order = models.PositiveSmallIntegerField(default=0)

    objects = _ConfigQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class SurveySource(models.TextChoices):
    COUNTS = "counts", "Counts entered"
    RESPONSES = "responses", "Counted from individual responses"


class SurveyResult(TimeStampedModel):
    """A question's anonymous answers at one workshop, before and after: how many
    answered and how many said yes."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="survey_results")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.PROTECT, related_name="results")
    before_respondents = models.PositiveIntegerField("answered before", default=0)
    before_yes = models.PositiveIntegerField("said yes before", default=0)
    after_respondents = models.PositiveIntegerField("answered after", default=0)
    after_yes = models.PositiveIntegerField("said yes after", default=0)
    source = models.CharField(max_length=12, choices=SurveySource.choices)

    class Meta:
        ordering = ["question__order", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "question"], name="prevention_one_result_per_question"
            )
        ]


class SurveyStage(models.TextChoices):
    BEFORE = "before", "Before the workshop"
    AFTER = "after", "After the workshop"


class SurveyAnswer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    SKIP = "skip", "Skipped"


class SurveyResponse(TimeStampedModel):
    """One child's anonymous answer sheet: {question id: yes / no / skip}."""

    workshop = models.ForeignKey(
        Workshop, on_delete=models.CASCADE, related_name="survey_responses"
    )
    stage = models.CharField(max_length=10, choices=SurveyStage.choices)
    answers = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]


class ReachTarget(TimeStampedModel):
    academic_year = models.PositiveSmallIntegerField(
        "academic year",
        unique=True,
        validators=[MinValueValidator(2006), MaxValueValidator(2100)],
        help_text="The year it starts in September: 2025 for 2025/26.",
    )
    target = models.PositiveIntegerField(
        "children to reach", validators=[MinValueValidator(1), MaxValueValidator(10_000_000)]
    )

    objects = _ConfigQuerySet.as_manager()

    class Meta:
        ordering = ["-academic_year"]

    def __str__(self) -> str:
        return f"{academic_year_label(self.academic_year)}: {self.target:,}"
