"""The demo charity: three years of a London peer-mentoring service, built through the actions.

`seed()` fills an empty database with staff (the named users of DESIGN.md), the two
programmes and about 300 young people with their referrals, custody episodes, cases,
phase changes, contacts and closures, ending today. Everything goes through the same
action functions as real work (people.actions, casework.actions, custody.actions), so
every row is validated and audited exactly as if a coordinator or mentor had typed it.

Custody follows issue 3: each episode has a sentence type and key dates (sentence date,
CRD or ARD, LED/SED/TUSED, HDCED for some), and its expected release date is the one
engines.release computes from them, never one the seeder picks. The seeder only chooses
release days the rules leave where they are, then schedules the CRD on that day or on a
Friday or weekend the rules bring back to it. The custody actions move cases between
phases themselves (in custody, through the gate) and so does a contact two weeks after
release (into the community); the seeder makes no phase change those rules would make.
Upcoming releases get release-day plans in every state a coordinator meets: sorted,
half-done, behind, not started.

Key-date history (KeyDateChange.changed_at) is the one thing dated after the fact: the
actions stamp it with the moment of the call, so the seeder sets it to the day the change
would have been recorded (reception, an adjudication, the governor's HDC decision). The
audit trail keeps the true time of the seed.

It is deterministic (random.Random(2006)) apart from being anchored on today's date,
all-or-nothing (one transaction) and idempotent: a marker event in the audit trail says
the demo is there, and a second run does nothing.

Phone numbers come from Ofcom's ranges reserved for drama (07700 900xxx, 020 7946 0xxx),
so no real person can be rung from the demo.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from throughgate.accounts.models import Team, User
from throughgate.accounts.roles import Role
from throughgate.casework import actions as casework
from throughgate.casework.models import (
    DEFAULT_PHASES,
    AccommodationOutcome,
    Action,
    Agency,
    AgencyKind,
    ApplicationStatus,
    Attendance,
    BankApplication,
    BankOutcome,
    Case,
    ClosureReason,
    Contact,
    ContactMode,
    DeclineReason,
    ETEOutcome,
    IDApplication,
    IDType,
    InstrumentDefinition,
    InstrumentResponse,
    Need,
    NeedStatus,
    NeedUpdate,
    NonAttendanceReason,
    OnwardReferral,
    OnwardStatus,
    Pathway,
    Phase,
    PhaseChange,
    Priority,
    Programme,
    ProgrammeKind,
    Referral,
    ReferralSource,
    ReferralStatus,
    Responsible,
)
from throughgate.core import audit
from throughgate.core.models import AuditAction, AuditEvent
from throughgate.core.validators import pnc_check_letter
from throughgate.custody import actions as custody
from throughgate.custody.establishments import load_register
from throughgate.custody.models import (
    CustodyEpisode,
    Establishment,
    ItemKind,
    ItemOwner,
    ItemStatus,
    KeyDateChange,
    PlanItem,
    ReleasePlan,
    SentenceType,
    Transfer,
)
from throughgate.engines.release import KeyDates, WorkingCalendar, expected_release
from throughgate.mentors.models import Conflict, MentorProfile
from throughgate.outcomes.models import ReoffendingEvent
from throughgate.people import actions as people
from throughgate.people.models import Alias, FamilyMember, Person, Relationship

from .prevention import set_up_prevention
from .safeguarding import set_up_safeguarding
from .training import set_up_training

T = TypeVar("T")

DEMO_PASSWORD = "throughgate-demo"
SEED = 2006  # the year the model programme began

CUSTODY_TEAM = "Custody team"
PREVENTION_TEAM = "Prevention team"
CUSTODY_PROGRAMME = "Custody to community mentoring"
PREVENTION_PROGRAMME = "Prevention 1:1"

# (username, first name, last name, role label, team) — cli.py prints these as the log-ins.
DEMO_USERS: list[tuple[str, str, str, str, str | None]] = [
    ("mo", "Mo", "Ahmed", Role.MENTOR.label, CUSTODY_TEAM),
    ("kim", "Kim", "Walsh", Role.MENTOR.label, CUSTODY_TEAM),
    ("cara", "Cara", "Jones", Role.COORDINATOR.label, CUSTODY_TEAM),
    ("sam", "Sam", "Okafor", Role.SAFEGUARDING_LEAD.label, None),
    ("pat", "Pat", "Doyle", Role.PREVENTION_FACILITATOR.label, PREVENTION_TEAM),
    ("ade", "Ade", "Bello", Role.ADMIN.label, None),
    ("fay", "Fay", "Green", Role.ANALYST.label, None),
]
_ROLE_BY_LABEL = {str(label): value for value, label in Role.choices}

# The rest of the staff: a charity this size has more than two mentors. They carry
# caseloads in the demo but have no password (nobody logs in as them).
OTHER_STAFF: list[tuple[str, str, str, str, str]] = [
    ("tunde", "Tunde", "Adebayo", Role.MENTOR, CUSTODY_TEAM),
    ("shanice", "Shanice", "Campbell", Role.MENTOR, CUSTODY_TEAM),
    ("dean", "Dean", "Murphy", Role.MENTOR, CUSTODY_TEAM),
    ("nadia", "Nadia", "Hussain", Role.PREVENTION_FACILITATOR, PREVENTION_TEAM),
]

# Open caseloads today, by the state each case is in (scaled, with minimums so that a
# small test seed still has every situation a newcomer should see).
CUSTODY_CASELOADS: dict[str, dict[str, int]] = {
    "mo": {"referred": 1, "custody_soon": 3, "custody_later": 2, "gate": 2,
           "community_recent": 4, "community_overdue": 2},
    "kim": {"custody_soon": 2, "custody_later": 2, "gate": 2, "community_recent": 5,
            "community_overdue": 2},
    "tunde": {"custody_soon": 1, "custody_later": 2, "community_recent": 5,
              "community_overdue": 2},
    "shanice": {"custody_soon": 1, "custody_later": 1, "gate": 1, "community_recent": 4,
                "community_overdue": 1},
    "dean": {"custody_later": 2, "community_recent": 5, "community_overdue": 1},
}  # fmt: skip
# "gate": released in the last fortnight, so the mentor's home page lists the first days'
# check-ins (day 1, day 3, week 2), one of them overdue.
MINIMUM_OPEN = {
    "mo": {"custody_soon": 1, "gate": 1, "community_recent": 1, "community_overdue": 1},
    "kim": {"custody_soon": 1, "gate": 1, "community_recent": 1, "community_overdue": 1},
}
# Open custody cases whose sentence is not the usual determinate one: (mentor, state, index).
SPECIAL_SENTENCES = {
    ("tunde", "custody_later", 0): SentenceType.REMAND,
    ("dean", "custody_later", 0): SentenceType.INDETERMINATE,
    ("shanice", "custody_soon", 0): SentenceType.RECALL,
    ("mo", "custody_later", 1): SentenceType.RECALL,
    ("kim", "custody_later", 1): SentenceType.RECALL,
}
# Upcoming releases brought forward by home detention curfew, approved in the last few days
# (Mo's first, so that a small demo shows it too): (mentor, index among "custody_soon").
HDC_RELEASES = {("mo", 0), ("kim", 1), ("tunde", 0)}
# Release-day plans for releases in the next PLAN_WEEKS weeks; the first releases of Mo and
# Kim are set up so that every state shows: Mo's gate meetings arranged, Kim's all sorted.
PLAN_WEEKS = 12
FORCED_PLAN_STAGES = {
    ("mo", 0): "ready", ("mo", 1): "ready", ("kim", 0): "all_set",
}  # fmt: skip
HDC_APPROVED = "HDC approved by the governor"
PREVENTION_CASELOADS: dict[str, dict[str, int]] = {
    "pat": {"referred": 1, "active_recent": 8, "active_overdue": 2},
    "nadia": {"referred": 1, "active_recent": 6, "active_overdue": 1},
}
CLOSED_CUSTODY_MENTORS = {"mo": 22, "kim": 20, "tunde": 22, "shanice": 16, "dean": 20}
CLOSED_PREVENTION_MENTORS = {"pat": 60, "nadia": 40}

# Counts at scale 1.0.
CLOSED_CUSTODY = 135
CLOSED_PREVENTION = 47
DECLINED_CUSTODY = 26
DECLINED_PREVENTION = 7
PENDING_CUSTODY = 8
PENDING_PREVENTION = 2
UNASSIGNED_CUSTODY = 2

# --- Places ---------------------------------------------------------------------------
# borough: (weight, postcode districts, streets, neighbourhoods)
BOROUGHS: dict[str, tuple[int, list[str], list[str], list[str]]] = {
    "Barking and Dagenham": (4, ["IG11", "RM8", "RM9", "RM10"],
                             ["Ripple Road", "Longbridge Road", "Becontree Avenue"],
                             ["Barking", "Dagenham", "Becontree"]),
    "Barnet": (3, ["N11", "NW9", "HA8", "EN5"], ["Watling Avenue", "Station Road", "Ballards Lane"],
               ["Colindale", "Burnt Oak", "Edgware"]),
    "Bexley": (2, ["DA7", "DA8", "DA16", "DA17"], ["Erith Road", "Bexley Road", "Broadway"],
               ["Erith", "Bexleyheath", "Belvedere"]),
    "Brent": (6, ["NW10", "NW2", "HA0", "HA9"],
              ["Harlesden High Street", "Church Road", "Ealing Road", "Kilburn High Road"],
              ["Harlesden", "Stonebridge", "Wembley", "Kilburn"]),
    "Bromley": (2, ["BR1", "BR5", "SE20", "BR3"], ["Masons Hill", "Croydon Road", "High Street"],
                ["Penge", "St Paul's Cray", "Bromley"]),
    "Camden": (4, ["NW1", "NW5", "NW6", "WC1H"],
               ["Queen's Crescent", "Kentish Town Road", "Malden Road", "Prince of Wales Road"],
               ["Kentish Town", "Somers Town", "Gospel Oak", "Kilburn"]),
    "City of London": (1, ["EC1Y", "EC2Y"], ["Golden Lane", "Middlesex Street"],
                       ["Golden Lane", "Aldgate"]),
    "Croydon": (8, ["CR0", "CR7", "SE25", "CR2"],
                ["London Road", "Thornton Road", "Brigstock Road", "Lower Addiscombe Road"],
                ["Thornton Heath", "West Croydon", "New Addington", "South Norwood"]),
    "Ealing": (5, ["W3", "W7", "UB1", "UB5"], ["Uxbridge Road", "The Broadway", "Greenford Road"],
               ["Acton", "Southall", "Northolt", "Hanwell"]),
    "Enfield": (6, ["EN1", "EN3", "N9", "N18"], ["Hertford Road", "Fore Street", "Southbury Road"],
                ["Edmonton", "Ponders End", "Enfield Town"]),
    "Greenwich": (6, ["SE18", "SE28", "SE9", "SE2"],
                  ["Woolwich New Road", "Plumstead Road", "Eltham High Street"],
                  ["Woolwich", "Plumstead", "Thamesmead", "Eltham"]),
    "Hackney": (8, ["E5", "E8", "E9", "N16"],
                ["Mare Street", "Kingsland Road", "Clapton Road", "Well Street"],
                ["Hackney Central", "Clapton", "Dalston", "Homerton"]),
    "Hammersmith and Fulham": (3, ["W12", "W6", "W14", "SW6"],
                               ["Uxbridge Road", "Askew Road", "North End Road"],
                               ["Shepherd's Bush", "White City", "Fulham"]),
    "Haringey": (7, ["N15", "N17", "N22", "N4"],
                 ["Tottenham High Road", "West Green Road", "Philip Lane", "Lordship Lane"],
                 ["Tottenham", "Wood Green", "Seven Sisters", "Northumberland Park"]),
    "Harrow": (2, ["HA1", "HA2", "HA3"], ["Station Road", "Northolt Road", "Whitchurch Lane"],
               ["Wealdstone", "South Harrow", "Harrow"]),
    "Havering": (2, ["RM3", "RM7", "RM13"], ["South Street", "Hilldene Avenue", "Straight Road"],
                 ["Harold Hill", "Romford", "Rainham"]),
    "Hillingdon": (2, ["UB3", "UB4", "UB8"], ["Station Road", "Yeading Lane", "Coldharbour Lane"],
                   ["Hayes", "Yeading", "Uxbridge"]),
    "Hounslow": (3, ["TW3", "TW4", "TW13", "TW8"], ["Bath Road", "Hanworth Road", "Staines Road"],
                 ["Hounslow", "Feltham", "Brentford"]),
    "Islington": (6, ["N1", "N7", "N19", "EC1V"],
                  ["Caledonian Road", "Holloway Road", "Essex Road", "Hornsey Road"],
                  ["Holloway", "Archway", "King's Cross", "Finsbury Park"]),
    "Kensington and Chelsea": (3, ["W10", "W11", "SW10"],
                               ["Golborne Road", "Ladbroke Grove", "Lancaster Road"],
                               ["North Kensington", "Ladbroke Grove", "World's End"]),
    "Kingston upon Thames": (1, ["KT1", "KT2", "KT9"], ["Cambridge Road", "London Road"],
                             ["Kingston", "Chessington"]),
    "Lambeth": (10, ["SW2", "SW9", "SE11", "SE27", "SW16", "SW8"],
                ["Coldharbour Lane", "Brixton Hill", "Stockwell Road", "Railton Road"],
                ["Brixton", "Stockwell", "Streatham", "Kennington", "Vauxhall"]),
    "Lewisham": (8, ["SE4", "SE6", "SE8", "SE13", "SE14"],
                 ["Lewisham Way", "Brockley Road", "Rushey Green", "Deptford High Street"],
                 ["Deptford", "Catford", "New Cross", "Lewisham", "Bellingham"]),
    "Merton": (2, ["CR4", "SM4", "SW19"], ["Western Road", "London Road", "High Street"],
               ["Mitcham", "Morden", "Colliers Wood"]),
    "Newham": (9, ["E6", "E7", "E13", "E15", "E16"],
               ["Barking Road", "Romford Road", "Plashet Grove", "High Street North"],
               ["Plaistow", "Stratford", "East Ham", "Canning Town", "Forest Gate"]),
    "Redbridge": (3, ["IG1", "IG3", "IG8"], ["Ilford Lane", "Cranbrook Road", "High Road"],
                  ["Ilford", "Seven Kings", "Woodford"]),
    "Richmond upon Thames": (1, ["TW2", "TW9", "TW12"], ["Hampton Road", "Sheen Road"],
                             ["Whitton", "Hampton"]),
    "Southwark": (10, ["SE1", "SE5", "SE15", "SE16", "SE17"],
                  ["Old Kent Road", "Rye Lane", "Camberwell Road", "Walworth Road"],
                  ["Peckham", "Camberwell", "Walworth", "Bermondsey", "Elephant and Castle"]),
    "Sutton": (1, ["SM1", "SM5"], ["Benhill Avenue", "Green Wrythe Lane"], ["Sutton", "St Helier"]),
    "Tower Hamlets": (8, ["E1", "E2", "E3", "E14"],
                      ["Commercial Road", "Mile End Road", "Roman Road", "Cable Street"],
                      ["Stepney", "Bethnal Green", "Poplar", "Bow", "Whitechapel"]),
    "Waltham Forest": (6, ["E10", "E17", "E4", "E11"],
                       ["Hoe Street", "Lea Bridge Road", "Forest Road"],
                       ["Walthamstow", "Leyton", "Chingford", "Leytonstone"]),
    "Wandsworth": (5, ["SW11", "SW17", "SW18", "SW15"],
                   ["York Road", "Garratt Lane", "Falcon Road"],
                   ["Battersea", "Tooting", "Roehampton", "Wandsworth"]),
    "Westminster": (4, ["W2", "W9", "NW8", "SW1V"],
                    ["Harrow Road", "Church Street", "Lisson Grove", "Warwick Way"],
                    ["Church Street", "Queen's Park", "Westbourne", "Pimlico"]),
}  # fmt: skip
# Where people go when they move out of London: (town, postcode district, street).
OUTSIDE_LONDON = [
    ("Chatham", "ME4", "Luton Road"), ("Gravesend", "DA11", "Milton Road"),
    ("Southend-on-Sea", "SS1", "Southchurch Road"), ("Luton", "LU1", "Dunstable Road"),
    ("Slough", "SL1", "Stoke Road"), ("Basildon", "SS14", "Whitmore Way"),
]  # fmt: skip
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
BLOCKS = [
    "Marlowe House", "Brunel Court", "Seacole House", "Lansbury House", "Attlee Court",
    "Tyndale House", "Kingfisher Court", "Churchill Gardens", "Wren House", "Nightingale Court",
    "Heron House", "Bevan Court", "Equiano House", "Windrush Court", "Pankhurst House",
]  # fmt: skip

# Schools that refer to the prevention programme (by borough), and where that work runs.
SCHOOLS: dict[str, list[str]] = {
    "Lambeth": ["Lilian Baylis Technology School", "Lambeth Academy", "Platanos College"],
    "Southwark": ["Harris Academy Peckham", "Ark Walworth Academy",
                  "St Michael's Catholic College"],
    "Hackney": ["Haggerston School", "Stoke Newington School", "Mossbourne Community Academy"],
    "Newham": ["Rokeby School", "Lister Community School", "Brampton Manor Academy"],
    "Croydon": ["Harris Academy South Norwood", "Oasis Academy Shirley Park"],
    "Lewisham": ["Deptford Green School", "Prendergast Ladywell School", "Sedgehill Academy"],
    "Tower Hamlets": ["Morpeth School", "Stepney All Saints School", "Bow School"],
    "Haringey": ["Park View School", "Gladesmore Community School", "Woodside High School"],
    "Brent": ["Capital City Academy", "Alperton Community School", "Crest Academy"],
    "Waltham Forest": ["Walthamstow Academy", "Kelmscott School", "Leytonstone School"],
    "Greenwich": ["Plumstead Manor School", "Harris Academy Greenwich", "The John Roan School"],
    "Enfield": ["Edmonton County School", "Kingsmead School", "Aylward Academy"],
}  # fmt: skip

# Prisons by who they hold (agency codes from the MoJ register).
PRISONS_UNDER_18 = ["FMI", "FMI", "FMI", "CKI", "CKI", "WNI"]
PRISONS_18_TO_20 = ["FMI", "ISI", "ISI", "AYI", "RCI", "TSI", "HOI"]
PRISONS_ADULT = ["TSI", "TSI", "WWI", "PVI", "BAI", "WSI", "BXI", "ISI", "HOI", "RCI"]
PRISONS_WOMEN = ["BZI", "BZI", "DWI"]
PRISONS_RECALL = ["TSI", "WWI", "PVI", "BAI", "WSI", "BXI"]
PRISON_CODES = sorted(
    set(PRISONS_UNDER_18 + PRISONS_18_TO_20 + PRISONS_ADULT + PRISONS_WOMEN + PRISONS_RECALL)
)


# --- Names ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Pool:
    male: Sequence[str]
    female: Sequence[str]
    surnames: Sequence[str]
    languages: Sequence[tuple[str, int]] = (("English", 1),)
    female_surnames: Sequence[str] = ()


POOLS: dict[str, Pool] = {
    "british": Pool(
        ["Connor", "Callum", "Kyle", "Jack", "Harry", "Charlie", "Liam", "Ryan", "Lewis", "Alfie",
         "Ben", "Jake", "Bradley", "Reece", "Jordan", "Kieran", "Jamie", "Tommy", "George",
         "Billy", "Daniel", "Josh", "Mason", "Aaron", "Christopher", "Alexander"],
        ["Chloe", "Megan", "Holly", "Jade", "Courtney", "Sophie", "Ellie", "Demi", "Lauren",
         "Paige", "Kayleigh", "Amber"],
        ["Smith", "Jones", "Taylor", "Wilson", "Evans", "Walker", "Hughes", "Wright", "Cooper",
         "Hill", "Baker", "Turner", "Harris", "Ward", "Clarke", "Martin", "Mitchell", "Cole",
         "Barker", "Parker", "Webb", "Stevens", "Lloyd", "Marsh", "Payne", "Fletcher", "Dixon",
         "Palmer", "Hunt"],
    ),
    "caribbean": Pool(
        ["Tyrone", "Jermaine", "Kyle", "Reiss", "Jaden", "Kai", "Marcus", "Dwayne", "Tyler",
         "Malachi", "Isaiah", "Nathaniel", "Rhys", "Devon", "Kemar", "Andre", "Romario", "Jahmal",
         "Kareem", "Jerome", "Tremaine", "Elijah", "Joel", "Levi", "Jaylen"],
        ["Shanice", "Jada", "Tia", "Chantelle", "Keisha", "Aaliyah", "Nia", "Destiny", "Imani",
         "Tanisha", "Kiara"],
        ["Campbell", "Brown", "Williams", "Thomas", "Grant", "Clarke", "Reid", "Francis", "Henry",
         "Morgan", "Bailey", "Gordon", "Lewis", "Edwards", "McKenzie", "Forbes", "Gayle", "Blake",
         "Stewart", "Richards", "Johnson", "Samuels", "Barrett", "Ellis", "Powell", "Spence",
         "Bennett", "Anderson", "Douglas"],
    ),
    "nigerian": Pool(
        ["Oluwatobi", "Femi", "Chinedu", "Emeka", "Olamide", "Kayode", "David", "Daniel",
         "Samuel", "Joshua", "Emmanuel", "Oluwaseun", "Ayomide", "Chidi", "Ikenna", "Damilola",
         "Ibrahim", "Tobi"],
        ["Chioma", "Funmilayo", "Precious", "Blessing", "Favour", "Temitope", "Adaeze", "Esther"],
        ["Adeyemi", "Okafor", "Okoro", "Balogun", "Eze", "Nwosu", "Ogunleye", "Oyelaran",
         "Akinola", "Afolabi", "Olawale", "Obi", "Nwachukwu", "Adewale", "Ibekwe", "Oladipo",
         "Babatunde", "Salami"],
        (("English", 95), ("Yoruba", 5)),
    ),
    "ghanaian": Pool(
        ["Kwame", "Kofi", "Kojo", "Yaw", "Kwabena", "Kwaku", "Emmanuel", "Nana", "Prince", "Isaac"],
        ["Ama", "Akosua", "Abena", "Efua"],
        ["Mensah", "Boateng", "Asante", "Owusu", "Appiah", "Osei", "Agyeman", "Addo", "Darko",
         "Amponsah", "Ofori", "Opoku"],
    ),
    "somali": Pool(
        ["Abdi", "Mohamed", "Hassan", "Yusuf", "Abdirahman", "Mahad", "Said", "Ahmed",
         "Abdullahi", "Mustafe", "Liban", "Bilal", "Khalid"],
        ["Hodan", "Ayaan", "Hibaaq", "Sagal", "Fadumo", "Ifrah"],
        ["Abdi", "Farah", "Warsame", "Hassan", "Osman", "Ali", "Jama", "Ismail", "Omar", "Hersi",
         "Aden", "Mohamud", "Egal", "Nur"],
        (("English", 80), ("Somali", 20)),
    ),
    "eritrean": Pool(
        ["Yonas", "Biniam", "Filmon", "Semere", "Dawit", "Robel", "Henok", "Merhawi"],
        ["Helen", "Senait", "Luwam", "Selam"],
        ["Tesfaye", "Haile", "Berhane", "Tekle", "Ghebremedhin", "Kidane", "Woldu", "Mehari",
         "Habte"],
        (("Tigrinya", 60), ("English", 40)),
    ),
    "congolese": Pool(
        ["Christ", "Prince", "Glody", "Junior", "Merveille", "Patrick", "Jonathan", "Exaucé"],
        ["Grace", "Divine", "Gloire", "Esther"],
        ["Mbala", "Kabongo", "Ilunga", "Lukusa", "Mukendi", "Kalonji", "Tshibangu", "Mputu"],
        (("English", 60), ("French", 40)),
    ),
    "sierra_leonean": Pool(
        ["Mohamed", "Ibrahim", "Abu", "Alusine", "Sahr", "Foday", "Osman"],
        ["Fatmata", "Isatu", "Mariama"],
        ["Kamara", "Sesay", "Conteh", "Bangura", "Koroma", "Turay", "Jalloh", "Kargbo"],
    ),
    "irish": Pool(
        ["Sean", "Ciaran", "Niall", "Declan", "Conor", "Padraig", "Eoin", "Cian"],
        ["Aoife", "Siobhan", "Niamh", "Ciara"],
        ["O'Brien", "Murphy", "Byrne", "Kelly", "Doyle", "O'Connor", "Gallagher", "Brennan",
         "Fitzgerald", "Quinn", "McCarthy"],
    ),
    "traveller": Pool(
        ["John", "Patrick", "Michael", "Tommy", "Martin", "Jimmy", "Francis"],
        ["Bridget", "Mary", "Kathleen", "Margaret"],
        ["Doherty", "McDonagh", "Ward", "Joyce", "Cash", "Maughan", "Connors", "Stokes"],
    ),
    "roma": Pool(
        ["Marius", "Dragos", "Ionel", "Florin", "Denis", "Robert"],
        ["Ramona", "Denisa"],
        ["Lakatos", "Balog", "Rostas", "Horvath", "Oláh", "Dinca", "Stoica"],
        (("Romanian", 60), ("English", 40)),
    ),
    "polish": Pool(
        ["Kacper", "Jakub", "Bartosz", "Mateusz", "Szymon", "Dawid", "Patryk", "Kamil"],
        ["Oliwia", "Zuzanna", "Wiktoria"],
        ["Kowalski", "Nowak", "Wiśniewski", "Zieliński", "Wójcik", "Kamiński", "Lewandowski",
         "Dąbrowski"],
        (("English", 60), ("Polish", 40)),
        ["Kowalska", "Nowak", "Wiśniewska", "Zielińska", "Wójcik", "Kamińska", "Lewandowska"],
    ),
    "romanian": Pool(
        ["Andrei", "Ionut", "Gabriel", "Alexandru", "Cristian", "Mihai", "Stefan"],
        ["Ana", "Alexandra", "Bianca"],
        ["Popescu", "Ionescu", "Stan", "Dumitru", "Munteanu", "Constantin", "Georgescu"],
        (("Romanian", 60), ("English", 40)),
    ),
    "albanian": Pool(
        ["Arben", "Endrit", "Klevis", "Ardit", "Erion", "Kristi", "Elvis", "Besart", "Dritan"],
        ["Elira", "Arta", "Erisa"],
        ["Hoxha", "Krasniqi", "Gashi", "Berisha", "Shehu", "Leka", "Dervishi", "Kola", "Cela"],
        (("Albanian", 50), ("English", 50)),
    ),
    "lithuanian": Pool(
        ["Lukas", "Matas", "Dominykas", "Tomas"],
        ["Gabija", "Ieva"],
        ["Kazlauskas", "Petrauskas", "Jankauskas", "Stankevičius"],
        (("Lithuanian", 50), ("English", 50)),
        ["Kazlauskaitė", "Petrauskaitė", "Jankauskaitė"],
    ),
    "portuguese": Pool(
        ["Tiago", "Rúben", "Diogo", "Rafael", "Gonçalo", "João", "Bruno"],
        ["Beatriz", "Inês"],
        ["Silva", "Santos", "Ferreira", "Pereira", "Costa", "Rodrigues", "Fernandes", "Gomes"],
        (("Portuguese", 50), ("English", 50)),
    ),
    "bangladeshi": Pool(
        ["Rahim", "Sabbir", "Shahid", "Imran", "Abdul", "Rayhan", "Tanvir", "Mahfuz", "Jamal",
         "Shafiq", "Rakib", "Nazmul"],
        ["Nusrat", "Sadia", "Fatema", "Tasnim"],
        ["Miah", "Uddin", "Ahmed", "Rahman", "Hussain", "Islam", "Khan", "Ali", "Chowdhury",
         "Hoque", "Karim"],
        (("English", 85), ("Bengali", 15)),
        ["Begum", "Khatun", "Rahman", "Ahmed", "Chowdhury", "Akter"],
    ),
    "pakistani": Pool(
        ["Bilal", "Hamza", "Usman", "Zain", "Adnan", "Faisal", "Amir", "Haris", "Saad", "Danyal"],
        ["Ayesha", "Maryam", "Hira", "Zara"],
        ["Khan", "Hussain", "Iqbal", "Mahmood", "Akhtar", "Butt", "Shah", "Malik", "Raza",
         "Qureshi", "Anwar"],
        (("English", 85), ("Urdu", 10), ("Punjabi", 5)),
    ),
    "indian": Pool(
        ["Arjun", "Rohan", "Karan", "Jaspreet", "Harpreet", "Gurpreet", "Amrit", "Vikram",
         "Manpreet", "Ravi"],
        ["Priya", "Simran", "Amandeep", "Navneet"],
        ["Patel", "Singh", "Sharma", "Gill", "Sandhu", "Dhillon", "Shah", "Mistry", "Bains",
         "Sidhu"],
        (("English", 85), ("Punjabi", 10), ("Gujarati", 5)),
        ["Kaur", "Patel", "Gill", "Sandhu", "Sharma"],
    ),
    "tamil": Pool(
        ["Tharun", "Kajan", "Sajeev", "Niroshan", "Thushan", "Keerthan"],
        ["Abirami", "Sinthuja"],
        ["Sivakumar", "Nadarajah", "Rasiah", "Thurairajah", "Kanagaratnam", "Selvarajah"],
        (("English", 75), ("Tamil", 25)),
    ),
    "afghan": Pool(
        ["Ahmad", "Farid", "Naveed", "Wahid", "Jawad", "Sohail", "Massoud"],
        ["Mariam", "Parwana"],
        ["Ahmadzai", "Popal", "Noori", "Sultani", "Rahimi", "Hakimi", "Stanekzai"],
        (("English", 45), ("Pashto", 30), ("Dari", 25)),
    ),
    "chinese": Pool(
        ["Kevin", "Jason", "Michael", "Wei", "Jun"],
        ["Mei", "Jenny"],
        ["Chen", "Li", "Wong", "Zhang", "Lam", "Cheung", "Chan", "Ho"],
        (("English", 80), ("Cantonese", 20)),
    ),
    "arab": Pool(
        ["Omar", "Youssef", "Karim", "Tariq", "Mahmoud", "Ahmed", "Ali", "Hamza", "Adam"],
        ["Layla", "Nour", "Yasmin"],
        ["Saleh", "Mansour", "Haddad", "El-Amin", "Abdullah", "Al-Hashimi", "Nasser", "Darwish",
         "Khalil"],
        (("English", 65), ("Arabic", 35)),
    ),
    "kurdish": Pool(
        ["Baran", "Deniz", "Rebwar", "Serkan", "Mehmet", "Kawa", "Dilan", "Azad"],
        ["Rojda", "Berfin"],
        ["Yilmaz", "Kaya", "Demir", "Aydin", "Çelik", "Ahmadi", "Rashid", "Kurt"],
        (("English", 50), ("Kurdish", 35), ("Turkish", 15)),
    ),
    "latin": Pool(
        ["Santiago", "Juan", "Kevin", "Brayan", "Andrés", "Sebastián", "Mateo", "Cristian"],
        ["Valentina", "Camila"],
        ["Gómez", "Rodríguez", "Castillo", "Vargas", "Restrepo", "Morales", "Quintero",
         "Cárdenas"],
        (("English", 55), ("Spanish", 45)),
    ),
}  # fmt: skip

# ONS ethnic group -> (weight among custody referrals, weight among prevention referrals,
# pools for first names, pools for surnames).
ETHNICITIES: dict[str, tuple[int, int, list[str], list[str]]] = {
    "black_caribbean": (15, 12, ["caribbean"], ["caribbean"]),
    "black_african": (18, 18, ["nigerian", "nigerian", "ghanaian", "somali", "somali", "eritrean",
                               "congolese", "sierra_leonean"], []),
    "black_other": (8, 6, ["caribbean", "nigerian"], ["caribbean", "nigerian"]),
    "mixed_white_black_caribbean": (9, 10, ["caribbean", "british"], ["british", "caribbean"]),
    "mixed_white_black_african": (3, 3, ["nigerian", "british"], ["british", "nigerian"]),
    "mixed_white_asian": (1, 2, ["british", "pakistani"], ["british"]),
    "mixed_other": (3, 3, ["british", "caribbean", "portuguese"],
                    ["british", "latin", "caribbean"]),
    "white_british": (16, 16, ["british"], ["british"]),
    "white_irish": (2, 1, ["irish"], ["irish"]),
    "white_gypsy_traveller": (2, 1, ["traveller"], ["traveller"]),
    "white_roma": (1, 1, ["roma"], ["roma"]),
    "white_other": (6, 6, ["polish", "romanian", "albanian", "albanian", "lithuanian",
                           "portuguese"], []),
    "asian_bangladeshi": (4, 6, ["bangladeshi"], ["bangladeshi"]),
    "asian_pakistani": (3, 3, ["pakistani"], ["pakistani"]),
    "asian_indian": (1, 2, ["indian"], ["indian"]),
    "asian_other": (2, 2, ["tamil", "afghan"], []),
    "asian_chinese": (1, 1, ["chinese"], ["chinese"]),
    "other_arab": (2, 2, ["arab"], ["arab"]),
    "other_any": (3, 3, ["kurdish", "latin"], []),
    "not_stated": (2, 2, ["british", "caribbean", "nigerian"], ["british", "caribbean"]),
}  # fmt: skip

PREFERRED_NAMES = {
    "Oluwatobi": "Tobi", "Oluwaseun": "Seun", "Nathaniel": "Nate", "Emmanuel": "Manny",
    "Abdirahman": "Abdi", "Kwabena": "Kobby", "Alexandru": "Alex", "Funmilayo": "Funmi",
    "Temitope": "Temi", "Damilola": "Dami", "Ayomide": "Ayo", "Christopher": "Chris",
    "Alexander": "Alex", "Abdullahi": "Abdul", "Padraig": "Paddy", "Dominykas": "Dom",
    "Sebastián": "Seb", "Jermaine": "JJ", "Merveille": "Merv",
}  # fmt: skip
SPELLING_VARIANTS = {
    "Mohamed": ["Mohammed", "Muhammad", "Mohamad"], "Abdirahman": ["Abdurahman", "Abdiraman"],
    "Jermaine": ["Germaine", "Jermain"], "Tyrone": ["Tyron"], "Reiss": ["Reece", "Rhys"],
    "Isaiah": ["Isiah"], "Malachi": ["Malakai"], "Jaden": ["Jayden", "Jaiden"],
    "Nathaniel": ["Nathanial"], "Mahad": ["Mahat"], "Yusuf": ["Yousef", "Yusef"],
    "Ibrahim": ["Ebrahim"], "Hassan": ["Hasan"], "Ahmed": ["Ahmad"],
    "Hussain": ["Hussein", "Husain"], "Chowdhury": ["Choudhury"], "Rahman": ["Rehman"],
    "Mohamud": ["Mohamoud"], "Warsame": ["Warsama"], "Okafor": ["Okafur"],
    "Adeyemi": ["Adeyami"], "McKenzie": ["Mackenzie"], "O'Brien": ["OBrien"],
    "Doherty": ["Docherty"], "McDonagh": ["McDonough"], "Kowalski": ["Kowalsky"],
    "Krasniqi": ["Krasniki"], "Hoxha": ["Hoxa"], "Nadarajah": ["Nadaraja"],
    "Ghebremedhin": ["Gebremedhin"], "Oluwatobi": ["Oluwatoby"], "Kwabena": ["Kwebena"],
    "Khalid": ["Khaled"], "Abdullahi": ["Abdulahi"], "Shanice": ["Shaniece"],
}  # fmt: skip
STREET_NAMES = [
    "Tiny", "Spinz", "Lil T", "Bugzy", "K-Dot", "Ghost", "Rico", "Biggz", "Sparks", "Jinx",
    "Ace", "Tank", "Youngz", "Flex", "Bam", "Deuce", "Milli", "Snoopz", "Kidd", "Smiley",
]  # fmt: skip

# --- Words for referrals, contacts and closures ----------------------------------------
CUSTODY_NEEDS = [
    "No address confirmed for release yet.",
    "Care leaver; the leaving care team is looking for supported housing.",
    "Wants help getting into work; did a CSCS card course inside.",
    "Worried about going back to the same area and the same people.",
    "First time in custody and finding the regime hard.",
    "Has lost touch with {his} family and wants help to rebuild that.",
    "Wants to get back into college.",
    "Low mood; was on an ACCT for a short time earlier in the sentence.",
    "Owes money to people from before and is worried about it.",
    "Has no ID or bank account.",
]
PREVENTION_REASONS = [
    "Excluded twice this year; seen with older boys after school.",
    "Found with cash and two phones; police concerned about county lines.",
    "Going missing overnight; new clothes and trainers nobody can explain.",
    "Attendance has dropped to 60%; getting into fights.",
    "A close friend was stabbed last term; has talked about carrying a knife for protection.",
    "Stopped in Kent with an older man; suspected of being used to carry drugs.",
    "Older brother in prison; family worried {name} is being drawn into the same group.",
    "Posting drill videos and getting threats online.",
]
PREVENTION_HOPES = [
    "Needs a trusted adult outside school.",
    "Mum asked for help; wants someone {name} will listen to.",
    "Agreed to meet a mentor once a week.",
    "Interested in boxing and music production.",
    "",
]
DECLINE_NOTES: dict[str, list[str]] = {
    DeclineReason.NOT_ELIGIBLE: ["Aged {age} at referral; our funding covers 15 to 25.",
                                 "Serving a long sentence with no release date in the next year; "
                                 "asked the prison to re-refer nearer release."],
    DeclineReason.OUT_OF_AREA: ["Releasing to {town}; passed details of the local service to the "
                                "resettlement team."],
    DeclineReason.DECLINED_SUPPORT: ["Met {name} on a visit; would rather manage on {his} own for "
                                     "now. Told {him} the door stays open.",
                                     "Said no at the first meeting; not ready yet."],
    DeclineReason.NO_CAPACITY: ["No mentor with security clearance for {prison} until next "
                                "month; referrer told to re-refer."],
    DeclineReason.ALREADY_SUPPORTED: ["Already has a mentor through the YJS; double support "
                                      "would confuse things.",
                                      "Open to another mentoring service in {borough}."],
    DeclineReason.NO_CONSENT: ["Consent form never returned; three attempts to reach {him}."],
    DeclineReason.RISK: ["Live conflict with two young people on our caseload (rival areas); "
                         "cannot be matched safely at present."],
    DeclineReason.OTHER: ["Referred twice by mistake; the other referral is being dealt with.",
                          "Transferred to a prison in the north before we could visit."],
}  # fmt: skip
CLOSURE_NOTES: dict[str, list[str]] = {
    ClosureReason.COMPLETED: ["Settled in work and housing; agreed together to end.",
                              "Finished on a high: college place confirmed and back in touch "
                              "with family.", "Goals met. Knows {he_she} can call if needed.", ""],
    ClosureReason.DISENGAGED: ["No contact for several weeks despite calls, texts and a letter.",
                               "Stopped answering after moving hostel; probation informed.", ""],
    ClosureReason.RETURNED_TO_CUSTODY: ["Recalled on licence.", "Remanded after a new charge.",
                                        "Recalled after missing probation appointments."],
    ClosureReason.MOVED_AWAY: ["Moved to live with {his} dad in Birmingham.",
                               "Rehoused by the council in Kent.", "Family moved to Manchester."],
    ClosureReason.NEEDS_MET_ELSEWHERE: ["Now supported by the leaving care team and a college "
                                        "mentor.", "Handed over to CAMHS and the YJS.",
                                        "Transferred to a prison outside London; the prison's "
                                        "own mentoring scheme has taken over."],
    ClosureReason.OTHER: ["Started a residential course outside London; will re-refer if needed.",
                          "Asked to pause support while on a long-term placement."],
}  # fmt: skip

PRISON_VISIT = [
    "Visited {name} at {prison}. Settled on the wing and going to the gym most days. We talked "
    "about what the first week out will look like.",
    "Visited at {prison}. Worried about where to live on release; the council has not confirmed "
    "anything yet. I said I'd chase housing with the resettlement team.",
    "Good visit. {name} has started a barbering course in education and is proud of it. Talked "
    "about keeping that going outside.",
    "Went through the release checklist together: ID, bank account, Universal Credit, GP. Birth "
    "certificate still missing; family are looking for it.",
    "{name} was quiet today after a bad phone call with family last week. We talked it through "
    "and agreed I'd meet the family before release.",
    "Talked about the people {name} used to be around and how to say no when they get in touch "
    "after release. Made a plan for the first weekend.",
    "Short visit because of movement delays on the wing. {name} asked me to bring a list of "
    "colleges next time.",
    "Met {name} with the resettlement officer at {prison} to plan release day. Probation "
    "appointment booked for the afternoon of release.",
    "Talked about my own time inside and what helped me when I got out. {name} asked lots of "
    "questions; the most open we've been.",
    "{name} got an adjudication last week and lost some privileges. Talked about keeping the "
    "head down until release.",
]  # fmt: skip
PRISON_CALL = [
    "{name} called me on the prison phone. Doing OK; asked me to remind the family about the "
    "visit booking.",
    "Short call from {prison}. Worried about a move to another wing; I said we'd talk it through "
    "at the next visit.",
]  # fmt: skip
PRISON_VIDEO = [
    "Video call through the prison's system. Showed me a certificate from the education block.",
    "Video visit, as the prison had cancelled social visits this week. Talked about release plans.",
]
GATE_OPENINGS = [
    "Met {name} at the gate of {prison} at {time}.",
    "Was outside {prison} at {time} when {name} came out.",
    "Picked {name} up from {prison} at {time}.",
]  # fmt: skip
GATE_STEPS = [
    "Went straight to the probation office in {borough} for the first appointment.",
    "Took {him} to the council's housing options team; emergency accommodation confirmed for "
    "tonight.",
    "Got a new SIM card and topped up the phone.",
    "Went to the Jobcentre to start the Universal Credit claim; advance payment requested.",
    "Collected the prescription from the pharmacy.",
    "Bought some clothes with the discharge grant.",
    "Had breakfast together and went over the plan for the week.",
]  # fmt: skip
GATE_ENDINGS = [
    "Dropped {him} at {accommodation} by {later}.",
    "Long day but it went to plan. Dropped {him} at {accommodation}.",
]  # fmt: skip
ACCOMMODATION = [
    "the family flat", "a supported housing hostel in {area}", "a council emergency placement",
    "the probation hostel in {area}", "a relative's flat in {area}",
]  # fmt: skip
COMMUNITY = [
    "Met at a café in {area}. The Universal Credit claim is going through. Wants to look at a "
    "CSCS card course.",
    "Went with {name} to register with a GP and sort out a repeat prescription.",
    "Walked round the park and talked about the last fortnight. Keeping away from the old area; "
    "finding the evenings hard.",
    "Helped {name} fill in a college application for a Level 2 electrical course.",
    "Talked about licence conditions; the curfew is hard at weekends but being kept.",
    "Went to the bank together and opened an account using the new provisional licence as ID.",
    "Good news: {name} got a job offer at a warehouse in Park Royal, starting Monday.",
    "Met in {area} for food. Probation appointment went fine this week. Talked about saving for a "
    "deposit.",
    "Went to the housing office about a move from the hostel; on the list for a studio flat.",
    "Gym session together, then talked about a falling-out with a friend and how {name} handled "
    "it.",
    "Practised for a job interview at a building site; went through the questions twice.",
    "Talked about the anniversary of a friend's death; {name} wanted to mark it quietly. We went "
    "to the memorial bench.",
]  # fmt: skip
PHONE = [
    "Check-in call. Doing fine; busy with the course.",
    "{name} called upset after an argument at the hostel. Talked it through; calmer by the end.",
    "Called to remind {him} about tomorrow's probation appointment.",
    "Quick call to arrange next week; the college interview went well.",
]  # fmt: skip
PREVENTION_PHONE = [
    "Check-in call after school. Had a better week; no trouble at break times.",
    "{name} rang after being stopped by police on the way home. Talked through what happened.",
    "Quick call to move Thursday's session; {name} has a football trial.",
]
HOME = [
    "Home visit. Met {name} at home with {family}; talked about house rules and the curfew.",
    "Visited at home. The flat is cold and the electric key is empty; helped contact the "
    "supplier about emergency credit.",
]  # fmt: skip
FAMILY_SESSION = [
    "Family session with {family}: talked about how everyone can support {name} and what to do "
    "if old friends come round.",
    "Met {name} and {family} together. Tension about money at home; agreed a plan for "
    "contributions once wages start.",
]  # fmt: skip
GROUP = [
    "Came to the Thursday group at our office; cooked together and talked about work.",
    "Group session on budgeting; {name} took part and stayed after to talk.",
]
PREVENTION_SESSION = [
    "Met {name} at {school} in the learning mentor's room. Talked about friends and where {name} "
    "goes after school.",
    "Session on online safety and who gets in touch on Snapchat. {name} showed me the messages "
    "and we talked about what they mean.",
    "Worked on a CV for a Saturday job. {name} wants to work in a barber's.",
    "Talked about the stabbing near the estate last week and how it made {him} feel.",
    "Boxing session at the local club, then talked about anger and walking away.",
    "Talked about money: what 'easy money' really costs and who ends up paying.",
    "Met after school in {area}. Attendance is up this half-term and the head of year noticed.",
    "Went through what to do if someone asks {him} to carry something or go out of town.",
]  # fmt: skip
PREVENTION_HOME = [
    "Home visit with {family}: agreed times to be home and how to raise worries.",
    "Visited at home; {family} says things are calmer. {name} is going to the youth club again.",
]  # fmt: skip
FINAL_SESSION = [
    "Last session. Looked back at where {name} was when we started; we both said what we're proud "
    "of. Agreed to close.",
    "Final meeting before closing: went over the plan for the next few months and who to call if "
    "things get hard.",
]  # fmt: skip
RECALL_VISIT = [
    "Visited {name} at {prison} after the recall. Disappointed but talking. Agreed to close this "
    "case; the prison will re-refer when there's a release date.",
]  # fmt: skip
DNA_SUMMARY: dict[str, list[str]] = {
    NonAttendanceReason.NO_SHOW: ["Waited 40 minutes; no answer on the phone. Texted to rearrange.",
                                  "Not at the meeting point and not answering. Left a voicemail."],
    NonAttendanceReason.ILL: ["Texted in the morning: ill today. Rearranged."],
    NonAttendanceReason.CANCELLED_BY_THEM: ["Cancelled by text an hour before.",
                                            "Said {he_she} had a family thing on; rearranged."],
    NonAttendanceReason.CANCELLED_BY_US: ["I had to cancel: a gate meeting moved to this morning."],
    NonAttendanceReason.PRISON_REGIME: ["Visit cancelled; {prison} was locked down.",
                                        "Arrived at {prison} but visits were cancelled because of "
                                        "staff shortages."],
}  # fmt: skip
PRISON_REFUSALS = [
    "Waited in the visits hall at {prison}; officers said {name} did not want to come down.",
    "{name} refused the visit. The wing officer said it had been a bad week.",
]
CONCERNS = [
    "Mentioned being approached by older lads near the estate. Told Cara; safeguarding lead "
    "informed.",
    "Seems low and not sleeping. Suggested talking to the GP and gave the Samaritans number.",
    "Drinking more since release.",
    "Mentioned owing money to someone from before. Worried about pressure to pay it back.",
    "Posted something online that could start trouble; talked about taking it down.",
]  # fmt: skip
NEXT_STEPS = [
    "Meet next week, same place.", "Chase the housing officer.", "Book a GP appointment together.",
    "Ring the college about the start date.", "Next visit booked.", "Text on Friday to check in.",
    "Speak to Cara about a referral to the food bank.", "",
]  # fmt: skip
COURTS = [
    "Snaresbrook Crown Court", "Wood Green Crown Court", "the Central Criminal Court",
    "Inner London Crown Court", "Croydon Crown Court", "Isleworth Crown Court",
]  # fmt: skip
# For the 18th-birthday move out of the children's estate.
PRISONS_AT_18 = ["ISI", "ISI", "ISI", "AYI", "RCI"]
ADDED_DAYS_REASONS = [
    "{days} additional days awarded at an adjudication (fight on the wing).",
    "{days} additional days awarded at an adjudication (mobile phone found in cell).",
    "Sentence recalculated by the prison's OMU: {days} days of remand were counted twice.",
]
HOUSING = ["St Mungo's", "Look Ahead", "Centrepoint", "Single Homeless Project", "Depaul UK"]
# (kind, owner, owner detail, note) for the items of a plan that is well on its way.
PLAN_DONE: dict[str, list[tuple[str, str, str]]] = {
    ItemKind.ACCOMMODATION: [
        (ItemOwner.AGENCY, "{housing}", "Room at {housing}'s project in {area} from release day."),
        (ItemOwner.FAMILY, "", "Going back to {family}'s; probation approved the address."),
        (ItemOwner.PROBATION, "Approved premises", "Bed at the probation hostel in {area}."),
    ],
    ItemKind.ID: [
        (ItemOwner.PRISON, "", "Birth certificate and the prison's ID letter in {his} property."),
        (ItemOwner.FAMILY, "", "{family} is bringing the passport on release day."),
    ],
    ItemKind.BANK_ACCOUNT: [(ItemOwner.PRISON, "", "Basic account opened through the prison.")],
    ItemKind.BENEFITS: [
        (ItemOwner.PRISON, "DWP prison work coach", "Universal Credit claim started inside."),
    ],
    ItemKind.GP: [(ItemOwner.MENTOR, "", "Registered with a practice in {area}.")],
    ItemKind.PRESCRIPTIONS: [(ItemOwner.PRISON, "", "Healthcare gives 7 days' supply.")],
    ItemKind.PROBATION: [
        (ItemOwner.PROBATION, "{borough} PDU", "First appointment 2pm on release day."),
    ],
    ItemKind.PHONE: [(ItemOwner.MENTOR, "", "Bringing a phone with credit to the gate.")],
    ItemKind.TRAVEL: [(ItemOwner.MENTOR, "", "Oyster card topped up; going by train.")],
    ItemKind.CLOTHES: [(ItemOwner.FAMILY, "", "{family} handed in clothes on the last visit.")],
    ItemKind.DEBTS: [
        (ItemOwner.AGENCY, "StepChange", "Court fines on hold until {he_she} is settled.")
    ],
    ItemKind.SUBSISTENCE: [(ItemOwner.PRISON, "", "£76 subsistence payment on release.")],
}
PLAN_NOT_NEEDED = {
    ItemKind.ID: "Has a passport in {his} property.",
    ItemKind.PRESCRIPTIONS: "No medication.",
    ItemKind.DEBTS: "No debts or fines.",
    ItemKind.BANK_ACCOUNT: "Still has {his} account from before.",
}
GATE_NOTES = [
    "Wait at the visitors' centre; {he_she} comes out through the main gate.",
    "Bring the phone and the Oyster card; probation at 2pm.",
    "{family} is coming too.",
    "",
]
GATE_BY_FAMILY = "{family} is collecting {him}; {mentor} meets them at home that afternoon."


class DemoDataError(RuntimeError):
    """The database is not one the demo seeder may fill."""


# --- Plans ---------------------------------------------------------------------------
@dataclass
class Plan:
    """What will happen to one young person (dates only); executed in referral-date order."""

    kind: str  # "custody" or "prevention"
    outcome: str  # "pending", "declined", "unassigned", "open", "closed"
    referral_date: date
    mentor: str | None = None
    state: str = ""  # for open cases: "referred", "custody_soon", "community_recent", …
    female: bool = False
    direct: bool = False  # referred after release (by probation or the YJS)
    received_on: date | None = None
    expected_release: date | None = None
    opened_on: date | None = None
    first_meeting: date | None = None
    community_on: date | None = None
    last_contact: date | None = None
    closed_on: date | None = None
    closure_reason: str = ""
    returned_on: date | None = None
    dna_tail: int = 0
    decline_reason: str = ""
    consent: bool = True
    rereferral: Plan | None = None
    age: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _scaled(count: int, scale: float, minimum: int = 0) -> int:
    return max(minimum, round(count * scale))


class _Seeder:
    def __init__(self, scale: float) -> None:
        self.rng = random.Random(SEED)
        self.scale = scale
        self.today = timezone.localdate()
        self.yesterday = self.today - timedelta(days=1)
        self.earliest = self.today - timedelta(days=3 * 365)
        self.used_ids: set[str] = set()
        self.used_names: set[tuple[str, str]] = set()
        self.pending_contacts: list[tuple[Contact, list[FamilyMember]]] = []
        self.calendar = WorkingCalendar()
        self.backdated_up_to = 0  # KeyDateChange rows up to this id have their real date

    # -- random helpers --
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Sequence[T]) -> T:
        return self.rng.choice(items)

    def weighted(self, weights: dict[str, int]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def between(self, first: date, last: date) -> date:
        if last <= first:
            return first
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def at(self, day: date, earliest: int = 9, latest: int = 18) -> datetime:
        # Hours stay clear of the small hours so a clock change never makes a time ambiguous.
        moment = time(self.rng.randint(earliest, latest), self.pick([0, 0, 15, 30, 30, 45]))
        return timezone.make_aware(datetime.combine(day, moment))

    def fixed_day(self, day: date) -> bool:
        """A day the release rules leave alone for anyone, child or adult: a working day
        that is not a Friday or the day before a bank holiday (engines.release)."""
        return (
            self.calendar.is_working_day(day)
            and day.weekday() != 4
            and not self.calendar.is_bank_holiday(day + timedelta(days=1))
        )

    def release_day(self, day: date, not_before: date) -> date:
        """The day somebody due out around `day` walks out: the nearest day on or before it
        that the rules do not move (on or after it if that would be `not_before` or earlier).
        The CRD is then set to this day or to one the rules bring back to it (scheduled_for),
        so the engine's expected release date is exactly the day the story was built on."""
        moved = day
        while not self.fixed_day(moved):
            moved -= timedelta(days=1)
        if moved <= not_before:
            moved = day
            while not self.fixed_day(moved):
                moved += timedelta(days=1)
        return moved

    def scheduled_for(self, release: date, basis: str, sentence_type: str, dob: date) -> date:
        """A CRD/ARD that the rules turn into `release`: usually that day, sometimes the
        Friday or weekend after it (moved back by the weekend and Friday-release rules)."""
        options = [
            day
            for day in (release + timedelta(days=k) for k in range(5))
            if expected_release(
                KeyDates(**{basis: day}), sentence_type=sentence_type, date_of_birth=dob
            ).date
            == release
        ]
        if not options:  # not a day the rules leave alone; the engine will say where it goes
            return release
        if len(options) > 1 and self.chance(0.4):
            return self.pick(options[1:])
        return options[0]

    # -- staff, teams, programmes --
    def set_up_staff(self) -> None:
        teams = {
            name: Team.objects.get_or_create(name=name)[0]
            for name in (CUSTODY_TEAM, PREVENTION_TEAM)
        }
        self.users: dict[str, User] = {}
        # One Argon2 hash shared by the demo log-ins: hashing is deliberately slow (about half
        # a second each) and they all have the same published password anyway.
        demo_hash = make_password(DEMO_PASSWORD)
        wanted: list[tuple[str, str, str, str, str | None, bool]] = [
            (u, first, last, _ROLE_BY_LABEL[label], team, True)
            for u, first, last, label, team in DEMO_USERS
        ] + [(u, first, last, role, team, False) for u, first, last, role, team in OTHER_STAFF]
        for username, first, last, role, team, logs_in in wanted:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    role=role,
                    team=teams[team] if team else None,
                )
                if logs_in:
                    user.password = demo_hash
                else:
                    user.set_unusable_password()
                user.full_clean()
                user.save()
            elif user.role != role:
                raise DemoDataError(
                    f"A user called {username!r} already exists with the role "
                    f"{user.get_role_display()!r}; the demo needs {username!r} to be "
                    f"{dict(Role.choices)[role]!r}. Use an empty database for the demo."
                )
            self.users[username] = user
        self.programmes: dict[str, Programme] = {}
        for key, name, kind, team, interval in (
            ("custody", CUSTODY_PROGRAMME, ProgrammeKind.CUSTODY, CUSTODY_TEAM, 14),
            ("prevention", PREVENTION_PROGRAMME, ProgrammeKind.PREVENTION, PREVENTION_TEAM, 7),
        ):
            programme = Programme.objects.filter(name=name).first()
            if programme is None:
                programme = Programme(
                    name=name,
                    kind=kind,
                    team=teams[team],
                    phases=[str(p) for p in DEFAULT_PHASES[kind]],
                    contact_interval_days=interval,
                )
                programme.full_clean()
                programme.save()
            self.programmes[key] = programme
        prisons = Establishment.objects.in_bulk(PRISON_CODES)
        if len(prisons) < len(PRISON_CODES):
            load_register(Establishment)
            prisons = Establishment.objects.in_bulk(PRISON_CODES)
        self.prisons: dict[str, Establishment] = prisons

    # -- plans --
    def plan_everything(self) -> list[Plan]:
        s = self.scale
        plans: list[Plan] = []
        for mentor, caseload in CUSTODY_CASELOADS.items():
            minimums = MINIMUM_OPEN.get(mentor, {})
            for state, count in caseload.items():
                for i in range(_scaled(count, s, minimums.get(state, 0))):
                    plans.append(self.plan_open_custody(mentor, state, index=i))
        for mentor, caseload in PREVENTION_CASELOADS.items():
            for state, count in caseload.items():
                minimum = 1 if (mentor, state) == ("pat", "active_recent") else 0
                for _ in range(_scaled(count, s, minimum)):
                    plans.append(self.plan_prevention(mentor, "open", state))
        for _ in range(_scaled(CLOSED_CUSTODY, s, 4)):
            plans.append(self.plan_closed_custody(self.weighted(CLOSED_CUSTODY_MENTORS)))
        for _ in range(_scaled(CLOSED_PREVENTION, s, 2)):
            plans.append(
                self.plan_prevention(self.weighted(CLOSED_PREVENTION_MENTORS), "closed", "")
            )
        for _ in range(_scaled(UNASSIGNED_CUSTODY, s, 1)):
            plans.append(self.plan_waiting_custody("unassigned"))
        for i in range(_scaled(PENDING_CUSTODY, s, 2)):
            # The first is on remand: the YJS refers before the trial, with no release date.
            plan = self.plan_waiting_custody("pending", remand=i == 0)
            plan.consent = i % 4 != 3  # a few still need consent before Cara can accept
            plans.append(plan)
        for _ in range(_scaled(PENDING_PREVENTION, s, 1)):
            plans.append(self.plan_waiting_prevention())
        for _ in range(_scaled(DECLINED_CUSTODY, s, 1)):
            plans.append(self.plan_declined("custody"))
        for _ in range(_scaled(DECLINED_PREVENTION, s, 1)):
            plans.append(self.plan_declined("prevention"))
        plans.sort(key=lambda p: p.referral_date)
        return plans

    def _custody_age(self) -> int:
        return int(
            self.weighted(
                {
                    "15": 3,
                    "16": 6,
                    "17": 9,
                    "18": 11,
                    "19": 12,
                    "20": 11,
                    "21": 10,
                    "22": 8,
                    "23": 7,
                    "24": 5,
                    "25": 4,
                }
            )
        )

    def plan_open_custody(self, mentor: str, state: str, index: int = 0) -> Plan:
        today, yesterday = self.today, self.yesterday
        first = index == 0
        female = mentor in ("shanice", "kim") and self.chance(0.25 if mentor == "shanice" else 0.1)
        plan = Plan("custody", "open", today, mentor=mentor, state=state, female=female)
        plan.age = self._custody_age()
        plan.extra["index"] = index
        special = SPECIAL_SENTENCES.get((mentor, state, index))
        if special:
            plan.extra["sentence"] = special
        if special == SentenceType.INDETERMINATE:
            plan.age = max(plan.age, 21)
        elif special == SentenceType.RECALL:  # an adult sentence served before
            plan.age = max(plan.age, 20)
        if state == "referred":
            plan.expected_release = self.release_day(today + self.days(45, 180), today)
            plan.referral_date = today - self.days(4, 15)
            plan.opened_on = min(plan.referral_date + self.days(1, 3), yesterday)
        elif state in ("custody_soon", "custody_later"):
            if state == "custody_soon":
                # Each mentor's first one is out within days: the gate plan is urgent.
                soon = self.days(2, 8) if first else self.days(2, 26)
                plan.expected_release = self.release_day(today + soon, today)
                plan.referral_date = plan.expected_release - self.days(50, 160)
                if (mentor, index) in HDC_RELEASES:
                    plan.extra["hdc"] = True
                    plan.age = max(plan.age, 19)
            else:
                plan.expected_release = self.release_day(today + self.days(35, 200), today)
                plan.referral_date = today - self.days(25, 150)
                plan.extra["revise"] = self.chance(0.3)  # added days at an adjudication
            plan.opened_on = plan.referral_date + self.days(2, 9)
            plan.last_contact = yesterday - self.days(0, 10)
            plan.first_meeting = min(plan.opened_on + self.days(3, 12), plan.last_contact)
        elif state == "gate":
            # Out in the last fortnight. The first has had the day-1 call but not the day-3
            # contact (overdue on the home page); the others are up to date.
            if first:
                release = self.release_day(today - self.days(4, 12), today - timedelta(13))
                follow = [self.rng.randint(1, 2)]
            else:
                release = self.release_day(today - self.days(2, 12), today - timedelta(14))
                follow = [1, self.rng.randint(3, 5)]
            follow = [d for d in follow if release + timedelta(days=d) <= yesterday]
            plan.extra["first_days"] = follow
            plan.expected_release = release
            plan.referral_date = release - self.days(50, 180)
            plan.opened_on = plan.referral_date + self.days(2, 9)
            plan.first_meeting = plan.opened_on + self.days(3, 12)
            plan.last_contact = release + timedelta(days=max(follow, default=0))
        else:  # community_recent / community_overdue
            if state == "community_overdue":
                plan.last_contact = today - self.days(16, 40)
                released_by = plan.last_contact - timedelta(days=25)
            else:
                plan.last_contact = yesterday - self.days(0, 9)
                released_by = plan.last_contact - timedelta(days=21)
            if self.chance(0.2):  # referred by probation/YJS after release
                plan.direct = True
                plan.age = max(plan.age, 17)
                plan.referral_date = released_by - self.days(0, 250)
                plan.expected_release = self.release_day(
                    plan.referral_date - self.days(7, 60), plan.referral_date - timedelta(90)
                )
                plan.opened_on = plan.referral_date + self.days(1, 7)
                plan.first_meeting = plan.opened_on + self.days(2, 8)
                plan.community_on = plan.first_meeting
            else:
                release = self.release_day(released_by - self.days(0, 280), self.earliest)
                plan.expected_release = release
                plan.referral_date = release - self.days(40, 180)
                plan.opened_on = plan.referral_date + self.days(2, 9)
                plan.first_meeting = plan.opened_on + self.days(3, 12)
                plan.community_on = release + self.days(5, 18)
        plan.received_on = plan.referral_date - self.days(14, 240)
        if plan.direct:
            assert plan.expected_release is not None
            plan.received_on = plan.expected_release - self.days(60, 400)
        if special == SentenceType.INDETERMINATE:  # years into a life sentence
            plan.received_on = plan.referral_date - self.days(900, 1800)
        return plan

    def plan_closed_custody(self, mentor: str) -> Plan:
        rng_reason = self.weighted(
            {
                ClosureReason.COMPLETED: 50,
                ClosureReason.DISENGAGED: 20,
                ClosureReason.RETURNED_TO_CUSTODY: 13,
                ClosureReason.MOVED_AWAY: 7,
                ClosureReason.NEEDS_MET_ELSEWHERE: 7,
                ClosureReason.OTHER: 3,
            }
        )
        female = mentor in ("shanice", "kim") and self.chance(0.3 if mentor == "shanice" else 0.1)
        plan = Plan(
            "custody",
            "closed",
            self.today,
            mentor=mentor,
            female=female,
            closure_reason=rng_reason,
            age=self._custody_age(),
        )
        # Offsets in days: from the referral (r_*) and from release (e_*).
        r_open = self.rng.randint(1, 10)
        r_first = r_open + self.rng.randint(3, 14)
        closes_inside = rng_reason in (
            ClosureReason.DISENGAGED,
            ClosureReason.NEEDS_MET_ELSEWHERE,
            ClosureReason.OTHER,
        ) and self.chance(0.3)
        plan.direct = not closes_inside and self.chance(0.18)
        if plan.direct:
            plan.age = max(plan.age, 17)
        if closes_inside:
            r_release = self.rng.randint(160, 320)
            r_close = r_first + self.rng.randint(30, 120)
            ref = self.between(self.earliest, self.yesterday - timedelta(days=r_close + 2))
            plan.referral_date = ref
            plan.expected_release = self.release_day(ref + timedelta(days=r_release), ref)
            plan.opened_on = ref + timedelta(days=r_open)
            plan.first_meeting = ref + timedelta(days=r_first)
            plan.closed_on = ref + timedelta(days=r_close)
            plan.last_contact = plan.closed_on - self.days(0, 10)
            if rng_reason == ClosureReason.DISENGAGED:
                plan.dna_tail = self.rng.randint(2, 3)
            plan.received_on = ref - self.days(14, 240)
            return plan
        e_community = self.rng.randint(5, 21)
        if rng_reason == ClosureReason.COMPLETED:
            e_close = self.rng.randint(150, 360)
        elif rng_reason == ClosureReason.RETURNED_TO_CUSTODY:
            e_close = self.rng.randint(40, 260)  # the day they went back in; closure follows
        else:
            e_close = self.rng.randint(50, 250)
        e_close = max(e_close, e_community + 21)
        if plan.direct:
            r_release = -self.rng.randint(7, 70)
            e_close = max(e_close, r_first - r_release + 21)
            e_community = r_first - r_release
        else:
            r_release = self.rng.randint(30, 210)
        span = r_release + e_close + 14
        ref = self.between(self.earliest, self.yesterday - timedelta(days=span))
        plan.referral_date = ref
        plan.opened_on = ref + timedelta(days=r_open)
        plan.first_meeting = ref + timedelta(days=r_first)
        release = ref + timedelta(days=r_release)
        release = self.release_day(release, ref - timedelta(days=120) if plan.direct else ref)
        plan.expected_release = release
        plan.community_on = release + timedelta(days=e_community)
        end = release + timedelta(days=e_close)
        if rng_reason == ClosureReason.RETURNED_TO_CUSTODY:
            plan.returned_on = end
            plan.last_contact = end - self.days(1, 8)
            plan.closed_on = end + self.days(2, 12)
            if plan.last_contact < plan.community_on:
                plan.last_contact = plan.community_on
            plan.extra["recall_visit"] = self.chance(0.5)
            release2 = self.release_day(
                plan.returned_on + self.days(28, 200), plan.returned_on + timedelta(days=14)
            )
            plan.extra["release2"] = release2
            room = release2 + timedelta(days=120) <= self.yesterday
            if room and release2 >= plan.closed_on + timedelta(days=35) and self.chance(0.4):
                plan.rereferral = self.plan_rereferral(plan, release2)
        else:
            plan.closed_on = end
            if rng_reason == ClosureReason.DISENGAGED:
                plan.last_contact = end - self.days(10, 28)
                plan.dna_tail = self.rng.randint(2, 4)
            elif rng_reason == ClosureReason.COMPLETED:
                plan.last_contact = end
            else:
                plan.last_contact = end - self.days(0, 14)
            plan.last_contact = max(plan.last_contact, plan.community_on)
        plan.received_on = (release if plan.direct else ref) - self.days(
            60 if plan.direct else 14, 400 if plan.direct else 240
        )
        return plan

    def plan_rereferral(self, first: Plan, release: date) -> Plan:
        """Back in custody: the prison re-refers, and the same mentor picks the case up again."""
        assert first.closed_on is not None
        reason = self.weighted({ClosureReason.COMPLETED: 60, ClosureReason.DISENGAGED: 40})
        plan = Plan(
            "custody",
            "closed",
            # Re-referred before release (release is at least 35 days after the closure).
            max(first.closed_on + self.days(7, 20), release - self.days(12, 60)),
            mentor=first.mentor,
            closure_reason=reason,
        )
        plan.opened_on = plan.referral_date + self.days(1, 5)
        plan.first_meeting = plan.opened_on + self.days(3, 10)
        plan.expected_release = release
        plan.community_on = release + self.days(5, 14)
        close = min(release + self.days(60, 220), self.yesterday - self.days(1, 20))
        plan.closed_on = max(close, plan.community_on + timedelta(days=7))
        plan.last_contact = (
            plan.closed_on
            if reason == ClosureReason.COMPLETED
            else max(plan.community_on, plan.closed_on - self.days(10, 21))
        )
        if reason == ClosureReason.DISENGAGED:
            plan.dna_tail = 2
        return plan

    def plan_waiting_custody(self, outcome: str, remand: bool = False) -> Plan:
        plan = Plan("custody", outcome, self.today - self.days(1, 20), age=self._custody_age())
        plan.female = self.chance(0.1)
        plan.expected_release = self.release_day(self.today + self.days(20, 160), self.today)
        plan.received_on = plan.referral_date - self.days(20, 240)
        if remand:
            plan.extra["sentence"] = SentenceType.REMAND
            plan.received_on = plan.referral_date - self.days(14, 150)
        if outcome == "unassigned":
            plan.opened_on = min(plan.referral_date + self.days(1, 4), self.yesterday)
        return plan

    def plan_waiting_prevention(self) -> Plan:
        plan = Plan("prevention", "pending", self.today - self.days(1, 14))
        plan.age = self.rng.randint(13, 17)
        plan.female = self.chance(0.3)
        return plan

    def plan_declined(self, kind: str) -> Plan:
        ref = self.between(self.earliest, self.today - timedelta(days=25))
        plan = Plan(kind, "declined", ref, female=self.chance(0.1 if kind == "custody" else 0.3))
        if kind == "custody":
            plan.decline_reason = self.weighted(
                {
                    DeclineReason.NOT_ELIGIBLE: 4,
                    DeclineReason.OUT_OF_AREA: 5,
                    DeclineReason.DECLINED_SUPPORT: 6,
                    DeclineReason.NO_CAPACITY: 3,
                    DeclineReason.ALREADY_SUPPORTED: 3,
                    DeclineReason.NO_CONSENT: 2,
                    DeclineReason.RISK: 2,
                    DeclineReason.OTHER: 1,
                }
            )
            plan.age = (
                self.rng.randint(26, 28)
                if plan.decline_reason == DeclineReason.NOT_ELIGIBLE and self.chance(0.6)
                else self._custody_age()
            )
            plan.expected_release = self.release_day(ref + self.days(30, 200), ref)
            plan.received_on = ref - self.days(20, 300)
        else:
            plan.decline_reason = self.weighted(
                {
                    DeclineReason.ALREADY_SUPPORTED: 3,
                    DeclineReason.DECLINED_SUPPORT: 3,
                    DeclineReason.NO_CONSENT: 2,
                    DeclineReason.OUT_OF_AREA: 1,
                }
            )
            plan.age = self.rng.randint(12, 17)
        plan.consent = plan.decline_reason != DeclineReason.NO_CONSENT
        return plan

    def plan_prevention(self, mentor: str, outcome: str, state: str) -> Plan:
        plan = Plan("prevention", outcome, self.today, mentor=mentor, state=state)
        length = 0
        plan.age = int(self.weighted({"12": 2, "13": 6, "14": 10, "15": 12, "16": 10, "17": 6}))
        plan.female = self.chance(0.3)
        if outcome == "open":
            if state == "referred":
                plan.referral_date = self.today - self.days(4, 15)
                plan.opened_on = min(plan.referral_date + self.days(1, 3), self.yesterday)
                return plan
            if state == "active_overdue":
                plan.last_contact = self.today - self.days(10, 30)
            else:
                plan.last_contact = self.yesterday - self.days(0, 5)
            plan.referral_date = plan.last_contact - self.days(20, 200)
        else:
            plan.closure_reason = self.weighted(
                {
                    ClosureReason.COMPLETED: 55,
                    ClosureReason.DISENGAGED: 20,
                    ClosureReason.MOVED_AWAY: 8,
                    ClosureReason.NEEDS_MET_ELSEWHERE: 12,
                    ClosureReason.OTHER: 5,
                }
            )
            length = self.rng.randint(60, 250)
            plan.referral_date = self.between(
                self.earliest, self.yesterday - timedelta(days=length + 30)
            )
        plan.opened_on = plan.referral_date + self.days(2, 9)
        plan.first_meeting = plan.opened_on + self.days(2, 9)
        if outcome == "closed":
            plan.closed_on = plan.first_meeting + timedelta(days=length)
            if plan.closure_reason == ClosureReason.DISENGAGED:
                plan.last_contact = plan.closed_on - self.days(10, 25)
                plan.dna_tail = self.rng.randint(2, 3)
            else:
                plan.last_contact = plan.closed_on
        assert plan.last_contact is not None
        plan.first_meeting = min(plan.first_meeting, plan.last_contact)
        return plan

    # -- people --
    def unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def phone(self) -> str:
        if self.chance(0.9):
            return f"07700 900{self.rng.randint(0, 999):03d}"
        return f"020 7946 0{self.rng.randint(0, 999):03d}"

    def name_for(self, pool_keys: Sequence[str], female: bool) -> tuple[str, Pool]:
        pool = POOLS[self.pick(pool_keys)]
        return self.pick(pool.female if female else pool.male), pool

    def surname_for(self, pool: Pool, female: bool) -> str:
        return self.pick(pool.female_surnames if female and pool.female_surnames else pool.surnames)

    def misspell(self, name: str) -> str:
        if name in SPELLING_VARIANTS:
            return self.pick(SPELLING_VARIANTS[name])
        for old, new in (
            ("ph", "f"),
            ("ck", "k"),
            ("y", "i"),
            ("ie", "ei"),
            ("ou", "u"),
            ("ll", "l"),
            ("tt", "t"),
            ("nn", "n"),
            ("ai", "ay"),
        ):
            if old in name[1:]:
                return name[0] + name[1:].replace(old, new, 1)
        if len(name) > 3:
            i = self.rng.randint(1, len(name) - 3)
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        return name + "e"

    def make_person(self, plan: Plan, actor: User) -> Person:
        rng = self.rng
        kind_index = 0 if plan.kind == "custody" else 1
        ethnicity = self.weighted({k: v[kind_index] for k, v in ETHNICITIES.items()})
        _, _, fore_pools, sur_pools = ETHNICITIES[ethnicity]
        gender = "female" if plan.female else "male"
        if plan.kind == "prevention" and self.chance(0.02):
            gender = "non_binary"
        elif self.chance(0.02):
            gender = "not_stated"
        female = plan.female  # names, relatives and prison follow the plan, whatever is recorded
        for _ in range(50):
            forename, pool = self.name_for(fore_pools, female)
            surname = self.surname_for(POOLS[self.pick(sur_pools)] if sur_pools else pool, female)
            if (forename, surname) not in self.used_names and forename != surname:
                break
        self.used_names.add((forename, surname))
        ref = plan.referral_date
        dob = ref - timedelta(days=plan.age * 365 + plan.age // 4 + rng.randint(1, 364))
        plan.extra["dob"] = dob
        language = self.weighted({lang: w for lang, w in pool.languages})
        outside = plan.decline_reason == DeclineReason.OUT_OF_AREA
        if outside:
            town, district, street = self.pick(OUTSIDE_LONDON)
            borough, area = "Outside London", town
            plan.extra["town"] = town
        else:
            if plan.kind == "prevention":
                boroughs = {b: BOROUGHS[b][0] for b in SCHOOLS}
            else:
                boroughs = {b: v[0] for b, v in BOROUGHS.items()}
            borough = self.weighted(boroughs)
            _, districts, streets, areas = BOROUGHS[borough]
            district, street, area = self.pick(districts), self.pick(streets), self.pick(areas)
            town = "London"
        plan.extra.update(borough=borough, area=area)
        postcode = (
            f"{district} {rng.randint(0, 9)}{self.pick(INWARD_LETTERS)}{self.pick(INWARD_LETTERS)}"
        )
        address = ""
        if self.chance(0.85):
            if self.chance(0.7):
                address = f"Flat {rng.randint(1, 96)}, {self.pick(BLOCKS)}\n{street}\n{town}"
            else:
                address = f"{rng.randint(2, 240)} {street}\n{town}"
        in_custody = plan.kind == "custody"
        age_now = plan.age + (self.today - ref).days // 365
        data: dict[str, Any] = {
            "forename": forename,
            "surname": surname,
            "preferred_name": PREFERRED_NAMES.get(forename, "") if self.chance(0.7) else "",
            "date_of_birth": dob,
            "gender": gender,
            "ethnicity": ethnicity,
            "first_language": language,
            "interpreter_needed": language != "English"
            and self.chance(0.6 if language in ("Tigrinya", "Pashto", "Dari") else 0.2),
            "borough": borough,
            "postcode": postcode,
            "address": address,
            "phone": self.phone() if age_now >= 14 and self.chance(0.85) else "",
        }
        if in_custody:
            letter = self.pick("AG")
            data["prison_number"] = self.unique(
                lambda: (
                    f"{letter}{rng.randint(1000, 9999)}"
                    f"{self.pick('ABCDEFGHJKLMNPRSTUVWXYZ')}{self.pick('ABCDEFGHJKLMNPRSTUVWXYZ')}"
                )
            )
        if in_custody or self.chance(0.3):
            first_year = min(ref.year, dob.year + rng.randint(14, max(14, plan.age)))
            data["pnc_id"] = self.unique(lambda: self.pnc(first_year))
        if in_custody and plan.age >= 18 and self.chance(0.9):
            data["crn"] = self.unique(lambda: f"{self.pick('XDECBN')}{rng.randint(0, 999999):06d}")
        person = people.create_person(actor, data)
        self.add_aliases(person, plan, actor)
        self.add_family(person, plan, actor, pool, female)
        return person

    def professional_name(self) -> str:
        """A resettlement officer, probation officer, teacher or police officer."""
        pool = POOLS[self.pick(["british", "british", "caribbean", "nigerian", "ghanaian",
                                "irish", "indian", "pakistani", "polish"])]  # fmt: skip
        female = self.chance(0.6)
        return f"{self.pick(pool.female if female else pool.male)} {self.surname_for(pool, female)}"

    def pnc(self, year: int) -> str:
        serial = f"{self.rng.randint(1, 999999):07d}"
        return f"{year}/{serial}{pnc_check_letter(str(year), serial)}"

    def add_aliases(self, person: Person, plan: Plan, actor: User) -> None:
        roll = self.rng.random()
        custody = plan.kind == "custody"
        if roll < (0.22 if custody else 0.12):
            people.add_alias(
                actor,
                person,
                self.pick(STREET_NAMES),
                "",
                self.pick(
                    ["Street name", "Name used on social media", "Street name, known to the YJS"]
                ),
            )
        if self.rng.random() < 0.2:
            which = self.chance(0.5)
            forename = self.misspell(person.forename) if which else person.forename
            surname = person.surname if which else self.misspell(person.surname)
            if (forename, surname) != (person.forename, person.surname):
                people.add_alias(
                    actor,
                    person,
                    forename,
                    surname,
                    self.pick(
                        [
                            "Spelling on the prison record"
                            if custody
                            else "Spelling on the school's form",
                            "Spelling on the police referral",
                            "Misspelt on an old probation letter",
                        ]
                    ),
                )
        if custody and self.rng.random() < 0.05:
            people.add_alias(
                actor,
                person,
                person.surname,
                person.forename,
                "Names the other way round on the PNC record",
            )

    def add_family(self, person: Person, plan: Plan, actor: User, pool: Pool, female: bool) -> None:
        rng = self.rng
        members: list[dict[str, Any]] = []
        surname = person.surname

        taken = {person.full_name}

        def add(relationship: str, name: str, **extra: Any) -> None:
            if name in taken:  # two relatives with one name would only confuse the reader
                return
            taken.add(name)
            members.append(
                {
                    "name": name,
                    "relationship": relationship,
                    "phone": self.phone() if self.chance(0.85) else "",
                    **extra,
                }
            )

        if self.chance(0.05 if plan.kind == "custody" else 0.08):
            add(
                Relationship.FOSTER_CARER,
                f"{self.pick(POOLS['british'].female)} {self.pick(POOLS['british'].surnames)}",
                lives_with=plan.kind == "prevention",
                notes="Placed by the local authority.",
            )
        elif self.chance(0.88):
            mum_surname = surname if self.chance(0.6) else self.surname_for(pool, True)
            add(
                Relationship.MOTHER,
                f"{self.pick(pool.female)} {mum_surname}",
                lives_with=self.chance(0.6),
                notes=self.pick(
                    ["Main contact.", "Works nights; text first.", "Worried about the area.", ""]
                ),
            )
        if self.chance(0.3):
            may = self.chance(0.7)
            add(
                Relationship.FATHER,
                f"{self.pick(pool.male)} {surname}",
                lives_with=False,
                may_contact=may,
                notes="" if may else "The young person asked us not to contact him.",
            )
        if self.chance(0.25):
            add(
                Relationship.GRANDPARENT,
                f"{self.pick(pool.female)} {self.surname_for(pool, True)}",
                lives_with=self.chance(0.3),
                notes=self.pick(["Nan; very close.", ""]),
            )
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            sister = self.chance(0.5)
            add(
                Relationship.SIBLING,
                f"{self.pick(pool.female if sister else pool.male)} {surname}",
                lives_with=self.chance(0.5),
            )
        if self.chance(0.1):
            add(
                Relationship.AUNT_UNCLE,
                f"{self.pick(pool.female)} {self.surname_for(pool, True)}",
                notes="Offered a room after release." if plan.kind == "custody" else "",
            )
        if plan.age >= 18 and self.chance(0.2):
            partner_pool = POOLS[self.pick(list(POOLS))]
            add(
                Relationship.PARTNER,
                f"{self.pick(partner_pool.male if female else partner_pool.female)} "
                f"{self.pick(partner_pool.surnames)}",
                lives_with=False,
            )
        if plan.age >= 19 and self.chance(0.12):
            add(
                Relationship.CHILD,
                f"{self.pick(pool.female + pool.male)} {surname}",
                lives_with=False,
                notes="Lives with the child's mother; contact is supervised.",
            )
        plan.extra["family"] = [people.add_family_member(actor, person, m) for m in members]

    # -- execution --
    def execute(self, plan: Plan) -> None:
        if plan.kind == "custody":
            self.execute_custody(plan)
        else:
            self.execute_prevention(plan)
        self.save_contacts()

    def words(self, person: Person, plan: Plan, **more: str) -> dict[str, str]:
        him, his, he_she = {"male": ("him", "his", "he"), "female": ("her", "her", "she")}.get(
            person.gender, ("them", "their", "they")
        )
        family = [m for m in plan.extra.get("family", []) if m.may_contact]
        return {
            "name": person.preferred_name or person.forename,
            "him": him,
            "his": his,
            "he_she": he_she,
            "borough": plan.extra.get("borough", ""),
            "area": plan.extra.get("area", ""),
            "family": family[0].name.split()[0] if family else "the family",
            "age": str(plan.age),
            "town": plan.extra.get("town", ""),
            **more,
        }

    def fill(self, template: str, words: dict[str, str]) -> str:
        text = template.format(**words)
        return text[:1].upper() + text[1:]

    def custody_referral_data(
        self, plan: Plan, person: Person, prison: Establishment, words: dict[str, str]
    ) -> dict[str, Any]:
        # What the prison said at the time: before HDC was approved, the CRD's release date.
        release = plan.extra.get("crd_release") or plan.expected_release
        assert release is not None
        when = f"{release.day} {release:%B %Y}"
        borough = plan.extra["borough"]
        sentence = plan.extra.get("sentence", "")
        if plan.direct:
            source = ReferralSource.YJS if plan.age < 18 else ReferralSource.PROBATION
        elif plan.age < 18:
            source = self.weighted(
                {ReferralSource.PRISON: 5, ReferralSource.YJS: 4, ReferralSource.FAMILY: 1}
            )
        else:
            source = self.weighted(
                {
                    ReferralSource.PRISON: 10,
                    ReferralSource.PROBATION: 3,
                    ReferralSource.FAMILY: 1,
                    ReferralSource.SELF: 1,
                    ReferralSource.OTHER: 1,
                }
            )
        if source == ReferralSource.FAMILY and not self.kin_of(plan):
            source = ReferralSource.SELF
        london = borough if borough in BOROUGHS else self.pick(list(SCHOOLS))
        if london == "City of London":  # the City's young people are served from Hackney
            london = "Hackney"
        going_to = borough if borough in BOROUGHS else plan.extra["area"]
        referrer = self.professional_name()
        organisation, contact = "", f"020 7946 0{self.rng.randint(0, 999):03d}"
        if source == ReferralSource.PRISON:
            organisation = f"{prison.display_name} resettlement team"
        elif source == ReferralSource.PROBATION:
            organisation = f"Probation Service, {london} PDU"
        elif source == ReferralSource.YJS:
            organisation = f"{london} Youth Justice Service"
        elif source == ReferralSource.OTHER:
            organisation = f"{london} Council leaving care team"
        elif source == ReferralSource.FAMILY:
            referrer, contact = self.family_referrer(plan)
        else:
            referrer, contact = "", ""
        if plan.direct:
            opening = f"Released from {prison.display_name} on {when}; on licence in {going_to}."
        elif sentence == SentenceType.REMAND:
            opening = (
                f"On remand at {prison.display_name} awaiting trial at {self.pick(COURTS)}; "
                "no release date until the court decides."
            )
        elif sentence == SentenceType.RECALL:
            opening = (
                f"Recalled to {prison.display_name} for breaching licence conditions; "
                f"expected out again on {when}."
            )
        elif sentence == SentenceType.INDETERMINATE:
            ped = plan.extra["ped"]
            opening = (
                f"Serving a life sentence at {prison.display_name}; parole eligibility date "
                f"{ped.day} {ped:%B %Y}. Wants help to prepare for the Parole Board."
            )
        elif source == ReferralSource.YJS:
            order = "a DTO" if plan.extra.get("sentence_type") == SentenceType.DTO else "a sentence"
            opening = f"Serving {order} at {prison.display_name}; due out on {when}."
        elif source == ReferralSource.FAMILY:
            opening = (
                f"{plan.extra['kin']} rang us: {words['name']} is due out of "
                f"{prison.display_name} on {when}."
            )
        elif source == ReferralSource.SELF:
            opening = (
                f"{words['name']} wrote to us from {prison.display_name} after a talk on "
                f"the wing. Release date {when}."
            )
        else:
            opening = f"Due for release from {prison.display_name} on {when} to {going_to}."
        needs = self.rng.sample(CUSTODY_NEEDS, self.rng.randint(1, 2))
        closing = self.pick(
            [
                "Asked for a mentor who has been through it.",
                "Keen to meet a mentor before release.",
                "",
            ]
        )
        reasons = " ".join([opening, *(self.fill(n, words) for n in needs), closing]).strip()
        return {
            "source_type": source,
            "referring_organisation": organisation,
            "referrer_name": referrer,
            "referrer_contact": contact,
            "referral_date": plan.referral_date,
            "reasons": reasons,
            "consent_recorded": plan.consent,
        }

    KIN = {
        Relationship.MOTHER: "Mum", Relationship.FATHER: "Dad", Relationship.GRANDPARENT: "Nan",
        Relationship.AUNT_UNCLE: "Aunt", Relationship.FOSTER_CARER: "Foster carer",
        Relationship.STEP_PARENT: "Step-parent", Relationship.CARER: "Carer",
    }  # fmt: skip

    def kin_of(self, plan: Plan) -> FamilyMember | None:
        """The relative who would ring us on a young person's behalf, if there is one."""
        for member in plan.extra.get("family", []):
            if member.relationship in self.KIN and member.may_contact:
                return member
        return None

    def family_referrer(self, plan: Plan) -> tuple[str, str]:
        member = self.kin_of(plan)
        assert member is not None
        kin = self.KIN[member.relationship]
        plan.extra["kin"] = kin
        return f"{member.name} ({kin.lower()})", member.phone or self.phone()

    def prison_for(self, age: int, female: bool) -> Establishment:
        if female:
            codes = PRISONS_WOMEN
        elif age < 18:
            codes = PRISONS_UNDER_18
        elif age < 21:
            codes = PRISONS_18_TO_20
        else:
            codes = PRISONS_ADULT
        return self.prisons[self.pick(codes)]

    def age_on(self, dob: date, day: date) -> int:
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def execute_custody(self, plan: Plan) -> None:
        cara = self.users["cara"]
        person = self.make_person(plan, cara)
        dob: date = plan.extra["dob"]
        assert plan.received_on is not None and plan.expected_release is not None
        fifteen = dob + timedelta(days=15 * 365 + 4)  # nobody here was in custody younger
        received = max(plan.received_on, fifteen)
        if received >= plan.expected_release:
            received = plan.expected_release - timedelta(days=30)
        female = plan.female
        prison = self.prison_for(self.age_on(dob, received), female)
        # An earlier sentence for some: custody history is the norm, not the exception.
        previous: CustodyEpisode | None = None
        earlier = received - self.days(250, 900)
        if plan.extra.get("sentence") == SentenceType.RECALL:
            previous = self.licence_sentence(plan, person, received, female)
            if previous is None:
                del plan.extra["sentence"]
        elif earlier >= fifteen and self.chance(0.25):
            previous = self.earlier_custody(person, dob, earlier, received, female)
        episode = self.start_custody(plan, person, prison, received, previous)
        plan.extra["prison0"] = prison
        plan.extra["sentence_type"] = episode.sentence_type
        plan.extra["moves"] = self.move_between_prisons(plan, episode)
        if episode.expected_release_date is not None:
            # The engine's date, from the key dates: everything after is built on it.
            plan.expected_release = episode.expected_release_date
        release = plan.expected_release
        released = episode.expected_release_date is not None and release <= self.yesterday
        at_referral = self.prison_on(plan, plan.referral_date, prison)
        words = self.words(person, plan, prison=at_referral.display_name)
        if plan.direct and released:
            # Referred after release: the release was on record before the case opened.
            custody.record_release(cara, episode, release)
        referral = casework.create_referral(
            cara,
            person,
            self.programmes["custody"],
            self.custody_referral_data(plan, person, at_referral, words),
        )
        if plan.outcome == "declined":
            if released:
                custody.record_release(cara, episode, release)
            note = self.fill(self.pick(DECLINE_NOTES[plan.decline_reason]), words)
            casework.decline_referral(cara, referral, plan.decline_reason, note)
            return
        if plan.outcome == "pending":
            return
        mentor = self.users[plan.mentor] if plan.mentor else None
        assert plan.opened_on is not None
        case = casework.accept_referral(
            cara,
            referral,
            mentor=mentor,
            opened_on=plan.opened_on,
            note=""
            if mentor
            else f"Accepted; waiting for a mentor with clearance for {at_referral.display_name}.",
        )
        self.run_custody_case(plan, person, case, episode, words)
        if plan.closed_on is None:
            self.make_release_plan(plan, case, episode, words)
        if plan.rereferral:
            self.run_rereferral(plan, person)

    # -- custody records --
    def backdate_changes(self, episode: CustodyEpisode, day: date) -> None:
        """Date the key-date changes just recorded for `episode` on the day they happened
        (the actions stamp the moment of the call; see the module notes)."""
        fresh = list(
            KeyDateChange.objects.filter(episode=episode, pk__gt=self.backdated_up_to).values_list(
                "pk", flat=True
            )
        )
        if fresh:
            KeyDateChange.objects.filter(pk__in=fresh).update(changed_at=self.at(day, 9, 17))
            self.backdated_up_to = max(fresh)

    def sentence_dates(
        self,
        release: date,
        received: date,
        dob: date,
        previous: CustodyEpisode | None = None,
        hdc: bool = False,
    ) -> tuple[str, dict[str, date], bool]:
        """Sentence type and key dates whose expected release is `release` (a day the rules
        leave alone), and whether it is an HDC release still to be approved: then the CRD is
        later and `release` becomes the HDC approved date (HDCAD) afterwards."""
        if (
            previous is not None
            and previous.sentence_type == SentenceType.DETERMINATE
            and previous.sed is not None
            and previous.sentence_date is not None
            and received < previous.sed - timedelta(days=28)
            and release + timedelta(days=14) < previous.sed
        ):
            # Recalled on the licence of the earlier sentence: same sentence, same end.
            crd = self.scheduled_for(release, "crd", SentenceType.RECALL, dob)
            end = previous.sed
            key = {"sentence_date": previous.sentence_date, "crd": crd, "led": end, "sed": end}
            return SentenceType.RECALL, key, False
        latest = min(release - timedelta(days=42), self.yesterday)
        sentenced = max(received, min(received + self.days(0, 60), latest))
        age = self.age_on(dob, sentenced)
        if age < 18 and (release - sentenced).days <= 365:
            sentence_type, basis = SentenceType.DTO, "ard"  # released halfway through the order
        else:
            sentence_type, basis = SentenceType.DETERMINATE, "crd"
        hdc = (
            hdc
            and sentence_type == SentenceType.DETERMINATE
            and age >= 18
            and sentenced <= release - timedelta(days=28)
        )
        if hdc:
            scheduled = release + self.days(14, 56)  # the CRD; HDC brings release forward
        else:
            scheduled = self.scheduled_for(release, basis, sentence_type, dob)
        half = max((scheduled - sentenced).days, 28)
        end = scheduled + timedelta(days=half)
        key = {"sentence_date": sentenced, basis: scheduled, "sed": end}
        if sentence_type == SentenceType.DETERMINATE:
            key["led"] = end
            if age >= 18 and half < 365:  # under two years: top-up supervision for a year
                key["tused"] = scheduled + timedelta(days=365)
            if age >= 18 and 42 <= half < 2 * 365 and (hdc or self.chance(0.3)):
                # Eligible for HDC a quarter of the way through, at most 180 days early.
                eligible = max(
                    sentenced + timedelta(days=max(28, half // 2)),
                    scheduled - timedelta(days=180),
                )
                if hdc:
                    eligible = min(eligible, release - self.days(0, 14))
                if sentenced < eligible < scheduled:
                    key["hdced"] = eligible
        return sentence_type, key, hdc and "hdced" in key

    def start_custody(
        self,
        plan: Plan,
        person: Person,
        prison: Establishment,
        received: date,
        previous: CustodyEpisode | None,
    ) -> CustodyEpisode:
        """The episode the plan is about, with the dates it would have had on the way: the
        sentence calculation on reception, added days for some, HDC approved for others."""
        cara = self.users["cara"]
        dob: date = plan.extra["dob"]
        release = plan.expected_release
        assert release is not None
        kind = plan.extra.get("sentence", "")
        revise: tuple[dict[str, date], str, date] | None = None
        hdc = False
        if kind == SentenceType.REMAND:
            sentence_type, key, reason = kind, {}, "Remanded in custody"
        elif kind == SentenceType.INDETERMINATE:
            sentenced = min(received + self.days(60, 300), self.yesterday)
            sentence_type, reason = kind, "Life sentence: minimum term set by the judge"
            key = {"sentence_date": sentenced, "ped": self.today + self.days(200, 900)}
            plan.extra["ped"] = key["ped"]
        else:
            sentence_type, key, hdc = self.sentence_dates(
                release, received, dob, previous, hdc=plan.extra.get("hdc", False)
            )
            reason = (
                "Recalled to custody"
                if sentence_type == SentenceType.RECALL
                else "Sentence calculation from the prison"
            )
            known = max(received, key["sentence_date"])
            if plan.extra.get("revise") and "crd" in key and known < self.today - timedelta(40):
                # Added days at an adjudication: the CRD was earlier to begin with.
                added = self.pick([7, 14, 21])
                first = dict(key, crd=key["crd"] - timedelta(days=added))
                if first["crd"] > max(received, first.get("hdced", received)):
                    note = self.pick(ADDED_DAYS_REASONS).format(days=added)
                    revise = ({"crd": key["crd"]}, note, known)
                    key = first
        episode = custody.start_custody_episode(
            cara, person, prison, received, sentence_type=sentence_type, key_dates=key,
            reason=reason,
        )  # fmt: skip
        self.backdate_changes(episode, max(received, key.get("sentence_date", received)))
        if revise is not None:
            changes, note, known = revise
            custody.update_key_dates(cara, episode, changes, note)
            self.backdate_changes(
                episode, self.between(known + timedelta(days=14), self.today - timedelta(20))
            )
        if hdc:
            plan.extra["crd_release"] = episode.expected_release_date
            custody.update_key_dates(cara, episode, {"hdcad": release}, HDC_APPROVED)
            self.backdate_changes(episode, self.today - self.days(2, 10))
        return episode

    def earlier_custody(
        self, person: Person, dob: date, received: date, next_time: date, female: bool
    ) -> CustodyEpisode:
        """An earlier sentence, served and released before this story begins."""
        cara = self.users["cara"]
        release = self.release_day(
            min(received + self.days(40, 220), next_time - timedelta(days=30)),
            received + timedelta(days=14),
        )
        sentence_type, key, _ = self.sentence_dates(release, received, dob)
        episode = custody.start_custody_episode(
            cara,
            person,
            self.prison_for(self.age_on(dob, received), female),
            received,
            sentence_type=sentence_type,
            key_dates=key,
            reason="Sentence calculation from the prison",
        )
        self.backdate_changes(episode, max(received, key["sentence_date"]))
        assert episode.expected_release_date is not None
        custody.record_release(cara, episode, episode.expected_release_date)
        return episode

    def licence_sentence(
        self, plan: Plan, person: Person, recalled_on: date, female: bool
    ) -> CustodyEpisode | None:
        """The sentence someone is recalled on: released at its CRD a few months before
        `recalled_on`, its licence running well past the release the plan expects."""
        cara = self.users["cara"]
        dob: date = plan.extra["dob"]
        release = plan.expected_release
        assert release is not None
        out = self.release_day(recalled_on - self.days(30, 150), recalled_on - timedelta(days=200))
        half = (release + self.days(60, 200) - out).days
        sentenced = out - timedelta(days=half)
        received = sentenced - self.days(0, 60)  # remand before sentence
        if self.age_on(dob, received) < 18:
            return None  # no adult sentence to be recalled on; this one is new
        crd = self.scheduled_for(out, "crd", SentenceType.DETERMINATE, dob)
        end = crd + (crd - sentenced)  # released halfway
        key = {"sentence_date": sentenced, "crd": crd, "led": end, "sed": end}
        episode = custody.start_custody_episode(
            cara,
            person,
            self.prison_for(self.age_on(dob, received), female),
            received,
            sentence_type=SentenceType.DETERMINATE,
            key_dates=key,
            reason="Sentence calculation from the prison",
        )
        self.backdate_changes(episode, sentenced)
        assert episode.expected_release_date is not None
        custody.record_release(cara, episode, episode.expected_release_date)
        return episode

    def recall_custody(
        self, plan: Plan, person: Person, episode: CustodyEpisode, prison: Establishment
    ) -> CustodyEpisode:
        """Back inside after release: a recall on the same sentence while its licence runs,
        otherwise a new sentence."""
        cara = self.users["cara"]
        dob: date = plan.extra["dob"]
        returned = plan.returned_on
        assert returned is not None
        release: date = plan.extra["release2"]
        end = episode.sed
        if (
            episode.sentence_type == SentenceType.DETERMINATE
            and end is not None
            and episode.sentence_date is not None
            and returned < end - timedelta(days=28)
            and release + timedelta(days=14) < end
        ):
            sentence_type = str(SentenceType.RECALL)
            crd = self.scheduled_for(release, "crd", sentence_type, dob)
            key = {"sentence_date": episode.sentence_date, "crd": crd, "led": end, "sed": end}
            reason = "Recalled to custody"
        else:
            sentence_type, key, _ = self.sentence_dates(release, returned, dob)
            reason = "Sentence calculation from the prison"
        recall = custody.start_custody_episode(
            cara, person, prison, returned, sentence_type=sentence_type, key_dates=key,
            reason=reason,
        )  # fmt: skip
        self.backdate_changes(recall, returned)
        return recall

    @staticmethod
    def birthday(dob: date, age: int) -> date:
        try:
            return dob.replace(year=dob.year + age)
        except ValueError:  # born on 29 February
            return date(dob.year + age, 3, 1)

    def move_between_prisons(
        self, plan: Plan, episode: CustodyEpisode
    ) -> list[tuple[date, Establishment]]:
        """Moves children make inside: Cookham Wood to Feltham sometimes, and out of the
        children's estate (to Isis, mostly) soon after an 18th birthday."""
        if plan.female:
            return []
        release = episode.expected_release_date or plan.expected_release
        assert release is not None
        last = min(self.yesterday, release - timedelta(days=7))
        eighteen = self.birthday(plan.extra["dob"], 18)
        moves: list[tuple[date, str]] = []
        day = episode.received_on
        if episode.establishment_id == "CKI" and self.chance(0.35):
            move = day + self.days(14, 150)
            if move <= last and move < eighteen:
                moves.append((move, "FMI"))
                day = move
        if episode.establishment_id in PRISONS_UNDER_18 and self.chance(0.7):
            move = max(eighteen, day + timedelta(days=1)) + self.days(0, 21)
            if move <= last:
                moves.append((move, self.pick(PRISONS_AT_18)))
        cara = self.users["cara"]
        for move, code in moves:
            custody.record_transfer(cara, episode, self.prisons[code], move)
        return [(move, self.prisons[code]) for move, code in moves]

    def prison_on(self, plan: Plan, day: date, first: Establishment) -> Establishment:
        """Where the young person was held on `day` (after any moves)."""
        prison = first
        for moved, establishment in plan.extra.get("moves", []):
            if moved <= day:
                prison = establishment
        return prison

    # -- release-day plans --
    def make_release_plan(
        self, plan: Plan, case: Case, episode: CustodyEpisode, words: dict[str, str]
    ) -> None:
        """A release-day plan for a release in the next PLAN_WEEKS weeks (in the state the
        coordinator would find it) or, done, for one in the last fortnight."""
        release = episode.expected_release_date
        if release is None:
            return
        if episode.released_on is None:
            if not self.today <= release <= self.today + timedelta(weeks=PLAN_WEEKS):
                return
            stage = self.plan_stage(plan, case, release)
        elif "first_days" in plan.extra:
            stage = "released"
        else:
            return
        cara, mentor = self.users["cara"], case.mentor
        release_plan = custody.create_release_plan(cara, case, episode)
        said = words | {
            "housing": self.pick(HOUSING),
            "mentor": mentor.first_name if mentor else "the mentor",
        }
        child = self.age_on(plan.extra["dob"], release) < 18
        for item in release_plan.items.order_by("id"):
            if item.kind == ItemKind.GATE_MEETING:
                data = self.gate_meeting(stage, release, mentor, said)
            else:
                data = self.plan_item(stage, item.kind, said, child)
            if data:
                custody.update_plan_item(cara, item, data)

    def plan_stage(self, plan: Plan, case: Case, release: date) -> str:
        if case.mentor is None:
            return self.weighted({"started": 1, "new": 1})
        if plan.state == "custody_soon":
            forced = FORCED_PLAN_STAGES.get((plan.mentor or "", plan.extra.get("index", -1)))
            if forced:
                return forced
        if (release - self.today).days <= 28:
            return self.weighted({"ready": 10, "all_set": 3, "behind": 7})
        return self.weighted({"ready": 2, "started": 5, "new": 3})

    def plan_item(
        self, stage: str, kind: str, words: dict[str, str], child: bool
    ) -> dict[str, Any]:
        done, doing, to_do = ItemStatus.DONE, ItemStatus.IN_PROGRESS, ItemStatus.TO_DO
        early = kind in (ItemKind.ID, ItemKind.BANK_ACCOUNT, ItemKind.PROBATION, ItemKind.BENEFITS)
        status = {
            "released": lambda: done,
            "all_set": lambda: done,
            "ready": lambda: self.weighted({done: 7, doing: 2, to_do: 1}),
            "behind": lambda: self.weighted({done: 2, doing: 3, to_do: 5}),
            "started": lambda: self.weighted({done: 1, doing: 2, to_do: 3}) if early else to_do,
            "new": lambda: to_do,
        }[stage]()
        if kind == ItemKind.ACCOMMODATION and stage in ("released", "all_set", "ready"):
            status = done
        elif kind == ItemKind.ACCOMMODATION and stage == "behind":
            return {
                "status": doing,
                "notes": "Housing assessment booked with the council; nothing confirmed yet.",
            }
        if kind == ItemKind.SUBSISTENCE:
            if child and stage != "new":
                return {
                    "status": ItemStatus.NOT_NEEDED,
                    "notes": "Under 18: no subsistence payment.",
                }
        elif status == done and kind in PLAN_NOT_NEEDED and self.chance(0.25):
            return {
                "status": ItemStatus.NOT_NEEDED,
                "notes": self.fill(PLAN_NOT_NEEDED[kind], words),
            }
        if status == to_do:
            return {}
        data: dict[str, Any] = {"status": status}
        if kind in PLAN_DONE:
            owner, detail, note = self.pick(PLAN_DONE[kind])
            data.update(owner=owner, owner_detail=self.fill(detail, words))
            if status == done:
                data["notes"] = self.fill(note, words)
        return data

    def gate_meeting(
        self, stage: str, release: date, mentor: User | None, words: dict[str, str]
    ) -> dict[str, Any]:
        """Arranged for release day between 08:00 and 09:30, the mentor at the gate."""
        hour, minute = self.pick([(8, 0), (8, 15), (8, 30), (8, 30), (8, 45), (9, 0), (9, 30)])
        at = timezone.make_aware(datetime.combine(release, time(hour, minute)))
        if mentor is None:
            return {}
        if stage == "released":
            return {"status": ItemStatus.DONE, "appointment_at": at, "assignee": mentor}
        if stage == "all_set" and self.chance(0.25):
            return {"status": ItemStatus.NOT_NEEDED, "notes": self.fill(GATE_BY_FAMILY, words)}
        if stage in ("ready", "all_set"):
            # Arranged, and still to happen: it stays open until the day.
            return {"appointment_at": at, "assignee": mentor,
                    "notes": self.fill(self.pick(GATE_NOTES), words)}  # fmt: skip
        return {}

    # -- casework --
    def run_custody_case(
        self,
        plan: Plan,
        person: Person,
        case: Case,
        episode: CustodyEpisode,
        words: dict[str, str],
    ) -> None:
        """Contacts and the phase changes nobody else makes. Custody actions move the case
        (in custody on reception, through the gate on release) and so does the first
        contact two weeks after release (into the community; see save_contacts)."""
        cara = self.users["cara"]
        mentor = case.mentor
        if mentor is None or plan.first_meeting is None:
            return
        release = episode.expected_release_date or plan.expected_release
        assert release is not None
        # Remand and indeterminate sentences have no release date: the story stays inside.
        can_release = episode.expected_release_date is not None
        end = plan.last_contact or plan.first_meeting
        closed = plan.closed_on
        limit = closed or self.yesterday
        events: list[tuple[date, int, Callable[[], Any]]] = []
        family = [m for m in plan.extra.get("family", []) if m.may_contact]
        first_prison: Establishment = plan.extra.get("prison0", episode.establishment)

        def contact(day: date, kind: str, dna: str = "") -> None:
            said = words
            if plan.extra.get("moves") and kind in ("prison", "call", "gate"):
                said = words | {"prison": self.prison_on(plan, day, first_prison).display_name}
            events.append((day, 1, lambda: self.log(case, mentor, day, kind, said, family, dna)))

        # In custody: a visit every two or three weeks, calls in between.
        if plan.direct:
            events.append(
                (
                    plan.first_meeting,
                    0,
                    lambda: casework.change_phase(
                        cara,
                        case,
                        Phase.COMMUNITY,
                        plan.first_meeting or release,
                        "First meeting in the community",
                    ),
                )
            )
        else:
            if plan.first_meeting < release:
                events.append(
                    (
                        plan.first_meeting,
                        0,
                        lambda: casework.change_phase(
                            cara,
                            case,
                            Phase.IN_CUSTODY,
                            plan.first_meeting or release,
                            "First prison visit",
                        ),
                    )
                )
                day = plan.first_meeting
                while day < release and day <= end:
                    contact(day, "prison", "prison_regime" if self.chance(0.08) else "")
                    call = day + self.days(3, 9)
                    if self.chance(0.35) and call < release and call <= end:
                        contact(call, "call")
                    day += self.days(10, 21)
            if can_release and release <= min(limit, self.yesterday):
                # Moves the case through the gate (custody.actions.move_cases_to).
                events.append(
                    (release, 0, lambda: custody.record_release(mentor, episode, release))
                )
                if release <= end:
                    contact(release, "gate")
        # In the community: weekly at first, then every week or two.
        if release <= end:
            if "first_days" in plan.extra:  # released in the last fortnight
                for offset in plan.extra["first_days"]:
                    contact(release + timedelta(days=offset), "community")
            else:
                day = plan.first_meeting if plan.direct else release + self.days(1, 4)
                while day <= end:
                    contact(day, "community")
                    early = (day - release).days < 45
                    day += self.days(3, 8) if early else self.days(6, 14)
        # The last contact falls exactly where the plan says (recent or overdue).
        if plan.last_contact and events:
            last_day = (
                max(d for d, prio, _ in events if prio == 1)
                if any(prio == 1 for _, prio, _ in events)
                else None
            )
            if last_day is None or last_day < plan.last_contact:
                in_prison = plan.last_contact < release and not plan.direct
                contact(plan.last_contact, "prison" if in_prison else "community")
        contacts = sorted((e for e in events if e[1] == 1), key=lambda e: e[0])
        # Disengaging: the last few meetings did not happen.
        if plan.dna_tail:
            tail = {id(e) for e in contacts[-plan.dna_tail :]}
            events = [e for e in events if id(e) not in tail]
            for day, _, _ in contacts[-plan.dna_tail :]:
                in_prison = day < release and not plan.direct
                contact(
                    day,
                    "prison" if in_prison else "community",
                    "cancelled_by_them" if in_prison else "no_show",
                )
        elif plan.closure_reason == ClosureReason.COMPLETED and contacts:
            final_day = contacts[-1][0]
            events = [e for e in events if e is not contacts[-1]]
            contact(final_day, "final")
        for _, _, run in sorted(events, key=lambda e: (e[0], e[1])):
            run()
        if closed is None:
            return
        # Contacts first: one two weeks after release settles the case in the community,
        # which must be on record before anything later (a recall, the closure).
        self.save_contacts()
        recall: CustodyEpisode | None = None
        if plan.returned_on:
            recall_prison = self.prisons[
                self.pick(PRISONS_WOMEN if plan.female else PRISONS_RECALL)
            ]
            # Back in custody: the action moves the still-open case back to "in custody".
            recall = self.recall_custody(plan, person, episode, recall_prison)
            plan.extra["recall_episode"] = recall
            if plan.extra.get("recall_visit"):
                self.log(
                    case,
                    mentor,
                    closed,
                    "recall",
                    words | {"prison": recall_prison.display_name},
                    family,
                    "",
                )
        notes = self.fill(self.pick(CLOSURE_NOTES[plan.closure_reason]), words)
        self.save_contacts()  # closing checks that no contact falls after the closure
        casework.close_case(cara, case, plan.closure_reason, closed, notes)
        if recall is not None:
            if plan.extra["release2"] <= self.yesterday and not plan.rereferral:
                custody.record_release(cara, recall, plan.extra["release2"])
        elif episode.released_on is None and can_release and release <= self.yesterday:
            # Closed while still inside; the prison's release still goes on the record.
            custody.record_release(cara, episode, release)

    def run_rereferral(self, first: Plan, person: Person) -> None:
        plan = first.rereferral
        assert plan is not None and plan.mentor
        cara = self.users["cara"]
        recall: CustodyEpisode = first.extra["recall_episode"]
        plan.extra = {
            **first.extra,
            "family": first.extra.get("family", []),
            "moves": [],
            "prison0": recall.establishment,
        }
        assert recall.expected_release_date is not None
        plan.expected_release = recall.expected_release_date
        words = self.words(person, plan, prison=recall.establishment.display_name)
        how = (
            "after a recall" if recall.sentence_type == SentenceType.RECALL else "on a new sentence"
        )
        referral = casework.create_referral(
            cara,
            person,
            self.programmes["custody"],
            {
                "source_type": ReferralSource.PRISON,
                "referring_organisation": f"{recall.establishment.display_name} resettlement team",
                "referrer_name": self.professional_name(),
                "referrer_contact": f"020 7946 0{self.rng.randint(0, 999):03d}",
                "referral_date": plan.referral_date,
                "reasons": f"Back in custody {how}. Release date "
                f"{plan.expected_release:%d/%m/%Y}. {words['name']} asked to work with "
                f"{self.users[plan.mentor].first_name} again.",
                "consent_recorded": True,
            },
        )
        assert plan.opened_on is not None
        case = casework.accept_referral(
            cara,
            referral,
            mentor=self.users[plan.mentor],
            opened_on=plan.opened_on,
            note="Same mentor as before",
        )
        self.run_custody_case(plan, person, case, recall, words)

    def plan_prevention_referral(self, plan: Plan, words: dict[str, str]) -> dict[str, Any]:
        borough = plan.extra["borough"]
        if borough not in SCHOOLS:  # moved out of London since; the referral came from before
            borough = self.pick(list(SCHOOLS))
        source = self.weighted(
            {
                ReferralSource.SCHOOL: 10,
                ReferralSource.POLICE: 4,
                ReferralSource.FAMILY: 4,
                ReferralSource.YJS: 2,
                ReferralSource.SELF: 1,
            }
        )
        if source == ReferralSource.FAMILY and not self.kin_of(plan):
            source = ReferralSource.SCHOOL
        referrer = self.professional_name()
        contact = f"020 7946 0{self.rng.randint(0, 999):03d}"
        school = self.pick(SCHOOLS[borough]) if borough in SCHOOLS else ""
        plan.extra["school"] = school or "school"
        organisation = ""
        if source == ReferralSource.SCHOOL:
            organisation, referrer = school, f"{referrer} (designated safeguarding lead)"
        elif source == ReferralSource.POLICE:
            organisation = f"Metropolitan Police, {borough} Safer Schools team"
        elif source == ReferralSource.YJS:
            organisation = f"{borough} Youth Justice Service"
        elif source == ReferralSource.FAMILY:
            referrer, contact = self.family_referrer(plan)
        else:
            referrer, contact = "", ""
        reasons = " ".join(
            self.fill(t, words)
            for t in (self.pick(PREVENTION_REASONS), self.pick(PREVENTION_HOPES))
            if t
        )
        if source == ReferralSource.SELF:
            reasons = f"Came up to Pat after a workshop at {school or 'school'}. " + reasons
        return {
            "source_type": source,
            "referring_organisation": organisation,
            "referrer_name": referrer,
            "referrer_contact": contact,
            "referral_date": plan.referral_date,
            "reasons": reasons,
            "consent_recorded": plan.consent,
        }

    def execute_prevention(self, plan: Plan) -> None:
        pat, ade = self.users["pat"], self.users["ade"]
        person = self.make_person(plan, pat)
        words = self.words(person, plan)
        referral = casework.create_referral(
            pat, person, self.programmes["prevention"], self.plan_prevention_referral(plan, words)
        )
        words["school"] = plan.extra["school"]
        if plan.outcome == "declined":
            casework.decline_referral(
                ade,
                referral,
                plan.decline_reason,
                self.fill(self.pick(DECLINE_NOTES[plan.decline_reason]), words),
            )
            return
        if plan.outcome == "pending":
            return
        assert plan.mentor and plan.opened_on
        mentor = self.users[plan.mentor]
        case = casework.accept_referral(ade, referral, mentor=mentor, opened_on=plan.opened_on)
        if plan.first_meeting is None or plan.last_contact is None:
            return
        casework.change_phase(ade, case, Phase.ACTIVE, plan.first_meeting, "First session")
        family = [m for m in plan.extra.get("family", []) if m.may_contact]
        days: list[date] = []
        day = plan.first_meeting
        while day < plan.last_contact:
            days.append(day)
            day += self.days(14, 21) if self.chance(0.08) else self.days(5, 9)  # holidays
        days.append(plan.last_contact)
        for i, day in enumerate(days):
            dna = ""
            if plan.dna_tail and i >= len(days) - plan.dna_tail:
                dna = "no_show"
            elif self.chance(0.1):
                dna = self.pick(["no_show", "ill", "cancelled_by_them"])
            final = plan.closure_reason == ClosureReason.COMPLETED and i == len(days) - 1
            self.log(case, mentor, day, "final" if final else "session", words, family, dna)
        if plan.closed_on:
            notes = self.fill(self.pick(CLOSURE_NOTES[plan.closure_reason]), words)
            self.save_contacts()
            casework.close_case(ade, case, plan.closure_reason, plan.closed_on, notes)

    def save_contacts(self) -> None:
        """Save the contacts logged so far, as casework.actions.log_contact would.

        Contacts are two thirds of the demo's rows. Logged one by one through log_contact
        (a savepoint, a locking read, full_clean with three foreign-key queries, an insert
        and an audit insert, each) the full seed took 100 s on SQLite (48 s of CPU) on a
        busy two-core machine, past the minute a newcomer should wait. Bulk-creating them,
        after full_clean on every one and with the audit events log_contact would write,
        brings it to about 20 s. The seeder only logs contacts on open cases and only with
        the young person's own family, the two checks log_contact adds.
        """
        if not self.pending_contacts:
            return
        for contact, _ in self.pending_contacts:
            # Every rule of the model and its fields is checked; only the three "does this
            # row exist?" queries are skipped, for objects this seeder has in hand (and the
            # database's own foreign keys would refuse a bad one anyway).
            contact.full_clean(exclude=["case", "staff", "logged_by"])
        saved = Contact.objects.bulk_create([c for c, _ in self.pending_contacts])
        through = Contact.family_members.through
        links = [
            through(contact_id=contact.pk, familymember_id=member.pk)
            for contact, family in zip(saved, (f for _, f in self.pending_contacts), strict=True)
            for member in family
        ]
        through.objects.bulk_create(links)
        now = timezone.now()
        events = []
        for contact, family in zip(saved, (f for _, f in self.pending_contacts), strict=True):
            fields = [
                name for name in casework.CONTACT_FIELDS if getattr(contact, name) not in ("", None)
            ]
            actor = contact.logged_by
            assert actor is not None
            events.append(
                AuditEvent(
                    at=now,
                    actor=actor,
                    actor_username=actor.username,
                    action=AuditAction.CREATE,
                    object_type=audit.object_type_of(contact),
                    object_id=str(contact.pk),
                    person_id=contact.case.person_id,
                    fields=sorted({*fields, *(["family_members"] if family else [])}),
                )
            )
        AuditEvent.objects.bulk_create(events)
        self.pending_contacts = []
        self.settle_into_community(saved)

    def settle_into_community(self, contacts: list[Contact]) -> None:
        """What log_contact does after saving a contact: a case through the gate moves into
        the community when the young person is seen two weeks after release. The very rule
        log_contact applies, in date order, for the cases waiting on it (one query if none)."""
        waiting = (
            Case.objects.select_related("programme")
            .filter(pk__in={c.case_id for c in contacts}, phase=Phase.THROUGH_THE_GATE)
            .in_bulk()
        )
        if not waiting:
            return
        for contact in sorted(contacts, key=lambda c: c.occurred_at):
            case = waiting.get(contact.case_id)
            if case is not None:
                casework.settle_into_community(contact.logged_by, case, contact)

    def log(
        self,
        case: Case,
        mentor: User,
        day: date,
        kind: str,
        words: dict[str, str],
        family: list[FamilyMember],
        dna: str,
    ) -> Contact:
        """One contact, written the way a mentor would log it on their phone (saved in
        batches by save_contacts)."""
        present: list[FamilyMember] = []
        concerns = next_steps = ""
        if kind == "prison":
            mode = self.weighted({ContactMode.PRISON_VISIT: 9, ContactMode.VIDEO: 1})
            when, duration = self.at(day, 9, 15), self.rng.randint(45, 120)
            summary = self.pick(PRISON_VISIT if mode == ContactMode.PRISON_VISIT else PRISON_VIDEO)
        elif kind == "call":
            mode, when, duration = ContactMode.PHONE, self.at(day, 10, 19), self.rng.randint(5, 25)
            summary = self.pick(PRISON_CALL)
        elif kind == "recall":
            mode, when, duration = ContactMode.PRISON_VISIT, self.at(day, 9, 15), 60
            summary = self.pick(RECALL_VISIT)
        elif kind == "gate":
            mode = ContactMode.GATE
            when = self.at(day, 7, 8)
            duration = self.rng.randint(180, 420)
            local = timezone.localtime(when)
            gate_words = words | {
                "time": f"{local:%H:%M}",
                "later": f"{(local + timedelta(minutes=duration)):%H:%M}",
                "accommodation": self.pick(ACCOMMODATION).format(**words),
            }
            steps = self.rng.sample(GATE_STEPS, self.rng.randint(2, 3))
            parts = [self.pick(GATE_OPENINGS)]
            if family and self.chance(0.4):
                present = [family[0]]
                parts.append(f"{family[0].name.split()[0]} came too.")
            summary = " ".join(
                self.fill(p, gate_words) for p in [*parts, *steps, self.pick(GATE_ENDINGS)]
            )
            words = gate_words
        elif kind == "final":
            mode = ContactMode.COMMUNITY
            when, duration = self.at(day, 11, 17), self.rng.randint(60, 120)
            summary = self.pick(FINAL_SESSION)
        elif kind == "session":
            mode = self.weighted(
                {
                    ContactMode.COMMUNITY: 11,
                    ContactMode.PHONE: 3,
                    ContactMode.HOME_VISIT: 2,
                    ContactMode.FAMILY: 2 if family else 0,
                    ContactMode.GROUP: 1,
                }
            )
            when, duration = self.at(day, 10, 17), self.rng.randint(40, 90)
            if mode == ContactMode.PHONE:
                summary, duration = self.pick(PREVENTION_PHONE), self.rng.randint(5, 25)
            elif mode in (ContactMode.HOME_VISIT, ContactMode.FAMILY) and family:
                present = self.rng.sample(family, min(len(family), self.rng.randint(1, 2)))
                summary = self.pick(PREVENTION_HOME)
                words = words | {"family": " and ".join(m.name.split()[0] for m in present)}
            elif mode == ContactMode.GROUP:
                summary = self.pick(GROUP)
            else:
                mode = ContactMode.COMMUNITY
                summary = self.pick(PREVENTION_SESSION)
        else:  # community, after release
            mode = self.weighted(
                {
                    ContactMode.COMMUNITY: 10,
                    ContactMode.PHONE: 5,
                    ContactMode.HOME_VISIT: 2,
                    ContactMode.FAMILY: 1 if family else 0,
                    ContactMode.VIDEO: 1,
                    ContactMode.GROUP: 1,
                }
            )
            when, duration = self.at(day, 10, 19), self.rng.randint(45, 150)
            if mode in (ContactMode.PHONE, ContactMode.VIDEO):
                summary, duration = self.pick(PHONE), self.rng.randint(5, 30)
            elif mode in (ContactMode.HOME_VISIT, ContactMode.FAMILY) and family:
                present = self.rng.sample(family, min(len(family), self.rng.randint(1, 2)))
                summary = self.pick(HOME if mode == ContactMode.HOME_VISIT else FAMILY_SESSION)
                words = words | {"family": " and ".join(m.name.split()[0] for m in present)}
            elif mode == ContactMode.GROUP:
                summary = self.pick(GROUP)
            else:
                mode = ContactMode.COMMUNITY
                summary = self.pick(COMMUNITY)
        data: dict[str, Any] = {"occurred_at": when, "mode": mode}
        if dna:
            inside = mode in (ContactMode.PRISON_VISIT, ContactMode.VIDEO)
            if dna == "prison_regime" and not inside:
                dna = "cancelled_by_us"
            if inside and dna != "prison_regime":
                texts = PRISON_REFUSALS
            else:
                texts = DNA_SUMMARY.get(dna) or DNA_SUMMARY[NonAttendanceReason.NO_SHOW]
            data.update(
                attendance=Attendance.DID_NOT_ATTEND,
                non_attendance_reason=dna,
                summary=self.fill(self.pick(texts), words),
            )
            present = []
        else:
            if kind not in ("gate", "final", "recall") and self.chance(0.06):
                concerns = self.fill(self.pick(CONCERNS), words)
            next_steps = self.pick(NEXT_STEPS)
            data.update(
                attendance=Attendance.LATE if self.chance(0.07) else Attendance.ATTENDED,
                duration_minutes=duration,
                summary=self.fill(summary, words),
                concerns=concerns,
                next_steps=next_steps,
            )
        if present and any(m.person_id != case.person_id for m in present):
            raise ValueError("a contact can only include the young person's own family")
        contact = Contact(case=case, staff=mentor, logged_by=mentor, **data)
        self.pending_contacts.append((contact, present))
        return contact


# Mentor profiles: (lived experience, prisons they were held in, other languages, boroughs
# known, gender, year of birth, places beyond today's caseload).
MENTOR_PROFILES: dict[str, tuple[list[str], list[str], list[str], list[str], str, int, int]] = {
    "mo": (["Custody", "Gang involvement", "School exclusion", "Knife crime"], ["FMI", "ISI"],
           ["Somali"], ["Southwark", "Lambeth", "Lewisham"], "male", 1991, 3),
    "kim": (["Custody", "Care experience", "Substance misuse", "Criminal exploitation"], ["BZI"],
            [], ["Croydon", "Lambeth", "Wandsworth"], "female", 1988, 3),
    "tunde": (["Custody", "Gang involvement", "Bereavement"], ["FMI", "TSI"], ["Yoruba"],
              ["Hackney", "Newham", "Tower Hamlets"], "male", 1986, 2),
    "shanice": (["Care experience", "Young parent", "Mental health", "Custody"], ["BZI"], [],
                ["Southwark", "Lewisham", "Greenwich"], "female", 1993, 3),
    "dean": (["Substance misuse", "Homelessness", "Custody"], ["WWI", "PVI"], [],
             ["Croydon", "Wandsworth", "Merton"], "male", 1982, 0),
}  # fmt: skip


def set_up_mentors(seeder: Any) -> None:
    """Give every custody mentor a profile, vetting, training and supervision, with the
    situations a coordinator meets: Kim's clearance for the prison of the first young
    person waiting for triage has just expired, Tunde's supervision is overdue, Dean is
    full, Kim's DBS renewal falls due within the month. Conflicts and what matching knows
    of the young people waiting complete the picture."""
    from throughgate.casework.models import MentorAssignment
    from throughgate.mentors import actions as mentors
    from throughgate.mentors.models import (
        DBSLevel,
        LivedExperienceCategory,
        MentorProfile,
        TrainingCourse,
        Wellbeing,
    )  # fmt: skip

    today = seeder.today
    cara, ade = seeder.users["cara"], seeder.users["ade"]
    categories = {c.name: c for c in LivedExperienceCategory.objects.all()}
    courses = list(TrainingCourse.objects.all())
    pending = list(
        Referral.objects.filter(status=ReferralStatus.PENDING, programme__kind="custody")
        .select_related("person")
        .order_by("referral_date", "id")
    )
    held = {
        e.person_id: e.establishment_id
        for e in CustodyEpisode.objects.filter(
            released_on__isnull=True, person__in=[r.person for r in pending]
        )
    }
    first_prison = held.get(pending[0].person_id) if pending else None
    for username, (
        lived,
        been_in,
        languages,
        boroughs,
        gender,
        born,
        spare,
    ) in MENTOR_PROFILES.items():
        user = seeder.users[username]
        if MentorProfile.objects.filter(user=user).exists():
            continue
        caseload = Case.objects.open().filter(mentor=user).count()
        profile = mentors.create_mentor_profile(
            ade,
            user,
            {"date_of_birth": date(born, seeder.rng.randint(1, 12), seeder.rng.randint(1, 28)),
             "gender": gender, "borough": boroughs[0]},
            {"capacity": caseload + spare, "languages": ["English", *languages],
             "boroughs_known": boroughs},
            lived_experience=[categories[name] for name in lived],
            custody_history=[seeder.prisons[code] for code in been_in],
        )  # fmt: skip
        issued = today - timedelta(days=365 * 3 - 20 if username == "kim" else 400)
        mentors.add_dbs_check(ade, profile, {
            "level": DBSLevel.ENHANCED_BARRED_CHILDREN,
            "certificate_number": f"0012{seeder.rng.randrange(10**8):08d}",
            "issued_on": issued, "renewal_due": issued + timedelta(days=365 * 3),
        })  # fmt: skip
        for course in courses:
            if course.required_for_matching or seeder.chance(0.5):
                completed = today - timedelta(days=seeder.rng.randint(60, 600))
                mentors.add_training(ade, profile, {
                    "course": course, "completed_on": completed,
                    "certificate_reference": f"TG-{seeder.rng.randrange(10**5):05d}",
                })  # fmt: skip
        last_supervision = 60 if username == "tunde" else seeder.rng.randint(5, 30)
        for k in range(3):
            concerns = (username, k) == ("dean", 0)
            mentors.add_supervision(ade, profile, {
                "held_on": today - timedelta(days=last_supervision + 42 * k), "supervisor": cara,
                "wellbeing": Wellbeing.SOME_CONCERNS if concerns else Wellbeing.WELL,
            })  # fmt: skip
        # Cleared where they were held, where their mentees are now, and a prison or two more.
        mentees_held = CustodyEpisode.objects.filter(
            released_on__isnull=True,
            person__cases__mentor=user,
            person__cases__closed_on__isnull=True,
        ).values_list("establishment_id", flat=True)
        cleared = (
            set(been_in) | set(mentees_held) | set(seeder.rng.sample(sorted(seeder.prisons), 2))
        )
        if username in ("mo", "tunde") and first_prison:
            cleared.add(first_prison)
        if username == "kim" and first_prison:
            cleared.discard(first_prison)
            granted = today - timedelta(days=3 * 365 + 6)
            mentors.add_clearance(ade, profile, {
                "establishment": seeder.prisons[first_prison], "level": "unescorted",
                "granted_on": granted, "expires_on": today - timedelta(days=6),
            })  # fmt: skip
        for code in sorted(cleared):
            granted = today - timedelta(days=seeder.rng.randint(400, 700))
            mentors.add_clearance(ade, profile, {
                "establishment": seeder.prisons[code], "level": "unescorted",
                "granted_on": granted, "expires_on": granted + timedelta(days=3 * 365),
            })  # fmt: skip
        if username == "mo":
            # Away from the first young person waiting, so that Mo can be suggested there.
            zone, district = ("Haringey", "N17")
            if pending and pending[0].person.borough == "Haringey":
                zone, district = ("Enfield", "N9")
            mentors.add_licence_condition(ade, profile, {
                "kind": "exclusion_zone", "boroughs": [zone], "postcode_districts": [district],
                "starts_on": today - timedelta(days=500), "ends_on": today + timedelta(days=230),
                "notes": "On licence until next summer.",
            })  # fmt: skip
    # Matches made before matching existed are not news to the mentors.
    MentorAssignment.objects.filter(seen_by_mentor_at__isnull=True).update(
        seen_by_mentor_at=timezone.now()
    )
    # What matching knows of the young people waiting, and the conflicts around them.
    for referral in pending:
        chosen = seeder.rng.sample(sorted(categories), 2)
        mentors.set_matching_needs(cara, referral.person, [categories[c] for c in chosen], "")
    if len(pending) >= 2:
        mentors.record_conflict(cara, pending[0].person, pending[1].person, {
            "kind": "rival_group", "source": "Prison security department",
            "recorded_on": today - timedelta(days=3),
            "details": "Linked to rival groups in neighbouring estates; keep apart on the wing.",
        })  # fmt: skip
        dean = MentorProfile.objects.get(user=seeder.users["dean"])
        mentors.record_conflict(cara, dean.person, pending[1].person, {
            "kind": "victim_link", "source": "Probation",
            "recorded_on": today - timedelta(days=12),
            "details": "Dean's former co-defendant is this young person's uncle.",
        })  # fmt: skip


# --- Holistic support ---------------------------------------------------------------------
# The partner agencies in the directory: (name, kind, borough, notes).
AGENCIES: list[tuple[str, str, str, str]] = [
    ("Southwark Housing Options", AgencyKind.HOUSING, "Southwark",
     "Prison release duty officer; ring before 11am."),
    ("Lambeth Housing Options", AgencyKind.HOUSING, "Lambeth",
     "Homelessness assessments; book through the duty line."),
    ("St Mungo's", AgencyKind.HOUSING, "Lambeth", "Supported housing and hostels across London."),
    ("Jobcentre Plus Peckham", AgencyKind.JOBCENTRE, "Southwark",
     "Prison leavers' work coach on Tuesdays."),
    ("Jobcentre Plus Croydon", AgencyKind.JOBCENTRE, "Croydon",
     "Universal Credit claims and advance payments."),
    ("Lambeth GP Federation", AgencyKind.HEALTH, "Lambeth",
     "Registers patients with no ID or fixed address."),
    ("Change Grow Live Lambeth", AgencyKind.DRUGS_ALCOHOL, "Lambeth",
     "Drop-in assessments on weekday mornings."),
    ("Lewisham College", AgencyKind.EDUCATION, "Lewisham",
     "Construction and motor vehicle courses; rolling starts."),
    ("Croydon College", AgencyKind.EDUCATION, "Croydon", "Functional skills English and maths."),
    ("Timpson Foundation", AgencyKind.EMPLOYER, "Southwark",
     "Recruits people with convictions; interviews inside some prisons."),
    ("Citizens Advice Southwark", AgencyKind.BENEFITS, "Southwark",
     "Benefits, debt and rent arrears; can ask for fines to be frozen."),
    ("Hackney Community Law Centre", AgencyKind.LEGAL, "Hackney",
     "Housing and benefit appeals; youth justice advice."),
    ("Lambeth Talking Therapies", AgencyKind.MENTAL_HEALTH, "Lambeth",
     "Self-referral from 16; counselling and CBT."),
    ("Family Lives", AgencyKind.OTHER, "Lewisham", "Family support and parenting workshops."),
]  # fmt: skip
# Each pathway: (weight in a custody case, weight in a prevention case, what is needed,
# actions for the plan, kinds of agency to refer to).
NEED_TEXTS: dict[str, tuple[int, int, list[str], list[str], list[str]]] = {
    Pathway.ACCOMMODATION: (10, 1,
        ["No address confirmed for release night.", "Hostel place ends soon; needs a move-on flat.",
         "Cannot go back to the family home; on the council's list."],
        ["Chase housing options about an address for release.",
         "Fill in the supported housing application together.",
         "Go to the housing office about a move-on flat."],
        [AgencyKind.HOUSING, AgencyKind.HOUSING, AgencyKind.LEGAL]),
    Pathway.EDUCATION_SKILLS_WORK: (8, 8,
        ["Wants to get a CSCS card and work on building sites.", "Wants to get back into college.",
         "Needs a CV and help with interviews.", "Struggling to stay in lessons at school."],
        ["Book the CSCS health and safety test.", "Look at college courses and open days together.",
         "Write a CV together.", "Practise for the job interview."],
        [AgencyKind.EDUCATION, AgencyKind.EMPLOYER, AgencyKind.JOBCENTRE]),
    Pathway.FINANCE_ID: (7, 2,
        ["No ID or bank account.", "Universal Credit claim to start on release.",
         "Owes money on an old phone contract."],
        ["Find out the birth certificate details with the family.",
         "Book the Jobcentre appointment for the Universal Credit claim.",
         "Ring the phone company about a payment plan."],
        [AgencyKind.BENEFITS, AgencyKind.JOBCENTRE]),
    Pathway.HEALTH: (4, 3,
        ["Not registered with a GP.", "Low mood and poor sleep.", "Needs a dentist."],
        ["Register with a GP near the hostel.", "Go with them to the GP about sleep.",
         "Find an NHS dentist taking new patients."],
        [AgencyKind.HEALTH, AgencyKind.MENTAL_HEALTH]),
    Pathway.DRUGS_ALCOHOL: (3, 2,
        ["Smoking cannabis daily; wants to cut down.", "Drinks heavily at weekends."],
        ["Go with them to the drop-in at the drug and alcohol service.",
         "Talk through the cutting-down plan at the next session."],
        [AgencyKind.DRUGS_ALCOHOL]),
    Pathway.CHILDREN_FAMILIES_COMMUNITY: (5, 6,
        ["Wants to rebuild things with mum.", "Wants to see their child again.",
         "Family under pressure; younger brother at risk from the same group."],
        ["Arrange a family session with mum.", "Ask children's services about contact.",
         "Meet the family at home."],
        [AgencyKind.OTHER, AgencyKind.LEGAL]),
    Pathway.ATTITUDES_THINKING_BEHAVIOUR: (4, 7,
        ["Finds it hard to walk away when provoked.", "Still in touch with the old group.",
         "Carries a knife 'for protection'."],
        ["Work through the walking-away plan together.",
         "Talk about who to see and who to avoid this month.",
         "Go to the boxing gym induction together."],
        [AgencyKind.MENTAL_HEALTH]),
}  # fmt: skip
NEED_NOTES = {
    NeedStatus.IN_PROGRESS: ["Made a start together.", "Referral made; waiting to hear back.",
                             "Talked it through; agreed the next step."],
    NeedStatus.MET: ["Sorted; nothing more needed for now.", "Done and confirmed in writing.",
                     "In place and going well."],
    NeedStatus.DECLINED: ["Would rather handle this alone for now; the offer stands.",
                          "Said no for now; will ask again next month."],
}  # fmt: skip
# ID the young person can get without a passport: (type, cost in pounds).
ID_KINDS = [(IDType.BIRTH_CERTIFICATE, "12.50"), (IDType.PROVISIONAL_LICENCE, "34.00"),
            (IDType.CITIZEN_CARD, "15.00")]  # fmt: skip
ID_PAYERS = ["Throughgate hardship fund", "Prison resettlement budget", "Leaving care team", ""]
BANKS = ["Barclays", "Lloyds", "NatWest", "Santander", "Nationwide"]
# Onward referrals by kind of agency: (what we ask for, how it ended when completed).
ONWARD_TEXTS = {
    AgencyKind.HOUSING: ("Homelessness assessment and a place for release.",
                         "Moved into a supported housing room."),
    AgencyKind.JOBCENTRE: ("Universal Credit claim and a work coach.",
                           "Claim paid; work coach assigned."),
    AgencyKind.HEALTH: ("GP registration without photo ID.",
                        "Registered; first appointment attended."),
    AgencyKind.DRUGS_ALCOHOL: ("Assessment for cannabis use.",
                               "Finished six sessions; using far less."),
    AgencyKind.EDUCATION: ("A place on a Level 1 construction course.",
                           "Finished the course with a CSCS card."),
    AgencyKind.EMPLOYER: ("Interview for a trainee role.", "Offered the job; started in the shop."),
    AgencyKind.BENEFITS: ("Help with debts and old fines.", "Payment plan agreed; fines frozen."),
    AgencyKind.LEGAL: ("Advice on a council decision.", "Review won; the council accepted a duty."),
    AgencyKind.MENTAL_HEALTH: ("Counselling for low mood and anger.", "Finished eight sessions."),
    AgencyKind.OTHER: ("Family support for mum.", "Mum finished the parenting course."),
}  # fmt: skip
ONWARD_DECLINED = [
    "Outside their catchment; they suggested the service where the family lives.",
    "No places until the new year; asked us to re-refer then.",
    "Says probation's own provider covers this.",
]
# Statuses dealt out in turn so that even a small demo shows the whole loop.
ONWARD_CYCLE = [OnwardStatus.DRAFT, OnwardStatus.SENT, OnwardStatus.ACCEPTED,
                OnwardStatus.DECLINED, OnwardStatus.COMPLETED, OnwardStatus.COMPLETED,
                OnwardStatus.ACCEPTED, OnwardStatus.SENT, OnwardStatus.WITHDRAWN]  # fmt: skip
# Days from one step of an onward referral to the next.
ONWARD_GAPS = {OnwardStatus.SENT: (0, 5), OnwardStatus.ACCEPTED: (3, 21),
               OnwardStatus.DECLINED: (3, 21), OnwardStatus.COMPLETED: (14, 90),
               OnwardStatus.WITHDRAWN: (3, 30)}  # fmt: skip
# Actions falling due on the mentors' home pages ("Actions due"), first cases first.
ACTIONS_DUE = {"mo": ["overdue", "overdue"], "kim": ["overdue", "today"]}
# Trust check-ins: (days after the case opened, mean score the young people give).
TRUST_CURVE = [(28, 3.0), (91, 3.7), (182, 4.3)]
# Outcomes at closure by reason: (accommodation weights, education/training/work weights).
_A, _E = AccommodationOutcome, ETEOutcome
CLOSURE_OUTCOMES: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    ClosureReason.COMPLETED: ({_A.OWN_TENANCY: 3, _A.FAMILY: 5, _A.SUPPORTED: 4, _A.TEMPORARY: 1},
                              {_E.EMPLOYED_FULL: 4, _E.EMPLOYED_PART: 3, _E.APPRENTICESHIP: 2,
                               _E.EDUCATION: 3, _E.TRAINING: 2, _E.VOLUNTEERING: 1, _E.NEET: 1}),
    ClosureReason.DISENGAGED: ({_A.UNKNOWN: 5, _A.TEMPORARY: 3, _A.FAMILY: 2, _A.SUPPORTED: 2,
                                _A.HOMELESS: 1},
                               {_E.UNKNOWN: 5, _E.NEET: 4, _E.EMPLOYED_PART: 1}),
    ClosureReason.RETURNED_TO_CUSTODY: ({_A.CUSTODY: 1},
                                        {_E.NEET: 3, _E.UNKNOWN: 2, _E.EDUCATION: 1}),
    ClosureReason.MOVED_AWAY: ({_A.FAMILY: 5, _A.SUPPORTED: 2, _A.OWN_TENANCY: 1, _A.UNKNOWN: 2},
                               {_E.UNKNOWN: 4, _E.EDUCATION: 2, _E.EMPLOYED_PART: 2, _E.NEET: 2}),
    ClosureReason.NEEDS_MET_ELSEWHERE: ({_A.SUPPORTED: 4, _A.FAMILY: 4, _A.UNKNOWN: 1},
                                        {_E.EDUCATION: 3, _E.TRAINING: 3, _E.NEET: 2,
                                         _E.UNKNOWN: 1}),
}  # fmt: skip
# Prevention is about children living at home and in school, whatever the reason for closing.
PREVENTION_OUTCOMES: tuple[dict[str, int], dict[str, int]] = (
    {_A.FAMILY: 12, _A.SUPPORTED: 1, _A.TEMPORARY: 1},
    {_E.EDUCATION: 10, _E.TRAINING: 2, _E.APPRENTICESHIP: 1, _E.NEET: 2},
)
OTHER_OUTCOMES: tuple[dict[str, int], dict[str, int]] = (
    {_A.FAMILY: 3, _A.SUPPORTED: 2, _A.UNKNOWN: 2},
    {_E.UNKNOWN: 3, _E.TRAINING: 2, _E.EDUCATION: 2},
)
# Family members: how they bear on the young person, by relationship (weights), and worries
# of their own the mentor helps with.
INFLUENCE_CLOSE = {"protective": 16, "mixed": 3, "risk": 1}
INFLUENCE_LOOSER = {"protective": 5, "mixed": 2, "risk": 3}
LOOSER_TIES = {Relationship.FATHER, Relationship.SIBLING, Relationship.PARTNER, Relationship.OTHER}
OWN_NEEDS = {
    Relationship.MOTHER: ["Mum is behind on rent; referred to Citizens Advice.",
                          "Mum's own health is poor; finds the prison visits hard to get to."],
    Relationship.GRANDPARENT: ["Nan is bringing up two grandchildren on her pension; asked about "
                               "a carer's assessment."],
    Relationship.FATHER: ["Dad is in recovery himself and wants family sessions."],
    Relationship.SIBLING: ["Being approached by the same group; the school has been told."],
    Relationship.PARTNER: ["Pregnant; linked with the family nurse partnership."],
}  # fmt: skip


def set_up_support(seeder: Any) -> None:
    """The holistic support work, through the support actions: an agency directory; on
    every open custody and prevention case a needs assessment with its history, an action
    plan (Mo and Kim with actions due on their home pages), ID and bank applications,
    onward referrals through every step of the loop and the two shipped questionnaires;
    on a few closed custody cases needs that were met or declined; outcomes at closure on
    every closed case; and what the family means for each young person.

    The actions stamp today's date on what they create, so rows are re-dated afterwards to
    the day the work was done (as with contacts and key-date changes)."""
    from throughgate.casework import support

    today, cara = seeder.today, seeder.users["cara"]
    known = set(Agency.objects.values_list("name", flat=True))
    for name, kind, borough, notes in AGENCIES:
        if name not in known:
            phone = f"020 7946 0{seeder.rng.randint(0, 999):03d}"
            support.add_agency(cara, {"name": name, "kind": kind, "borough": borough,
                                      "phone": phone, "notes": notes})  # fmt: skip
    agencies: dict[str, list[Agency]] = {}
    for agency in Agency.objects.filter(active=True).order_by("name"):
        agencies.setdefault(agency.kind, []).append(agency)
    instruments = {d.key: d for d in InstrumentDefinition.objects.prefetch_related("items")}
    due = {username: list(kinds) for username, kinds in ACTIONS_DUE.items()}
    onward = 0  # onward referrals made so far, to deal statuses out in turn
    for case in (
        Case.objects.open().select_related("programme", "mentor").order_by("opened_on", "id")
    ):
        actor = case.mentor or cara
        # The assessment within the first fortnight (not yet, if the case is newer).
        start = seeder.between(case.opened_on, min(today, case.opened_on + timedelta(days=14)))
        needs = _needs_history(seeder, support, case, actor, start, today)
        mine = due.get(actor.username, []) if start <= today - timedelta(days=3) else []
        _action_plan(seeder, support, case, actor, needs, start, mine[:1])
        del mine[:1]
        if case.programme.kind == ProgrammeKind.CUSTODY:
            _id_and_bank(seeder, support, case, actor, start)
        # About 40% of cases, and enough early ones to show every step of the loop.
        if seeder.chance(0.4) or onward < len(ONWARD_CYCLE):
            for _ in range(seeder.rng.choice([1, 1, 2])):
                status = ONWARD_CYCLE[onward % len(ONWARD_CYCLE)]
                onward += 1
                _onward_referral(seeder, support, case, actor, needs, start, status, agencies)
        _questionnaires(seeder, support, case, actor, needs, instruments)
    _closure_outcomes(seeder)
    _family_influence(seeder)


def _when(seeder: Any, day: date) -> datetime:
    """The moment to re-date a row to: during the working day it was done, or now for work
    done today (so nothing is stamped later than the seed)."""
    return seeder.at(day) if day < seeder.today else timezone.now()


def _needs_history(
    seeder: Any, support: Any, case: Case, actor: User, start: date, end: date,
    finals: dict[str, int] | None = None,
) -> dict[str, Need]:  # fmt: skip
    """Assess 3–6 pathways on `start`, then move each towards where it stands on `end`
    (by `finals`, or the longer the case has run the more needs are met)."""
    rng, custody = seeder.rng, case.programme.kind == ProgrammeKind.CUSTODY
    # Weighted sampling without replacement (Efraimidis–Spirakis): likely pathways first.
    weight = {p: texts[0] if custody else texts[1] for p, texts in NEED_TEXTS.items()}
    ranked = sorted(weight, key=lambda p: -(rng.random() ** (1 / weight[p])))
    rows = {
        pathway: {
            "status": NeedStatus.IN_PROGRESS if seeder.chance(0.4) else NeedStatus.NOT_STARTED,
            "priority": Priority.HIGH if pathway == Pathway.ACCOMMODATION and custody
            else seeder.weighted({Priority.HIGH: 2, Priority.MEDIUM: 4, Priority.LOW: 2}),
            "responsible": seeder.weighted({Responsible.MENTOR: 6, Responsible.YOUNG_PERSON: 2,
                                            Responsible.AGENCY: 1, Responsible.PROBATION: 1}),
            "summary": seeder.pick(NEED_TEXTS[pathway][2]),
        }
        for pathway in ranked[: rng.randint(3, 6)]
    }  # fmt: skip
    needs = {n.pathway: n for n in support.assess_needs(actor, case, rows, on=start)}
    Need.objects.filter(case=case).update(created_at=_when(seeder, start))
    months = (end - start).days // 30
    days = {start}
    for pathway, need in needs.items():
        final = seeder.weighted(finals or {
            NeedStatus.MET: months, NeedStatus.IN_PROGRESS: 4, NeedStatus.DECLINED: 1,
            NeedStatus.NOT_STARTED: 2 if months < 2 else 0,
        })  # fmt: skip
        steps = [final]
        if final == NeedStatus.MET and need.status == NeedStatus.NOT_STARTED:
            steps = [NeedStatus.IN_PROGRESS, NeedStatus.MET]
        elif final in (need.status, NeedStatus.NOT_STARTED):
            continue  # stands where the assessment left it
        on = start
        for i, status in enumerate(steps):
            on = seeder.between(on, on + (end - on) / (len(steps) - i))
            note = seeder.pick(NEED_NOTES[NeedStatus(status)])
            needs[pathway] = support.update_need(actor, need, {"status": status}, note, on)
            days.add(on)
    for day in days:
        NeedUpdate.objects.filter(need__case=case, on=day).update(recorded_at=_when(seeder, day))
    return needs


def _action_plan(
    seeder: Any, support: Any, case: Case, actor: User, needs: dict[str, Need], start: date,
    due: list[str],
) -> None:  # fmt: skip
    """2–5 actions for the case's needs: done, open, and the ones in `due` ("overdue",
    "today") that put the case on its mentor's home page. Mo's and Kim's are exactly those
    of ACTIONS_DUE; the other mentors now and then let one slip."""
    today = seeder.today
    slips = case.mentor is not None and case.mentor.username not in ACTIONS_DUE
    slip = 1 if slips and start < today - timedelta(days=3) else 0
    kinds = [*due] + [
        seeder.weighted({"done": 10, "open": 8, "overdue": slip})
        for _ in range(seeder.rng.randint(2, 5) - len(due))
    ]
    used: set[str] = set()
    for kind in kinds:
        need = seeder.pick(list(needs.values()))
        options = [d for d in NEED_TEXTS[need.pathway][3] if d not in used]
        if not options:
            continue
        description = seeder.pick(options)
        used.add(description)
        if kind == "done":
            made = seeder.between(start, today)
            due_on = made + seeder.days(7, 28)
        elif kind == "overdue":
            made = seeder.between(max(start, today - timedelta(days=42)), today - timedelta(days=2))
            due_on = seeder.between(made + timedelta(days=1), today - timedelta(days=1))
        else:  # open, due later or today
            made = seeder.between(max(start, today - timedelta(days=28)), today)
            due_on = today if kind == "today" else today + seeder.days(1, 28)
        owner = seeder.weighted({Responsible.MENTOR: 5, Responsible.YOUNG_PERSON: 3,
                                 Responsible.FAMILY: 1, Responsible.AGENCY: 1})  # fmt: skip
        action = support.add_action(
            actor,
            case,
            {"need": need, "description": description, "owner": owner, "due_on": due_on},
        )
        Action.objects.filter(pk=action.pk).update(created_at=_when(seeder, made))
        if kind == "done":
            done_on = seeder.between(made, min(today, due_on + timedelta(days=7)))
            support.complete_action(actor, action, done_on)


def _id_and_bank(seeder: Any, support: Any, case: Case, actor: User, start: date) -> None:
    """ID for about half the custody cases, a bank account for about a third."""
    today = seeder.today
    if seeder.chance(0.5):
        id_type, cost = seeder.pick(ID_KINDS)
        status = seeder.weighted(
            {
                ApplicationStatus.RECEIVED: 9,
                ApplicationStatus.SUBMITTED: 6,
                ApplicationStatus.NOT_STARTED: 3,
                ApplicationStatus.REJECTED: 2,
            }
        )
        submitted = seeder.between(start, today)
        arrived = submitted + seeder.days(10, 42)
        if status == ApplicationStatus.RECEIVED and arrived > today:
            status = ApplicationStatus.SUBMITTED
        notes = {
            ApplicationStatus.NOT_STARTED: "Waiting for the family to find the details we need.",
            ApplicationStatus.REJECTED: "Returned: the address did not match; applying again.",
        }.get(status, "")
        started = status != ApplicationStatus.NOT_STARTED
        application = support.save_id_application(actor, case, {
            "id_type": id_type, "status": status, "cost": Decimal(cost),
            "paid_by": seeder.pick(ID_PAYERS) if started else "",
            "submitted_on": submitted if started else None,
            "received_on": arrived if status == ApplicationStatus.RECEIVED else None,
            "notes": notes,
        })  # fmt: skip
        IDApplication.objects.filter(pk=application.pk).update(created_at=_when(seeder, submitted))
    if seeder.chance(0.33):
        outcome = seeder.weighted({BankOutcome.OPENED: 10, BankOutcome.SUBMITTED: 4,
                                   BankOutcome.DECLINED: 2, BankOutcome.RESUBMITTED: 2,
                                   BankOutcome.NOT_STARTED: 2})  # fmt: skip
        submitted = seeder.between(start, today)
        answered = min(today, submitted + seeder.days(3, 21))
        notes = {
            BankOutcome.DECLINED: "Refused without photo ID; will apply again once it comes.",
            BankOutcome.RESUBMITTED: "Refused at first; sent again with the prison's ID letter.",
        }.get(outcome, "")
        application = support.save_bank_application(actor, case, {
            "bank": seeder.pick(BANKS), "outcome": outcome, "notes": notes,
            "submitted_on": submitted if outcome != BankOutcome.NOT_STARTED else None,
            "response_on": answered
            if outcome in (BankOutcome.OPENED, BankOutcome.DECLINED) else None,
        })  # fmt: skip
        BankApplication.objects.filter(pk=application.pk).update(
            created_at=_when(seeder, submitted)
        )


def _onward_referral(
    seeder: Any, support: Any, case: Case, actor: User, needs: dict[str, Need], start: date,
    status: str, agencies: dict[str, list[Agency]],
) -> None:  # fmt: skip
    """One onward referral for one of the case's needs, taken as far as `status`: a draft
    waits for the young person's consent; the others were sent and answered, dated."""
    today = seeder.today
    need = seeder.pick(list(needs.values()))
    kind = seeder.pick([k for k in NEED_TEXTS[need.pathway][4] if k in agencies])
    reason, completed = ONWARD_TEXTS[kind]
    if status == OnwardStatus.DRAFT:  # drafts are recent: consent is asked for at once
        made = seeder.between(max(start, today - timedelta(days=10)), today)
    else:
        made = seeder.between(start, today)
    consent = status != OnwardStatus.DRAFT
    referral = support.create_onward_referral(actor, case, {
        "agency": seeder.pick(agencies[kind]), "need": need, "reason": reason,
        "consent_recorded": consent, "consent_on": made if consent else None,
    })  # fmt: skip
    OnwardReferral.objects.filter(pk=referral.pk).update(created_at=_when(seeder, made))
    steps = {
        OnwardStatus.SENT: [OnwardStatus.SENT],
        OnwardStatus.ACCEPTED: [OnwardStatus.SENT, OnwardStatus.ACCEPTED],
        OnwardStatus.DECLINED: [OnwardStatus.SENT, OnwardStatus.DECLINED],
        OnwardStatus.COMPLETED: [OnwardStatus.SENT, OnwardStatus.ACCEPTED, OnwardStatus.COMPLETED],
        OnwardStatus.WITHDRAWN: [OnwardStatus.SENT, OnwardStatus.WITHDRAWN],
    }.get(OnwardStatus(status), [])
    on = made
    for step in steps:
        on = min(today, on + seeder.days(*ONWARD_GAPS[step]))
        outcome = {
            OnwardStatus.DECLINED: seeder.pick(ONWARD_DECLINED),
            OnwardStatus.COMPLETED: completed,
            OnwardStatus.WITHDRAWN: "The young person changed their mind.",
        }.get(step, "")
        referral = support.change_onward_status(actor, referral, step, on, outcome)


def _questionnaires(
    seeder: Any, support: Any, case: Case, actor: User, needs: dict[str, Need],
    instruments: dict[str, InstrumentDefinition],
) -> None:  # fmt: skip
    """Distance travelled at the start and at three and six months, mostly better each
    time (lowest where there is a need); the trust check-in at four weeks, three and six
    months with a mentor, rising from about 3.0 to 4.3."""
    rng, today, opened = seeder.rng, seeder.today, case.opened_on
    distance, trust = instruments.get("distance-travelled"), instruments.get("trust-check-in")
    answered = []
    if distance is not None:
        scores = {
            item.key: rng.randint(2, 5) if item.key in needs else rng.randint(4, 7)
            for item in distance.items.all()
        }
        for days in (0, 91, 182):
            if opened + timedelta(days=days) > today:
                break
            if days:  # better on most pathways, the odd one worse
                scores = {k: max(1, min(10, v + rng.choice([-1, 0, 1, 1, 2, 2, 3])))
                          for k, v in scores.items()}  # fmt: skip
            day = min(today, opened + timedelta(days=days) + seeder.days(0, 10))
            answered.append(support.record_instrument_response(actor, case, distance, day, scores))
    if trust is not None and case.mentor_id:
        lean = rng.uniform(-0.4, 0.4)  # some young people trust sooner than others
        items = list(trust.items.all())
        for days, mean in TRUST_CURVE:
            day = opened + timedelta(days=days) + seeder.days(0, 7)
            if day > today:
                break
            answers = {}
            for item in items:
                agree = max(1, min(5, round(rng.gauss(mean + lean, 0.6))))
                answers[item.key] = 6 - agree if item.reverse else agree  # "judges me": 5 is bad
            answered.append(support.record_instrument_response(actor, case, trust, day, answers))
    for response in answered:
        InstrumentResponse.objects.filter(pk=response.pk).update(
            created_at=_when(seeder, response.completed_on)
        )


def _closure_outcomes(seeder: Any) -> None:
    """Where every closed case's young person was living and what they were doing at the end."""
    closed = Case.objects.filter(phase=Phase.CLOSED).select_related("programme").order_by("id")
    for case in closed:
        if case.closure_reason == ClosureReason.RETURNED_TO_CUSTODY:
            homes, ete = CLOSURE_OUTCOMES[ClosureReason.RETURNED_TO_CUSTODY]
        elif case.programme.kind == ProgrammeKind.PREVENTION:
            homes, ete = PREVENTION_OUTCOMES
        else:
            homes, ete = CLOSURE_OUTCOMES.get(case.closure_reason, OTHER_OUTCOMES)
        Case.objects.filter(pk=case.pk).update(
            closure_accommodation=seeder.weighted(homes), closure_ete=seeder.weighted(ete)
        )


def _family_influence(seeder: Any) -> None:
    """About 60% of family members assessed: mostly protective, some a risk, a few mixed;
    now and then one with worries of their own. Recorded by the young person's mentor."""
    mentor_of = dict(
        Case.objects.filter(mentor__isnull=False).values_list("person_id", "mentor_id")
    )
    staff = {u.pk: u for u in seeder.users.values()}
    for member in FamilyMember.objects.order_by("id"):
        if not seeder.chance(0.6):
            continue
        looser = member.relationship in LOOSER_TIES
        data = {"influence": seeder.weighted(INFLUENCE_LOOSER if looser else INFLUENCE_CLOSE)}
        if member.relationship in OWN_NEEDS and seeder.chance(0.12):
            data["own_needs"] = seeder.pick(OWN_NEEDS[member.relationship])
        actor = staff.get(mentor_of.get(member.person_id), seeder.users["cara"])
        people.update_family_member(actor, member, data)


# --- Outcomes: proven reoffending ----------------------------------------------------------
# The charity's claim is "under 30% back" against a national figure near 75%; prevention
# work with children at risk sees far fewer convictions.
REOFFEND_CUSTODY = 0.27
REOFFEND_PREVENTION = 0.12
RECALLED_ONLY = 0.08  # custody participants recalled without a new offence
BREACHED_ONLY = 0.03  # … or breached (a missed appointment, a curfew) and kept out
OUTCOMES_FROM = 6  # months after the index date before anything is known
OFFENCES_PER_REOFFENDER = {"1": 55, "2": 30, "3": 15}
OFFENCE_GROUPS = {
    "violence": 24, "drugs": 18, "theft": 16, "weapons": 12, "robbery": 10,
    "criminal_damage": 5, "public_order": 5, "summary_non_motoring": 4, "summary_motoring": 3,
    "fraud": 2, "society": 1,
}  # fmt: skip
DISPOSALS_CHILD = {"conviction": 55, "youth_caution": 30, "conditional_caution": 15}
DISPOSALS_ADULT = {"conviction": 90, "caution": 10}
SOURCES_CHILD = {"yjs": 60, "police": 40}
SOURCES_ADULT = {"probation": 65, "police": 35}
LATE_CONVICTIONS = 4  # offences in the year, convicted after the waiting period
OLD_OFFENCES = 3  # offences from before the sentence, convicted after release
LATE_NOTE = "Convicted after the six-month waiting period, so not a proven reoffence."
OLD_NOTE = "Committed before the sentence; it came to court after release. Not a reoffence."


def set_up_outcomes(seeder: Any) -> None:
    """Reoffending events for the outcomes dashboard, through outcomes.actions.

    The people the demo sent back to custody within the year get the recall or new sentence
    their custody record shows. Of the rest of the cohort (outcomes.cohort), those whose
    index date is six months old or more may have some: enough reoffend (1–3 proven
    offences, most in the first three months) for about 27% of the custody programme and
    12% of prevention, and a few more are recalled or breached without a new offence.
    A few events show the edges of the Ministry of Justice definition: offences convicted
    after the waiting period, and old offences from before the sentence that came to court
    after release.
    Nothing is dated in the future; a custodial sentence is never given while the young
    person has a case open with the charity."""
    from throughgate.engines import reoffending as engine
    from throughgate.outcomes import actions as outcomes
    from throughgate.outcomes.cohort import participants

    today, cara = seeder.today, seeder.users["cara"]
    cohort = sorted(participants(), key=lambda p: (p.index_date, int(p.person_id)))
    ids = [int(p.person_id) for p in cohort]
    people_by_id = Person.objects.in_bulk(ids)
    cases: dict[int, list[tuple[date, date]]] = {}
    for person_id, opened, closed in Case.objects.filter(person_id__in=ids).values_list(
        "person_id", "opened_on", "closed_on"
    ):
        cases.setdefault(person_id, []).append((opened, closed or today))
    episodes: dict[int, list[CustodyEpisode]] = {}
    for episode in CustodyEpisode.objects.filter(person_id__in=ids).order_by("received_on", "id"):
        episodes.setdefault(episode.person_id, []).append(episode)

    def free_on(person: Person, day: date) -> bool:
        """No case open with the charity that day (a prison sentence would have closed it)."""
        return not any(opened <= day <= closed for opened, closed in cases.get(person.pk, []))

    def record(person: Person, verified: float = 0.7, **data: Any) -> None:
        data.setdefault("verified", seeder.chance(verified))
        event = outcomes.record_event(cara, person, data)
        known = (data.get("disposal_date") or data["offence_date"]) + seeder.days(2, 30)
        ReoffendingEvent.objects.filter(pk=event.pk).update(
            created_at=_when(seeder, min(known, today))
        )

    def offence(person: Person, committed: date, convicted: date, notes: str = "") -> None:
        child = seeder.age_on(person.date_of_birth, committed) < 18
        disposal = seeder.weighted(DISPOSALS_CHILD if child else DISPOSALS_ADULT)
        custodial = (
            disposal == "conviction"
            and seeder.chance(0.2 if child else 0.55)
            and free_on(person, convicted)
        )
        if disposal == "conviction":
            source = seeder.weighted(SOURCES_CHILD if child else SOURCES_ADULT)
        else:  # cautions are given by the police
            source = "police" if not child or seeder.chance(0.6) else "yjs"
        record(person, offence_date=committed, disposal_date=convicted, disposal_type=disposal,
               offence_group=seeder.weighted(OFFENCE_GROUPS), custodial=custodial,
               source=source, notes=notes)  # fmt: skip

    def court_date(committed: date) -> date | None:
        """One to eight months later, most within four; None if still waiting for court."""
        convicted = committed + timedelta(days=round(seeder.rng.triangular(30, 240, 75)))
        if convicted <= today:
            return convicted
        if seeder.chance(0.5) or committed + timedelta(days=14) > today:
            return None
        return seeder.between(committed + timedelta(days=14), today)

    def reoffend(person: Person, index: date) -> None:
        last = min(engine.follow_up_end(index), today - timedelta(days=30))
        span = (last - index).days
        # Skewed early: almost half of first offences come in the first three months.
        committed = index + timedelta(days=1 + int((span - 1) * seeder.rng.random() ** 1.8))
        for _ in range(int(seeder.weighted(OFFENCES_PER_REOFFENDER))):
            if committed > last:
                break
            convicted = court_date(committed)
            if convicted is not None:
                offence(person, committed, convicted)
            committed += seeder.days(5, 120)

    def back_inside(person: Person, index: date, episode: CustodyEpisode) -> bool:
        """The recall or new sentence the custody record shows; True for a new offence."""
        received = episode.received_on
        if episode.sentence_type == SentenceType.RECALL:
            record(person, 0.9, disposal_date=received, disposal_type="recall",
                   source="probation", notes="Recalled to custody on licence.")  # fmt: skip
            if not seeder.chance(0.35):
                return False
            # Charged with something new, which is why the licence was revoked.
            committed = max(index + timedelta(days=1), received - seeder.days(0, 10))
            convicted = court_date(committed)
            if convicted is None:
                return False
            offence(person, committed, convicted)
            return convicted <= engine.waiting_end(index)
        sentenced = episode.sentence_date or received
        committed = max(index + timedelta(days=1), received - seeder.days(0, 45))
        child = seeder.age_on(person.date_of_birth, committed) < 18
        record(person, 0.9, offence_date=committed, disposal_date=sentenced,
               disposal_type="conviction", offence_group=seeder.weighted(OFFENCE_GROUPS),
               custodial=True, source="yjs" if child else "probation")  # fmt: skip
        return True

    # The people whose return to custody the demo already tells.
    ripe = engine.add_months(today, -OUTCOMES_FROM)
    returns: dict[str, CustodyEpisode] = {}
    for p in cohort:
        later = [
            e
            for e in episodes.get(int(p.person_id), [])
            if p.index_date < e.received_on <= min(engine.follow_up_end(p.index_date), today)
        ]
        if later:
            returns[p.person_id] = later[0]

    def on_custody(p: engine.Person) -> bool:
        return p.groups["programme"] == CUSTODY_PROGRAMME

    def recalled_on_licence(p: engine.Person) -> bool:
        return p.person_id in returns and returns[p.person_id].sentence_type == SentenceType.RECALL

    # Each group (programme, and whether the waiting period is over) gets its share of
    # reoffenders, counting those the custody record already sends back, so that a small
    # demo shows about the same rates as the full one.
    ripe_groups: dict[tuple[bool, bool], list[engine.Person]] = {}
    for p in cohort:
        if p.index_date <= ripe:
            key = (
                p.groups["programme"] == CUSTODY_PROGRAMME,
                engine.is_mature(p.index_date, today),
            )
            ripe_groups.setdefault(key, []).append(p)
    reoffenders: set[str] = set()
    for (custody_programme, _), members in sorted(ripe_groups.items()):
        recalled = sum(recalled_on_licence(p) for p in members)
        sentenced = sum(p.person_id in returns for p in members) - recalled
        rate = REOFFEND_CUSTODY if custody_programme else REOFFEND_PREVENTION
        wanted = max(0, round(rate * len(members) - sentenced - 0.35 * recalled))
        others = [p for p in members if p.person_id not in returns]
        chosen = seeder.rng.sample(others, min(len(others), wanted))
        reoffenders.update(p.person_id for p in chosen)

    def after_the_case(p: engine.Person) -> tuple[date, date]:
        """Days in the year after the charity's case closed (a recall would have ended it)."""
        closed = max((c for _, c in cases.get(int(p.person_id), [])), default=p.index_date)
        first = max(p.index_date + timedelta(days=14), closed + timedelta(days=1))
        return first, min(engine.follow_up_end(p.index_date), today)

    # Recalled or breached without a new offence: some of the custody programme's people.
    custody_ripe = [
        p for p in cohort if p.index_date <= ripe and p.groups["programme"] == CUSTODY_PROGRAMME
    ]
    free = [
        p
        for p in custody_ripe
        if p.person_id not in returns
        and p.person_id not in reoffenders
        and after_the_case(p)[0] <= after_the_case(p)[1]
    ]
    already = sum(recalled_on_licence(p) for p in custody_ripe) * 0.65
    n_recalls = max(1, round(RECALLED_ONLY * len(custody_ripe) - already))
    recalls = {p.person_id for p in seeder.rng.sample(free, min(len(free), n_recalls))}
    free = [p for p in free if p.person_id not in recalls]
    n_breaches = max(1, round(BREACHED_ONLY * len(custody_ripe)))
    breaches = {p.person_id for p in seeder.rng.sample(free, min(len(free), n_breaches))}

    clean: list[engine.Person] = []  # mature, with nothing on record
    for p in cohort:
        person, index = people_by_id[int(p.person_id)], p.index_date
        if p.person_id in returns:
            back_inside(person, index, returns[p.person_id])
        elif index > ripe:
            continue
        elif p.person_id in reoffenders:
            reoffend(person, index)
        elif p.person_id in recalls:
            record(person, 0.9, disposal_date=seeder.between(*after_the_case(p)),
                   disposal_type="recall", source="probation")  # fmt: skip
        elif p.person_id in breaches:
            record(person, disposal_date=seeder.between(*after_the_case(p)),
                   disposal_type="breach", source="probation",
                   notes="Missed probation appointments; warned.")  # fmt: skip
        else:
            clean.append(p)

    # The edges of the definition, on people with nothing else on record.
    mature = [p for p in clean if engine.waiting_end(p.index_date) + timedelta(days=30) < today]
    late = seeder.rng.sample(mature, min(len(mature), _scaled(LATE_CONVICTIONS, seeder.scale, 1)))
    for p in late:
        person, index = people_by_id[int(p.person_id)], p.index_date
        end, proof_by = engine.follow_up_end(index), engine.waiting_end(index)
        committed = seeder.between(end - timedelta(days=45), end)
        after = proof_by + timedelta(days=1)
        convicted = seeder.between(after, min(today, after + timedelta(days=60)))
        offence(person, committed, convicted, LATE_NOTE)
    old = [p for p in mature if p not in late and on_custody(p)]
    for p in seeder.rng.sample(old, min(len(old), _scaled(OLD_OFFENCES, seeder.scale, 1))):
        person, index = people_by_id[int(p.person_id)], p.index_date
        received = min(e.received_on for e in episodes[int(p.person_id)])
        committed = max(received - seeder.days(30, 300), _Seeder.birthday(person.date_of_birth, 12))
        convicted = seeder.between(index + seeder.days(20, 60), index + timedelta(days=150))
        record(person, offence_date=committed, disposal_date=min(convicted, today),
               disposal_type="conviction", offence_group=seeder.weighted(OFFENCE_GROUPS),
               source="police", notes=OLD_NOTE)  # fmt: skip


def counts() -> dict[str, int]:
    """How much of everything the database holds (the seeder's report and its tests' yardstick)."""
    return {
        "users": User.objects.count(),
        # The young people: mentors are people too, but counted as mentor_profiles.
        "people": Person.objects.filter(mentor_profile__isnull=True).count(),
        "aliases": Alias.objects.count(),
        "family_members": FamilyMember.objects.count(),
        "custody_episodes": CustodyEpisode.objects.count(),
        "referrals": Referral.objects.count(),
        "pending_referrals": Referral.objects.filter(status=ReferralStatus.PENDING).count(),
        "cases": Case.objects.count(),
        "open_cases": Case.objects.open().count(),
        "phase_changes": PhaseChange.objects.count(),
        "contacts": Contact.objects.count(),
        "transfers": Transfer.objects.count(),
        "key_date_changes": KeyDateChange.objects.count(),
        "release_plans": ReleasePlan.objects.count(),
        "plan_items": PlanItem.objects.count(),
        "mentor_profiles": MentorProfile.objects.count(),
        "conflicts": Conflict.objects.count(),
        "needs": Need.objects.count(),
        "actions": Action.objects.count(),
        "onward_referrals": OnwardReferral.objects.count(),
        "instrument_responses": InstrumentResponse.objects.count(),
        "reoffending_events": ReoffendingEvent.objects.count(),
    }


MARKER_TYPE = "demo.seed"


def is_seeded() -> bool:
    return AuditEvent.objects.filter(object_type=MARKER_TYPE).exists()


def seed(progress: bool = True, scale: float = 1.0) -> dict[str, int]:
    """Build the demo charity (or do nothing if it is already there); returns the counts."""
    if not scale > 0:
        raise ValueError("scale must be a positive number")
    if is_seeded():
        found = counts()
        print(
            f"Demo data is already there ({found['people']} young people, {found['cases']} "
            f"cases, {found['contacts']} contacts); nothing to do."
        )
        return found
    existing = Person.objects.count()
    if existing:
        raise DemoDataError(
            f"This database already holds {existing} person record(s) that are not demo data. "
            "The demo seeder only fills an empty database; point THROUGHGATE_DATA_DIR or "
            "DATABASE_URL at a new one."
        )
    from tqdm import tqdm

    seeder = _Seeder(scale)
    with transaction.atomic():
        seeder.set_up_staff()
        plans = seeder.plan_everything()
        with tqdm(
            total=len(plans),
            desc="Building the demo charity",
            unit=" people",
            disable=not progress,
            dynamic_ncols=True,
        ) as bar:
            for plan in plans:
                seeder.execute(plan)
                bar.update()
        set_up_mentors(seeder)
        set_up_support(seeder)
        set_up_safeguarding(seeder)
        set_up_prevention(seeder)
        set_up_training(seeder)
        set_up_outcomes(seeder)
        from .evaluation import set_up_evaluation  # imports this module

        set_up_evaluation(seeder)
        found = counts()
        audit.record(
            None,
            AuditAction.CREATE,
            object_type=MARKER_TYPE,
            summary=f"Demo data added: {found['people']} people, {found['cases']} cases, "
            f"{found['contacts']} contacts",
        )
    print(
        f"Demo data ready: {found['people']} young people, {found['cases']} cases "
        f"({found['open_cases']} open), {found['contacts']} contacts, "
        f"{found['pending_referrals']} referrals waiting for triage."
    )
    return found
