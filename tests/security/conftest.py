"""Laval's world for the security proofs: data of every kind, and the people who use it.

Every text Laval holds carries MARK, which must never be seen outside Laval. Identifiers
(codes, numbers, ids, tokens) carry no mark: they are what an attacker tries on another host,
and a refusal may repeat them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import ServiceRequest
from crm.services import (
    citizen_create,
    interaction_record,
    request_add_note,
)
from tenants.accounts.models import User
from tests.accounts import signed_in_staff
from tests.conftest import host_of
from tests.factories import (
    TEST_PASSWORD,
    ApiKeyFactory,
    DepartmentFactory,
    FaqArticleFactory,
    PrivacyIncidentFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    StaffProfileFactory,
    UserFactory,
)

MARK = "Sonde7Q"


@dataclass
class World:
    """Laval's objects and credentials, by what they are."""

    roads_request: ServiceRequest
    parks_request: ServiceRequest
    ids: dict[str, str] = field(default_factory=dict)
    api_key: str = ""
    users: dict[str, User] = field(default_factory=dict)


def _text(what: str) -> str:
    return f"{what} {MARK}"


@pytest.fixture
def laval_world(laval) -> World:
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="travaux-sonde", name_fr=_text("Travaux"))
        parks = DepartmentFactory(code="parcs-sonde", name_fr=_text("Parcs"))
        pothole = ServiceTypeFactory(
            code="nid-sonde", name_fr=_text("Nid-de-poule"), department=roads, is_public=True
        )
        bench = ServiceTypeFactory(
            code="banc-sonde", name_fr=_text("Banc brisé"), department=parks, is_public=True
        )
        FaqArticleFactory(
            question_fr=_text("Quand répare-t-on?"),
            answer_fr=_text("Bientôt"),
            question_en=_text("When is it fixed?"),
            answer_en=_text("Soon"),
            status="published",
            owner_department=roads,
        )
        citizen_account = UserFactory(email="citoyenne-sonde@exemple.qc.ca", first_name=MARK)
        citizen = citizen_create(
            actor=None,
            first_name=_text("Léa"),
            last_name=_text("Roy"),
            email="lea-sonde@exemple.qc.ca",
            phone="4505550101",
        )
        citizen.account = citizen_account
        citizen.save()
        neighbour = citizen_create(
            actor=None, first_name=_text("Paul"), email="paul-sonde@exemple.qc.ca"
        )
        roads_request = ServiceRequestFactory(
            service_type=pothole,
            channel="phone",
            citizen=citizen,
            description=_text("Trou profond"),
            address=_text("1, rue des Sondes"),
        )
        parks_request = ServiceRequestFactory(
            service_type=bench,
            channel="phone",
            citizen=neighbour,
            description=_text("Banc cassé"),
            address=_text("2, rue des Sondes"),
        )
        request_add_note(
            actor=None, service_request=roads_request, message=_text("Note interne"), public=False
        )
        request_add_note(
            actor=None, service_request=roads_request, message=_text("Réponse"), public=True
        )
        users = {
            "administrator": UserFactory(
                email="admin-sonde@exemple.qc.ca", is_staff=True, is_superuser=True
            ),
            "agent": UserFactory(email="agent-sonde@exemple.qc.ca", is_staff=True),
            "department": UserFactory(email="travaux-sonde@exemple.qc.ca", is_staff=True),
            "supervisor": UserFactory(email="superviseur-sonde@exemple.qc.ca", is_staff=True),
            "citizen": citizen_account,
        }
        StaffProfileFactory(user=users["agent"], role="agent")
        StaffProfileFactory(user=users["department"], role="department", department=roads)
        StaffProfileFactory(user=users["supervisor"], role="supervisor", department=roads)
        interaction = interaction_record(
            actor=users["agent"],
            channel="phone",
            summary=_text("Appel"),
            citizen=citizen,
            service_request=roads_request,
            faq_articles=[],
            department=None,
            duration_seconds=60,
            resolved_at_first_contact=False,
        )
        incident = PrivacyIncidentFactory(
            created_by=users["administrator"],
            title=_text("Incident"),
            information_concerned=_text("Noms"),
            circumstances=_text("Courriel mal adressé"),
            occurred_on=timezone.localdate() - timedelta(days=2),
            discovered_on=timezone.localdate() - timedelta(days=1),
            persons_concerned=1,
        )
        api_key = ApiKeyFactory(name=_text("Intégration"), scope="write").secret
    world = World(roads_request=roads_request, parks_request=parks_request, api_key=api_key)
    world.users = users
    world.ids = {
        "citizen": str(citizen.pk),
        "interaction": str(interaction.pk),
        "incident": str(incident.pk),
        "department": str(roads.pk),
        "service_type": str(pothole.pk),
    }
    return world


def app_token(town, email: str) -> str:
    """The mobile app's session token of `email` (an account of `town`)."""
    response = Client(HTTP_HOST=host_of(town)).post(
        "/_allauth/app/v1/auth/login",
        {"email": email, "password": TEST_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def session_of(town, user: User) -> Client:
    """`user` signed in on the town's host: through allauth, with a TOTP code for staff."""
    if user.is_staff:
        return signed_in_staff(host_of(town), town.schema_name, user)
    client = Client(HTTP_HOST=host_of(town))
    response = client.post("/comptes/login/", {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content
    return client
