"""The small catalog the API tests and the API fuzz work on (call inside a town's schema)."""

from __future__ import annotations

from typing import Any

from tests.factories import (
    DepartmentFactory,
    FaqArticleFactory,
    ServiceAttributeFactory,
    ServiceTypeFactory,
)


def api_catalog() -> dict[str, Any]:
    """Two departments, a public type with a required choice, one without location, an internal
    type, a published public article and one for agents only."""
    roads = DepartmentFactory(code="travaux", name_fr="Travaux publics")
    parks = DepartmentFactory(code="parcs", name_fr="Parcs")
    attribute = ServiceAttributeFactory(
        service_type__code="nid-de-poule",
        service_type__department=roads,
        code="taille",
        datatype="singlevaluelist",
        required=True,
        choices=["petit", "grand"],
    )
    articles = [
        FaqArticleFactory(
            question_fr="Quand répare-t-on les nids-de-poule?",
            answer_fr="En cinq jours ouvrables.",
            question_en="When are potholes fixed?",
            answer_en="Within five business days.",
            status="published",
            owner_department=roads,
        ),
        FaqArticleFactory(
            question_fr="Procédure interne des nids-de-poule",
            answer_fr="Réservé aux agents.",
            question_en="Internal pothole procedure",
            answer_en="For agents only.",
            status="published",
            audience="agents",
            owner_department=roads,
        ),
    ]
    return {
        "roads": roads,
        "parks": parks,
        "pothole": attribute.service_type,
        "tree": ServiceTypeFactory(code="arbre", department=parks, location_required=False),
        "internal": ServiceTypeFactory(code="interne", department=roads, is_public=False),
        "articles": articles,
    }
