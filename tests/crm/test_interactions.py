from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.errors import CrmError
from crm.models import CrmSettings, Interaction, ServiceRequest
from crm.selectors import first_contact_resolution
from crm.services import information_call_answer, interaction_record
from tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    FaqArticleFactory,
    ServiceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def information_type(in_laval):
    return ServiceTypeFactory(
        kind="information",
        location_required=False,
        sla_value=None,
        department=DepartmentFactory(code="311"),
    )


def test_an_information_call_is_counted_as_resolved_and_closed_at_intake(information_type):
    agent, citizen = UserFactory(), CitizenFactory()
    article = FaqArticleFactory(
        question_fr="Horaire de l'hôtel de ville",
        answer_fr="8 h 30 à 16 h 30.",
        owner_department=information_type.department,
    )

    interaction = information_call_answer(
        actor=agent,
        channel="phone",
        summary="Heures d'ouverture",
        faq_articles=[article],
        citizen=citizen,
        service_type=information_type,
        duration_seconds=95,
    )

    assert interaction.resolved_at_first_contact is True
    assert list(interaction.faq_articles.all()) == [article]
    assert (interaction.agent, interaction.duration_seconds) == (agent, 95)
    request = interaction.request
    assert (request.status, request.first_contact_resolution, request.citizen) == (
        "closed",
        True,
        citizen,
    )
    assert interaction.department.code == "311"


def test_a_town_that_does_not_count_them_gets_no_request(information_type):
    CrmSettings.objects.filter(pk=1).update(close_information_at_intake=False)

    interaction = information_call_answer(
        actor=None,
        channel="counter",
        summary="Permis",
        faq_articles=[],
        service_type=information_type,
    )

    assert interaction.request is None
    assert ServiceRequest.objects.count() == 0


def test_first_contact_resolution_by_channel_and_department(information_type):
    travaux = DepartmentFactory(code="travaux")
    information_call_answer(
        actor=None, channel="phone", summary="a", faq_articles=[], service_type=information_type
    )
    information_call_answer(
        actor=None, channel="phone", summary="b", faq_articles=[], service_type=information_type
    )
    interaction_record(actor=None, channel="phone", summary="transfert", department=travaux)
    interaction_record(actor=None, channel="web", summary="courriel", department=travaux)
    today = timezone.localdate(Interaction.objects.first().created_at)
    start, end = today.replace(day=1), date(today.year + 1, 1, 1)

    by_channel = {
        r.key: (r.interactions, r.resolved_first_contact)
        for r in first_contact_resolution(start=start, end=end, by="channel")
    }
    by_department = {
        r.key: round(r.rate, 2)
        for r in first_contact_resolution(start=start, end=end, by="department")
    }
    by_month = first_contact_resolution(start=start, end=end, by="month")

    assert by_channel == {"phone": (3, 2), "web": (1, 0)}
    assert by_department == {"311": 1.0, "travaux": 0.0}
    assert [(m.key, m.interactions, round(m.rate, 2)) for m in by_month] == [
        (today.strftime("%Y-%m"), 4, 0.5)
    ]


def test_an_interaction_needs_a_summary_and_a_known_channel(in_laval):
    with pytest.raises(CrmError):
        interaction_record(actor=None, channel="phone", summary="  ")
    with pytest.raises(CrmError):
        interaction_record(actor=None, channel="fax", summary="x")
    assert Interaction.objects.count() == 0


def test_levis_sees_no_interaction_of_laval(information_type, levis):
    interaction_record(actor=None, channel="phone", summary="Laval seulement")
    with schema_context(levis.schema_name):
        assert Interaction.objects.count() == 0
