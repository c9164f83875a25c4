"""The authorization matrix: who may do what, as one table, and a test generated from it.

Each row is a page or an API action; its `allowed` set names the roles that may perform it,
every other role must be refused. Each role signs in the way a person does (allauth, with a
TOTP code for staff) on its own host (Laval's for the town's people, the base domain for the
platform's) and tries every row; each try runs in a savepoint rolled back afterwards, so the
rows do not depend on one another.

Allowed: a 2xx answer, or a redirect elsewhere than a sign-in. Refused: 401, 403 or 404, or a
redirect to a sign-in page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django_tenants.utils import schema_context

from onboarding.models import ConsoleMember, ConsoleRole
from tests.accounts import signed_in_staff
from tests.conftest import BASE_DOMAIN, host_of
from tests.factories import UserFactory
from tests.security.conftest import World, session_of

pytestmark = pytest.mark.django_db

ANONYMOUS, CITIZEN = "anonymous", "citizen"
AGENT, DEPARTMENT, SUPERVISOR, ADMINISTRATOR = "agent", "department", "supervisor", "administrator"
OPERATOR, SPECIALIST = "operator", "specialist"
ROLES = (ANONYMOUS, CITIZEN, AGENT, DEPARTMENT, SUPERVISOR, ADMINISTRATOR, OPERATOR, SPECIALIST)

EVERYONE = frozenset(ROLES)
TOWN_STAFF = frozenset({AGENT, DEPARTMENT, SUPERVISOR, ADMINISTRATOR})
TOWN_PEOPLE = TOWN_STAFF | {CITIZEN}
READS_CITIZENS = frozenset({AGENT, SUPERVISOR, ADMINISTRATOR})
TOWN_WIDE = frozenset({AGENT, ADMINISTRATOR})
CONSOLE = frozenset({OPERATOR, SPECIALIST})
ONLY = frozenset


@dataclass(frozen=True)
class Action:
    label: str
    host: str  # "town" (Laval) or "platform" (the base domain)
    method: str
    path: str  # with {roads}, {parks} (request numbers) and {citizen} (an id) of Laval
    allowed: frozenset[str]
    body: dict[str, Any] | None = None


# fmt: off
MATRIX: list[Action] = [
    # The town's pages.
    Action("page d'accueil", "town", "GET", "/", EVERYONE),
    Action("administration : accueil", "town", "GET", "/admin/", TOWN_STAFF),
    Action("administration : citoyens", "town", "GET", "/admin/crm/citizen/", ONLY({ADMINISTRATOR})),
    Action("administration : requêtes", "town", "GET", "/admin/crm/servicerequest/", ONLY({ADMINISTRATOR})),
    Action("administration : registre des incidents", "town", "GET", "/admin/crm/privacyincident/", ONLY({ADMINISTRATOR})),
    Action("administration : clés d'API", "town", "GET", "/admin/crm/apikey/", ONLY({ADMINISTRATOR})),
    Action("administration : comptes", "town", "GET", "/admin/accounts/user/", ONLY({ADMINISTRATOR})),
    Action("administration : exporter un citoyen", "town", "GET", "/admin/crm/citizen/{citizen}/exporter/", ONLY({ADMINISTRATOR})),
    # REST API: catalog and information bank (public).
    Action("API : catalogue", "town", "GET", "/api/v1/services/", EVERYONE),
    Action("API : banque d'information", "town", "GET", "/api/v1/faq/?q=sonde", EVERYONE),
    # REST API: requests.
    Action("API : liste des requêtes", "town", "GET", "/api/v1/requests/", TOWN_PEOPLE),
    Action("API : sa requête (travaux)", "town", "GET", "/api/v1/requests/{roads}/", TOWN_PEOPLE),
    Action("API : la requête d'un autre (parcs)", "town", "GET", "/api/v1/requests/{parks}/", TOWN_WIDE),
    Action("API : créer une requête", "town", "POST", "/api/v1/requests/", TOWN_PEOPLE,
           {"service_code": "nid-sonde", "description": "Trou", "address": "3, rue A"}),
    Action("API : statut (travaux)", "town", "POST", "/api/v1/requests/{roads}/status/", TOWN_STAFF,
           {"status": "in_progress"}),
    Action("API : statut (parcs)", "town", "POST", "/api/v1/requests/{parks}/status/", TOWN_WIDE,
           {"status": "in_progress"}),
    Action("API : assigner (travaux)", "town", "POST", "/api/v1/requests/{roads}/assignment/",
           ONLY({AGENT, SUPERVISOR, ADMINISTRATOR}), {"department": "travaux-sonde"}),
    Action("API : note interne", "town", "POST", "/api/v1/requests/{roads}/notes/", TOWN_STAFF,
           {"message": "Vu."}),
    Action("API : réponse publique", "town", "POST", "/api/v1/requests/{roads}/replies/", TOWN_STAFF,
           {"message": "Merci."}),
    # REST API: citizens and interactions (personal data, with a purpose).
    Action("API : chercher des citoyens", "town", "GET", "/api/v1/citizens/?q=roy&purpose=Appel", READS_CITIZENS),
    Action("API : fiche d'un citoyen", "town", "GET", "/api/v1/citizens/{citizen}/?purpose=Appel", READS_CITIZENS),
    Action("API : créer un citoyen", "town", "POST", "/api/v1/citizens/", READS_CITIZENS,
           {"email": "nouvelle@exemple.qc.ca"}),
    Action("API : interactions", "town", "GET", "/api/v1/interactions/?purpose=Qualité", READS_CITIZENS),
    Action("API : consigner une interaction", "town", "POST", "/api/v1/interactions/", READS_CITIZENS,
           {"channel": "phone", "summary": "Appel", "duration_seconds": 30}),
    # REST API: the signed-in citizen.
    Action("API : mes requêtes", "town", "GET", "/api/v1/me/requests/", ONLY({CITIZEN})),
    Action("API : mes préférences", "town", "PATCH", "/api/v1/me/preferences/", ONLY({CITIZEN}),
           {"notify_by_sms": True}),
    # The platform.
    Action("console : accueil", "platform", "GET", "/console/", CONSOLE),
    Action("console : projets", "platform", "GET", "/console/projets/", CONSOLE),
    Action("console : une municipalité", "platform", "GET", "/console/municipalites/laval/", CONSOLE),
    Action("console : membres", "platform", "GET", "/console/membres/", ONLY({OPERATOR})),
    Action("console : inviter un membre", "platform", "POST", "/console/membres/", ONLY({OPERATOR}),
           {"email": "nouveau@relais.quebec", "role": "specialist"}),
    Action("console : journal", "platform", "GET", "/console/journal/", ONLY({OPERATOR})),
    Action("administration de la plateforme", "platform", "GET", "/admin/", ONLY({OPERATOR})),
    Action("administration : municipalités", "platform", "GET", "/admin/tenants/municipality/", ONLY({OPERATOR})),
]
# fmt: on

SIGN_IN_PAGES = ("/comptes/login/", "/admin/login/", "/comptes/2fa/", "/comptes/reauthenticate/")


def test_the_table_names_known_roles_only():
    for action in MATRIX:
        assert action.allowed <= EVERYONE, action.label
    assert len({action.label for action in MATRIX}) == len(MATRIX)


def _platform_member(role: str) -> Client:
    with schema_context("public"):
        user = UserFactory(
            email=f"{role}-sonde@relais.quebec",
            is_staff=role == OPERATOR,
            is_superuser=role == OPERATOR,
        )
        ConsoleMember.objects.create(
            user=user, role=ConsoleRole.OPERATOR if role == OPERATOR else ConsoleRole.SPECIALIST
        )
    return signed_in_staff(BASE_DOMAIN, "public", user)


def _clients(role: str, laval, world: World) -> dict[str, Client]:
    """The role's browser on each host. A browser keeps each host's cookies apart; the other
    host gets a replay of the home host's cookies, as an attacker would send them."""
    if role == ANONYMOUS:
        return {"town": Client(HTTP_HOST=host_of(laval)), "platform": Client(HTTP_HOST=BASE_DOMAIN)}
    platform = role in (OPERATOR, SPECIALIST)
    home = _platform_member(role) if platform else session_of(laval, world.users[role])
    other = Client(HTTP_HOST=host_of(laval) if platform else BASE_DOMAIN)
    for name, morsel in home.cookies.items():
        other.cookies[name] = morsel.value
    return {"platform": home, "town": other} if platform else {"town": home, "platform": other}


def _outcome(response) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return "allowed"
    if status in (301, 302, 303, 307, 308):
        return "refused" if response["Location"].startswith(SIGN_IN_PAGES) else "allowed"
    if status in (401, 403, 404):
        return "refused"
    return f"unexpected {status}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_what_the_table_says_and_nothing_else(role, laval, laval_world):
    clients = _clients(role, laval, laval_world)
    values = {
        "roads": laval_world.roads_request.number,
        "parks": laval_world.parks_request.number,
        "citizen": laval_world.ids["citizen"],
    }
    wrong: list[str] = []
    for action in MATRIX:
        path = action.path.format(**values)
        with transaction.atomic():
            send = getattr(clients[action.host], action.method.lower())
            if action.body is None:
                response = send(path)
            elif action.path.startswith("/api/"):
                response = send(path, action.body, content_type="application/json")
            else:
                response = send(path, action.body)
            transaction.set_rollback(True)
        expected = "allowed" if role in action.allowed else "refused"
        got = _outcome(response)
        if got != expected:
            wrong.append(f"{action.label} ({action.method} {path}): {expected}, got {got}")

    assert not wrong, f"{role}:\n" + "\n".join(wrong)
