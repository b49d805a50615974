"""Hypothesis throws bad input at every page; none may answer with a server error.

Every page of the access ladder that takes a POST (FORM and POST kinds) gets the
ladder's valid POST, mutated: fields dropped, emptied, made 10,000 characters long,
unicode (NUL included), numbers out of range, malformed dates, wrong choices, lists
where one value is expected and the reverse, unknown fields, and ids of records that
do not exist or are someone else's. Every READ page gets hypothesis-made query
strings (its filters, page=, as_of=, group_by=, format=, …). Each page is used by
someone it is for (`user_for`), so the bad input reaches the forms and actions rather
than stopping at the access check.

What must hold for every example: the answer is not a server error, an exception in
the view fails the test (the test client re-raises it; nothing here catches it), and
a refused POST (4xx) changed nothing (no create/update/delete audit event).

The world is the ladder's, built once for this module. Each example runs inside a
savepoint rolled back at its end, so examples do not see one another's changes. The
views' own `transaction.atomic()` blocks nest inside it as savepoints: an action that
refuses input rolls back its own savepoint and the example's rollback then undoes
whatever a successful POST saved. (No view relies on `on_commit` for its answer, and
an `on_commit` callback would never run here, as in any TestCase.)

The number of examples run per page is printed at the end of the module.
"""

from __future__ import annotations

import copy
import os
import time
from collections import Counter
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from throughgate.core import reauth
from throughgate.core.models import AuditAction, AuditEvent

from . import make
from . import test_access_ladder as ladder
from .test_access_ladder import (
    FORM,
    LADDER,
    MISSING_PK,
    POST,
    READ,
    VISIBLE_TO,
    Page,
    World,
    url_of,
    valid_post,
)

# The access ladder's world (built once for this module, each test in a savepoint).
shared_world = ladder.shared_world
world = ladder.world

# Sized to keep the module near 90 s on SQLite on two cores (1,055 cases);
# THROUGHGATE_FUZZ_EXAMPLES=100 hunts harder (every page that many).
POST_EXAMPLES = int(os.environ.get("THROUGHGATE_FUZZ_EXAMPLES", "15"))
GET_EXAMPLES = int(os.environ.get("THROUGHGATE_FUZZ_EXAMPLES", "10"))

FUZZ = settings(
    max_examples=POST_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CASES_RUN: Counter[str] = Counter()
ANSWERS: dict[str, Counter[int]] = {}  # status codes per page, to show the input got through

# Who fuzzes each page: the first of these it is for (and who can see Mo's records it
# names). The admin first, so the most code is reached (team pickers, every programme);
# the coordinator's team-scoped choices get someone else's ids all the same.
PREFERENCE = ("ade", "cara", "mo", "fay", "kim", "pat", "sam")


def user_for(page: Page) -> str | None:
    if not page.users:
        return None  # public: the log-in page, healthz, the calendar feed
    allowed = page.users & VISIBLE_TO[page.obj] if page.obj else page.users
    return next(name for name in PREFERENCE if name in allowed)


# --- Bad values ---------------------------------------------------------------------

LONG = "x" * 10_000
DROP = object()  # take the field out of the POST

NASTY_TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            LONG,
            "\x00",
            "Tyrese\x00Whitlock",
            "é" * 5_000,
            "😀" * 300,
            "\u202eevil",
            "<script>alert(1)</script>",
            "'; DROP TABLE people_person; --",
            '=HYPERLINK("http://x")',
            "\r\n",
            "null",
            "None",
            "true",
            "on",
        ]
    ),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20).map(
        lambda s: s + "\x00"
    ),
)
NUMBERS = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "-2147483649",
            "2147483648",
            "9223372036854775808",
            "99999999999999999999999999999999",
            "1e308",
            "-1e308",
            "1e309",
            "1e-320",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "Infinity",
            "1.5",
            "0.00000001",
            "12.345678901234567890",
            "1_000",
            "٣",  # an Arabic-Indic three: a decimal digit int() takes
            "²",  # a superscript two: str.isdigit() says yes, int() says no
            "①",
            "١²",
            "0x10",
            "+7",
            " 7 ",
        ]
    ),
    st.integers().map(str),
    st.floats().map(str),
    st.decimals().map(str),
)
DATES = st.one_of(
    st.sampled_from(
        [
            "2024-02-30",
            "2023-02-29",
            "0000-01-01",
            "0001-01-01",
            "9999-12-31",
            "10000-01-01",
            "31/12/2024",
            "12/31/2024",
            "2024-13-01",
            "2024-00-10",
            "1900-01-01",
            "today",
            "2024-01-01T25:00",
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "2024-03-31T01:30",  # the hour the clocks skip in London
            "2024-10-27T01:30",  # the hour that happens twice
            "-2024-01-01",
        ]
    ),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
)
WRONG_CHOICES = st.sampled_from(
    ["not-a-choice", "met", "closed", "male", "phone", "recall", "file", "own", "mentor",
     "revoke", "create", "supervision", "other", "ADMIN", "through_the_gate"]
)  # fmt: skip
EXTRA_KEYS = st.one_of(
    st.sampled_from(
        [
            "unknown_field",
            "id",
            "pk",
            "created_by",
            "team",
            "next",
            "version",
            "action",
            "baseline",
            "existing_person",
            "duplicate_choice",
            "duplicates_shown",
            "proposal",
            "status",
            "person",
            "csrfmiddlewaretoken",
        ]
    ),
    st.text(min_size=1, max_size=20),
)


