"""The wizard's table (onboarding/wizard.py): French URLs kept as they were, English keys in
code and in the stored progress, each step accepting its own fields only, and the migration
of the keys stored before."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.core import signing
from django.test import Client
from django.urls import reverse

from onboarding import wizard
from onboarding.errors import OnboardingError, OnboardingErrorCode
from onboarding.models import OnboardingProject
from onboarding.services import project_step_save

pytestmark = pytest.mark.django_db

KEYS_MIGRATION = import_module("onboarding.migrations.0004_wizard_english_keys")


def test_every_step_keeps_its_url_and_has_an_english_key(settings):
    urls = [
        reverse("console:project_step", args=[7, step.slug], urlconf=settings.PUBLIC_SCHEMA_URLCONF)
        for step in wizard.STEPS
    ]

    assert list(zip([step.key for step in wizard.STEPS], urls, strict=True)) == [
        ("identity", "/console/projets/7/etapes/identite/"),
        ("profile", "/console/projets/7/etapes/profil/"),
        ("plan", "/console/projets/7/etapes/forfait/"),
        ("catalog", "/console/projets/7/etapes/catalogue/"),
        ("staff", "/console/projets/7/etapes/personnel/"),
        ("branding", "/console/projets/7/etapes/image/"),
        ("review", "/console/projets/7/etapes/revue/"),
    ]


def test_a_started_project_has_done_the_identity_step(draft_project: OnboardingProject):
    assert draft_project.completed_steps == ["identity"]


def test_a_step_refuses_the_fields_of_another_and_saves_nothing(
    draft_project: OnboardingProject, operator: Client
):
    with pytest.raises(OnboardingError) as refused:
        project_step_save(
            project=draft_project,
            step="profile",
            values={"population": 5000, "region": "14", "plan": "standard"},
            actor=operator.user,  # type: ignore[attr-defined]
        )

    assert refused.value.code == OnboardingErrorCode.UNKNOWN_FIELD
    draft_project.refresh_from_db()
    assert (draft_project.population, draft_project.plan, draft_project.completed_steps) == (
        None,
        "",
        ["identity"],
    )


def test_the_french_slug_is_not_a_step_key(draft_project: OnboardingProject, operator: Client):
    with pytest.raises(OnboardingError) as refused:
        project_step_save(
            project=draft_project,
            step="profil",
            values={"population": 5000, "region": "14"},
            actor=operator.user,  # type: ignore[attr-defined]
        )

    assert refused.value.code == OnboardingErrorCode.UNKNOWN_STEP


def test_a_staff_preview_signed_before_the_english_keys_is_refused_as_expired(
    draft_project: OnboardingProject, operator: Client
):
    old_rows = [
        {"courriel": "a@b.ca", "prenom": "", "nom": "", "role": "personnel", "langue": "fr"}
    ]
    signed = signing.dumps(old_rows, salt="relais.console.staff-preview")

    response = operator.post(
        f"/console/projets/{draft_project.pk}/etapes/personnel/",
        {"administrator_email": "dg@terrebonne.qc.ca", "staff_rows": signed},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["staff_rows"]
    draft_project.refresh_from_db()
    assert (draft_project.staff, draft_project.completed_steps) == ([], ["identity"])


def test_the_migration_renames_the_stored_keys_and_back(laval):
    french_staff = [
        {"courriel": "a@b.ca", "prenom": "Ana", "nom": "Roy", "role": "personnel", "langue": "en"}
    ]
    project = OnboardingProject.objects.create(
        host=laval,
        name="Ville d'Essai",
        slug="essai",
        domain="essai.localhost",
        region="13",
        completed_steps=["identite", "profil", "personnel"],
        staff=french_staff,
    )

    KEYS_MIGRATION.to_english(apps, None)
    project.refresh_from_db()
    english = (project.completed_steps, project.staff)
    KEYS_MIGRATION.to_french(apps, None)
    project.refresh_from_db()

    assert english == (
        ["identity", "profile", "staff"],
        [
            {
                "email": "a@b.ca",
                "first_name": "Ana",
                "last_name": "Roy",
                "role": "personnel",
                "language": "en",
            }
        ],
    )
    assert (project.completed_steps, project.staff) == (
        ["identite", "profil", "personnel"],
        french_staff,
    )
