"""The information bank in the staff workspace: every role reads and searches it; only
administrators write, preview, compare versions, publish, archive and follow the reviews."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from crm.models import FaqArticle, FaqArticleVersion
from tenants.models import Municipality
from tests.conftest import data_queries
from tests.factories import DepartmentFactory, FaqArticleFactory, ServiceCategoryFactory

pytestmark = pytest.mark.django_db

BANK = "/personnel/banque-information/"


@pytest.fixture
def bank(laval: Municipality) -> dict[str, Any]:
    """Laval's bank: a public article, one for agents only, a draft and an archived one."""
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="travaux-publics", name_fr="Travaux publics")
        waste = ServiceCategoryFactory(code="collectes", name_fr="Collectes")
        return {
            "roads": roads,
            "waste": waste,
            "public": FaqArticleFactory(
                question_fr="Quel jour passe la collecte des ordures?",
                answer_fr="Le lundi dans l'est, le jeudi dans l'ouest.",
                category=waste,
                owner_department=roads,
            ),
            "agents": FaqArticleFactory(
                question_fr="Comment transférer un appel de déneigement?",
                answer_fr="Composez le poste 4321.",
                audience="agents",
                owner_department=roads,
            ),
            "draft": FaqArticleFactory(
                question_fr="Brouillon sur les collectes",
                status="draft",
                owner_department=roads,
            ),
            "archived": FaqArticleFactory(
                question_fr="Ancienne collecte des sapins",
                status="archived",
                owner_department=roads,
            ),
        }


def _article_post(bank: dict[str, Any], **overrides: object) -> dict[str, object]:
    return {
        "question_fr": "Où déposer les feuilles mortes?",
        "answer_fr": "À l'écocentre, d'avril à novembre.",
        "question_en": "",
        "answer_en": "",
        "category": bank["waste"].pk,
        "audience": "public",
        "owner_department": bank["roads"].pk,
        "review_on": "",
        "submission": "jeton-1",
        "save": "1",
    } | overrides


def _counts(town: Municipality) -> tuple[int, int]:
    with schema_context(town.schema_name):
        return FaqArticle.objects.count(), FaqArticleVersion.objects.count()


# --- Reading ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["agent", "supervisor", "department"])
def test_every_staff_role_reads_published_articles_of_both_audiences(
    desk_client: Callable[..., Client], laval: Municipality, bank: dict[str, Any], role: str
) -> None:
    client = desk_client(role, department=bank["roads"])

    response = client.get(BANK)

    assert response.status_code == 200
    assert "Quel jour passe la collecte des ordures?" in response.text
    assert "Comment transférer un appel de déneigement?" in response.text
    assert "Brouillon sur les collectes" not in response.text
    assert "Ancienne collecte des sapins" not in response.text
    assert "Nouvel article" not in response.text


def test_an_agent_finds_an_agents_only_article_by_search_and_reads_it(
    desk_client: Callable[..., Client], bank: dict[str, Any]
) -> None:
    client = desk_client("agent")

    found = client.get(BANK, {"q": "deneigement"})
    page = client.get(f"{BANK}{bank['agents'].pk}/")

    assert found.status_code == 200
    assert "1 article trouvé." in found.text
    assert f'href="{BANK}{bank["agents"].pk}/"' in found.text
    assert page.status_code == 200
    assert "Composez le poste 4321." in page.text
    assert "Modifier" not in page.text


def test_the_search_answers_htmx_with_the_results_alone(
    desk_client: Callable[..., Client], bank: dict[str, Any]
) -> None:
    client = desk_client("agent")

    response = client.get(
        BANK, {"q": "collecte"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="resultats"
    )

    assert response.status_code == 200
    assert "Quel jour passe la collecte des ordures?" in response.text
    assert "<html" not in response.text


def test_browsing_a_category_lists_its_articles_only(
    desk_client: Callable[..., Client], bank: dict[str, Any]
) -> None:
    response = desk_client("agent").get(BANK, {"categorie": bank["waste"].pk})

    assert "Quel jour passe la collecte des ordures?" in response.text
    assert "Comment transférer un appel de déneigement?" not in response.text
    assert "Articles de la catégorie « Collectes »" in response.text


def test_an_agent_does_not_open_a_draft(
    desk_client: Callable[..., Client], bank: dict[str, Any]
) -> None:
    assert desk_client("agent").get(f"{BANK}{bank['draft'].pk}/").status_code == 404


def test_the_bank_answers_in_english(
    desk_client: Callable[..., Client], bank: dict[str, Any]
) -> None:
    with translation.override("en"):
        url = reverse("desk:bank")

    response = desk_client("agent").get(url)

    assert url == "/en/staff/information-bank/"
    assert response.status_code == 200
    assert '<html lang="en">' in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "nouvel-article/"),
        ("post", "nouvel-article/"),
        ("get", "{pk}/modifier/"),
        ("post", "{pk}/modifier/"),
        ("post", "{pk}/statut/"),
        ("get", "{pk}/versions/"),
        ("get", "a-reviser/"),
    ],
)
@pytest.mark.parametrize("role", ["agent", "supervisor", "department"])
def test_only_administrators_open_the_editing_pages(
    desk_client: Callable[..., Client],
    laval: Municipality,
    bank: dict[str, Any],
    role: str,
    method: str,
    path: str,
) -> None:
    client = desk_client(role, department=bank["roads"])
    before = _counts(laval)

    response = getattr(client, method)(
        BANK + path.format(pk=bank["public"].pk), _article_post(bank, status="archived")
    )

    assert response.status_code == 403
    assert _counts(laval) == before


