from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.services import citizen_create, faq_article_create, request_create
from onboarding.models import OnboardingProject
from onboarding.services import project_start
from tenants.models import Municipality
from tests.factories import (
    DepartmentFactory,
    ServiceAttributeFactory,
    ServiceCategoryFactory,
    ServiceTypeFactory,
)
from tests.onboarding.console_helpers import console_client


@pytest.fixture
def operator() -> Client:
    """A platform operator signed in to the console with their second factor."""
    return console_client()


@pytest.fixture
def draft_project(laval: Municipality, operator: Client) -> OnboardingProject:
    """An onboarding project of Laval's at its first step, started by `operator`."""
    return project_start(
        host=laval,
        name="Ville de Terrebonne",
        slug="terrebonne",
        domain="terrebonne.localhost",
        actor=operator.user,  # type: ignore[attr-defined]
    )


@pytest.fixture
def exports_in_tmp(settings, tmp_path: Path) -> Path:
    """Exports, and the uploads waiting to be imported beside them, in a temporary folder."""
    settings.RELAIS_EXPORT_DIR = tmp_path / "exports"
    return tmp_path


@pytest.fixture
def host_catalog(laval):
    """A small catalog in Laval, with a citizen and a request that must never travel."""
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="travaux-publics", name_fr="Travaux publics")
        water = DepartmentFactory(code="eau", name_fr="Gestion de l'eau")
        desk = DepartmentFactory(code="centre-311", name_fr="Centre 311")
        streets = ServiceCategoryFactory(code="voirie")
        pothole = ServiceTypeFactory(code="nid-de-poule", department=roads, category=streets)
        ServiceAttributeFactory(
            service_type=pothole,
            code="taille",
            datatype="singlevaluelist",
            required=True,
            choices=["petit", "grand"],
        )
        leak = ServiceTypeFactory(code="fuite-eau", department=water, category=streets)
        ServiceTypeFactory(
            code="renseignement", department=desk, category=streets, kind="information"
        )
        article = faq_article_create(
            actor=None,
            question_fr="Quand répare-t-on les nids-de-poule?",
            answer_fr="En 5 jours.",
            question_en="When are potholes fixed?",
            answer_en="Within 5 days.",
            status="published",
            owner_department=roads,
            service_types=[pothole],
        )
        citizen = citizen_create(actor=None, email="secret@exemple.qc.ca")
        request_create(
            actor=None, service_type=leak, channel="phone", citizen=citizen, address="1, rue A"
        )
        return {"pothole": pothole, "leak": leak, "article": article}
