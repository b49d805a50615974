"""Forms for schools and venues, workshops (with their group rows), surveys and settings.

The forms do the light work (types, choices); the actions decide what is refused and
say why, naming the field or the row (prevention.actions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone

from throughgate.core.concurrency import VersionedFormMixin
from throughgate.core.forms import DateInput, ModelMultipleChoiceField
from throughgate.people.models import BOROUGH_CHOICES

from .access import facilitators
from .actions import COUNT_FIELDS, COUNT_LABELS, GROUP_COUNTS
from .models import (
    ReachTarget,
    SurveyAnswer,
    SurveyQuestion,
    SurveyStage,
    Venue,
    VenueKind,
    Workshop,
    WorkshopTopic,
    YearGroup,
    academic_year_label,
    academic_year_of,
)

# Blank group rows on a new workshop: enough for most sessions (a class or two, or a
# year group split by form) without scrolling past empty boxes on a phone. An edit
# shows the rows saved plus two spare.
NEW_GROUP_ROWS = 3
SPARE_GROUP_ROWS = 2
MAX_GROUP_ROWS = 30
# The largest whole number the database takes in a count column; bigger is refused by
# the form before the action's friendlier limits even look at it.
BIGGEST_COUNT = 1_000_000


class CountField(forms.IntegerField):
    """A count box: blank means 0; the action says what is too small or too big."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", -BIGGEST_COUNT)
        kwargs.setdefault("max_value", BIGGEST_COUNT)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "step": "1"})


class VenueForm(VersionedFormMixin, forms.ModelForm):
    borough = forms.ChoiceField(choices=[("", "Choose a borough")] + BOROUGH_CHOICES)

    class Meta:
        model = Venue
        fields = [
            "name", "kind", "urn", "school_type", "phase", "borough", "contact_name",
            "contact_email", "contact_phone", "dsl_name", "dsl_email", "dsl_phone",
            "active", "notes",
        ]  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "school_type": "For a school only.",
            "phase": "For a school only.",
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget = forms.Select(choices=VenueKind.choices)
        for name in ("contact_phone", "dsl_phone"):
            self.fields[name].widget.attrs.update({"type": "tel", "autocomplete": "off"})

    def _post_clean(self) -> None:
        # The action validates the model (and says which field); skip ModelForm's own
        # instance validation so messages are not given twice.
        pass


class WorkshopForm(VersionedFormMixin, forms.ModelForm):
    """Everything about a workshop on one page, with group rows named g1-…, g2-…"""

    topics = ModelMultipleChoiceField(
        queryset=WorkshopTopic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one topic."},
    )
    facilitators = ModelMultipleChoiceField(
        queryset=facilitators().none(),
        widget=forms.CheckboxSelectMultiple,
        label="Who ran it",
        error_messages={"required": "Choose who ran the workshop."},
    )
    teacher_rating = forms.TypedChoiceField(
        label="Teacher's rating",
        choices=[("", "Not given")] + [(str(i), str(i)) for i in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="1 = poor, 5 = excellent.",
    )

    class Meta:
        model = Workshop
        fields = [
            "held_on", "venue", "topics", "facilitators", "duration_minutes",
            "repeat_group", "teacher_rating", "teacher_comment",
        ]  # fmt: skip
        widgets = {
            "held_on": DateInput(),
            "teacher_comment": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, actor: Any, add_row: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        workshop = self.instance if self.instance.pk else None
        venues = Venue.objects.filter(active=True)
        topics = WorkshopTopic.objects.filter(active=True)
        people = facilitators()
        if workshop is not None:  # keep what it already has, even retired
            venues = Venue.objects.filter(pk=workshop.venue_id) | venues
            topics = workshop.topics.all() | topics
            people = workshop.facilitators.all() | people
        else:
            self.fields["held_on"].initial = timezone.localdate()
            self.fields["facilitators"].initial = [actor.pk]
            self.fields["duration_minutes"].initial = 60
        self.fields["venue"].queryset = venues.distinct().order_by("name")
        self.fields["venue"].empty_label = "Choose the school or venue"
        self.fields["topics"].queryset = topics.distinct().order_by("order", "name")
        self.fields["facilitators"].queryset = people.distinct().order_by("first_name")
        self.fields["facilitators"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["duration_minutes"].widget.attrs.update({"inputmode": "numeric"})
        self.fields["duration_minutes"].min_value = None
        self.fields["duration_minutes"].validators = []
        saved = list(workshop.groups.all()) if workshop is not None else []
        wanted = len(saved) + SPARE_GROUP_ROWS if saved else NEW_GROUP_ROWS
        self.row_count = min(self._rows_wanted(wanted) + add_row, MAX_GROUP_ROWS)
        choices = [("", "Choose")] + list(YearGroup.choices)
        for number in range(1, self.row_count + 1):
            group = saved[number - 1] if number <= len(saved) else None
            self.fields[f"g{number}-year_group"] = forms.ChoiceField(
                label=f"Row {number}: year group", choices=choices, required=False,
                initial=group.year_group if group else "",
            )  # fmt: skip
            for name in GROUP_COUNTS:
                label = {"girls": "girls", "boys": "boys", "other": "other or not recorded"}
                self.fields[f"g{number}-{name}"] = CountField(
                    label=f"Row {number}: {label[name]}",
                    initial=getattr(group, name) if group else None,
                )

    def _rows_wanted(self, default: int) -> int:
        """As many rows as the POST carried (the page may have added some), or the default."""
        if not self.is_bound:
            return default
        numbers = [
            int(key[1:].split("-", 1)[0])
            for key in self.data
            if key.startswith("g") and "-" in key and key[1:].split("-", 1)[0].isdecimal()
        ]
        return min(max([default, *numbers]), MAX_GROUP_ROWS)

    def _post_clean(self) -> None:
        pass  # the action validates (see VenueForm)

    def without_errors(self) -> None:
        """Show what was typed with no error messages: "Add another row" is not a save."""
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def group_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"g{n}-{name}"] for name in ("year_group", *GROUP_COUNTS)]
            for n in range(1, self.row_count + 1)
        ]

    def other_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in self.fields
            if not name.startswith("g") or not name[1:2].isdecimal()
        ]

    def groups(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {"row": n, **{f: data.get(f"g{n}-{f}") for f in ("year_group", *GROUP_COUNTS)}}
            for n in range(1, self.row_count + 1)
        ]

    def workshop_data(self) -> dict[str, Any]:
        from .actions import WORKSHOP_FIELDS

        return {name: self.cleaned_data[name] for name in WORKSHOP_FIELDS}


