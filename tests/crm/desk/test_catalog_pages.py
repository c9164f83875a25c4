"""The catalog in the staff workspace, for administrators only: service types with their
questions, routing rules, the host city's updates and the town's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django_tenants.utils import schema_context

from crm.attributes import clean_answers
from crm.cloning import catalog_copy_from
from crm.errors import CrmError
from crm.models import (
    CrmSettings,
    RoutingRule,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceType,
)
from tenants.models import Municipality
from tests.conftest import data_queries
from tests.factories import (
    DepartmentFactory,
    FaqArticleFactory,
    SectorFactory,
    ServiceAttributeFactory,
    ServiceCategoryFactory,
    ServiceTypeFactory,
)

pytestmark = pytest.mark.django_db

CATALOG = "/personnel/catalogue/"


@pytest.fixture
def catalog_items(laval: Municipality) -> dict[str, Any]:
    """Laval's `nid-de-poule` type (roads) with two questions, and a parks department."""
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="travaux-publics", name_fr="Travaux publics")
        parks = DepartmentFactory(code="parcs", name_fr="Parcs")
        streets = ServiceCategoryFactory(code="voirie", name_fr="Voirie")
        pothole = ServiceTypeFactory(
            code="nid-de-poule", name_fr="Nid-de-poule", department=roads, category=streets
        )
        size = ServiceAttributeFactory(
            service_type=pothole,
            code="taille",
            label_fr="Taille du trou",
            datatype="singlevaluelist",
            choices=["petit", "grand"],
            order=0,
        )
        depth = ServiceAttributeFactory(
            service_type=pothole, code="profondeur", label_fr="Profondeur", order=1
        )
        return {
            "roads": roads,
            "parks": parks,
            "streets": streets,
            "pothole": pothole,
            "size": size,
            "depth": depth,
            "sector": SectorFactory(code="chomedey", name_fr="Chomedey"),
        }


def _type_post(items: dict[str, Any], **overrides: object) -> dict[str, object]:
    return {
        "code": "lampadaire",
        "name_fr": "Lampadaire brûlé",
        "name_en": "Streetlight out",
        "description_fr": "",
        "description_en": "",
        "category": items["streets"].pk,
        "department": items["roads"].pk,
        "kind": "request",
        "sla_value": "5",
        "sla_unit": "days",
        "default_priority": "normal",
        "is_public": "on",
        "is_active": "on",
        "location_required": "on",
        "keywords": "lumière, poteau",
        "submission": "jeton-type",
    } | overrides


def _question_post(**overrides: object) -> dict[str, object]:
    return {
        "code": "couleur",
        "label_fr": "Couleur de la lumière",
        "label_en": "Light colour",
        "datatype": "singlevaluelist",
        "required": "on",
        "choices": "jaune ; Jaune ; Yellow\nblanche ; Blanche",
        "submission": "jeton-question",
    } | overrides


def _entries(town: Municipality, item: Any) -> list[tuple[int, str]]:
    with schema_context(town.schema_name):
        return [
            (entry.action_flag, entry.get_change_message())
            for entry in LogEntry.objects.filter(object_id=str(item.pk)).order_by("pk")
            if entry.content_type.model_class() is type(item)
        ]


# --- Who --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("get", "types/nouveau/"),
        ("post", "types/nouveau/"),
        ("post", "types/{pk}/"),
        ("post", "types/{pk}/questions/nouvelle/"),
        ("get", "types/{pk}/questions/{question}/retirer/"),
        ("post", "types/{pk}/questions/{question}/retirer/"),
        ("post", "acheminement/"),
        ("get", "mises-a-jour/"),
        ("post", "parametres/"),
    ],
)
@pytest.mark.parametrize("role", ["agent", "supervisor", "department"])
def test_only_administrators_open_the_catalog(
    desk_client: Callable[..., Client],
    laval: Municipality,
    catalog_items: dict[str, Any],
    role: str,
    method: str,
    path: str,
) -> None:
    client = desk_client(role, department=catalog_items["roads"])
    url = CATALOG + path.format(pk=catalog_items["pothole"].pk, question=catalog_items["size"].pk)

    response = getattr(client, method)(url, _type_post(catalog_items, name_fr="Piraté"))

    assert response.status_code == 403
    with schema_context(laval.schema_name):
        assert ServiceType.objects.count() == 1
        assert ServiceAttribute.objects.count() == 2
        assert RoutingRule.objects.count() == 0
        assert not LogEntry.objects.exists()


