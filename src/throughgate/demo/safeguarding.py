"""Demo safeguarding work and exploitation risk checks, through the safeguarding actions.

`set_up_safeguarding(seeder)` runs after the casework is built (it needs open cases):

- a dozen safeguarding concerns across the custody and prevention programmes, raised by
  mentors, prevention workers and the coordinator: one fresh in Sam's queue, one left
  untriaged for more than 24 hours (so the overdue panel shows on Sam's and Ade's home
  pages), the rest triaged with rationales and actions; MASH referrals with and without
  outcomes; NRM referrals (via the local authority) at each stage of the decisions;
  some closed with an outcome;
- on every open 1:1 prevention case, two to four dated risk checks whose indicators
  drift up or down, so the grid on the case page shows a trend.

The actions stamp the time they run; rows are re-dated afterwards to when the work was
done (as the main seeder does), always in the past and in order.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from throughgate.casework import safeguarding
from throughgate.casework.models import (
    Case,
    ConcernDecision,
    ProgrammeKind,
    RiskIndicator,
    SafeguardingConcern,
)

# (worker whose case it is, who raises it, days ago raised, category, at risk, name,
#  what was seen, what was done, what happens next). Next: "waiting", "overdue", or a
# triage decision followed by what is recorded: "mash", "mash_outcome", "nrm_rg",
# "nrm_cg", "closed".
CONCERNS: list[tuple[str, str, float, str, str, str, str, str, tuple[str, ...]]] = [
    ("mo", "mo", 0.12, "county_lines", "young_person", "",
     "Said older lads have been 'looking after' him and he owes them for a phone. Nervous "
     "when his phone rang twice during our meeting.",
     "Talked it through with him; he knows I'm telling Sam.", ("waiting",)),
    ("pat", "pat", 1.3, "exploitation", "young_person", "",
     "Missed school three days running; came back with new trainers and £150 cash he "
     "wouldn't explain. Mum says he was out until 3am on Saturday.",
     "Spoke to the school DSL; arranged to see him again on Friday.", ("overdue",)),
    ("kim", "kim", 40, "domestic_abuse", "other_child", "Leah (sister, 9)",
     "Heard shouting and something breaking during a video call; his sister was crying "
     "in the background.",
     "Asked if everyone was safe; he said yes. Called Sam straight after.",
     ("early_help", "actions", "closed")),
    ("pat", "pat", 55, "county_lines", "young_person", "",
     "Found in Southend by British Transport Police with another boy from the estate; "
     "had £400 and two phones.",
     "Met him at the police station with his mum.",
     ("refer_mash", "mash_outcome", "nrm_rg", "actions")),
    ("nadia", "nadia", 120, "county_lines", "young_person", "",
     "Going missing for two or three days at a time; seen getting into cars near the "
     "school; talks about 'working' in Norfolk.",
     "Reported missing episodes to the police; told his social worker.",
     ("nrm", "mash_outcome", "nrm_cg", "actions", "closed")),
    ("mo", "mo", 14, "self_harm", "young_person", "",
     "Showed fresh cuts on his forearm; said he 'just needed to feel something' since "
     "his nan died.",
     "Stayed with him, went with him to the GP the same afternoon.",
     ("monitor", "actions")),
    ("tunde", "cara", 9, "missing", "young_person", "",
     "Hostel says he has not been back for two nights; phone off; licence appointment "
     "missed.",
     "Rang his probation officer and his mum.", ("refer_police", "actions")),
    ("pat", "pat", 24, "sexual_exploitation", "young_person", "",
     "Told me an older man she met online buys her things and wants her to meet his "
     "friends.",
     "Reassured her she'd done the right thing telling me.", ("refer_mash", "mash")),
    ("shanice", "shanice", 70, "neglect", "young_person", "",
     "No food in the flat and electric meter empty when I visited.",
     "Got a food bank voucher and topped up the meter from the hardship fund.",
     ("no_further_action", "closed")),
    ("kim", "kim", 30, "radicalisation", "young_person", "",
     "Sharing videos from an extremist channel on his phone and repeating its lines.",
     "Challenged it calmly and asked where he'd seen them.", ("other", "actions")),
]  # fmt: skip

ACTIONS = [
    "Spoke to the school's designated safeguarding lead.",
    "Discussed at the weekly safeguarding meeting.",
    "Phoned the young person's parent to agree a safety plan.",
    "Shared the concern with the allocated social worker.",
    "Checked in with the young person by phone; said he felt safer.",
]
MASH_AUTHORITIES = ["Lambeth", "Southwark", "Croydon", "Newham", "Hackney"]


def _moment(seeder: Any, day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, seeder.pick([0, 15, 30, 45]))))


PREVENTION_WORKERS = {"pat", "nadia"}


def _case_of(username: str, seeder: Any, taken: set[int]) -> Case | None:
    """The worker's oldest open case not used yet; on a small demo where they have none
    left, another open case on the same programme."""
    cases = Case.objects.open().exclude(person_id__in=taken).select_related("person", "mentor")
    kind = ProgrammeKind.PREVENTION if username in PREVENTION_WORKERS else ProgrammeKind.CUSTODY
    user = seeder.users.get(username)
    mine = cases.filter(mentor=user).order_by("opened_on", "id").first() if user else None
    return mine or (
        cases.filter(programme__kind=kind, mentor__isnull=False).order_by("opened_on", "id").first()
    )


def set_up_safeguarding(seeder: Any) -> None:
    sam, now = seeder.users["sam"], timezone.now()
    taken: set[int] = set()
    for worker, raiser, days_ago, category, at_risk, name, seen, done, steps in CONCERNS:
        case = _case_of(worker, seeder, taken)
        if case is None:
            continue
        taken.add(case.person_id)
        # Never before the case opened: shorten the story to fit a newer case.
        days_ago = min(days_ago, (seeder.today - case.opened_on).days)
        raised_at = now - timedelta(days=days_ago)
        observed_at = raised_at - timedelta(hours=seeder.rng.randint(1, 5))
        # A worker raises concerns about their own caseload (the coordinator, any).
        by = seeder.users[raiser] if raiser == "cara" or case.mentor is None else case.mentor
        concern = safeguarding.raise_concern(by, case.person, {
            "observed_at": observed_at, "what_happened": seen, "at_risk": at_risk,
            "at_risk_name": name, "category": category, "immediate_action": done,
            "immediate_danger": False,
        })  # fmt: skip
        SafeguardingConcern.objects.filter(pk=concern.pk).update(raised_at=raised_at)
        if steps[0] in ("waiting", "overdue"):
            continue
        _work_on(seeder, sam, concern, raised_at, steps)
    _risk_checks(seeder)


def _work_on(
    seeder: Any, sam: Any, concern: SafeguardingConcern, raised_at: datetime, steps: tuple
) -> None:
    now, today = timezone.now(), seeder.today
    # Triage within the day: 2 to 20 hours after raising (never later than now).
    triaged_at = min(raised_at + timedelta(hours=seeder.rng.randint(2, 20)), now)
    decision = steps[0]
    safeguarding.triage_concern(sam, concern, decision, _rationale(decision))
    ConcernDecision.objects.filter(concern=concern).update(decided_at=triaged_at)
    SafeguardingConcern.objects.filter(pk=concern.pk).update(triaged_at=triaged_at)
    triage_day = timezone.localtime(triaged_at).date()
    span = (today - triage_day).days
    if decision in ("refer_mash", "nrm") or "mash" in steps or "mash_outcome" in steps:
        data: dict[str, Any] = {
            "referred_on": triage_day, "local_authority": seeder.pick(MASH_AUTHORITIES),
            "reference": f"MASH-{seeder.rng.randint(10000, 99999)}",
        }  # fmt: skip
        if "mash_outcome" in steps and span >= 3:
            data.update(outcome=seeder.pick(["section_47", "child_in_need", "early_help"]),
                        outcome_on=triage_day + timedelta(days=min(span, 7)))  # fmt: skip
        safeguarding.record_mash_referral(sam, concern, data)
    if decision == "nrm" or "nrm_rg" in steps or "nrm_cg" in steps:
        referred = triage_day + timedelta(days=min(span, 2))
        left = (today - referred).days
        data = {
            "referred_on": referred,
            "first_responder": f"{seeder.pick(MASH_AUTHORITIES)} Children's Services",
            "reference": f"NRM-{seeder.rng.randint(100000, 999999)}",
        }
        if left >= 5:
            data.update(reasonable_grounds="positive",
                        reasonable_grounds_on=referred + timedelta(days=5))  # fmt: skip
            if "nrm_cg" in steps and left >= 60:
                concluded = referred + timedelta(days=min(left, 90))
                data.update(conclusive_grounds="positive", conclusive_grounds_on=concluded)
        safeguarding.record_nrm_referral(sam, concern, data)
    if "actions" in steps:
        for offset in sorted(seeder.rng.sample(range(0, max(span, 0) + 1), min(span + 1, 3))):
            safeguarding.add_concern_action(sam, concern, {
                "taken_on": triage_day + timedelta(days=offset),
                "description": seeder.pick(ACTIONS), "taken_by": str(sam),
            })  # fmt: skip
    if "closed" in steps:
        safeguarding.close_concern(
            sam, concern, "Support in place and no new concerns for a month; closed."
        )
        closed_at = min(triaged_at + timedelta(days=max(span - 1, 0)), now)
        SafeguardingConcern.objects.filter(pk=concern.pk).update(closed_at=closed_at)


def _rationale(decision: str) -> str:
    return {
        "no_further_action": "Practical need, now met; no harm or risk of harm identified.",
        "monitor": "Risk known and managed with the family; mentor to check in twice a week.",
        "early_help": "Family agrees to an early help assessment; no immediate risk.",
        "refer_mash": "Indicators of exploitation; threshold for children's social care met.",
        "refer_police": "Missing and at risk: reported to the police as a missing person.",
        "nrm": "Clear indicators of criminal exploitation; asked the local authority to refer "
        "to the NRM as first responder.",
        "other": "Prevent: discussed with the local authority Prevent lead (Channel).",
    }.get(decision, "Decision recorded.")


def _risk_checks(seeder: Any) -> None:
    indicators = list(RiskIndicator.objects.filter(active=True))
    cases = (
        Case.objects.open()
        .filter(programme__kind=ProgrammeKind.PREVENTION)
        .select_related("mentor")
        .order_by("opened_on", "id")
    )
    for case in cases:
        actor = case.mentor or seeder.users["pat"]
        days_open = (seeder.today - case.opened_on).days
        count = min(seeder.rng.randint(2, 4), days_open // 14 + 1)
        present = set(seeder.rng.sample(indicators, seeder.rng.randint(1, 5)))
        rising = seeder.chance(0.35)
        for n in range(count):
            day = case.opened_on + timedelta(days=min(days_open, 3 + n * 14))
            if n:
                if rising:
                    present.add(seeder.pick(indicators))
                elif present and seeder.chance(0.7):
                    present.discard(seeder.pick(sorted(present, key=lambda i: i.position)))
            notes = "Reviewed with the young person and their parent." if n == 0 else ""
            safeguarding.record_risk_check(actor, case, day, sorted(present, key=lambda i: i.pk),
                                           notes)  # fmt: skip