class SurveyCountsForm(forms.Form):
    """Four counts per question; a question left blank was not asked."""

    def __init__(self, *args: Any, workshop: Workshop, **kwargs: Any):
        super().__init__(*args, **kwargs)
        results = {r.question_id: r for r in workshop.survey_results.select_related("question")}
        topic_ids = set(workshop.topics.values_list("pk", flat=True))
        asked = SurveyQuestion.objects.filter(active=True).select_related("topic")
        questions = [q for q in asked if q.topic_id is None or q.topic_id in topic_ids]
        questions += [r.question for r in results.values() if r.question not in questions]
        self.questions = sorted(questions, key=lambda q: (q.order, q.pk))
        for question in self.questions:
            result = results.get(question.pk)
            for name in COUNT_FIELDS:
                self.fields[f"q{question.pk}-{name}"] = CountField(
                    label=f"{COUNT_LABELS[name].capitalize()}",
                    initial=getattr(result, name) if result else None,
                )

    def rows(self) -> dict[int, dict[str, Any]]:
        return {
            q.pk: {name: self.cleaned_data.get(f"q{q.pk}-{name}") for name in COUNT_FIELDS}
            for q in self.questions
        }

    def question_rows(self) -> list[tuple[SurveyQuestion, list[forms.BoundField]]]:
        return [(q, [self[f"q{q.pk}-{name}"] for name in COUNT_FIELDS]) for q in self.questions]


class SurveyResponseForm(forms.Form):
    stage = forms.ChoiceField(
        label="When was this sheet filled in?",
        choices=SurveyStage.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, workshop: Workshop, **kwargs: Any):
        super().__init__(*args, **kwargs)
        topic_ids = set(workshop.topics.values_list("pk", flat=True))
        self.questions = [
            q
            for q in SurveyQuestion.objects.filter(active=True)
            if q.topic_id is None or q.topic_id in topic_ids
        ]
        for question in self.questions:
            self.fields[f"q{question.pk}"] = forms.ChoiceField(
                label=question.text,
                choices=SurveyAnswer.choices,
                widget=forms.RadioSelect,
                initial=SurveyAnswer.SKIP,
                required=False,
            )

    def answers(self) -> dict[int, str]:
        return {q.pk: self.cleaned_data.get(f"q{q.pk}") or "skip" for q in self.questions}


class TopicForm(forms.ModelForm):
    class Meta:
        model = WorkshopTopic
        fields = ["name", "active", "order"]

    def _post_clean(self) -> None:
        pass


class QuestionForm(forms.ModelForm):
    topic = forms.ModelChoiceField(
        queryset=WorkshopTopic.objects.all(),
        required=False,
        empty_label="Every workshop",
        help_text="Ask it only at workshops on this topic, or at every workshop.",
    )

    class Meta:
        model = SurveyQuestion
        fields = ["text", "topic", "active", "order"]
        help_texts = {"text": "A yes/no statement, e.g. “I know who to tell if I am worried.”"}

    def _post_clean(self) -> None:
        pass


def academic_year_choices(around: int | None = None) -> list[tuple[int, str]]:
    current = academic_year_of(timezone.localdate())
    years = range(min(current - 5, around or current), current + 2)
    return [(y, academic_year_label(y)) for y in reversed(years)]


class ReachTargetForm(forms.Form):
    academic_year = forms.TypedChoiceField(choices=(), coerce=int, label="Academic year")
    target = forms.IntegerField(
        label="Children to reach", min_value=1, max_value=10_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["academic_year"].choices = academic_year_choices()
        self.fields["academic_year"].initial = academic_year_of(timezone.localdate())
        existing = ReachTarget.objects.filter(
            academic_year=self.fields["academic_year"].initial
        ).first()
        if existing:
            self.fields["target"].initial = existing.target