def test_a_second_town_sees_none_of_the_first_towns_types(
    desk_client: Callable[..., Client], levis: Municipality, catalog_items: dict[str, Any]
) -> None:
    client = desk_client("administrator", town=levis)

    listed = client.get(CATALOG)
    opened = client.get(f"{CATALOG}types/{catalog_items['pothole'].pk}/")

    assert listed.status_code == 200
    assert "nid-de-poule" not in listed.text
    assert "Aucun type de requête." in listed.text
    assert opened.status_code == 404


def test_the_catalog_answers_in_english(desk_client: Callable[..., Client]) -> None:
    with translation.override("en"):
        url = reverse("desk:catalog")

    response = desk_client("administrator").get(url)

    assert url == "/en/staff/catalog/"
    assert response.status_code == 200
    assert '<html lang="en">' in response.text


def test_the_catalog_list_runs_the_same_queries_for_2_and_20_types(
    desk_client: Callable[..., Client], laval: Municipality
) -> None:
    client = desk_client("administrator")

    def queries_with(total: int) -> int:
        with schema_context(laval.schema_name):
            while ServiceType.objects.count() < total:
                ServiceAttributeFactory(service_type=ServiceTypeFactory())
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CATALOG).status_code == 200
        return len(data_queries(captured))

    assert queries_with(2) == queries_with(20)


# --- Service types ----------------------------------------------------------------------------
def test_an_administrator_creates_a_type_once_and_it_is_recorded(
    desk_client: Callable[..., Client], laval: Municipality, catalog_items: dict[str, Any]
) -> None:
    client = desk_client("administrator")

    first = client.post(f"{CATALOG}types/nouveau/", _type_post(catalog_items))
    again = client.post(f"{CATALOG}types/nouveau/", _type_post(catalog_items))

    with schema_context(laval.schema_name):
        created = ServiceType.objects.get(code="lampadaire")
        assert ServiceType.objects.count() == 2
        assert created.keywords == ["lumière", "poteau"]
        assert (created.sla_value, created.department) == (5, catalog_items["roads"])
        assert created.source_uuid is None
    assert first.status_code == 302
    assert first.url == f"{CATALOG}types/{created.pk}/"
    assert again.url == first.url
    assert _entries(laval, created) == [(1, "Ajout.")]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"code": "nid-de-poule"},
            "code",
            "Un objet Type de requête avec ce champ Code existe déjà.",
        ),
        ({"name_fr": ""}, "name_fr", "Ce champ est obligatoire."),
        ({"department": 999999}, "department", "Sélectionnez un choix valide."),
        ({"code": "Lampadaire!"}, "code", "Lettres minuscules sans accent"),
    ],
)
def test_a_refused_type_is_explained_next_to_its_field_and_writes_nothing(
    desk_client: Callable[..., Client],
    laval: Municipality,
    catalog_items: dict[str, Any],
    overrides: dict[str, object],
    field: str,
    message: str,
) -> None:
    client = desk_client("administrator")

    response = client.post(f"{CATALOG}types/nouveau/", _type_post(catalog_items, **overrides))

    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}' in response.text
    assert f'<li><a href="#id_{field}">' in response.text
    with schema_context(laval.schema_name):
        assert list(ServiceType.objects.values_list("code", flat=True)) == ["nid-de-poule"]
        assert not LogEntry.objects.exists()


