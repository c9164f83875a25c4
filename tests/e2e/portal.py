"""What the portal's browser tests share: Laval's answers and pothole requests (`portal_town`),
a citizen account (`citizen_account`), a photo, and the screenshots for docs/portal.md. The
fixtures are registered in tests/e2e/conftest.py."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context
from PIL import Image

from crm.models import AccessLog, Citizen, CitizenChange, Consent, ServiceCategory
from crm.services import citizen_for_account, request_add_note
from tenants.accounts.models import User
from tests.e2e.desk import CITIZEN_DOMAIN, TOWN, remove_e2e_catalog
from tests.e2e.test_accessibility import committed
from tests.factories import (
    TEST_PASSWORD,
    DepartmentFactory,
    FaqArticleFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "portal"


def document(page: Any, name: str) -> None:
    if os.environ.get("RELAIS_DOC_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


@pytest.fixture
def portal_town() -> Iterator[dict[str, Any]]:
    """Laval's answers about garbage collection and a pothole request with a public reply,
    committed for the live server; removed afterwards."""
    state: dict[str, Any] = {}

    def create() -> None:
        with schema_context(TOWN):
            department = DepartmentFactory(
                code="e2e-collectes", name_fr="Collectes", name_en="Pickups"
            )
            category = ServiceCategory.objects.create(
                code="e2e-collectes", name_fr="Collectes et déchets", name_en="Waste pickups"
            )
            bins = FaqArticleFactory(
                question_fr="Quand passe la collecte des ordures ménagères?",
                answer_fr="La collecte des ordures a lieu chaque mardi.\nSortez le bac la veille.",
                question_en="When is household garbage collected?",
                answer_en="Garbage is collected every Tuesday.\nPut the bin out the night before.",
                category=category,
                owner_department=department,
            )
            FaqArticleFactory(
                question_fr="Que mettre dans le bac de recyclage?",
                answer_fr="Papier, carton, plastique et verre : la collecte du recyclage.",
                question_en="What goes in the recycling bin?",
                answer_en="Paper, cardboard, plastic and glass.",
                category=category,
                owner_department=department,
            )
            potholes = ServiceTypeFactory(
                code="e2e-nid-de-poule",
                name_fr="Nid-de-poule",
                name_en="Pothole",
                department=department,
                category=category,
            )
            request = ServiceRequestFactory(
                service_type=potholes,
                description="Un gros nid-de-poule devant le 12.",
                address="12, boulevard des Laurentides",
            )
            request_add_note(
                actor=None,
                service_request=request,
                message="Une équipe passera d'ici vendredi.",
                public=True,
            )
            resolved = ServiceRequestFactory(
                service_type=potholes,
                description="Un lampadaire éteint.",
                address="3, rue du Parc",
                status="resolved",
            )
            # An open pothole at the map's centre: the one offered to follow when a neighbour
            # places theirs there.
            latitude, longitude = settings.LEAFLET_CONFIG["DEFAULT_CENTER"]
            centred = ServiceRequestFactory(
                service_type=potholes,
                description="Un nid-de-poule au centre.",
                address="1, place du Souvenir",
                latitude=f"{latitude:.6f}",
                longitude=f"{longitude:.6f}",
            )
            state.update(
                centred=centred.number,
                bins=bins.pk,
                number=request.number,
                token=request.tracking_token,
                resolved=_link_of(resolved),
            )

    committed(create)
    try:
        yield state
    finally:
        committed(remove_e2e_catalog)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 90)).save(out, format="PNG")
    return out.getvalue()


def _link_of(service_request: Any) -> str:
    return f"/suivi/{service_request.number}/?jeton={service_request.tracking_token}"


@contextmanager
def citizen_account_of(email: str) -> Iterator[str]:
    """A citizen of Laval with a verified e-mail and a password, committed; removed after."""

    def create() -> None:
        with schema_context(TOWN):
            user = User.objects.create_user(email=email, password=TEST_PASSWORD)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            citizen_for_account(user=user)

    def remove() -> None:
        with schema_context(TOWN), transaction.atomic():
            user = User.objects.filter(email=email).first()
            if user is None:
                return
            with connection.cursor() as cursor:  # the access log is append-only
                cursor.execute("SET LOCAL session_replication_role = replica")
            AccessLog.objects.filter(citizen__account=user).delete()
            Consent.objects.filter(citizen__account=user).delete()
            CitizenChange.objects.filter(citizen__account=user).delete()
            Citizen.objects.filter(account=user).delete()
            EmailAddress.objects.filter(user=user).delete()
            user.delete()

    committed(remove)  # what an interrupted run left
    committed(create)
    try:
        yield email
    finally:
        committed(remove)


@pytest.fixture
def citizen_account() -> Iterator[str]:
    with citizen_account_of(f"camille@{CITIZEN_DOMAIN}") as email:
        yield email
