"""Property-based fuzz of the REST API from its own OpenAPI schema (schemathesis).

Laval's schema is loaded from /api/schema/ through the WSGI application, in process. Every
operation then receives generated requests, valid and invalid, from three callers: an
integration's write key, a 311 agent's session and a citizen's session. No answer may be a 5xx,
and every answer must be one the schema documents (status code, content type, body).

The budget is bounded and derandomized: `make test` sends the same requests every time.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from crm.api.throttling import ApiKeyThrottle, ClientAddressThrottle
from tenants.models import Municipality
from tests.accounts import signed_in_staff
from tests.factories import (
    CitizenFactory,
    ServiceRequestFactory,
    StaffProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

BASE_URL = "http://laval.localhost"
# Examples per operation and caller: valid requests, then invalid ones.
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
AGENT_EMAIL = "agent@laval.localhost"


# What each caller must have been granted at least once: proof its credentials worked.
REACHED = {
    "write_key": [("GET /api/v1/requests/{number}/", 200), ("POST /api/v1/requests/", 201)],
    "agent": [("GET /api/v1/citizens/{id}/", 200), ("POST /api/v1/interactions/", 201)],
    "citizen": [("GET /api/v1/me/requests/", 200), ("PATCH /api/v1/me/preferences/", 200)],
}
# One valid body per write of REACHED, tried before the generated ones: whether a generated
# body happens to be valid depends on the constants Hypothesis collects from the project's
# code, so the proof that each caller's credentials work must not rest on it.
VALID_BODIES = {
    "POST /api/v1/requests/": {"service_code": "arbre", "address": "1, rue des Érables"},
    "POST /api/v1/interactions/": {"channel": "phone", "summary": "Appel d'information."},
    "PATCH /api/v1/me/preferences/": {"preferred_language": "en"},
}


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI application, minus the per-request connection recycling: the test's
    transaction (rolled back at the end) must survive the requests, as with Django's Client."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(laval: Municipality, catalog: dict[str, Any]) -> dict[str, Any]:
    """Something for every operation to work on, and the identifiers that reach it: the shared
    catalog (departments, a public type with a required choice, one without location, an
    internal type, two articles), an agent, two citizens (one with an account) and their
    requests."""
    attribute_type, tree, articles = catalog["pothole"], catalog["tree"], catalog["articles"]
    with schema_context(laval.schema_name):
        agent = StaffProfileFactory(user__email=AGENT_EMAIL, role="agent").user
        account = UserFactory(email="citoyenne@exemple.qc.ca")
        citizen = CitizenFactory(account=account)
        other = CitizenFactory()
        requests = [
            ServiceRequestFactory(
                service_type=attribute_type,
                channel="phone",
                address="1, rue des Érables",
                attributes={"taille": "petit"},
                citizen=citizen,
            ),
            ServiceRequestFactory(service_type=tree, channel="web", address="", citizen=other),
        ]
    return {
        "agent": agent,
        "citizen_account": account,
        # Fields of paths, queries and bodies, and real values for them.
        "known": {
            "number": [r.number for r in requests],
            "request_number": [r.number for r in requests],
            "code": ["arbre", "nid-de-poule", "interne"],
            "service_code": ["arbre", "nid-de-poule", "interne"],
            "department": ["travaux", "parcs"],
            "id": [citizen.pk, other.pk],
            "citizen_id": [citizen.pk, other.pk],
            "assignee": [AGENT_EMAIL],
            "faq_article_ids": [[a.pk for a in articles]],
        },
    }


def _session(name: str, laval: Municipality, user: Any) -> Caller:
    """A signed-in browser session, with a CSRF cookie and its header (DRF's session
    authentication checks CSRF on writes)."""
    if user.is_staff:  # staff rights need the second factor
        client = signed_in_staff("laval.localhost", laval.schema_name, user)
    else:
        with schema_context(laval.schema_name):
            client = Client(HTTP_HOST="laval.localhost")
            client.force_login(user)
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
    return Caller(
        name,
        headers={"X-CSRFToken": csrf},
        cookies={
            django_settings.SESSION_COOKIE_NAME: client.cookies[
                django_settings.SESSION_COOKIE_NAME
            ].value,
            django_settings.CSRF_COOKIE_NAME: csrf,
        },
    )


@pytest.fixture
def caller(request: pytest.FixtureRequest, laval: Municipality, fuzz_world: dict) -> Caller:
    if request.param == "write_key":
        key = request.getfixturevalue("api_key")
        return Caller("write_key", headers={"Authorization": f"Api-Key {key}"})
    if request.param == "agent":
        return _session("agent", laval, fuzz_world["agent"])
    return _session("citizen", laval, fuzz_world["citizen_account"])


@pytest.fixture
def api_schema(laval: Municipality, wsgi_app: WSGIHandler, monkeypatch: Any) -> Any:
    """Laval's schema, as its host serves it."""
    # Throttling has its own tests; here it would turn the fuzz into a flood of 429s.
    rates = {"api_key": None, "client": None}
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    # Each caller brings its own credentials: none are generated from the security schemes.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, config=config, headers={"Host": "laval.localhost"}
    )