def ids_in(world: World) -> list[int]:
    """Record ids that do not exist or belong to someone else (Kim's, Pat's, another team's)."""
    pks = {MISSING_PK, 0, -1, 2**31, 2**63}
    for owner in ("kim", "pat", "mo"):
        pks.update(o.pk for o in world.objects(owner).values() if hasattr(o, "pk"))
    pks.update(u.pk for u in world.users.values())
    pks.update({world.other_team_case.pk, world.other_team_referral.pk})
    return sorted(pks)


def scalar(ids: list[int]) -> st.SearchStrategy[Any]:
    return st.one_of(
        NASTY_TEXT,
        NUMBERS,
        DATES,
        WRONG_CHOICES,
        st.sampled_from(ids).map(str),
        st.sampled_from(["2024-09-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+14:00"]),
    )


def value(ids: list[int]) -> st.SearchStrategy[Any]:
    """Something to put where a field's value goes: one value, several, or none at all."""
    one = scalar(ids)
    return st.one_of(one, st.lists(one, min_size=0, max_size=3), st.just(DROP))


class _FieldNames(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = dict(attrs).get("name")
        if tag in ("input", "select", "textarea") and name and name != "csrfmiddlewaretoken":
            self.names.add(name)


def fields_on(client: Client, page: Page, url: str) -> set[str]:
    """The names of the fields the page's form shows, so the optional ones the valid
    POST leaves out get bad values too (a POST-only action has no form to read)."""
    if page.kind != FORM:
        return set()
    response = client.get(url)
    if page.ok == 302 and response.status_code == 302:
        return set()  # a page that sends its users on (the two-factor code page)
    assert response.status_code == 200, f"{page}: GET answered {response.status_code}"
    parser = _FieldNames()
    parser.feed(response.content.decode())
    return parser.names


@st.composite
def mutated_post(
    draw: Any, base: dict[str, Any], fields: set[str], ids: list[int]
) -> dict[str, Any]:
    data = dict(base)
    keys = sorted(set(data) | fields)
    if keys:
        # None changed at times: then only the unknown fields below are wrong.
        for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
            new = draw(value(ids))
            if new is DROP:
                data.pop(key, None)
            elif isinstance(data.get(key), list) and draw(st.booleans()):
                data[key] = [*data[key], *([new] if not isinstance(new, list) else new)]
            else:
                data[key] = new
    extra_max = 3 if keys else 5  # a POST-only action with no fields: extras are all there is
    data.update(draw(st.dictionaries(EXTRA_KEYS, scalar(ids), max_size=extra_max)))
    return data


# A comparison file upload for the impact evaluation: garbage, a CSV with the wrong
# columns, a CSV with NULs and huge numbers.
POOL_FILES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"\x00\x00\x00",
            b"\xff\xfe\x00a",
            b"PAR1garbage",
            b"person_id,index_date\n1,2024-02-30\n",
            b"person_id,index_date,reoffended\n1,2024-01-01,maybe\n2,9999-12-31,1e308\n",
            b"a,b,c\n" + b"1,2,3\n" * 50,
        ]
    ),
)


