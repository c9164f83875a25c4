from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from crm.models import AccessLog, FaqArticle
from crm.services import citizen_create
from tests.accounts import signed_in_staff
from tests.conftest import BASE_DOMAIN
from tests.crm.admin_helpers import admin_url, state_purpose
from tests.factories import (
    DepartmentFactory,
    FaqArticleFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CRM_PAGES = [
    "department",
    "sector",
    "servicecategory",
    "servicetype",
    "routingrule",
    "faqarticle",
    "citizen",
    "citizenmerge",
    "accesslog",
    "servicerequest",
    "interaction",
    "businesscalendar",
    "crmsettings",
    "privacyincident",
]


@pytest.mark.parametrize("model", CRM_PAGES)
def test_every_crm_page_opens_in_french(town_admin, laval, model):
    with schema_context(laval.schema_name):
        ServiceRequestFactory(channel="phone", address="1, rue A")

    response = town_admin.get(admin_url(f"{model}_changelist"))

    assert response.status_code == 200
    assert '<html lang="fr"' in response.text


def test_the_platform_admin_shows_no_crm():
    with schema_context("public"):
        operator = UserFactory(email="op@relais.qc.ca", is_staff=True, is_superuser=True)
    platform_client = signed_in_staff(BASE_DOMAIN, "public", operator)

    index = platform_client.get("/admin/")

    assert index.status_code == 200
    assert "/admin/crm/" not in index.text
    assert platform_client.get("/admin/crm/citizen/").status_code == 403


def test_listing_and_searching_citizens_is_logged_once_per_page(town_admin, laval):
    with schema_context(laval.schema_name):
        citizen_create(actor=None, email="camille@exemple.qc.ca", last_name="Roy")

    state_purpose(town_admin, "citizens", admin_url("citizen_changelist"), reason="duplicates")

    response = town_admin.get(admin_url("citizen_changelist"), {"q": "Roy"})

    assert response.status_code == 200
    with schema_context(laval.schema_name):
        entry = AccessLog.objects.get()
        assert (entry.citizen, entry.details, entry.purpose) == (
            None,
            "1 fiche(s), recherche « Roy »",
            "Recherche et fusion de doublons",
        )


def test_citizen_pages_open_and_save_through_the_services(town_admin, laval):
    add = town_admin.get(admin_url("citizen_add"))
    saved = town_admin.post(
        admin_url("citizen_add"),
        {
            "first_name": "Zoé",
            "last_name": "Roy",
            "email": "ZOE@Exemple.QC.ca",
            "phone": "(450) 555-1234",
            "address": "",
            "preferred_language": "fr",
            "notify_by_email": "on",
            "consents-TOTAL_FORMS": "0",
            "consents-INITIAL_FORMS": "0",
        },
    )
    refused = town_admin.post(
        admin_url("citizen_add"),
        {
            "first_name": "X",
            "last_name": "",
            "email": "",
            "phone": "123",
            "address": "",
            "preferred_language": "fr",
            "consents-TOTAL_FORMS": "0",
            "consents-INITIAL_FORMS": "0",
        },
    )

    assert add.status_code == 200
    assert saved.status_code == 302
    assert refused.status_code == 200
    assert "doit compter 10 chiffres" in refused.text
    with schema_context(laval.schema_name):
        from crm.models import Citizen

        citizen = Citizen.objects.get()
        assert (citizen.email, citizen.phone) == ("zoe@exemple.qc.ca", "4505551234")


def test_a_refused_citizen_page_is_not_logged(laval, staff_client):
    with schema_context(laval.schema_name):
        citizen = citizen_create(actor=None, email="camille@exemple.qc.ca")
    client = staff_client(laval, None, email="agent@laval.qc.ca")  # without permissions

    response = client.get(admin_url("citizen_change", citizen.pk))

    assert response.status_code == 403
    with schema_context(laval.schema_name):
        assert AccessLog.objects.count() == 0


def test_opening_a_citizen_record_is_logged(town_admin, laval):
    with schema_context(laval.schema_name):
        citizen = citizen_create(actor=None, email="camille@exemple.qc.ca")

    state_purpose(town_admin, f"citizen:{citizen.pk}", admin_url("citizen_change", citizen.pk))

    response = town_admin.get(admin_url("citizen_change", citizen.pk))

    assert response.status_code == 200
    with schema_context(laval.schema_name):
        entry = AccessLog.objects.get()
        assert (entry.citizen, entry.actor.email, entry.action, entry.context) == (
            citizen,
            "admin@laval.qc.ca",
            "view",
            "admin",
        )


def test_editing_an_article_in_the_admin_makes_a_version(town_admin, laval):
    with schema_context(laval.schema_name):
        department = DepartmentFactory(code="greffe")
        article = FaqArticleFactory(
            question_fr="Q", answer_fr="R", status="draft", owner_department=department
        )
    form = {
        "question_fr": "Comment obtenir un permis?",
        "answer_fr": "En ligne.",
        "question_en": "",
        "answer_en": "",
        "audience": "public",
        "status": "draft",
        "owner_department": department.pk,
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }

    saved = town_admin.post(admin_url("faqarticle_change", article.pk), form)
    refused = town_admin.post(
        admin_url("faqarticle_change", article.pk), form | {"status": "published"}
    )

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert "Un article publié doit avoir sa question et sa réponse en anglais." in refused.text
    with schema_context(laval.schema_name):
        article = FaqArticle.objects.get(pk=article.pk)
        assert (article.version, article.question_fr, article.status) == (
            2,
            "Comment obtenir un permis?",
            "draft",
        )
        assert article.versions.first().edited_by.email == "admin@laval.qc.ca"


def test_the_admins_request_list_is_the_role_scoped_list_of_every_interface(
    laval, levis, staff_client
):
    with schema_context(laval.schema_name):
        roads, parks = DepartmentFactory(code="voirie-admin"), DepartmentFactory(code="parcs-admin")
        in_roads = ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads, code="trou-admin")
        )
        in_parks = ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=parks, code="banc-admin")
        )
    roads_staff = staff_client(
        laval, "department", department=roads, permissions=("view_servicerequest",)
    )

    listed = roads_staff.get(admin_url("servicerequest_changelist"))
    other = roads_staff.get(admin_url("servicerequest_change", in_parks.pk))

    assert listed.status_code == 200
    assert [r.number for r in listed.context["cl"].result_list] == [in_roads.number]
    assert other.status_code == 302  # the admin's answer to an object it cannot find
    levis_admin = staff_client(levis, "administrator", permissions=("view_servicerequest",))
    assert (
        list(levis_admin.get(admin_url("servicerequest_changelist")).context["cl"].result_list)
        == []
    )