def _with_real_references(known: dict[str, list]) -> Any:
    """Give some generated fields a real value (a request number, a type code, a citizen…):
    random identifiers alone would only ever reach the 404 and the unknown-reference 400."""

    def replace(drawn: tuple[Any, list[bool], int]) -> Any:
        case, coins, index = drawn
        targets = [case.query, case.body if isinstance(case.body, dict) else None]
        for target, use_real in zip(targets, coins, strict=True):
            if not target or not use_real:
                continue
            for name in target.keys() & known.keys():
                target[name] = known[name][index % len(known[name])]
        return case

    return replace


def _can_be_invalid(operation: Any) -> bool:
    """Whether a request can break the schema: not when the only input is a free-form string
    in the path (a request number, a type code), which any value satisfies."""
    typed_path = any(
        p.definition.get("schema", {}).get("type") != "string" for p in operation.path_parameters
    )
    return bool(operation.query or operation.body or typed_path)


def _cases(operation: Any, mode: GenerationMode, known: dict[str, list]) -> st.SearchStrategy:
    names = [p.name for p in operation.path_parameters]
    real_path = {name: known[name][0] for name in names if name in known}
    if mode == GenerationMode.NEGATIVE:
        # Invalid queries and bodies on a real resource, and invalid paths: except an integer
        # identifier, which Django's URL resolver refuses before the API sees it.
        integer_ids = {p.name for p in operation.path_parameters if p.name in ("id", "pk")}
        fixed = {name: real_path[name] for name in integer_ids} or None
        strategies = [operation.as_strategy(generation_mode=mode, path_parameters=fixed)]
        if real_path and not integer_ids:
            strategies.append(
                operation.as_strategy(generation_mode=mode, path_parameters=real_path)
            )
        return st.one_of(*strategies)
    strategies = [operation.as_strategy(generation_mode=mode)]
    if real_path:
        for index in range(2):
            path = {name: known[name][index % len(known[name])] for name in real_path}
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=path))
    cases = st.one_of(*strategies)
    coins = st.lists(st.booleans(), min_size=2, max_size=2)
    return st.tuples(cases, coins, st.integers(0, 5)).map(_with_real_references(known))


def _fuzz(
    operation: Any, mode: GenerationMode, cases: st.SearchStrategy, caller: Caller, seen: Counter
) -> None:
    def run(case: Any) -> None:
        # A client of our own: schemathesis would set the cookies for `localhost` only.
        client = WerkzeugClient(operation.app)
        for name, value in caller.cookies.items():
            client.set_cookie(name, value, domain="laval.localhost")
        response = case.call_and_validate(
            base_url=BASE_URL, session=client, headers=caller.headers, checks=CHECKS
        )
        seen[operation.label, response.status_code] += 1

    run = given(case=cases)(run)
    if mode == GenerationMode.POSITIVE and operation.label in VALID_BODIES:
        valid = operation.Case(body=VALID_BODIES[operation.label], media_type="application/json")
        run = example(case=valid)(run)
    settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(run)()


@pytest.mark.parametrize("caller", ["write_key", "agent", "citizen"], indirect=True)
def test_no_operation_answers_a_server_error_or_an_undocumented_response(
    caller: Caller, api_schema: Any, fuzz_world: dict[str, Any]
) -> None:
    # `caller` first: a staff caller signs in through Django's test client, which turns the
    # per-request connection recycling back on; `api_schema`'s WSGI app turns it off after.
    known = fuzz_world["known"]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    failures: list[str] = []
    seen: Counter = Counter()
    for operation in operations:
        modes = [GenerationMode.POSITIVE]
        if _can_be_invalid(operation):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                _fuzz(operation, mode, _cases(operation, mode, known), caller, seen)
            except (AssertionError, FailureGroup) as failure:
                failures.append(f"{operation.label} ({mode.value}): {failure}")

    assert not failures, "\n\n".join(failures)
    # The fuzz reached the whole API as this caller, not only its 401s and 404s.
    assert len(operations) >= 15
    for label, status in REACHED[caller.name]:
        assert seen[label, status], f"{caller.name}: {label} never answered {status}"
