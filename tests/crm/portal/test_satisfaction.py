"""The satisfaction survey: offered on the tracking page once the request is resolved or
closed, answered once (1 to 5 and a comment), refused while it is open or with a wrong token,
shown in the dashboards of the department that handled it; its comment goes with
anonymisation, its score stays."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import ANONYMISED_TEXT, SatisfactionResponse, ServiceRequest
from crm.privacy import citizen_anonymise, citizen_data
from crm.roles import Viewer
from crm.selectors import PeriodKind, Satisfaction, dashboard_figures, dashboard_period
from crm.services import citizen_create, satisfaction_record
from tests.factories import DepartmentFactory, ServiceRequestFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db


def _link(service_request: ServiceRequest) -> str:
    return f"/suivi/{service_request.number}/?jeton={service_request.tracking_token}"


def _answer(client, service_request: ServiceRequest, **fields: str):
    return client.post(
        f"/suivi/{service_request.number}/avis/",
        {"jeton": service_request.tracking_token, "note": "4", "commentaire": "Rapide.", **fields},
    )


def test_a_resolved_request_asks_for_an_opinion_once(client_for, laval):
    with schema_context(laval.schema_name):
        resolved = ServiceRequestFactory(status="resolved")
    client = client_for(laval)

    page = client.get(_link(resolved))
    first = _answer(client, resolved)
    again = _answer(client, resolved, note="1")
    after = client.get(_link(resolved))

    assert "Êtes-vous satisfait du traitement de votre demande?" in page.text
    assert first.status_code == again.status_code == 302
    assert first["Location"] == f"{_link(resolved)}#avis"
    assert "Merci d&#x27;avoir donné votre avis : 4 sur 5." in after.text or (
        "Merci d'avoir donné votre avis : 4 sur 5." in after.text
    )
    assert 'name="note"' not in after.text
    with schema_context(laval.schema_name):
        assert list(SatisfactionResponse.objects.values_list("score", "comment", "language")) == [
            (4, "Rapide.", "fr")
        ]


def test_an_open_request_offers_no_survey_and_refuses_an_answer(client_for, laval):
    with schema_context(laval.schema_name):
        open_request = ServiceRequestFactory()
    client = client_for(laval)

    page = client.get(_link(open_request))
    response = client.get(_answer(client, open_request)["Location"])

    assert 'name="note"' not in page.text
    assert "Votre avis sera demandé quand la demande sera résolue." in response.text
    with schema_context(laval.schema_name):
        assert not SatisfactionResponse.objects.exists()


def test_a_bad_score_is_refused_with_a_message_and_the_comment_kept(client_for, laval):
    with schema_context(laval.schema_name):
        resolved = ServiceRequestFactory(status="resolved")

    response = _answer(client_for(laval), resolved, note="9", commentaire="Bien.")

    assert response.status_code == 400
    assert "Choisissez une note de 1 à 5." in response.text
    assert "Bien.</textarea>" in response.text
    with schema_context(laval.schema_name):
        assert not SatisfactionResponse.objects.exists()


def test_a_wrong_token_or_another_town_records_nothing(client_for, laval, levis):
    with schema_context(laval.schema_name):
        resolved = ServiceRequestFactory(status="resolved")

    wrong = _answer(client_for(laval), resolved, jeton="devine")
    elsewhere = _answer(client_for(levis), resolved)

    assert wrong.status_code == elsewhere.status_code == 404
    with schema_context(laval.schema_name):
        assert not SatisfactionResponse.objects.exists()


def test_the_dashboards_show_the_average_score_of_their_scope(laval):
    now = timezone.now()
    with schema_context(laval.schema_name):
        roads, parks = DepartmentFactory(), DepartmentFactory()
        for department, scores in ((roads, [5, 4, 2]), (parks, [1])):
            service_type = ServiceTypeFactory(department=department)
            for score in scores:
                request = ServiceRequestFactory(service_type=service_type, status="resolved")
                satisfaction_record(service_request=request, score=score, comment="", language="fr")
        period = dashboard_period(kind=PeriodKind.MONTH, day=now.date())
        town = dashboard_figures(viewer=Viewer("administrator"), period=period, now=now)
        supervisor = dashboard_figures(
            viewer=Viewer("supervisor", department=roads), period=period, now=now
        )

    assert town.satisfaction.current == Satisfaction(4, 3.0)
    assert supervisor.satisfaction.current.answers == 3
    assert supervisor.satisfaction.current.average == pytest.approx(11 / 3)
    assert supervisor.satisfaction.previous == Satisfaction(0, None)


def test_anonymisation_replaces_the_comment_and_keeps_the_score(laval):
    with schema_context(laval.schema_name):
        citizen = citizen_create(actor=None, email="lea@exemple.qc.ca")
        request = ServiceRequestFactory(citizen=citizen, status="resolved")
        satisfaction_record(
            service_request=request, score=2, comment="Mon voisin Jean…", language="fr"
        )
        citizen_anonymise(
            actor=None, citizen=citizen, reason="Demande d'effacement", context="test"
        )

        kept = SatisfactionResponse.objects.get()

    assert (kept.score, kept.comment) == (2, ANONYMISED_TEXT)


def test_the_survey_in_english(client_for, laval):
    with schema_context(laval.schema_name):
        resolved = ServiceRequestFactory(status="resolved")

    page = client_for(laval).get(f"/en/track/{resolved.number}/?jeton={resolved.tracking_token}")

    assert "Are you satisfied with how your request was handled?" in page.text


def test_the_persons_data_export_holds_their_answer(laval):
    with schema_context(laval.schema_name):
        citizen = citizen_create(actor=None, email="lea@exemple.qc.ca")
        request = ServiceRequestFactory(citizen=citizen, status="resolved")
        satisfaction_record(service_request=request, score=5, comment="Parfait.", language="fr")

        exported = citizen_data(citizen=citizen)

    [answer] = [r["satisfaction"] for r in exported["requests"]]
    assert (answer["score"], answer["comment"], answer["language"]) == (5, "Parfait.", "fr")
