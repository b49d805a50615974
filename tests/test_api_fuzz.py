"""Schemathesis over the whole API (issue 8 acceptance 4, issue 9 acceptance 2).

The schema is loaded from the app itself (/api/openapi.json through WSGI) and every
operation is called with generated requests and a valid token that has its scope: a
partner's token for referrals and programmes, Mo's for cases and contacts. Each operation
is run with valid data (schemathesis' positive mode, once with random ids and once with
ids that exist) and with invalid data (negative mode). No response may be a server
error, break the schema, or use a status code the schema does not list. The number of
requests made is printed (run with -s to see it).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from throughgate.api import actions
from throughgate.api.models import PartnerReferral
from throughgate.api.scopes import Scope

from . import make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_the_test_transactions_connection() -> Any:
    """Schemathesis calls the WSGI application directly, whose start- and end-of-request
    signals close a connection that is inside a transaction (the test's own, on
    PostgreSQL). Django's test Client unhooks the same handler while it makes a request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


EXAMPLES_PER_RUN = 25
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
OPERATIONS = {
    "GET /api/v1/programmes", "POST /api/v1/referrals", "GET /api/v1/referrals",
    "GET /api/v1/referrals/{referral_id}", "GET /api/v1/cases", "GET /api/v1/cases/{case_id}",
    "POST /api/v1/cases/{case_id}/contacts",
}  # fmt: skip


def fuzz(
    operation: Any,
    token: str,
    mode: GenerationMode,
    path_parameters: dict[str, int],
    calls: Counter,
    statuses: Counter,
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_RUN,
        deadline=None,
        derandomize=True,  # the same requests on every run
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(generated=operation.as_strategy(mode, path_parameters=path_parameters or None))
    def run(generated: Any) -> None:
        response = generated.call(headers={"Authorization": f"Bearer {token}"})
        generated.validate_response(response, checks=CHECKS)
        calls[operation.label] += 1
        statuses[response.status_code] += 1

    run()


def test_every_operation_survives_schemathesis_with_valid_tokens(mo, cara, ade, programme):
    case = make.make_case(mentor=mo, actor=cara)
    make.make_contact(case)
    partner = actions.add_partner(ade, {
        "username": "feltham", "organisation": "HMP/YOI Feltham", "source_type": "prison",
    }).user  # fmt: skip
    sent = make.make_referral(actor=cara)
    PartnerReferral.objects.create(referral=sent, partner=partner)
    partner_token = actions.create_token(
        ade, partner, "fuzz", [Scope.REFERRALS_WRITE, Scope.REFERRALS_READ]
    )[1]
    staff_token = actions.create_token(mo, mo, "fuzz", [Scope.CASES_READ, Scope.CONTACTS_WRITE])[1]
    real_ids = {"case_id": case.pk, "referral_id": sent.pk}

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == OPERATIONS
    calls: Counter = Counter()
    statuses: Counter = Counter()
    for operation in operations:
        partners = "referrals" in operation.path or "programmes" in operation.path
        token = partner_token if partners else staff_token
        ids = {k: v for k, v in real_ids.items() if f"{{{k}}}" in operation.path}
        fuzz(operation, token, GenerationMode.POSITIVE, {}, calls, statuses)
        if ids:  # again with ids that exist, so the paths past the 404 are generated too
            fuzz(operation, token, GenerationMode.POSITIVE, ids, calls, statuses)
        fuzz(operation, token, GenerationMode.NEGATIVE, ids, calls, statuses)

    print(f"\nschemathesis: {sum(calls.values())} requests over {len(calls)} operations")
    for label, count in sorted(calls.items()):
        print(f"  {count:4d}  {label}")
    print(f"schemathesis: responses by status: {dict(sorted(statuses.items()))}")
    assert set(calls) == OPERATIONS
    # Requests got past the checks to the records, not only refusals.
    assert statuses[200] > 0
