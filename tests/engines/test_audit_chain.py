"""The audit hash chain on its own: canonical form, hashing, and what verify catches."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from throughgate.engines.audit_chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    canonical_bytes,
    event_hash,
    format_at,
    verify,
)

START = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def make_event(seq: int, **changes: Any) -> dict[str, Any]:
    event = {
        "id": 1000 + seq,
        "seq": seq,
        "at": START + timedelta(minutes=seq),
        "actor_id": 7,
        "actor_username": "cara",
        "action": "update",
        "object_type": "casework.case",
        "object_id": str(seq),
        "person_id": 42,
        "fields": ["mentor", "phase"],
        "summary": f"phase: community ({seq})",
        "ip_address": "192.0.2.10",
        "path": f"/cases/{seq}/",
    }
    event.update(changes)
    return event


def seal(event: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    """What core.audit.append does: link the event and hash it."""
    return {**event, "prev_hash": prev_hash, "hash": event_hash(event, prev_hash)}


def make_chain(n: int) -> list[dict[str, Any]]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        events.append(seal(make_event(seq), prev))
        prev = events[-1]["hash"]
    return events


def rehash_from(events: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """An attacker with write access recomputes every hash from `index` on."""
    out = events[:index]
    prev = out[-1]["hash"] if out else GENESIS_HASH
    for event in events[index:]:
        out.append(seal(event, prev))
        prev = out[-1]["hash"]
    return out


# --- canonical form and hashing -------------------------------------------------------


def test_canonical_form_is_sorted_compact_utf8_json_with_the_previous_hash():
    event = make_event(3, actor_username="zoë", fields=["phase"], summary="", person_id=None)
    assert (
        canonical_bytes(event, GENESIS_HASH)
        == (
            '{"action":"update","actor_id":7,"actor_username":"zoë",'
            '"at":"2025-03-01T09:33:00.000000Z","fields":["phase"],"ip_address":"192.0.2.10",'
            '"object_id":"3","object_type":"casework.case","path":"/cases/3/","person_id":null,'
            f'"prev_hash":"{GENESIS_HASH}","seq":3,"summary":""}}'
        ).encode()
    )
    assert b'"zo\xc3\xab"' in canonical_bytes(event, GENESIS_HASH)  # UTF-8, not \u00eb


def test_hash_is_hex_sha256_of_the_canonical_bytes():
    event = make_event(1)
    digest = event_hash(event, GENESIS_HASH)
    assert digest == hashlib.sha256(canonical_bytes(event, GENESIS_HASH)).hexdigest()
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_hash_depends_on_the_previous_hash_and_not_on_the_database_id():
    event = make_event(1)
    assert event_hash(event, GENESIS_HASH) != event_hash(event, "f" * 64)
    assert event_hash(event, GENESIS_HASH) == event_hash({**event, "id": 99}, GENESIS_HASH)


def test_one_instant_has_one_spelling_whatever_the_zone():
    london_summer = timezone(timedelta(hours=1))
    same_instant = START.astimezone(london_summer)
    assert format_at(same_instant) == format_at(START) == "2025-03-01T09:30:00.000000Z"
    assert event_hash(make_event(1, at=same_instant), GENESIS_HASH) == event_hash(
        make_event(1, at=START), GENESIS_HASH
    )


def test_a_time_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        canonical_bytes(make_event(1, at=datetime(2025, 3, 1, 9, 30)), GENESIS_HASH)


def test_every_hashed_field_changes_the_hash():
    event = make_event(5)
    base = event_hash(event, GENESIS_HASH)
    other = {"seq": 6, "at": START, "actor_id": 8, "actor_username": "ade", "action": "view",
             "object_type": "people.person", "object_id": "6", "person_id": 43,
             "fields": ["phase"], "summary": "x", "ip_address": None, "path": "/"}  # fmt: skip
    assert set(other) == set(HASHED_FIELDS)
    for name, value in other.items():
        assert event_hash({**event, name: value}, GENESIS_HASH) != base, name


# --- verify: sound chains ---------------------------------------------------------------


def test_an_empty_chain_is_intact():
    report = verify([])
    assert report.ok and report.checked == 0
    assert report.last_seq is None and report.last_hash == GENESIS_HASH


def test_the_first_event_chains_to_the_genesis_hash():
    chain = make_chain(3)
    assert chain[0]["prev_hash"] == GENESIS_HASH == "0" * 64
    report = verify(chain)
    assert report.ok and report.checked == 3
    assert report.last_seq == 3 and report.last_hash == chain[-1]["hash"]


def test_a_first_event_that_does_not_start_from_genesis_is_caught():
    chain = [seal(make_event(1), "a" * 64)]
    report = verify(chain)
    assert report.problem.kind == "inserted" and report.problem.seq == 1
    assert report.problem.message == (
        "event 1001 (seq 1) does not follow the start of the chain: it was inserted, "
        "or the events before it were rewritten"
    )


def test_verify_accepts_any_iterable_once():
    assert verify(iter(make_chain(4))).checked == 4


# --- verify: tampering ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("summary", "nothing to see"),
        ("actor_username", "kim"),
        ("fields", ["phase"]),
        ("at", START + timedelta(days=1)),
        ("ip_address", "198.51.100.7"),
        ("person_id", 41),
    ],
)
def test_an_edited_event_is_named(name, value):
    chain = make_chain(5)
    chain[2] = {**chain[2], name: value}
    report = verify(chain)
    assert not report.ok
    assert report.problem.kind == "changed" and report.problem.seq == 3
    assert report.problem.event_id == 1003
    assert report.problem.message == "event 1003 (seq 3) was changed after it was written"
    assert report.checked == 2 and report.last_seq == 2


def test_a_cleared_actor_suggests_a_deleted_account():
    chain = make_chain(2)
    chain[1] = {**chain[1], "actor_id": None}
    message = verify(chain).problem.message
    assert message.startswith("event 1002 (seq 2) was changed after it was written")
    assert "'cara' deleted?" in message


def test_a_deleted_event_leaves_a_gap():
    chain = make_chain(5)
    del chain[2]
    report = verify(chain)
    assert report.problem.kind == "missing" and report.problem.seq == 4
    assert report.problem.message == "events after seq 2 are missing: the next is seq 4"


def test_deleting_the_first_events_is_caught():
    report = verify(make_chain(5)[2:])
    assert report.problem.kind == "missing"
    assert report.problem.message == "events before seq 3 are missing: the chain starts at seq 3"


def test_deleting_the_newest_events_needs_an_anchor():
    chain = make_chain(5)
    assert verify(chain[:3]).ok  # nothing inside the chain shows it
    report = verify(chain[:3], anchors={5: chain[4]["hash"]})
    assert report.problem.kind == "missing"
    assert report.problem.message == (
        "the chain ends at seq 3, before the expected seq 5: the newest events were deleted"
    )


def test_a_forged_event_with_a_recomputed_hash_but_the_wrong_link_is_caught():
    chain = make_chain(4)
    forged = seal(make_event(5, id=666, summary="forged"), "b" * 64)
    assert forged["hash"] == event_hash(forged, forged["prev_hash"])  # its own hash is right
    report = verify([*chain, forged])
    assert report.problem.kind == "inserted" and report.problem.event_id == 666
    assert report.problem.message == (
        "event 666 (seq 5) does not follow seq 4: it was inserted, "
        "or the events before it were rewritten"
    )


def test_a_forged_event_slipped_into_the_middle_is_caught():
    chain = make_chain(4)
    forged = seal(make_event(3, id=666), chain[1]["hash"])  # links correctly to seq 2
    report = verify([*chain[:2], forged, *chain[2:]])
    assert report.problem.kind == "inserted" and report.problem.seq == 3
    assert report.problem.message == (
        "seq 3 appears twice: event 1003 (seq 3) was inserted, or its twin was"
    )


def test_renumbering_to_make_room_for_a_forged_event_is_caught():
    chain = make_chain(4)
    forged = seal(make_event(3, id=666), chain[1]["hash"])
    shifted = [{**e, "seq": e["seq"] + 1} for e in chain[2:]]
    report = verify([*chain[:2], forged, *shifted])
    assert report.problem.kind == "changed" and report.problem.seq == 4


def test_two_swapped_events_are_caught():
    chain = make_chain(5)
    chain[1], chain[2] = chain[2], chain[1]
    report = verify(chain)
    assert not report.ok and report.problem.seq == 3
    assert report.problem.message == "events after seq 1 are missing: the next is seq 3"


def test_two_swapped_and_renumbered_events_are_caught():
    chain = make_chain(5)
    chain[1], chain[2] = {**chain[2], "seq": 2}, {**chain[1], "seq": 3}
    report = verify(chain)
    assert report.problem.kind == "changed" and report.problem.seq == 2


def test_two_swapped_events_with_rewritten_hashes_break_the_link_after_them():
    chain = make_chain(5)
    swapped = [chain[0], {**chain[2], "seq": 2}, {**chain[1], "seq": 3}]
    forged = rehash_from(swapped, 1)
    report = verify([*forged, *chain[3:]])
    assert report.problem.kind == "inserted" and report.problem.seq == 4
    assert report.problem.message.startswith("event 1004 (seq 4) does not follow seq 3")


def test_an_out_of_order_walk_is_reported():
    chain = make_chain(5)
    report = verify([*chain[:4], chain[1]])
    assert report.problem.kind == "inserted"
    assert report.problem.message == (
        "event 1002 (seq 2) is out of place after seq 4: events were inserted or reordered"
    )


# --- what the chain cannot see, and the anchor that can ---------------------------------------


def test_a_rewrite_of_everything_after_an_edit_passes_without_an_anchor_and_fails_with_one():
    chain = make_chain(6)
    anchor_seq, anchor_hash = 6, chain[-1]["hash"]  # printed by verify and kept elsewhere
    chain[2] = {**chain[2], "summary": "nothing to see"}
    rewritten = rehash_from(chain, 2)
    assert verify(rewritten).ok
    report = verify(rewritten, anchors={anchor_seq: anchor_hash})
    assert report.problem.kind == "anchor" and report.problem.seq == 6
    assert report.problem.message == (
        f"event 1006 (seq 6) has hash {rewritten[-1]['hash']}, not the expected "
        f"{anchor_hash}: the chain was rewritten at or before seq 6"
    )


def test_a_kept_anchor_still_matches_a_sound_chain():
    chain = make_chain(6)
    assert verify(chain, anchors={4: chain[3]["hash"]}).ok


def test_an_empty_chain_cannot_reach_an_anchor():
    report = verify([], anchors={1: "c" * 64})
    assert report.problem.message.startswith("the chain is empty, before the expected seq 1")


# --- checking from the middle ---------------------------------------------------------------


def test_checking_from_the_middle_with_the_hash_before_it():
    chain = make_chain(6)
    report = verify(chain[3:], start_seq=4, prev_hash=chain[2]["hash"])
    assert report.ok and report.checked == 3 and report.last_seq == 6


def test_checking_from_the_middle_trusting_the_first_link():
    chain = make_chain(6)
    assert verify(chain[3:], start_seq=4, prev_hash=None).ok
    report = verify(chain[4:], start_seq=4, prev_hash=None)
    assert report.problem.message == "events after seq 3 are missing: the next is seq 5"
