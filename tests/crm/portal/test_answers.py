"""The portal's answers: the home page (search, most consulted, subjects), the search as a page
and as htmx's partial, a subject's answers, an answer with « Cette réponse vous a-t-elle aidé? »;
only published public answers, in French and English, and nothing of another town."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.models import FaqConsultation, FaqFeedback, ServiceCategory
from tests.conftest import data_queries
from tests.factories import FaqArticleFactory

pytestmark = pytest.mark.django_db


def _bank() -> dict[str, object]:
    waste = ServiceCategory.objects.create(code="collectes", name_fr="Collectes", name_en="Pickups")
    roads = ServiceCategory.objects.create(code="voirie", name_fr="Voirie", name_en="Roads")
    return {
        "bins": FaqArticleFactory(
            question_fr="Quand passe la collecte des ordures?",
            answer_fr="La collecte des ordures a lieu le mardi.\nSortez le bac la veille.",
            question_en="When is garbage collected?",
            answer_en="Garbage is collected on Tuesdays.",
            category=waste,
        ),
        "recycling": FaqArticleFactory(
            question_fr="Que mettre dans le bac de recyclage?",
            answer_fr="Papier, carton, plastique et verre.",
            question_en="What goes in the recycling bin?",
            answer_en="Paper, cardboard, plastic and glass.",
            category=waste,
        ),
        "potholes": FaqArticleFactory(
            question_fr="Comment signaler un nid-de-poule?",
            answer_fr="Signalez-le en ligne ou au 311.",
            category=roads,
        ),
        "staff_only": FaqArticleFactory(
            question_fr="Procédure interne de collecte",
            answer_fr="Réservé aux agents : la collecte des ordures.",
            audience="agents",
            category=waste,
        ),
        "draft": FaqArticleFactory(
            question_fr="Brouillon sur la collecte",
            answer_fr="Pas encore publié : collecte des ordures.",
            status="draft",
            category=waste,
        ),
    }


def test_the_home_page_offers_search_most_consulted_answers_and_subjects(client_for, laval):
    with schema_context(laval.schema_name):
        bank = _bank()
        FaqConsultation.objects.create(article=bank["potholes"], day="2026-11-30", count=9)

    response = client_for(laval).get("/")

    assert response.status_code == 200
    text = response.text
    assert "<h1>Bienvenue à Laval</h1>" in text
    assert 'role="search"' in text
    assert 'name="q"' in text
    # The most read first, then the others by question; never a staff-only or draft answer.
    popular = text.split('id="titre-populaires"')[1].split("</section>")[0]
    assert popular.index("Comment signaler un nid-de-poule?") < popular.index(
        "Quand passe la collecte des ordures?"
    )
    assert "Procédure interne" not in text
    assert "Brouillon" not in text
    assert '?categorie=collectes">Collectes</a> <span class="compte">(2)</span>' in text
    assert '?categorie=voirie">Voirie</a> <span class="compte">(1)</span>' in text


def test_another_town_shows_none_of_lavals_answers(client_for, laval, levis):
    with schema_context(laval.schema_name):
        bank = _bank()

    home = client_for(levis).get("/").text
    search = client_for(levis).get("/reponses/", {"q": "collecte"}).text
    answer = client_for(levis).get(f"/reponses/{bank['bins'].pk}-x/")

    assert "<h1>Bienvenue à Lévis</h1>" in home
    for text in (home, search, answer.text):
        assert "Quand passe la collecte" not in text
        assert "Collectes" not in text
    assert "Aucune réponse pour « collecte »" in search
    assert answer.status_code == 404


def test_the_search_page_finds_published_public_answers_only(client_for, laval):
    with schema_context(laval.schema_name):
        _bank()

    response = client_for(laval).get("/reponses/", {"q": "collecte ordures"})

    assert response.status_code == 200
    assert "Quand passe la collecte des ordures?" in response.text
    assert "<mark>" in response.text  # the matched words, highlighted
    assert "Procédure interne" not in response.text
    assert "Brouillon" not in response.text


def test_typing_asks_htmx_for_the_results_alone_with_a_status_for_screen_readers(client_for, laval):
    with schema_context(laval.schema_name):
        _bank()

    response = client_for(laval).get(
        "/reponses/",
        {"q": "nid-de-poule"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="resultats-reponses",
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Comment signaler un nid-de-poule?" in response.text
    assert 'id="etat-recherche"' in response.text
    assert 'hx-swap-oob="innerHTML"' in response.text
    assert "1 réponse trouvée" in response.text


def test_a_search_too_long_is_refused_with_a_message(client_for, laval):
    response = client_for(laval).get("/reponses/", {"q": "x" * 201})

    assert response.status_code == 400
    assert "Assurez-vous que cette valeur comporte au plus 200 caractères" in response.text
    assert 'aria-invalid="true"' in response.text


def test_a_subject_lists_its_answers_and_an_unknown_one_is_not_found(client_for, laval):
    with schema_context(laval.schema_name):
        _bank()
    client = client_for(laval)

    subject = client.get("/reponses/", {"categorie": "collectes"})
    unknown = client.get("/reponses/", {"categorie": "inconnue"})

    assert subject.status_code == 200
    assert "<h1>Collectes</h1>" in subject.text
    assert "Que mettre dans le bac de recyclage?" in subject.text
    assert "Procédure interne" not in subject.text
    assert unknown.status_code == 404


def test_an_answer_is_read_at_its_address_and_each_reading_is_counted(client_for, laval):
    with schema_context(laval.schema_name):
        bins = _bank()["bins"]
    client = client_for(laval)

    old = client.get(f"/reponses/{bins.pk}-ancien-titre/")
    first = client.get(f"/reponses/{bins.pk}-quand-passe-la-collecte-des-ordures/")
    client.get(f"/reponses/{bins.pk}-quand-passe-la-collecte-des-ordures/")

    assert old.status_code == 301
    assert old["Location"] == f"/reponses/{bins.pk}-quand-passe-la-collecte-des-ordures/"
    assert first.status_code == 200
    assert "<h1>Quand passe la collecte des ordures?</h1>" in first.text
    assert "La collecte des ordures a lieu le mardi.<br>Sortez le bac la veille." in first.text
    assert "Cette réponse vous a-t-elle aidé?" in first.text
    with schema_context(laval.schema_name):
        assert list(FaqConsultation.objects.values_list("article_id", "count")) == [(bins.pk, 2)]


@pytest.mark.parametrize("which", ["staff_only", "draft"])
def test_a_staff_only_or_draft_answer_does_not_exist_on_the_portal(client_for, laval, which):
    with schema_context(laval.schema_name):
        article = _bank()[which]

    response = client_for(laval).get(f"/reponses/{article.pk}-x/")

    assert response.status_code == 404
    assert "Réservé aux agents" not in response.text


def test_an_answer_in_english_has_its_english_address(client_for, laval):
    with schema_context(laval.schema_name):
        bank = _bank()
    client = client_for(laval)

    french_slug = client.get(f"/en/answers/{bank['bins'].pk}-quand-passe-la-collecte/")
    english = client.get(f"/en/answers/{bank['bins'].pk}-when-is-garbage-collected/")
    search = client.get("/en/answers/", {"q": "recycling"})

    assert french_slug["Location"] == f"/en/answers/{bank['bins'].pk}-when-is-garbage-collected/"
    assert "<h1>When is garbage collected?</h1>" in english.text
    assert "Garbage is collected on Tuesdays." in english.text
    assert "Was this answer helpful?" in english.text
    assert "What goes in the recycling bin?" in search.text
    assert (
        f'href="/en/answers/{bank["recycling"].pk}-what-goes-in-the-recycling-bin/"' in search.text
    )


def test_feedback_is_recorded_once_per_browser_and_answer(client_for, laval):
    with schema_context(laval.schema_name):
        bins = _bank()["bins"]
    client = client_for(laval)

    first = client.post(f"/reponses/{bins.pk}/avis/", {"utile": "non"})
    again = client.post(f"/reponses/{bins.pk}/avis/", {"utile": "oui"})  # back button, re-sent
    page = client.get(first["Location"])

    assert first.status_code == again.status_code == 302
    assert first["Location"].endswith("-quand-passe-la-collecte-des-ordures/#avis")
    assert "équipe responsable révisera cette réponse" in page.text
    assert 'name="utile"' not in page.text  # the question is not asked again
    with schema_context(laval.schema_name):
        assert list(FaqFeedback.objects.values_list("article_id", "helpful", "language")) == [
            (bins.pk, False, "fr")
        ]


def test_bad_feedback_is_refused_with_a_message_and_nothing_recorded(client_for, laval):
    with schema_context(laval.schema_name):
        bins = _bank()["bins"]

    response = client_for(laval).post(f"/reponses/{bins.pk}/avis/", {"utile": "peut-être"})

    assert response.status_code == 400
    assert "Choisissez « Oui » ou « Non »." in response.text
    with schema_context(laval.schema_name):
        assert not FaqFeedback.objects.exists()


def test_the_home_and_search_pages_take_as_many_queries_with_3_or_30_answers(client_for, laval):
    counts = []
    client = client_for(laval)
    client.get("/")  # the first request of a process loads the routing table
    with schema_context(laval.schema_name):
        waste = ServiceCategory.objects.create(code="collectes", name_fr="Collectes")
    for batch in (3, 27):
        with schema_context(laval.schema_name):
            for _ in range(batch):
                FaqArticleFactory(answer_fr="La collecte des ordures.", category=waste)
        with CaptureQueriesContext(connection) as home:
            client.get("/")
        with CaptureQueriesContext(connection) as search:
            client.get("/reponses/", {"q": "collecte"})
        with CaptureQueriesContext(connection) as subject:
            client.get("/reponses/", {"categorie": "collectes"})
        counts.append(
            (len(data_queries(home)), len(data_queries(search)), len(data_queries(subject)))
        )

    assert counts[0] == counts[1]
