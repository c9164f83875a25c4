"""Updates from the host town (Laval) to the copies its partner (Lévis) made of its catalog."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django_tenants.utils import schema_context

from crm.cloning import catalog_copy_from
from crm.errors import CrmError
from crm.models import FaqArticle, ServiceAttributeValue, ServiceType
from crm.services import faq_article_update
from crm.upstream import upstream_accept, upstream_change_count, upstream_changes, upstream_ignore
from tenants.models import Municipality, Region
from tenants.services import municipality_create
from tests.factories import (
    DepartmentFactory,
    FaqArticleFactory,
    ServiceAttributeFactory,
    ServiceCategoryFactory,
    ServiceTypeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def copied_catalog(laval, levis):
    """Laval's catalog (two types, one article) copied into Lévis."""
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="travaux-publics", name_fr="Travaux publics")
        streets = ServiceCategoryFactory(code="voirie")
        pothole = ServiceTypeFactory(
            code="nid-de-poule",
            name_fr="Nid-de-poule",
            department=roads,
            category=streets,
            sla_value=5,
            keywords=["trou", "chaussée"],
        )
        ServiceAttributeFactory(
            service_type=pothole,
            code="taille",
            label_fr="Taille du trou",
            datatype="singlevaluelist",
            choices=["petit", "grand"],
        )
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
    with schema_context(levis.schema_name):
        catalog_copy_from(source_schema=laval.schema_name)
    return {"pothole": pothole, "article": article}


def _host_edits_article(laval, article, **fields):
    with schema_context(laval.schema_name):
        return faq_article_update(
            actor=None, article=FaqArticle.objects.get(pk=article.pk), **fields
        )


def _host_edits_pothole(laval):
    with schema_context(laval.schema_name):
        ServiceType.objects.filter(code="nid-de-poule").update(
            name_fr="Nid-de-poule sur la chaussée", sla_value=3
        )
        ServiceAttributeValue.objects.filter(key="grand").update(name_fr="Grand (plus de 30 cm)")


def _by_kind(changes):
    return {change.kind: change for change in changes}


def test_a_copy_with_no_host_edit_lists_nothing(levis, copied_catalog):
    with schema_context(levis.schema_name):
        assert upstream_changes() == []
        assert upstream_change_count() == 0


def test_host_edits_are_listed_with_a_field_by_field_diff(laval, levis, copied_catalog):
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")
    _host_edits_pothole(laval)

    with schema_context(levis.schema_name):
        changes = _by_kind(upstream_changes())
        count = upstream_change_count()

    assert count == 2
    article = changes["faq_article"]
    assert article.title == "Quand répare-t-on les nids-de-poule?"
    assert article.changed_locally is False
    assert [(f.name, f.local_value, f.host_value) for f in article.fields] == [
        ("answer_fr", "En cinq jours ouvrables.", "En trois jours ouvrables.")
    ]
    assert [(f.changed_upstream, f.changed_locally) for f in article.fields] == [(True, False)]
    pothole = changes["service_type"]
    assert pothole.title == "nid-de-poule — Nid-de-poule"
    assert [f.name for f in pothole.fields] == ["name_fr", "sla_value", "attributes"]
    name, sla, attributes = pothole.fields
    assert (name.local_value, name.host_value) == ("Nid-de-poule", "Nid-de-poule sur la chaussée")
    assert (sla.local_value, sla.host_value) == (5, 3)
    assert attributes.local_value[0]["values"][1] == ["grand", "Grand", "grand"]
    assert attributes.host_value[0]["values"][1] == ["grand", "Grand (plus de 30 cm)", "grand"]
    # The other type, copied and untouched at the host, is not listed.
    assert len(changes) == 2