# --- The examples -------------------------------------------------------------------


CHANGE_ACTIONS = [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]


def change_events() -> int:
    return AuditEvent.objects.filter(action__in=CHANGE_ACTIONS).count()


@pytest.fixture(scope="module", autouse=True)
def cases_run_summary(request: Any) -> Any:
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not CASES_RUN:
        return
    with capture.global_and_fixture_disabled():  # past the output capture, as pytest's own
        reporter.write_line("")
        reporter.write_line("Fuzzed pages (examples run):")
        for name, count in sorted(CASES_RUN.items()):
            answers = sorted(ANSWERS[name].items())
            spread = ", ".join(f"{code}: {n}" for code, n in answers)
            reporter.write_line(f"  {name:40} {count:4}  ({spread})")
        reporter.write_line(f"{sum(CASES_RUN.values())} cases run on {len(CASES_RUN)} pages")


def client_for(page: Page, world: World) -> Client:
    client = Client()
    who = user_for(page)
    if who is not None:
        client.force_login(world.users[who])  # outside the examples' savepoints, so it stays
        make.pass_two_factor(client, world.users[who])
        # and has just typed the password, so pages that ask for it again (the purge,
        # a new app) show their forms to the fuzzer instead of "Confirm it's you".
        session = client.session
        session[reauth.PASSWORD_AT] = int(time.time())
        session.save()
    return client


def run_example(
    client: Client, cookies: Any, page: Page, request: Any, counted: bool = True
) -> None:
    """One request in a savepoint rolled back afterwards, with the log-in as it was
    (a POST to log out, say, must not log out the next example)."""
    client.cookies = copy.deepcopy(cookies)
    key = f"{page.name} {request.__name__.upper()}"
    with transaction.atomic():
        before = change_events()
        response = request()
        if counted:  # a case is a request that was answered (not a draw hypothesis dropped)
            CASES_RUN[key] += 1
            ANSWERS.setdefault(key, Counter())[response.status_code] += 1
        assert response.status_code < 500, f"{page}: answered {response.status_code}"
        if response.status_code >= 400:
            assert change_events() == before, f"{page}: refused, yet a change was audited"
        transaction.set_rollback(True)


def post_pages() -> list[Any]:
    return [pytest.param(p, id=p.name) for p in LADDER if p.kind in (FORM, POST)]


def get_pages() -> list[Any]:
    """Every READ page, and the form pages whose GET reads the query string."""
    return [
        pytest.param(p, id=p.name)
        for p in LADDER
        if p.kind == READ or (p.kind == FORM and p.name in QUERY_KEYS)
    ]


@pytest.mark.parametrize("page", post_pages())
@FUZZ
@given(data=st.data())
def test_bad_post_never_answers_a_server_error(page, world, data):
    objects = world.objects("mo")
    url = url_of(page, objects)
    base = valid_post(page, world, objects)
    ids = ids_in(world)
    client = client_for(page, world)
    cookies = copy.deepcopy(client.cookies)
    fields = fields_on(client, page, url)

    def post() -> Any:
        body = data.draw(mutated_post(base, fields, ids), label="POST")
        if page.name == "outcomes:evaluation_new" and data.draw(st.booleans(), label="upload"):
            body["pool_source"] = "file"
            body["pool_file"] = SimpleUploadedFile(
                data.draw(st.sampled_from(["pool.csv", "pool.parquet", "pool.txt"])),
                data.draw(POOL_FILES, label="pool file"),
            )
        if data.draw(st.integers(0, 3), label="query?") == 0:  # ?next=, ?team=, …
            return client.post(f"{url}?{urlencode(data.draw(query(page, ids)), doseq=True)}", body)
        return client.post(url, body)

    run_example(client, cookies, page, post)


