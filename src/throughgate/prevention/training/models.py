"""Courses and consultancy engagements for professionals, delegates and feedback.

The prevention team trains police, teachers, youth workers and social workers, and the
fees fund part of the work. Delegates are professionals' names: personal data, seen
only by the staff who manage training (prevention facilitators and the manager), never
by mentors, the coordinator, the safeguarding lead or the analyst. The analyst sees
the quarterly summary only (counts and income).

The client is kept as text on the course (with the names already used offered as
suggestions), not a directory of its own: a client is rarely more than a name and a
contact, and a directory would be one more list to keep tidy.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from throughgate.accounts import roles
from throughgate.core.models import TimeStampedModel

MAX_FEE = 999_999


def manages_training(user: Any) -> bool:
    """Prevention facilitators deliver the training; the manager runs the business side."""
    return roles.role_of(user) in (roles.Role.PREVENTION_FACILITATOR, roles.Role.ADMIN)


def records_invoices(user: Any) -> bool:
    """Invoices and payments are the manager's (finance stays with one person)."""
    return roles.is_admin(user)


def sees_training_summary(user: Any) -> bool:
    """The quarterly summary of delivery and income: aggregates, also for the analyst."""
    return manages_training(user) or roles.role_of(user) == roles.Role.ANALYST


class CourseKind(models.TextChoices):
    COURSE = "course", "Course"
    CONSULTANCY = "consultancy", "Consultancy engagement"


class Audience(models.TextChoices):
    POLICE = "police", "Police"
    TEACHERS = "teachers", "Teachers and school staff"
    YOUTH_WORKERS = "youth_workers", "Youth workers"
    SOCIAL_WORKERS = "social_workers", "Social workers"
    OTHER = "other", "Other professionals"


class CourseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DELIVERED = "delivered", "Delivered"
    INVOICED = "invoiced", "Invoiced"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class Attendance(models.TextChoices):
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    ABSENT = "absent", "Did not attend"
    CANCELLED = "cancelled", "Cancelled their place"


# Attendance that says the course has happened.
HAPPENED = (Attendance.ATTENDED, Attendance.ABSENT)


class TrainingQuerySet(models.QuerySet):
    """The one door: training staff see and change everything; nobody else sees any."""

    def visible_to(self, user: Any) -> Any:
        return self.all() if manages_training(user) else self.none()

    def editable_by(self, user: Any) -> Any:
        return self.visible_to(user)


class CourseQuerySet(TrainingQuerySet):
    def with_status(self, status: str, today: date) -> CourseQuerySet:
        """Courses whose status (see Course.status_on) is `status` on `today`."""
        return self.filter(status_q(status, today))


def status_q(status: str, today: date) -> Q:
    live = Q(cancelled=False)
    if status == CourseStatus.CANCELLED:
        return Q(cancelled=True)
    if status == CourseStatus.PAID:
        return live & Q(paid_on__isnull=False)
    if status == CourseStatus.INVOICED:
        return live & Q(invoiced_on__isnull=False, paid_on__isnull=True)
    not_invoiced = live & Q(invoiced_on__isnull=True)
    if status == CourseStatus.DELIVERED:
        return not_invoiced & Q(end_date__lte=today)
    if status == CourseStatus.PLANNED:
        return not_invoiced & Q(end_date__gt=today)
    raise ValueError(f"unknown status {status!r}")


