"""Following a request on the portal: by the e-mail's link (number and token) or by typing both;
the status in plain words, the expected date, the town's public replies and never an internal
note; nothing with a wrong token, nor at another town."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from crm.models import ServiceRequest
from crm.services import request_add_note
from tests.factories import ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/Toronto")


def _request(**fields: object) -> ServiceRequest:
    service_request = ServiceRequestFactory(
        description="Un gros nid-de-poule devant le 12.", **fields
    )
    agent = UserFactory(is_staff=True)
    request_add_note(
        actor=agent,
        service_request=service_request,
        message="Une équipe passera cette semaine.",
        public=True,
    )
    request_add_note(
        actor=agent,
        service_request=service_request,
        message="Note interne : voir avec le contremaître.",
        public=False,
    )
    return service_request


def _link(service_request: ServiceRequest, prefix: str = "") -> str:
    return f"{prefix}/suivi/{service_request.number}/?jeton={service_request.tracking_token}"


def test_the_link_shows_the_status_in_plain_words_and_the_public_replies_only(client_for, laval):
    with schema_context(laval.schema_name):
        service_request = _request()
        ServiceRequest.objects.filter(pk=service_request.pk).update(
            sla_due_at=datetime(2026, 12, 9, 16, 30, tzinfo=TZ)
        )

    response = client_for(laval).get(_link(service_request))

    assert response.status_code == 200
    text = response.text
    assert f"<h1>Demande {service_request.number}</h1>" in text
    assert f'<p class="type-demande">{service_request.service_type.name_fr}</p>' in text
    assert "Reçue : votre demande attend d&#x27;être prise en charge." in text or (
        "Reçue : votre demande attend d'être prise en charge." in text
    )
    assert "mercredi 9 décembre 2026" in text
    assert "Une équipe passera cette semaine." in text
    assert "Un gros nid-de-poule devant le 12." in text
    assert "Note interne" not in text
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex"


def test_a_wrong_or_missing_token_shows_nothing_of_the_request(client_for, laval):
    with schema_context(laval.schema_name):
        service_request = _request()
    client = client_for(laval)

    wrong = client.get(f"/suivi/{service_request.number}/?jeton=devine")
    missing = client.get(f"/suivi/{service_request.number}/")

    for response in (wrong, missing):
        assert response.status_code == 404
        assert "Ce lien de suivi n&#x27;est pas valide." in response.text or (
            "Ce lien de suivi n'est pas valide." in response.text
        )
        assert "nid-de-poule devant" not in response.text
        assert "Une équipe passera" not in response.text


def test_lavals_link_shows_nothing_at_levis(client_for, laval, levis):
    with schema_context(laval.schema_name):
        service_request = _request()

    response = client_for(levis).get(_link(service_request))

    assert response.status_code == 404
    assert "nid-de-poule devant" not in response.text


def test_the_form_takes_the_number_and_code_and_leads_to_the_request(client_for, laval):
    with schema_context(laval.schema_name):
        service_request = _request()
    client = client_for(laval)

    page = client.get("/suivi/")
    found = client.get(
        "/suivi/",
        {"numero": f" {service_request.number} ", "jeton": service_request.tracking_token},
    )

    assert page.status_code == 200
    assert 'name="numero"' in page.text
    assert 'name="jeton"' in page.text
    assert found.status_code == 302
    assert found["Location"] == _link(service_request)


def test_the_form_says_what_is_missing_or_wrong_and_keeps_what_was_typed(client_for, laval):
    with schema_context(laval.schema_name):
        service_request = _request()
    client = client_for(laval)

    blank = client.get("/suivi/", {"numero": "", "jeton": ""})
    unknown = client.get("/suivi/", {"numero": service_request.number, "jeton": "pas-le-bon"})

    assert blank.status_code == 400
    assert "Indiquez le numéro de la demande." in blank.text
    assert "Indiquez le code de suivi." in blank.text
    assert unknown.status_code == 404
    assert "Aucune demande ne correspond à ce numéro et à ce code de suivi." in unknown.text
    assert f'value="{service_request.number}"' in unknown.text
    assert "nid-de-poule devant" not in unknown.text


def test_the_tracking_page_in_english(client_for, laval):
    with schema_context(laval.schema_name):
        service_request = _request()

    response = client_for(laval).get(
        f"/en/track/{service_request.number}/?jeton={service_request.tracking_token}"
    )

    assert response.status_code == 200
    assert f"<h1>Request {service_request.number}</h1>" in response.text
    assert "Received: your request is waiting to be taken on." in response.text
    assert "The City&#x27;s reply:" in response.text or "The City's reply:" in response.text


def test_citizens_html_is_shown_inert(client_for, laval):
    with schema_context(laval.schema_name):
        service_request = ServiceRequestFactory(description='<script>alert("x")</script>')

    response = client_for(laval).get(_link(service_request))

    assert '<script>alert("x")</script>' not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.text
