from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from throughgate.core import audit
from throughgate.core.models import AuditAction
from throughgate.people.models import Person

from .models import CustodyEpisode, Establishment


@transaction.atomic
def start_custody_episode(
    actor: Any,
    person: Person,
    establishment: Establishment,
    received_on: date,
    expected_release_date: date | None = None,
) -> CustodyEpisode:
    episode = CustodyEpisode(
        person=person,
        establishment=establishment,
        received_on=received_on,
        expected_release_date=expected_release_date,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    episode.full_clean()
    episode.save()
    audit.record(
        actor,
        AuditAction.CREATE,
        episode,
        fields=["establishment", "received_on", "expected_release_date"],
    )
    return episode


@transaction.atomic
def record_release(actor: Any, episode: CustodyEpisode, released_on: date) -> CustodyEpisode:
    episode.released_on = released_on
    episode.full_clean()
    episode.save(update_fields=["released_on", "updated_at"])
    audit.record(actor, AuditAction.UPDATE, episode, fields=["released_on"])
    return episode