def test_an_edit_keeps_the_code_and_provenance_and_records_the_fields_changed(
    desk_client: Callable[..., Client], laval: Municipality, catalog_items: dict[str, Any]
) -> None:
    pothole = catalog_items["pothole"]
    with schema_context(laval.schema_name):
        ServiceType.objects.filter(pk=pothole.pk).update(
            source_uuid="2b5f8f3e-4d1c-4c55-9a2b-3f1f0a9d7c11"
        )
    client = desk_client("administrator")

    response = client.post(
        f"{CATALOG}types/{pothole.pk}/",
        _type_post(
            catalog_items,
            code="autre-code",  # not a field of the edit form: ignored
            name_fr="Nid-de-poule sur la chaussée",
            name_en=pothole.name_en,
            keywords="",
            sla_value="2",
            department=catalog_items["parks"].pk,
        ),
    )

    assert response.status_code == 302
    with schema_context(laval.schema_name):
        saved = ServiceType.objects.get(pk=pothole.pk)
        assert saved.code == "nid-de-poule"
        assert str(saved.source_uuid) == "2b5f8f3e-4d1c-4c55-9a2b-3f1f0a9d7c11"
        assert (saved.name_fr, saved.department) == (
            "Nid-de-poule sur la chaussée",
            catalog_items["parks"],
        )
    assert _entries(laval, pothole) == [
        (2, "Modification de Nom (français) et Service responsable.")
    ]


# --- Questions --------------------------------------------------------------------------------
def test_a_list_question_is_added_last_with_its_choices_and_the_api_accepts_them(
    desk_client: Callable[..., Client], laval: Municipality, catalog_items: dict[str, Any]
) -> None:
    pothole = catalog_items["pothole"]

    response = desk_client("administrator").post(
        f"{CATALOG}types/{pothole.pk}/questions/nouvelle/", _question_post()
    )

    assert response.status_code == 302
    with schema_context(laval.schema_name):
        added = ServiceAttribute.objects.get(service_type=pothole, code="couleur")
        assert (added.order, added.required) == (2, True)
        assert list(added.values.values_list("key", "name_fr", "name_en")) == [
            ("jaune", "Jaune", "Yellow"),
            ("blanche", "Blanche", ""),
        ]
        attributes = ServiceAttribute.objects.filter(service_type=pothole).prefetch_related(
            "values"
        )
        assert clean_answers(attributes, {"couleur": "blanche"}) == {"couleur": "blanche"}
        with pytest.raises(CrmError):
            clean_answers(attributes, {"couleur": "verte"})


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"choices": ""}, "choices", "Une question à choix doit offrir au moins un choix"),
        ({"datatype": "string"}, "choices", "Seule une question à choix unique ou multiple"),
        ({"choices": "jaune ; Jaune\njaune ; Encore"}, "choices", "Le choix « jaune » est inscrit"),
        ({"choices": "jaune"}, "choices", "Ligne 1 : inscrivez la valeur"),
        ({"code": "taille"}, "code", "Ce type a déjà une question de code « taille »."),
        ({"label_fr": ""}, "label_fr", "Ce champ est obligatoire."),
    ],
)
def test_a_refused_question_is_explained_and_writes_nothing(
    desk_client: Callable[..., Client],
    laval: Municipality,
    catalog_items: dict[str, Any],
    overrides: dict[str, object],
    field: str,
    message: str,
) -> None:
    pothole = catalog_items["pothole"]

    response = desk_client("administrator").post(
        f"{CATALOG}types/{pothole.pk}/questions/nouvelle/", _question_post(**overrides)
    )

    assert response.status_code == 200
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}' in response.text
    with schema_context(laval.schema_name):
        assert ServiceAttribute.objects.count() == 2
        assert ServiceAttributeValue.objects.count() == 2
        assert not LogEntry.objects.exists()


def test_editing_a_question_keeps_the_choices_still_listed_and_removes_the_others(
    desk_client: Callable[..., Client], laval: Municipality, catalog_items: dict[str, Any]
) -> None:
    pothole, size = catalog_items["pothole"], catalog_items["size"]
    with schema_context(laval.schema_name):
        kept = size.values.get(key="grand").pk

    response = desk_client("administrator").post(
        f"{CATALOG}types/{pothole.pk}/questions/{size.pk}/",
        _question_post(
            code="taille",
            label_fr="Taille du trou",
            label_en=size.label_en,
            required="",
            choices="grand ; Grand (plus de 30 cm)\nmoyen ; Moyen",
        ),
    )

    assert response.status_code == 302
    with schema_context(laval.schema_name):
        assert list(size.values.values_list("pk", "key", "name_fr", "order")) == [
            (kept, "grand", "Grand (plus de 30 cm)", 0),
            (size.values.get(key="moyen").pk, "moyen", "Moyen", 1),
        ]
    assert _entries(laval, pothole) == [
        (2, "Modification de Choix de réponse pour l'objet question «\xa0taille\xa0».")
    ]