def test_a_second_town_sees_none_of_the_first_towns_articles(
    desk_client: Callable[..., Client], levis: Municipality, bank: dict[str, Any]
) -> None:
    client = desk_client("administrator", town=levis)

    listed = client.get(BANK)
    found = client.get(BANK, {"q": "collecte"})
    opened = client.get(f"{BANK}{bank['public'].pk}/")

    assert "Quel jour passe la collecte" not in listed.text
    assert "Aucun article." in listed.text
    assert "Quel jour passe la collecte" not in found.text
    assert "Essayez un autre mot, ou parcourez les catégories." in found.text
    assert opened.status_code == 404


def test_the_bank_list_runs_the_same_queries_for_2_and_20_articles(
    desk_client: Callable[..., Client], laval: Municipality
) -> None:
    client = desk_client("administrator")

    def queries_with(total: int) -> int:
        with schema_context(laval.schema_name):
            department = DepartmentFactory()
            while FaqArticle.objects.count() < total:
                FaqArticleFactory(owner_department=department, category=ServiceCategoryFactory())
        with CaptureQueriesContext(connection) as captured:
            assert client.get(BANK).status_code == 200
        return len(data_queries(captured))

    assert queries_with(2) == queries_with(20)


# --- Writing ---------------------------------------------------------------------------------
def test_an_administrator_previews_without_saving_then_saves(
    desk_client: Callable[..., Client], laval: Municipality, bank: dict[str, Any]
) -> None:
    client = desk_client("administrator")
    before = _counts(laval)
    posted = _article_post(bank)
    del posted["save"]

    preview = client.post(f"{BANK}nouvel-article/", posted | {"preview": "1"})

    assert preview.status_code == 200
    assert "Aperçu" in preview.text
    assert "À l&#x27;écocentre, d&#x27;avril à novembre." in preview.text
    assert _counts(laval) == before

    saved = client.post(f"{BANK}nouvel-article/", posted | {"save": "1"})

    with schema_context(laval.schema_name):
        article = FaqArticle.objects.get(question_fr="Où déposer les feuilles mortes?")
        assert article.status == "draft"
        assert article.updated_by == client.user  # type: ignore[attr-defined]
        assert list(article.versions.values_list("version", flat=True)) == [1]
    assert saved.status_code == 302
    assert saved.url == f"{BANK}{article.pk}/"


def test_the_same_form_sent_twice_creates_one_article(
    desk_client: Callable[..., Client], laval: Municipality, bank: dict[str, Any]
) -> None:
    client = desk_client("administrator")
    before = _counts(laval)

    first = client.post(f"{BANK}nouvel-article/", _article_post(bank))
    second = client.post(f"{BANK}nouvel-article/", _article_post(bank))

    assert second.status_code == 302
    assert second.url == first.url
    assert _counts(laval) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"question_fr": ""}, "question_fr", "Ce champ est obligatoire."),
        ({"owner_department": 999999}, "owner_department", "Sélectionnez un choix valide."),
        ({"answer_fr": "x" * 20_001}, "answer_fr", "La réponse dépasse 20000 caractères."),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_writes_nothing(
    desk_client: Callable[..., Client],
    laval: Municipality,
    bank: dict[str, Any],
    overrides: dict[str, object],
    field: str,
    message: str,
) -> None:
    client = desk_client("administrator")
    before = _counts(laval)

    response = client.post(f"{BANK}nouvel-article/", _article_post(bank, **overrides))

    assert response.status_code == 200
    assert "Le formulaire contient des erreurs : rien n'a été enregistré." in response.text
    assert f'<li><a href="#id_{field}">' in response.text  # the summary links to the field
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}' in response.text
    assert f'aria-describedby="id_{field}_error" id="id_{field}"' in response.text or (
        f'aria-describedby="id_{field}_helptext id_{field}_error" id="id_{field}"' in response.text
    )
    assert _counts(laval) == before


