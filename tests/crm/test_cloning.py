"""Copying the host's catalog again: what the partner deleted or removed stays so."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from crm.cloning import catalog_copy_from
from crm.models import FaqArticle, ServiceAttribute, ServiceType
from crm.search import faq_search
from tests.factories import (
    DepartmentFactory,
    FaqArticleFactory,
    ServiceAttributeFactory,
    ServiceCategoryFactory,
    ServiceTypeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def host(laval):
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="travaux-publics")
        streets = ServiceCategoryFactory(code="voirie")
        pothole = ServiceTypeFactory(code="nid-de-poule", department=roads, category=streets)
        ServiceAttributeFactory(service_type=pothole, code="taille", choices=["petit", "grand"])
        ServiceTypeFactory(code="lampadaire", department=roads, category=streets)
        article = FaqArticleFactory(
            question_fr="Quand répare-t-on les nids-de-poule?",
            answer_fr="En cinq jours ouvrables.",
            question_en="When are potholes fixed?",
            answer_en="Within five working days.",
            status="published",
            owner_department=roads,
            service_types=[pothole],
        )
    return {"roads": roads, "streets": streets, "pothole": pothole, "article": article}


def _deleted_copies():
    with connection.cursor() as cursor:
        cursor.execute('SELECT source_uuid, "table" FROM crm_deletedcopy')
        return set(cursor.fetchall())


def _host_uuid(laval, code):
    with schema_context(laval.schema_name):
        return ServiceType.objects.get(code=code).uuid


def test_a_recopy_does_not_restore_what_the_partner_deleted(laval, levis, host):
    lamp_uuid = _host_uuid(laval, "lampadaire")
    with schema_context(levis.schema_name):
        catalog_copy_from(source_schema=laval.schema_name)
        FaqArticle.objects.get(source_uuid=host["article"].uuid).delete()
        ServiceType.objects.get(code="lampadaire").delete()
        ServiceAttribute.objects.get(code="taille").delete()
        # Copies deleted are remembered (questions have no provenance of their own).
        assert _deleted_copies() == {
            (host["article"].uuid, "crm_faqarticle"),
            (lamp_uuid, "crm_servicetype"),
        }

        again = catalog_copy_from(source_schema=laval.schema_name)

        assert again.total == 0
        assert not FaqArticle.objects.exists()
        assert list(ServiceType.objects.values_list("code", flat=True)) == ["nid-de-poule"]
        assert not ServiceAttribute.objects.exists()


def test_a_recopy_can_restore_deleted_copies_when_asked(laval, levis, host):
    with schema_context(levis.schema_name):
        catalog_copy_from(source_schema=laval.schema_name)
        FaqArticle.objects.get(source_uuid=host["article"].uuid).delete()

        again = catalog_copy_from(source_schema=laval.schema_name, restore_deleted=True)

        assert (again.counts["faq_articles"], again.counts["faq_links"]) == (1, 1)
        article = FaqArticle.objects.get(source_uuid=host["article"].uuid)
        assert list(article.service_types.values_list("code", flat=True)) == ["nid-de-poule"]
        assert article.versions.count() == 1
        assert article.source_fingerprint is not None
        assert [hit.article for hit in faq_search(query="nids-de-poule")] == [article]
        assert _deleted_copies() == set()  # restored: no longer remembered as deleted


def test_a_recopy_brings_new_host_items_with_their_questions_and_links(laval, levis, host):
    with schema_context(levis.schema_name):
        catalog_copy_from(source_schema=laval.schema_name, service_type_codes=["lampadaire"])
    with schema_context(laval.schema_name):
        ServiceTypeFactory(code="graffiti", department=host["roads"], category=host["streets"])

    with schema_context(levis.schema_name):
        again = catalog_copy_from(source_schema=laval.schema_name)

        assert again.counts["service_types"] == 2
        assert sorted(ServiceType.objects.values_list("code", flat=True)) == [
            "graffiti",
            "lampadaire",
            "nid-de-poule",
        ]
        pothole = ServiceType.objects.get(code="nid-de-poule")
        assert [a.code for a in pothole.attributes.all()] == ["taille"]
        assert [v.key for v in pothole.attributes.get().values.all()] == ["petit", "grand"]
        assert list(FaqArticle.objects.get().service_types.all()) == [pothole]


def test_an_unlinked_article_and_a_removed_choice_stay_removed(laval, levis, host):
    with schema_context(levis.schema_name):
        catalog_copy_from(source_schema=laval.schema_name)
        article = FaqArticle.objects.get()
        article.service_types.clear()
        ServiceAttribute.objects.get(code="taille").values.get(key="grand").delete()

        again = catalog_copy_from(source_schema=laval.schema_name)

        assert again.total == 0
        assert not article.service_types.exists()
        assert list(ServiceAttribute.objects.get().values.values_list("key", flat=True)) == [
            "petit"
        ]
        assert _deleted_copies() == set()  # rows without provenance are not remembered
