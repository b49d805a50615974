"""The workshop topics and survey questions a new installation starts with.

Both are data the manager changes afterwards (add, rename, retire). The data migration
calls `seed_defaults` with its historical models; tests whose database is flushed
between tests (the browser tests' live server) call it with the real ones."""

from __future__ import annotations

from typing import Any

TOPICS = [
    "County lines",
    "Knife crime",
    "Exploitation and grooming",
    "Online safety",
    "Gangs and violence",
    "Healthy relationships",
]
# (question, topic it belongs to or None for every workshop)
QUESTIONS = [
    ("I know who to tell if I am worried about myself or a friend.", None),
    ("I can name signs that someone is being exploited.", "Exploitation and grooming"),
    ("I can name signs that someone is being exploited.", "County lines"),
    ("I know that carrying a knife makes me less safe.", "Knife crime"),
    ("I know what county lines means.", "County lines"),
    ("I know how to keep myself safe online.", "Online safety"),
    ("I know what a healthy relationship looks like.", "Healthy relationships"),
]


def seed_defaults(Topic: Any, Question: Any) -> None:  # noqa: N803 - model classes
    topics = {}
    for order, name in enumerate(TOPICS, start=1):
        topics[name], _ = Topic.objects.get_or_create(name=name, defaults={"order": order})
    seen = set()
    for order, (text, topic) in enumerate(QUESTIONS, start=1):
        if text in seen:  # one question, one row: asked at every related topic's workshop
            continue
        seen.add(text)
        # A question about exploitation fits several topics; it is asked everywhere.
        shared = sum(1 for t, _ in QUESTIONS if t == text) > 1
        Question.objects.get_or_create(
            text=text,
            defaults={"order": order, "topic": None if shared or topic is None else topics[topic]},
        )