class Course(TimeStampedModel):
    """A course for professionals, or a consultancy engagement (advice to a school's
    leadership, a police force's training team, …)."""

    kind = models.CharField("type", max_length=20, choices=CourseKind.choices)
    title = models.CharField(max_length=200)
    audience = models.CharField("audience", max_length=20, choices=Audience.choices)
    client = models.CharField(
        "client organisation",
        max_length=200,
        help_text="Who commissioned it, e.g. Metropolitan Police, Lambeth Council.",
    )
    client_contact = models.CharField(
        "client contact",
        max_length=200,
        blank=True,
        help_text="Who to speak to there: name, email or phone.",
    )
    start_date = models.DateField("first day")
    end_date = models.DateField("last day", help_text="The same as the first day for one day.")
    trainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="training_courses", verbose_name="trainers"
    )
    sessions = models.PositiveSmallIntegerField(
        "number of sessions",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
    )
    hours = models.DecimalField(
        "total hours",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
        help_text="Contact hours across all sessions, e.g. 6 or 2.5.",
    )
    fee = models.DecimalField(
        "fee (£)",
        max_digits=9,
        decimal_places=2,
        default=0,
        validators=[
            MinValueValidator(0, message="A fee cannot be negative: enter 0 for free training."),
            MaxValueValidator(MAX_FEE, message=f"A fee above £{MAX_FEE:,} cannot be right."),
        ],
        help_text="Without VAT. 0 for free training.",
    )
    invoiced_on = models.DateField("invoiced on", null=True, blank=True)
    invoice_reference = models.CharField("invoice reference", max_length=60, blank=True)
    paid_on = models.DateField("paid on", null=True, blank=True)
    cancelled = models.BooleanField("cancelled", default=False)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="training_course_ends_after_start",
                violation_error_message="The last day cannot be before the first.",
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0),
                name="training_course_fee_not_negative",
                violation_error_message="A fee cannot be negative.",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(paid_on__isnull=True)
                | Q(invoiced_on__isnull=False, paid_on__gte=models.F("invoiced_on")),
                name="training_course_paid_after_invoiced",
                violation_error_message="A payment cannot come before its invoice.",
            ),
        ]
        indexes = [models.Index(fields=["end_date"]), models.Index(fields=["invoiced_on"]),
                   models.Index(fields=["paid_on"])]  # fmt: skip

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = (
                f"The last day ({self.end_date:%d/%m/%Y}) cannot be before the first "
                f"({self.start_date:%d/%m/%Y})."
            )
        if self.paid_on and not self.invoiced_on:
            errors["paid_on"] = "Record the invoice before the payment."
        elif self.paid_on and self.invoiced_on and self.paid_on < self.invoiced_on:
            errors["paid_on"] = (
                f"Paid on {self.paid_on:%d/%m/%Y} is before the invoice was sent "
                f"({self.invoiced_on:%d/%m/%Y}): a course cannot be paid before it is invoiced."
            )
        if self.invoiced_on and not self.invoice_reference.strip():
            errors["invoice_reference"] = "Enter the invoice reference, so finance can match it."
        if self.invoice_reference.strip() and not self.invoiced_on:
            errors["invoiced_on"] = "Enter the date the invoice was sent."
        if errors:
            raise ValidationError(errors)

    def status_on(self, today: date) -> str:
        if self.cancelled:
            return CourseStatus.CANCELLED
        if self.paid_on:
            return CourseStatus.PAID
        if self.invoiced_on:
            return CourseStatus.INVOICED
        if self.end_date <= today:
            return CourseStatus.DELIVERED
        return CourseStatus.PLANNED

    def status_label(self, today: date) -> str:
        return str(CourseStatus(self.status_on(today)).label)

    @property
    def one_day(self) -> bool:
        return self.start_date == self.end_date


class Delegate(TimeStampedModel):
    """A professional booked on a course."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="delegates")
    name = models.CharField(max_length=200, error_messages={"blank": "Enter the delegate's name."})
    organisation = models.CharField(max_length=200, blank=True)
    role = models.CharField("role", max_length=120, blank=True, help_text="e.g. PCSO, DSL")
    attendance = models.CharField(
        max_length=20, choices=Attendance.choices, default=Attendance.BOOKED
    )

    objects = TrainingQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["course", "attendance"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A name of spaces passes the blank check (clean_fields runs first).
        if self.name and not self.name.strip():
            raise ValidationError({"name": "Enter the delegate's name."})
        self.name = " ".join(self.name.split())


SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class Feedback(models.Model):
    """One delegate's anonymous feedback form: nothing ties it to a delegate."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="feedback")
    overall = models.PositiveSmallIntegerField("overall", validators=SCORE_VALIDATORS)
    relevance = models.PositiveSmallIntegerField(
        "relevance to my work", null=True, blank=True, validators=SCORE_VALIDATORS
    )
    trainer_knowledge = models.PositiveSmallIntegerField(
        "trainer's knowledge", null=True, blank=True, validators=SCORE_VALIDATORS
    )
    comments = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TrainingQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name_plural = "feedback"
        constraints = [
            models.CheckConstraint(
                condition=Q(overall__gte=1, overall__lte=5)
                & (Q(relevance__isnull=True) | Q(relevance__gte=1, relevance__lte=5))
                & (
                    Q(trainer_knowledge__isnull=True)
                    | Q(trainer_knowledge__gte=1, trainer_knowledge__lte=5)
                ),
                name="training_feedback_scores_one_to_five",
                violation_error_message="Scores are from 1 to 5.",
            )
        ]

    def __str__(self) -> str:
        return f"Feedback on {self.course}"


# The fixed questions, in the order the form and the summaries show them.
QUESTIONS = [
    ("overall", "Overall, how good was it?"),
    ("relevance", "How relevant was it to your work?"),
    ("trainer_knowledge", "How knowledgeable was the trainer?"),
]