def test_a_host_edit_of_a_field_that_is_not_followed_lists_nothing(laval, levis, copied_catalog):
    with schema_context(laval.schema_name):
        ServiceType.objects.filter(code="nid-de-poule").update(is_public=False)
        faq_article_update(
            actor=None,
            article=FaqArticle.objects.get(pk=copied_catalog["article"].pk),
            review_on=None,
        )

    with schema_context(levis.schema_name):
        assert upstream_changes() == []


def test_accepting_an_article_makes_a_new_version_and_clears_the_item(laval, levis, copied_catalog):
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")

    with schema_context(levis.schema_name):
        (change,) = upstream_changes()
        upstream_accept(actor=None, kind=change.kind, item_id=change.id, token=change.token)

        article = FaqArticle.objects.get(pk=change.id)
        assert (article.version, article.answer_fr) == (2, "En trois jours ouvrables.")
        assert list(article.versions.values_list("version", "answer_fr")) == [
            (2, "En trois jours ouvrables."),
            (1, "En cinq jours ouvrables."),
        ]
        # Untouched fields stay as they were.
        assert article.question_fr == "Quand répare-t-on les nids-de-poule?"
        assert upstream_changes() == []


def test_accepting_a_service_type_applies_names_delay_and_questions(laval, levis, copied_catalog):
    _host_edits_pothole(laval)
    with schema_context(laval.schema_name):
        ServiceAttributeFactory(
            service_type=ServiceType.objects.get(code="nid-de-poule"),
            code="profondeur",
            label_fr="Profondeur",
            order=1,
        )

    with schema_context(levis.schema_name):
        (change,) = upstream_changes()
        upstream_accept(actor=None, kind="service_type", item_id=change.id, token=change.token)

        pothole = ServiceType.objects.get(code="nid-de-poule")
        assert (pothole.name_fr, pothole.sla_value) == ("Nid-de-poule sur la chaussée", 3)
        assert pothole.keywords == ["trou", "chaussée"]
        assert [a.code for a in pothole.attributes.all()] == ["taille", "profondeur"]
        taille = pothole.attributes.get(code="taille")
        assert list(taille.values.values_list("key", "name_fr")) == [
            ("petit", "Petit"),
            ("grand", "Grand (plus de 30 cm)"),
        ]
        assert upstream_changes() == []


def test_ignoring_hides_the_item_until_the_host_changes_it_again(laval, levis, copied_catalog):
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")

    with schema_context(levis.schema_name):
        (change,) = upstream_changes()
        upstream_ignore(actor=None, kind=change.kind, item_id=change.id, token=change.token)
        assert upstream_changes() == []
        article = FaqArticle.objects.get(pk=change.id)
        assert (article.version, article.answer_fr) == (1, "En cinq jours ouvrables.")

    _host_edits_article(laval, copied_catalog["article"], question_en="When is a pothole fixed?")

    with schema_context(levis.schema_name):
        (again,) = upstream_changes()
        # The new change, and the one ignored before (still different), both shown.
        assert [f.name for f in again.fields] == ["question_en", "answer_fr"]


def test_a_local_edit_is_shown_beside_the_host_edit_and_kept(laval, levis, copied_catalog):
    with schema_context(levis.schema_name):
        local = FaqArticle.objects.get(source_uuid=copied_catalog["article"].uuid)
        faq_article_update(actor=None, article=local, question_fr="Nids-de-poule : délai?")
        # A local edit alone is not an update from the host.
        assert upstream_changes() == []
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")

    with schema_context(levis.schema_name):
        (change,) = upstream_changes()
        assert change.changed_locally is True
        assert [
            (f.name, f.local_value, f.host_value, f.changed_upstream, f.changed_locally)
            for f in change.fields
        ] == [
            (
                "question_fr",
                "Nids-de-poule : délai?",
                "Quand répare-t-on les nids-de-poule?",
                False,
                True,
            ),
            ("answer_fr", "En cinq jours ouvrables.", "En trois jours ouvrables.", True, False),
        ]
        assert change.conflicts == ()

        upstream_accept(actor=None, kind=change.kind, item_id=change.id, token=change.token)

        article = FaqArticle.objects.get(pk=local.pk)
        assert (article.question_fr, article.answer_fr, article.version) == (
            "Nids-de-poule : délai?",
            "En trois jours ouvrables.",
            3,
        )
        assert upstream_changes() == []