def test_questions_move_and_are_removed(
    desk_client: Callable[..., Client], laval: Municipality, catalog_items: dict[str, Any]
) -> None:
    pothole, size, depth = catalog_items["pothole"], catalog_items["size"], catalog_items["depth"]
    client = desk_client("administrator")
    base = f"{CATALOG}types/{pothole.pk}/questions/"

    moved = client.post(f"{base}{depth.pk}/deplacer/", {"step": "-1", "submission": "m1"})
    with schema_context(laval.schema_name):
        order = list(pothole.attributes.order_by("order").values_list("code", flat=True))
    listed = client.get(f"{CATALOG}types/{pothole.pk}/")
    asked = client.get(f"{base}{size.pk}/retirer/")
    with schema_context(laval.schema_name):
        still_there = pothole.attributes.filter(pk=size.pk).exists()
    removed = client.post(f"{base}{size.pk}/retirer/", {"submission": "r1"})

    assert moved.status_code == removed.status_code == 302
    assert order == ["profondeur", "taille"]
    assert f'href="{base}{size.pk}/retirer/"' in listed.text
    assert asked.status_code == 200
    assert "Retirer la question « Taille du trou »?" in asked.text
    assert "Les réponses déjà données restent sur leurs requêtes." in asked.text
    assert still_there  # asking to confirm removes nothing
    with schema_context(laval.schema_name):
        assert list(pothole.attributes.values_list("code", flat=True)) == ["profondeur"]
        assert not ServiceAttributeValue.objects.exists()


# --- Routing ----------------------------------------------------------------------------------
def test_a_routing_rule_is_added_once_refused_twice_and_removed(
    desk_client: Callable[..., Client], laval: Municipality, catalog_items: dict[str, Any]
) -> None:
    client = desk_client("administrator")
    rule = {
        "sector": catalog_items["sector"].pk,
        "service_type": catalog_items["pothole"].pk,
        "department": catalog_items["parks"].pk,
    }

    added = client.post(f"{CATALOG}acheminement/", rule | {"submission": "a"})
    repeated = client.post(f"{CATALOG}acheminement/", rule | {"submission": "b"})
    with schema_context(laval.schema_name):
        saved = RoutingRule.objects.get()
    listed = client.get(f"{CATALOG}acheminement/")
    asked = client.get(f"{CATALOG}acheminement/{saved.pk}/retirer/")
    asked_en = client.get(f"/en/staff/catalog/routing/{saved.pk}/remove/")
    with schema_context(laval.schema_name):
        still_there = RoutingRule.objects.exists()
    removed = client.post(f"{CATALOG}acheminement/{saved.pk}/retirer/", {"submission": "c"})
    gone = client.get(f"{CATALOG}acheminement/{saved.pk}/retirer/")

    assert added.status_code == 302
    assert repeated.status_code == 200
    assert "Un objet Règle d&#x27;acheminement avec ces champs" in repeated.text
    assert (saved.sector, saved.service_type, saved.department) == (
        catalog_items["sector"],
        catalog_items["pothole"],
        catalog_items["parks"],
    )
    assert "Retirer la règle du secteur Chomedey" in listed.text
    assert asked.status_code == 200
    assert "Retirer la règle du secteur Chomedey?" in asked.text
    assert "et non plus à Parcs" in asked.text
    assert "Remove the rule of sector Chomedey?" in asked_en.text
    assert still_there
    assert removed.status_code == 302
    assert gone.status_code == 404
    with schema_context(laval.schema_name):
        assert not RoutingRule.objects.exists()


