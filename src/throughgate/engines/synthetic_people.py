"""A labelled synthetic set of person records for measuring duplicate linkage.

Pure computation, no Django. `labelled_set(n)` invents n distinct people and then
plants second records of some of them, the way duplicates arise in referrals and old
spreadsheets, and look-alikes that are *not* the same person:

Planted duplicates (the truth the linkage should find), by kind:
- "spelling": "Jon Smyth" for "John Smith": a misspelt first or last name, same DOB;
- "alias": the second record is under a name the first record holds as an alias;
- "transposed_dob": day and month swapped in the date of birth (12/03 for 03/12);
- "dob_typo": one digit of the date of birth wrong, same name;
- "moved": same name and date of birth, a new postcode and no identifiers.

Look-alikes that are different people (the linkage should leave them alone):
- twins: same last name, date of birth and postcode, different first names;
- namesakes: a common name shared with someone born the same year.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .record_linkage import PersonRecord

FORENAMES = (
    "Aaron Abdul Adam Adrian Ahmed Aidan Ali Amir Andre Anthony Ashley Bailey Ben Bilal "
    "Blessing Bradley Brandon Callum Cameron Charlie Chidi Connor Curtis Daniel Danny "
    "Darnell David Dean Declan Demetri Dwayne Elijah Ellis Emmanuel Ethan Femi Finley "
    "Gabriel George Hamza Harry Harvey Hassan Ibrahim Isaac Jack Jacob Jake Jamal James "
    "Jamie Jason Jayden Jerome Joel John Jordan Joseph Joshua Junior Kai Kane Karim "
    "Kayden Keiron Kelvin Kemar Kevin Kieran Kofi Kwame Leon Lewis Liam Louis Lucas Luke "
    "Malachi Marcus Mark Mason Matthew Michael Mohamed Mohammed Muhammad Nathan Nathaniel "
    "Nicholas Noah Oliver Omar Oscar Owen Patrick Reece Rhys Ricardo Riley Robert Ryan "
    "Sam Samuel Sean Shane Simon Stefan Taylor Terrell Thomas Tobi Tom Tremaine Troy "
    "Tyler Tyrese Usman Vincent Wesley William Yusuf Zac Zain Abi Aisha Amara Amelia "
    "Bella Chantelle Chloe Ella Grace Hannah Jade Jasmine Kayla Keisha Leah Lily Maya "
    "Mia Nadia Precious Ruby Sophie Tanisha Zara"
).split()

SURNAMES = (
    "Adams Ahmed Ali Allen Anderson Appiah Bailey Baker Barnes Bell Bennett Brown Campbell "
    "Carter Clarke Cole Collins Cooper Davies Davis Edwards Evans Francis Garcia Gordon "
    "Graham Grant Green Griffiths Hall Harris Hassan Hughes Hussain Ibrahim Jackson James "
    "Johnson Jones Kelly Khan King Lewis Lloyd Martin Mensah Miah Mitchell Moore Morgan "
    "Morris Murphy Nelson Okafor Okonkwo Oliver Owen Palmer Parker Patel Phillips Powell "
    "Price Reid Richards Roberts Robinson Rogers Rose Russell Scott Shaw Simpson Smith "
    "Stewart Taylor Thomas Thompson Turner Walker Ward Watson White Williams Wilson Wood "
    "Wright Young Abiola Adeyemi Boateng Chowdhury Demir Douglas Ferreira Gayle Hamid "
    "Kowalski Malik Mahmood Nowak Osei Popescu Rahman Santos Sesay Siddiqui Yilmaz "
    "Whitlock Oyelaran Castell Ashdown Farrow Renshaw Marsh Brook Oduya"
).split()

STREET_NAMES = "Ghost Trigger Bones Smokey Little Big Junior Shorty Dice Nino Tiny".split()

# Postcode districts of South and East London, where the model charity works.
DISTRICTS = (
    "SE1 SE5 SE11 SE15 SE17 SE22 SW2 SW8 SW9 SW16 E1 E2 E3 E5 E8 E9 E10 E13 E15 E17 "
    "N1 N4 N7 N15 N17 N18 NW10 CR0 CR4 BR1"
).split()
INWARD = "ABDEFGHJLNPQRSTUWXYZ"

# How misspellings arise: known variants first, then a typing slip.
VARIANTS = {
    "john": "Jon", "jon": "John", "smith": "Smyth", "smyth": "Smith",
    "mohammed": "Mohamed", "mohamed": "Muhammad", "muhammad": "Mohammed",
    "jayden": "Jaden", "tyrese": "Tyreese", "kieran": "Kieron", "keiron": "Kieran",
    "reece": "Reese", "zac": "Zack", "tobi": "Toby", "stewart": "Stuart",
    "davies": "Davis", "thompson": "Thomson", "clarke": "Clark", "hussain": "Hussein",
    "khan": "Kahn", "okafor": "Okafur", "mensah": "Mensa", "rahman": "Rehman",
    "chowdhury": "Choudhury", "ibrahim": "Ebrahim", "hassan": "Hasan",
}  # fmt: skip

KINDS = ("spelling", "alias", "transposed_dob", "dob_typo", "moved")


@dataclass
class LabelledSet:
    records: list[PersonRecord]
    true_pairs: dict[tuple[int, int], str]  # (lower id, higher id) -> kind
    lookalike_pairs: dict[tuple[int, int], str] = field(default_factory=dict)  # "twins" etc.

    def by_id(self) -> dict[int, PersonRecord]:
        return {r.id: r for r in self.records}


def misspell(name: str, rng: random.Random) -> str:
    known = VARIANTS.get(name.lower())
    if known:
        return known
    if len(name) < 4:
        return name + name[-1]  # a doubled last letter: "Kai" -> "Kaii"
    i = rng.randrange(1, len(name) - 1)
    choice = rng.random()
    if choice < 0.4:  # two letters swapped
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if choice < 0.7:  # a letter dropped
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]  # a letter doubled


def _postcode(rng: random.Random) -> str:
    return f"{rng.choice(DISTRICTS)} {rng.randint(1, 9)}{rng.choice(INWARD)}{rng.choice(INWARD)}"


def _dob(rng: random.Random) -> date:
    return date(1996, 1, 1) + timedelta(days=rng.randrange(0, 365 * 14))


def _dob_typo(day: date, rng: random.Random) -> date:
    """One digit of the day or the year wrong (still a real date, not the same one)."""
    for _ in range(20):
        if rng.random() < 0.5:
            candidate_day = day.day + rng.choice((-1, 1)) * rng.choice((1, 10))
            try:
                slipped = day.replace(day=candidate_day)
            except ValueError:
                continue
        else:
            try:
                slipped = day.replace(year=day.year + rng.choice((-1, 1)))
            except ValueError:
                continue
        if slipped != day:
            return slipped
    return day + timedelta(days=1)


def _identifiers(i: int, rng: random.Random) -> dict[str, str]:
    ids: dict[str, str] = {}
    if rng.random() < 0.35:
        letters = f"{INWARD[(i // 10000) % 20]}{INWARD[(i // 200000) % 20]}"
        ids["prison_number"] = f"A{i % 10000:04d}{letters}"  # unique up to 4 million
    if rng.random() < 0.3:
        ids["pnc_id"] = f"{2010 + i % 14}/{i:07d}{INWARD[i % 20]}"
    return ids


def labelled_set(
    n: int = 2000, *, duplicate_rate: float = 0.05, lookalike_rate: float = 0.01, seed: int = 8
) -> LabelledSet:
    """n distinct people, plus planted duplicates of about `duplicate_rate` of them
    (the kinds in turn) and look-alike different people at `lookalike_rate`."""
    rng = random.Random(seed)
    records: list[PersonRecord] = []
    next_id = iter(range(1, 10 * n + 1000))
    for i in range(n):
        pid = next(next_id)
        aliases: tuple[tuple[str, str], ...] = ()
        if rng.random() < 0.1:
            aliases = ((rng.choice(STREET_NAMES), ""),)
        records.append(
            PersonRecord(
                id=pid,
                forename=rng.choice(FORENAMES),
                surname=rng.choice(SURNAMES),
                date_of_birth=_dob(rng),
                postcode=_postcode(rng) if rng.random() < 0.8 else "",
                aliases=aliases,
                **_identifiers(i, rng),
            )  # fmt: skip
        )
    true_pairs: dict[tuple[int, int], str] = {}
    lookalikes: dict[tuple[int, int], str] = {}
    position = {record.id: i for i, record in enumerate(records)}
    originals = rng.sample(records, int(n * duplicate_rate))
    planted: list[PersonRecord] = []
    for k, original in enumerate(originals):
        kind = KINDS[k % len(KINDS)]
        dob = original.date_of_birth
        assert dob is not None
        forename, surname, postcode = original.forename, original.surname, original.postcode
        if kind == "spelling":
            if rng.random() < 0.5:
                forename = misspell(forename, rng)
            else:
                surname = misspell(surname, rng)
        elif kind == "alias":
            # Known on the first record by another full name, entered under that name.
            alias = (rng.choice(FORENAMES), rng.choice(SURNAMES))
            index = position[original.id]
            original = PersonRecord(**{**original.__dict__, "aliases": (*original.aliases, alias)})
            records[index] = original
            forename, surname = alias
        elif kind == "transposed_dob":
            if dob.day > 12 or dob.day == dob.month:
                dob = dob.replace(day=rng.randint(1, 12))
                index = position[original.id]
                original = PersonRecord(**{**original.__dict__, "date_of_birth": dob})
                records[index] = original
                while dob.day == dob.month:
                    dob = dob.replace(day=rng.randint(1, 12))
                    original = PersonRecord(**{**original.__dict__, "date_of_birth": dob})
                    records[index] = original
            dob = date(dob.year, dob.day, dob.month)
        elif kind == "dob_typo":
            dob = _dob_typo(dob, rng)
        elif kind == "moved":
            postcode = _postcode(rng)
        # A second record rarely carries the identifiers: that is why it was missed.
        duplicate = PersonRecord(
            id=next(next_id), forename=forename, surname=surname, date_of_birth=dob,
            postcode=postcode if rng.random() < 0.7 else "",
        )  # fmt: skip
        planted.append(duplicate)
        pair = (min(original.id, duplicate.id), max(original.id, duplicate.id))
        true_pairs[pair] = kind
    for k, original in enumerate(rng.sample(records, int(n * lookalike_rate))):
        assert original.date_of_birth is not None
        if k % 2 == 0:  # a twin
            forename = rng.choice([f for f in FORENAMES if f[0] != original.forename[0]])
            other = PersonRecord(
                id=next(next_id), forename=forename, surname=original.surname,
                date_of_birth=original.date_of_birth, postcode=original.postcode,
            )  # fmt: skip
            kind = "twins"
        else:  # a namesake born the same year
            other = PersonRecord(
                id=next(next_id), forename=original.forename, surname=original.surname,
                date_of_birth=_other_day_same_year(original.date_of_birth, rng),
                postcode=_postcode(rng),
            )  # fmt: skip
            kind = "namesakes"
        planted.append(other)
        lookalikes[(original.id, other.id)] = kind
    records += planted
    return LabelledSet(records, true_pairs, lookalikes)


def _other_day_same_year(day: date, rng: random.Random) -> date:
    while True:
        other = date(day.year, 1, 1) + timedelta(days=rng.randrange(0, 365))
        # Not one slip of the pen away either: that would be a duplicate's "dob_typo".
        a, b = day.isoformat(), other.isoformat()
        if sum(x != y for x, y in zip(a, b, strict=True)) >= 2 and b[5:] != a[8:] + "-" + a[5:7]:
            return other
