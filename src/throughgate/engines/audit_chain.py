"""The audit trail's hash chain: canonical form, hashing and verification. No Django.

Every audit event carries a sequence number (1, 2, 3 … with no gaps), the hash of
the event before it (`prev_hash`; the first event links to `GENESIS_HASH`) and its
own `hash`: SHA-256 over the canonical JSON of its content *and* `prev_hash`. Each
hash therefore vouches for everything before it, so an edited, deleted, inserted
or reordered event breaks the chain at that point, and `verify` says where.

Events are plain mappings with the keys in `HASHED_FIELDS` plus `id` (only used to
name an event in messages), `prev_hash` and `hash`. `at` is an aware datetime.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# Everything an event says, in the model's terms (`actor_id` is the actor's key).
# The database `id` is not hashed: `seq` is the event's place in the chain.
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "fields",
    "summary",
    "ip_address",
    "path",
)


def format_at(at: datetime) -> str:
    """ISO-8601 in UTC with microseconds always written, so one instant has one spelling."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"audit time {at!r} has no time zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(event: Mapping[str, Any], prev_hash: str) -> bytes:
    """The bytes that are hashed: JSON with sorted keys, no whitespace, UTF-8."""
    content = {name: event[name] for name in HASHED_FIELDS}
    content["at"] = format_at(content["at"])
    content["prev_hash"] = prev_hash
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def event_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    """Hex SHA-256 of the event's content chained to the previous event's hash."""
    return hashlib.sha256(canonical_bytes(event, prev_hash)).hexdigest()


@dataclass(frozen=True)
class Problem:
    """The first place the chain is broken.

    kind: "changed" (content no longer matches its hash), "missing" (a gap in seq, or
    the chain ends before an anchor), "inserted" (does not link to the event before,
    or a seq out of order / repeated), "anchor" (a hash differs from one kept elsewhere).
    """

    kind: str
    seq: int | None
    event_id: Any
    message: str


@dataclass(frozen=True)
class Report:
    checked: int  # events checked and found sound (up to the problem, if any)
    last_seq: int | None  # of the last sound event
    last_hash: str  # of the last sound event (the starting hash if none)
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(
    events: Iterable[Mapping[str, Any]],
    *,
    start_seq: int = 1,
    prev_hash: str | None = GENESIS_HASH,
    anchors: Mapping[int, str] | None = None,
) -> Report:
    """Walk `events` in the order given (which must be seq order) and report the first
    problem, or none.

    `start_seq`/`prev_hash` say where the walk begins: by default the whole chain, from
    seq 1 and the genesis hash. `prev_hash=None` trusts the first event's own link (for
    checking from the middle). `anchors` maps seq → a hash recorded earlier somewhere
    else; an event at that seq must still have it, and the chain must reach it.
    """
    anchors_given = dict(anchors or {})
    anchors = dict(anchors_given)
    expected_seq, prev, checked, last_seq = start_seq, prev_hash, 0, None

    def report(kind: str, seq: int | None, event_id: Any, message: str) -> Report:
        last = prev if prev is not None else ""
        return Report(checked, last_seq, last, Problem(kind, seq, event_id, message))

    for event in events:
        seq, event_id = event["seq"], event.get("id")
        name = f"event {event_id} (seq {seq})"
        if seq is None or seq < expected_seq:
            if seq == expected_seq - 1:
                why = f"seq {seq} appears twice: {name} was inserted, or its twin was"
            else:
                why = f"{name} is out of place after seq {expected_seq - 1}: events were "
                why += "inserted or reordered"
            return report("inserted", seq, event_id, why)
        if seq > expected_seq:
            if checked == 0 and start_seq == 1:
                why = f"events before seq {seq} are missing: the chain starts at seq {seq}"
            else:
                why = f"events after seq {expected_seq - 1} are missing: the next is seq {seq}"
            return report("missing", seq, event_id, why)
        if event_hash(event, event["prev_hash"]) != event["hash"]:
            why = f"{name} was changed after it was written"
            if event["actor_id"] is None and event["actor_username"]:
                # on_delete=SET_NULL: deleting a user account rewrites its events' actor.
                why += (
                    f" (its actor is empty: was the account {event['actor_username']!r} deleted?)"
                )
            return report("changed", seq, event_id, why)
        if prev is not None and event["prev_hash"] != prev:
            after = f"seq {seq - 1}" if seq > 1 else "the start of the chain"
            why = f"{name} does not follow {after}: it was inserted, or the events before it "
            why += "were rewritten"
            return report("inserted", seq, event_id, why)
        if seq in anchors and anchors.pop(seq) != event["hash"]:
            why = f"{name} has hash {event['hash']}, not the expected {anchors_given[seq]}: "
            why += f"the chain was rewritten at or before seq {seq}"
            return report("anchor", seq, event_id, why)
        prev, expected_seq, last_seq = event["hash"], seq + 1, seq
        checked += 1

    for seq in sorted(anchors):
        if seq >= expected_seq:
            end = f"ends at seq {last_seq}" if last_seq is not None else "is empty"
            why = f"the chain {end}, before the expected seq {seq}: the newest events were deleted"
            return report("missing", seq, None, why)
    return Report(checked, last_seq, prev if prev is not None else "")
