"""The safeguarding panel on a person's page (people/person_detail.html): the concerns
this user may read, only the number of those they may not, and the links to raise a
concern and read the chronology. A tag, so the people app's view need not know it."""

from __future__ import annotations

from typing import Any

from django import template

from throughgate.casework.safeguarding import hidden_concern_count, safeguarding_leads
from throughgate.casework.safeguarding_models import SafeguardingConcern, leads_safeguarding

register = template.Library()


@register.inclusion_tag("casework/safeguarding_panel.html", takes_context=True)
def safeguarding_panel(context: Any, person: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "person": person,
        "concerns": SafeguardingConcern.objects.visible_to(user)
        .filter(person=person)
        .select_related("raised_by")
        .order_by("-raised_at")[:10],
        "hidden": hidden_concern_count(user, person),
        "leads": safeguarding_leads(),
        "full": leads_safeguarding(user),
    }
