from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from crm.errors import CrmError
from crm.models import FaqArticle, FaqArticleVersion, fold_text
from crm.search import faq_search
from crm.services import faq_article_update
from tests.factories import (
    DepartmentFactory,
    FaqArticleFactory,
    ServiceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(in_laval):
    return {
        "snow": FaqArticleFactory(
            question_fr="Quand commence le déneigement des rues?",
            answer_fr="Les opérations débutent dès 5 cm de neige au sol.",
            question_en="When does street snow removal start?",
            answer_en="Operations start as soon as 5 cm of snow is on the ground.",
        ),
        "garbage": FaqArticleFactory(
            question_fr="Quel jour passe la collecte des ordures?",
            answer_fr="La collecte est maintenue pendant le deneigement, selon l'horaire prévu.",
            question_en="What day is garbage collection?",
            answer_en="Collection continues during snow removal, on your sector's schedule.",
        ),
        "agents": FaqArticleFactory(
            question_fr="Procédure interne de déneigement d'urgence",
            answer_fr="Appeler le contremaître de garde.",
            question_en="Internal emergency snow removal procedure",
            answer_en="Call the foreman on duty.",
            audience="agents",
        ),
        "draft": FaqArticleFactory(
            question_fr="Déneigement des trottoirs (brouillon)",
            answer_fr="À venir.",
            status="draft",
        ),
    }


def _ids(hits):
    return [hit.article.pk for hit in hits]


def test_accents_are_folded_both_ways(bank):
    accented = faq_search(query="déneigement")
    plain = faq_search(query="DENEIGEMENT")

    assert _ids(accented) == _ids(plain) == [bank["snow"].pk, bank["garbage"].pk]


def test_the_question_ranks_above_the_answer(bank):
    hits = faq_search(query="deneigement")

    assert hits[0].article == bank["snow"]  # in its question
    assert hits[1].article == bank["garbage"]  # in its answer only
    assert hits[0].rank > hits[1].rank


def test_french_stemming_matches_plural_and_inflected_forms(bank):
    assert _ids(faq_search(query="collectes")) == [bank["garbage"].pk]
    assert _ids(faq_search(query="opération")) == [bank["snow"].pk]


def test_english_search_with_english_text(bank):
    hits = faq_search(query="garbage collections", language="en")

    assert _ids(hits) == [bank["garbage"].pk]
    assert hits[0].question == "What day is garbage collection?"
    assert (
        "<mark>garbage</mark>" in hits[0].snippet_html
        or "<mark>Collection</mark>" in hits[0].snippet_html
    )


def test_audience_and_status_filters(bank):
    public = _ids(faq_search(query="déneigement"))
    agents = _ids(faq_search(query="déneigement", audience="agents"))
    with_drafts = _ids(
        faq_search(query="déneigement", audience="agents", statuses=("published", "draft"))
    )

    assert bank["agents"].pk not in public
    assert bank["agents"].pk in agents
    assert bank["draft"].pk not in agents
    assert bank["draft"].pk in with_drafts


def test_snippets_highlight_matches_and_escape_html(in_laval):
    FaqArticleFactory(
        question_fr="Compost",
        answer_fr="Mettez le <compost> dans le bac brun : le compost est ramassé le lundi.",
    )

    hit = faq_search(query="compost")[0]

    assert "<mark>compost</mark>" in hit.snippet_html
    assert "<compost>" not in hit.snippet_html


def test_an_empty_or_unknown_query_finds_nothing(bank):
    assert faq_search(query="   ") == []
    assert faq_search(query="zzyzx") == []


def test_every_edit_is_a_new_version(in_laval):
    editor = UserFactory()
    article = FaqArticleFactory(question_fr="Horaire des écocentres")
    linked = ServiceTypeFactory()

    article = faq_article_update(
        actor=editor, article=article, answer_fr="Ouverts de 8 h à 17 h.", service_types=[linked]
    )
    article = faq_article_update(actor=editor, article=article, status="archived")

    assert article.version == 3
    assert list(article.versions.values_list("version", "status", "answer_fr")) == [
        (3, "archived", "Ouverts de 8 h à 17 h."),
        (2, "published", "Ouverts de 8 h à 17 h."),
        (1, "published", "Réponse."),
    ]
    assert article.versions.first().edited_by == editor
    assert list(article.service_types.all()) == [linked]
    second = article.versions.get(version=2)
    assert (second.service_type_codes, second.owner_department) == (
        [linked.code],
        article.owner_department,
    )
    assert article.versions.get(version=1).service_type_codes == []


def test_a_published_article_needs_its_english_text_and_a_bad_edit_changes_nothing(in_laval):
    with pytest.raises(CrmError) as error:
        FaqArticleFactory(question_en="", answer_en="")
    assert error.value.code == "english_missing"
    draft = FaqArticleFactory(question_en="", answer_en="", status="draft")

    with pytest.raises(CrmError):
        faq_article_update(actor=None, article=draft, status="published")

    draft.refresh_from_db()
    assert (draft.status, draft.version) == ("draft", 1)
    assert FaqArticleVersion.objects.filter(article=draft).count() == 1


def test_fold_text_matches_the_sql_folding(in_laval):
    from django.db.models import Value

    from crm.models import Fold

    text = "Œuvre d'ÉTÉ à Québec, çà et là : Mæcenas, ÎLE, naïve, Noël, où"
    in_sql = FaqArticle.objects.annotate(folded=Fold(Value(text))).values_list("folded", flat=True)
    FaqArticleFactory()  # a row to select the expression from

    assert fold_text(text) == "oeuvre d'ete a quebec, ca et la : maecenas, ile, naive, noel, ou"
    assert in_sql[0] == fold_text(text)


def test_an_unaccented_search_highlights_the_accented_words(bank):
    hit = faq_search(query="deneigement operations")[0]

    assert hit.article == bank["snow"]
    assert "<mark>opérations</mark>" in hit.snippet_html


def test_a_natural_question_falls_back_to_any_of_its_words(bank):
    hits = faq_search(query="quand passe la collecte")

    assert hits
    assert hits[0].article == bank["garbage"]


def test_an_unknown_audience_is_refused_not_widened(bank):
    with pytest.raises(CrmError) as error:
        faq_search(query="déneigement", audience="")
    assert error.value.field == "audience"


def test_levis_finds_nothing_of_lavals_bank(bank, levis):
    with schema_context(levis.schema_name):
        assert faq_search(query="déneigement", audience="agents") == []
        assert FaqArticle.objects.count() == 0


def test_search_costs_two_queries_whatever_the_number_of_results(
    in_laval, django_assert_num_queries
):
    department = DepartmentFactory(code="greffe")
    for index in range(30):
        FaqArticleFactory(question_fr=f"Permis numéro {index}", owner_department=department)

    with django_assert_num_queries(2):
        many = faq_search(query="permis")
    with django_assert_num_queries(2):
        one = faq_search(query="permis numéro 7", limit=1)

    assert len(many) == 20
    assert len(one) == 1


def test_an_edit_is_searchable_at_once_and_the_old_words_are_gone(in_laval):
    article = FaqArticleFactory(question_fr="Horaire de la piscine", answer_fr="Ouverte le samedi.")
    assert faq_search(query="samedi")

    faq_article_update(actor=None, article=article, answer_fr="Ouverte le dimanche.")

    assert faq_search(query="samedi") == []
    assert [hit.article.pk for hit in faq_search(query="dimanche")] == [article.pk]


def test_vectors_given_with_a_copy_are_kept_not_recomputed(in_laval):
    from django.db import connection

    article = FaqArticleFactory(question_fr="Original", answer_fr="Texte.")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_faqarticle (uuid, question_fr, answer_fr, question_en, answer_en,"
            " audience, status, owner_department_id, version, created_at, updated_at,"
            " search_vector, question_vector) SELECT gen_random_uuid(), 'Copie', 'Texte.', '',"
            " '', audience, status, owner_department_id, 1, now(), now(), search_vector,"
            " question_vector FROM crm_faqarticle WHERE id = %s RETURNING id",
            [article.pk],
        )
        (copy_id,) = cursor.fetchone()

    copy = FaqArticle.objects.get(pk=copy_id)
    assert copy.search_vector == FaqArticle.objects.get(pk=article.pk).search_vector