def test_a_field_edited_on_both_sides_shows_both_and_keeps_the_local_text_in_history(
    laval, levis, copied_catalog
):
    with schema_context(levis.schema_name):
        local = FaqArticle.objects.get(source_uuid=copied_catalog["article"].uuid)
        faq_article_update(actor=None, article=local, answer_fr="Sous 5 jours à Lévis.")
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")

    with schema_context(levis.schema_name):
        (change,) = upstream_changes()
        (conflict,) = change.conflicts
        assert (conflict.local_value, conflict.host_value) == (
            "Sous 5 jours à Lévis.",
            "En trois jours ouvrables.",
        )
        upstream_accept(actor=None, kind=change.kind, item_id=change.id, token=change.token)
        article = FaqArticle.objects.get(pk=local.pk)
        assert article.answer_fr == "En trois jours ouvrables."
        assert "Sous 5 jours à Lévis." in article.versions.values_list("answer_fr", flat=True)


def test_a_decision_on_a_version_the_host_changed_since_is_refused(laval, levis, copied_catalog):
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")
    with schema_context(levis.schema_name):
        (shown,) = upstream_changes()
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En deux jours ouvrables.")

    with schema_context(levis.schema_name):
        with pytest.raises(CrmError) as error:
            upstream_accept(actor=None, kind=shown.kind, item_id=shown.id, token=shown.token)
        assert error.value.code == "changed_again"
        article = FaqArticle.objects.get(pk=shown.id)
        assert (article.version, article.answer_fr) == (1, "En cinq jours ouvrables.")
        with pytest.raises(CrmError) as error:
            upstream_ignore(actor=None, kind="faq_article", item_id=shown.id, token="0" * 32)
        assert error.value.code == "changed_again"
        assert FaqArticle.objects.get(pk=shown.id).source_seen is None


def test_the_host_and_another_partner_see_nothing_of_levis_updates(laval, levis, copied_catalog):
    terrebonne = municipality_create(
        name="Ville de Terrebonne",
        slug="terrebonne",
        domain="terrebonne.localhost",
        kind=Municipality.Kind.PARTNER,
        host=laval,
        region=Region.LANAUDIERE,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@terrebonne.localhost",
    )
    with schema_context(terrebonne.schema_name):
        catalog_copy_from(source_schema=laval.schema_name, service_type_codes=["lampadaire"])
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")
    _host_edits_pothole(laval)

    with schema_context(levis.schema_name):
        for change in upstream_changes():
            upstream_ignore(actor=None, kind=change.kind, item_id=change.id, token=change.token)
    with schema_context(laval.schema_name):
        assert upstream_changes() == []
        assert upstream_change_count() == 0
    # Terrebonne copied neither the pothole nor its article: Laval's edits are nothing to it.
    with schema_context(terrebonne.schema_name):
        assert upstream_changes() == []
        catalog_copy_from(source_schema=laval.schema_name)
        _host_edits_article(laval, copied_catalog["article"], answer_fr="En deux jours.")
    # Its own copy has its own state: Lévis's decisions are not Terrebonne's.
    with schema_context(terrebonne.schema_name):
        assert [c.kind for c in upstream_changes()] == ["faq_article"]
    with schema_context(levis.schema_name):
        assert [c.kind for c in upstream_changes()] == ["faq_article"]


# --- Admin -----------------------------------------------------------------------------------
URL = reverse("admin:crm_upstreamupdate_changelist", urlconf="shared_config.urls_tenants")