# The filters each list page reads, beside the ones every page might be sent.
QUERY_KEYS = {
    "audit_trail": ["actor", "action", "object_type", "person_id", "date_from", "date_to",
                    "format"],
    "casework:case_list": ["q", "programme", "phase", "mentor", "status"],
    "custody:release_calendar": ["weeks", "establishment", "mentor", "borough", "flagged"],
    "people:search": ["q"],
    "casework:referral_queue": ["due_page"],
    "casework:case_detail": ["page"],
    "reports:funder": ["start", "end", "programmes"],
    "reports:funder_csv": ["start", "end", "programmes"],
    "reports:funder_xlsx": ["start", "end", "programmes"],
    "outcomes:dashboard": ["group_by", "as_of", "baseline"],
    "outcomes:jdl_export": ["programme", "index_from", "index_to", "download"],
    "mentors:conflicts": ["show"],
    "mentors:list": ["show"],
    # Form pages that read their query string (the others ignore it).
    "casework:referral_new": ["person"],
    "mentors:conflict_new": ["person"],
    "mentors:batch": ["team"],
    "mentors:matching_needs": ["next"],
    "outcomes:baselines": ["baseline"],
    "reauth": ["next"],
}  # fmt: skip
COMMON_KEYS = ["page", "as_of", "group_by", "format", "q", "next", "sort", "status", "show"]
PLAUSIBLE = st.sampled_from(
    ["1", "2", "-1", "0", "last", "csv", "json", "pdf", "mentor", "programme", "gender",
     "all", "closed", "open", "active", "on", "yes", "52", "/", "//evil.example", "1"]
)  # fmt: skip


@st.composite
def query(draw: Any, page: Page, ids: list[int]) -> dict[str, Any]:
    keys = st.sampled_from(QUERY_KEYS.get(page.name, []) + COMMON_KEYS) | st.text(max_size=10)
    one = st.one_of(PLAUSIBLE, scalar(ids))
    return draw(
        st.dictionaries(keys, st.one_of(one, st.lists(one, min_size=2, max_size=3)), max_size=5)
    )


# Query strings no browser would send: broken percent-escapes, NULs, bare keys.
RAW_QUERIES = st.sampled_from(
    ["%", "%zz=1", "page=%00", "as_of=%FF%FE", "&&&==", "=1", "group_by", "q=%E2%80",
     "page=1&page=2&page=x", "format=csv&download=1&as_of=9999-12-31"]
)  # fmt: skip


@pytest.mark.parametrize("page", get_pages())
@settings(FUZZ, max_examples=GET_EXAMPLES)
@given(data=st.data())
def test_any_query_string_never_answers_a_server_error(page, world, data):
    objects = world.objects("mo")
    url = url_of(page, objects)
    ids = ids_in(world)
    client = client_for(page, world)
    cookies = copy.deepcopy(client.cookies)

    def get() -> Any:
        if data.draw(st.integers(0, 5), label="raw?") == 0:
            raw = data.draw(RAW_QUERIES | st.text(max_size=30).map(quote), label="raw query")
            return client.get(f"{url}?{raw}")
        return client.get(url, data.draw(query(page, ids), label="query"))

    run_example(client, cookies, page, get)


def test_an_example_leaves_no_trace_even_when_the_post_saved(world):
    """The savepoint each example runs in undoes a POST that went through (so the next
    example starts from the same world), and the log-in survives a POST to log out."""
    page = ladder.PAGES["casework:referral_new"]
    objects = world.objects("mo")
    client = client_for(page, world)
    cookies = copy.deepcopy(client.cookies)
    before = change_events()

    def post() -> Any:
        response = client.post(url_of(page, objects), valid_post(page, world, objects))
        assert response.status_code == 302
        assert change_events() > before  # saved and audited inside the savepoint
        return response

    run_example(client, cookies, page, post, counted=False)
    assert change_events() == before
    logout = ladder.PAGES["logout"]

    def log_out() -> Any:
        return client.post(url_of(logout))

    run_example(client, cookies, logout, log_out, counted=False)
    client.cookies = copy.deepcopy(cookies)
    assert client.get(url_of(page)).status_code == 200