def test_an_edit_is_a_new_version_whose_diff_shows_what_changed(
    desk_client: Callable[..., Client], laval: Municipality, bank: dict[str, Any]
) -> None:
    client = desk_client("administrator")
    article = bank["public"]
    posted = _article_post(
        bank,
        question_fr=article.question_fr,
        answer_fr="Le mardi dans l'est, le jeudi dans l'ouest.",
        question_en=article.question_en,
        answer_en=article.answer_en,
        review_on="2030-01-15",
    )

    response = client.post(f"{BANK}{article.pk}/modifier/", posted)
    versions = client.get(f"{BANK}{article.pk}/versions/")

    assert response.status_code == 302
    with schema_context(laval.schema_name):
        saved = FaqArticle.objects.get(pk=article.pk)
        assert saved.version == 2
        assert saved.status == "published"  # an edit keeps the status
        assert saved.review_on == datetime.date(2030, 1, 15)
        assert saved.versions.count() == 2
    assert versions.status_code == 200
    assert "Ce qui a changé de la version 1 à la version 2" in versions.text
    assert "retiré :</span> lundi</del>" in versions.text
    assert "ajouté :</span> mardi</ins>" in versions.text
    assert "avant : (aucun) — après : 2030-01-15" in versions.text
    # The French question did not change: it is not listed among the differences.
    assert "<dt>Question (français)</dt>" not in versions.text


def test_two_chosen_versions_are_compared(
    desk_client: Callable[..., Client], laval: Municipality, bank: dict[str, Any]
) -> None:
    client = desk_client("administrator")
    for answer in ("Version 2.", "Version trois."):
        client.post(
            f"{BANK}{bank['agents'].pk}/modifier/",
            _article_post(
                bank,
                question_fr=bank["agents"].question_fr,
                answer_fr=answer,
                question_en="How?",
                answer_en="So.",
                audience="agents",
                submission=f"jeton-{len(answer)}",
            ),
        )

    response = client.get(f"{BANK}{bank['agents'].pk}/versions/", {"de": 1, "a": 3})

    assert "Ce qui a changé de la version 1 à la version 3" in response.text
    assert (
        '<dd class="difference-texte">'
        '<del><span class="etiquette-diff">retiré :</span> Composez</del>'
        '<ins><span class="etiquette-diff">ajouté :</span> Version</ins> '
        '<del><span class="etiquette-diff">retiré :</span> le poste 4321.</del>'
        '<ins><span class="etiquette-diff">ajouté :</span> trois.</ins></dd>'
    ) in response.text


def test_publishing_needs_the_english_text_and_archiving_is_a_new_version(
    desk_client: Callable[..., Client], laval: Municipality, bank: dict[str, Any]
) -> None:
    client = desk_client("administrator")
    draft = bank["draft"]
    with schema_context(laval.schema_name):
        FaqArticle.objects.filter(pk=draft.pk).update(question_en="", answer_en="")

    refused = client.post(
        f"{BANK}{draft.pk}/statut/", {"status": "published", "submission": "a"}, follow=True
    )
    archived = client.post(
        f"{BANK}{bank['public'].pk}/statut/", {"status": "archived", "submission": "b"}
    )

    assert "Un article publié doit avoir sa question et sa réponse en anglais." in refused.text
    assert archived.status_code == 302
    with schema_context(laval.schema_name):
        assert FaqArticle.objects.get(pk=draft.pk).status == "draft"
        assert FaqArticleVersion.objects.filter(article=draft).count() == 1
        public = FaqArticle.objects.get(pk=bank["public"].pk)
        assert (public.status, public.version) == ("archived", 2)
        assert public.versions.first().status == "archived"


def test_the_review_list_holds_past_and_coming_dates_only(
    desk_client: Callable[..., Client], laval: Municipality, bank: dict[str, Any]
) -> None:
    today = timezone.localdate()
    with schema_context(laval.schema_name):
        for key, days in (("public", -3), ("agents", 10), ("draft", 90), ("archived", -30)):
            FaqArticle.objects.filter(pk=bank[key].pk).update(
                review_on=today + datetime.timedelta(days=days)
            )
    client = desk_client("administrator")

    default = client.get(f"{BANK}a-reviser/")
    wider = client.get(f"{BANK}a-reviser/", {"jours": 120})

    assert "Quel jour passe la collecte des ordures?" in default.text
    assert "En retard" in default.text
    assert "Comment transférer un appel de déneigement?" in default.text
    assert "Brouillon sur les collectes" not in default.text
    assert "Ancienne collecte des sapins" not in default.text  # archived: nothing to review
    assert "Brouillon sur les collectes" in wider.text