def test_the_admin_page_shows_the_diff_and_its_decisions(
    staff_client, laval, levis, copied_catalog
):
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")
    _host_edits_pothole(laval)
    client = staff_client(levis, "superuser", email="admin@levis.qc.ca")

    index = client.get("/admin/")
    page = client.get(URL)
    changelist = client.get(
        reverse("admin:crm_faqarticle_changelist", urlconf="shared_config.urls_tenants")
    )

    assert "Mises à jour de la ville hôte" in index.text
    assert page.status_code == 200
    assert '<html lang="fr"' in page.text
    assert '<th scope="col">Votre version</th>' in page.text
    assert '<th scope="row">Réponse (français)</th>' in page.text
    assert '<th scope="row">Questions et choix de réponse</th>' in page.text
    assert (
        'En <del><span class="relais-sr">[retiré :] </span>cinq</del>'
        '<ins><span class="relais-sr">[ajouté :] </span>trois</ins> jours ouvrables.'
    ) in page.text
    assert 'name="csrfmiddlewaretoken"' in page.text
    assert page.text.count('name="decision" value="accept"') == 2
    assert page.text.count('name="decision" value="ignore"') == 2
    assert "2 mises à jour de la ville hôte attendent votre décision." in changelist.text


def test_accepting_and_ignoring_through_the_admin(staff_client, laval, levis, copied_catalog):
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")
    _host_edits_pothole(laval)
    client = staff_client(levis, "superuser", email="admin@levis.qc.ca")
    with schema_context(levis.schema_name):
        changes = _by_kind(upstream_changes())

    article, pothole = changes["faq_article"], changes["service_type"]
    accepted = client.post(
        URL,
        {"kind": article.kind, "item": article.id, "token": article.token, "decision": "accept"},
    )
    ignored = client.post(
        URL,
        {"kind": pothole.kind, "item": pothole.id, "token": pothole.token, "decision": "ignore"},
    )

    assert (accepted.status_code, accepted["Location"]) == (302, URL)
    assert ignored.status_code == 302
    with schema_context(levis.schema_name):
        saved = FaqArticle.objects.get(pk=article.id)
        assert (saved.version, saved.answer_fr) == (2, "En trois jours ouvrables.")
        assert ServiceType.objects.get(pk=pothole.id).name_fr == "Nid-de-poule"
        assert upstream_changes() == []
        assert sorted(LogEntry.objects.values_list("object_id", "change_message")) == sorted(
            [
                (
                    str(article.id),
                    "Mise à jour de la ville hôte acceptée : "
                    "« Quand répare-t-on les nids-de-poule? ».",
                ),
                (
                    str(pothole.id),
                    "Mise à jour de la ville hôte ignorée : « nid-de-poule — Nid-de-poule ».",
                ),
            ]
        )
    page = client.get(URL)
    assert "Mise à jour de la ville hôte ignorée : « nid-de-poule — Nid-de-poule »." in page.text
    assert "Aucune mise à jour en attente" in page.text


def test_the_admin_refuses_a_post_without_csrf_token(staff_client, laval, levis, copied_catalog):
    _host_edits_article(laval, copied_catalog["article"], answer_fr="En trois jours ouvrables.")
    client = staff_client(levis, "superuser", email="admin@levis.qc.ca")
    client.handler.enforce_csrf_checks = True
    with schema_context(levis.schema_name):
        (change,) = upstream_changes()

    response = client.post(
        URL, {"kind": change.kind, "item": change.id, "token": change.token, "decision": "accept"}
    )

    assert response.status_code == 403
    with schema_context(levis.schema_name):
        assert FaqArticle.objects.get(pk=change.id).version == 1


def test_the_host_admin_has_no_updates_entry(staff_client, laval, copied_catalog):
    client = staff_client(laval, "superuser", email="admin@laval.qc.ca")

    index = client.get("/admin/")
    page = client.get(URL)

    assert "Mises à jour de la ville hôte" not in index.text
    assert page.status_code == 200
    assert "n'a pas été créée à partir du catalogue d'une ville hôte" in page.text
