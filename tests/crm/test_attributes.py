from __future__ import annotations

import pytest
from django.utils import translation

from crm.attributes import clean_answers
from crm.errors import CrmError
from tests.factories import ServiceAttributeFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service_type(in_laval):
    service_type = ServiceTypeFactory()
    ServiceAttributeFactory(
        service_type=service_type,
        code="espece",
        label_fr="Espèce",
        label_en="Species",
        datatype="singlevaluelist",
        required=True,
        order=1,
        choices=["erable", "chene"],
    )
    ServiceAttributeFactory(
        service_type=service_type,
        code="dangers",
        label_fr="Dangers",
        datatype="multivaluelist",
        order=2,
        choices=["fils", "route", "maison"],
    )
    ServiceAttributeFactory(
        service_type=service_type,
        code="diametre",
        label_fr="Diamètre (cm)",
        datatype="number",
        order=3,
    )
    ServiceAttributeFactory(
        service_type=service_type,
        code="depuis",
        label_fr="Depuis quand",
        datatype="datetime",
        order=4,
    )
    ServiceAttributeFactory(
        service_type=service_type,
        code="note",
        label_fr="Précisions",
        datatype="string",
        order=5,
    )
    return service_type


def _clean(service_type, answers):
    return clean_answers(service_type.attributes.prefetch_related("values"), answers)


def test_valid_answers_are_typed_and_ordered(service_type):
    cleaned = _clean(
        service_type,
        {
            "note": "  près du parc ",
            "depuis": "2026-11-20T07:30:00-05:00",
            "diametre": "42,5",
            "dangers": "fils, route,fils",
            "espece": "chene",
        },
    )

    assert cleaned == {
        "espece": "chene",
        "dangers": ["fils", "route"],
        "diametre": "42.5",
        "depuis": "2026-11-20T07:30:00-05:00",
        "note": "près du parc",
    }
    assert list(cleaned) == ["espece", "dangers", "diametre", "depuis", "note"]
    assert _clean(service_type, {"espece": "erable", "dangers": ["maison"], "diametre": 30}) == {
        "espece": "erable",
        "dangers": ["maison"],
        "diametre": "30",
    }


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({}, "attribute[espece]", "Le champ « Espèce » est obligatoire."),
        ({"espece": "  "}, "attribute[espece]", "Le champ « Espèce » est obligatoire."),
        (
            {"espece": "sapin"},
            "attribute[espece]",
            "« sapin » n'est pas un choix possible pour « Espèce ».",
        ),
        (
            {"espece": "erable,chene"},
            "attribute[espece]",
            "Choisissez une seule réponse à « Espèce ».",
        ),
        (
            {"espece": "erable", "dangers": "fils,lac"},
            "attribute[dangers]",
            "« lac » n'est pas un choix possible pour « Dangers ».",
        ),
        (
            {"espece": "erable", "diametre": "gros"},
            "attribute[diametre]",
            "La réponse à « Diamètre (cm) » doit être un nombre.",
        ),
        (
            {"espece": "erable", "diametre": "NaN"},
            "attribute[diametre]",
            "La réponse à « Diamètre (cm) » doit être un nombre.",
        ),
        ({"espece": "erable", "depuis": "2026-11-20 07:30"}, "attribute[depuis]", None),
        ({"espece": "erable", "depuis": "hier"}, "attribute[depuis]", None),
        (
            {"espece": "erable", "note": "x" * 256},
            "attribute[note]",
            "La réponse à « Précisions » dépasse 255 caractères.",
        ),
        (
            {"espece": "erable", "couleur": "rouge"},
            "attribute[couleur]",
            "Ce type de requête n'a pas de champ « couleur ».",
        ),
    ],
)
def test_invalid_answers_name_the_field(service_type, answers, field, message):
    with pytest.raises(CrmError) as error:
        _clean(service_type, answers)

    assert error.value.code == "invalid_attribute"
    assert error.value.field == field
    if message:
        assert error.value.message == message


def test_errors_are_translated(service_type):
    with translation.override("en"), pytest.raises(CrmError) as error:
        _clean(service_type, {})
    assert error.value.message == "The field “Species” is required."