# --- The host city's updates ------------------------------------------------------------------
def test_a_partner_reviews_and_accepts_the_hosts_update(
    desk_client: Callable[..., Client],
    laval: Municipality,
    levis: Municipality,
    catalog_items: dict[str, Any],
) -> None:
    with schema_context(laval.schema_name):
        FaqArticleFactory(
            question_fr="Quand répare-t-on les nids-de-poule?",
            owner_department=catalog_items["roads"],
        )
    with schema_context(levis.schema_name):
        catalog_copy_from(source_schema=laval.schema_name)
    with schema_context(laval.schema_name):
        ServiceType.objects.filter(code="nid-de-poule").update(name_fr="Nid-de-poule sur la rue")
    client = desk_client("administrator", town=levis)

    index = client.get(CATALOG)
    page = client.get(f"{CATALOG}mises-a-jour/")
    token = page.text.split('name="token" value="')[1].split('"')[0]
    with schema_context(levis.schema_name):
        copy = ServiceType.objects.get(code="nid-de-poule")
    decided = client.post(
        f"{CATALOG}mises-a-jour/",
        {
            "kind": "service_type",
            "item": copy.pk,
            "token": token,
            "decision": "accept",
            "submission": "d",
        },
    )

    assert "1 mise à jour de la ville hôte attend votre décision." in index.text
    assert "Type de requête : nid-de-poule — Nid-de-poule" in page.text
    assert "sur la rue</ins>" in page.text
    assert decided.status_code == 302
    with schema_context(levis.schema_name):
        assert ServiceType.objects.get(pk=copy.pk).name_fr == "Nid-de-poule sur la rue"
    assert _entries(levis, copy) == [
        (2, "Mise à jour de la ville hôte acceptée : « nid-de-poule — Nid-de-poule ».")
    ]
    assert "Aucune mise à jour en attente" in client.get(f"{CATALOG}mises-a-jour/").text


def test_the_host_itself_has_no_updates_to_review(
    desk_client: Callable[..., Client], catalog_items: dict[str, Any]
) -> None:
    page = desk_client("administrator").get(f"{CATALOG}mises-a-jour/")

    assert page.status_code == 200
    assert "n'a pas été créée à partir du catalogue d'une ville hôte" in page.text


# --- Settings ---------------------------------------------------------------------------------
def _settings_post(**overrides: object) -> dict[str, object]:
    return {
        "staff_second_factor_required": "on",
        "close_information_at_intake": "on",
        "duplicate_radius_m": "50",
        "duplicate_window_days": "14",
        "sla_warning_ratio": "80",
        "retention_years": "5",
        "submission": "p",
    } | overrides


def test_an_administrator_turns_off_the_second_factor_for_all_staff_and_it_is_recorded(
    desk_client: Callable[..., Client], laval: Municipality
) -> None:
    client = desk_client("administrator")
    page = client.get(f"{CATALOG}parametres/")

    response = client.post(
        f"{CATALOG}parametres/",
        _settings_post(staff_second_factor_required=""),
    )

    assert "Double authentification pour tout le personnel" in page.text
    assert response.status_code == 302
    with schema_context(laval.schema_name):
        settings = CrmSettings.objects.get(pk=1)
        assert settings.staff_second_factor_required is False
        assert settings.duplicate_radius_m == 50
        entries = _entries(laval, settings)
    assert entries == [(2, "Modification de Double authentification pour tout le personnel.")]


def test_a_setting_out_of_range_is_refused_and_nothing_changes(
    desk_client: Callable[..., Client], laval: Municipality
) -> None:
    client = desk_client("administrator")

    response = client.post(
        f"{CATALOG}parametres/",
        _settings_post(staff_second_factor_required="", sla_warning_ratio="150"),
    )

    assert response.status_code == 200
    assert 'id="id_sla_warning_ratio_error"' in response.text
    with schema_context(laval.schema_name):
        settings = CrmSettings.objects.get(pk=1)
        assert (settings.staff_second_factor_required, settings.sla_warning_ratio) == (True, 80)
        assert not LogEntry.objects.exists()
