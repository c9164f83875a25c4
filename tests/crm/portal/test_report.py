"""Reporting a problem on the portal: choosing the type (by subject or a few words), its
questions validated as the APIs validate them, where and what, optional contact details; the
request is filed by the web channel and the person lands on its tracking page. Bad input keeps
what was typed and files nothing; a double submission files one request; another town offers
none of Laval's types."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from crm.models import Channel, Citizen, ServiceCategory, ServiceRequest
from tests.factories import ServiceAttributeFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db


def _catalog() -> dict[str, object]:
    roads = ServiceCategory.objects.create(code="voirie", name_fr="Voirie", name_en="Roads")
    potholes = ServiceTypeFactory(
        code="nid-de-poule", name_fr="Nid-de-poule", name_en="Pothole", category=roads
    )
    ServiceAttributeFactory(
        service_type=potholes, code="taille", label_fr="Taille du trou", required=True
    )
    internal = ServiceTypeFactory(code="interne", name_fr="Tâche interne", is_public=False)
    information = ServiceTypeFactory(code="info", name_fr="Information voirie", kind="information")
    return {"potholes": potholes, "internal": internal, "information": information}


def _submission(page: str) -> str:
    return re.search(r'name="submission" value="(\w+)"', page).group(1)


def _post(client, page_text: str, **fields: str):
    data = {
        "submission": _submission(page_text),
        "attribute_taille": "grand",
        "address": "12, rue des Érables",
        "description": "Un trou profond devant l'école.",
        "first_name": "Léa",
        "last_name": "Tremblay",
        "email": "lea.tremblay@exemple.qc.ca",
        "phone": "",
        **fields,
    }
    return client.post("/signaler/nid-de-poule/", data)


def test_the_types_offered_are_the_public_ones_by_subject_or_by_words(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    client = client_for(laval)

    listing = client.get("/signaler/").text
    found = client.get("/signaler/", {"q": "NID de poule"}).text
    none = client.get("/signaler/", {"q": "piscine"}).text

    assert '<h2 id="groupe-1">Voirie</h2>' in listing
    assert 'href="/signaler/nid-de-poule/">Nid-de-poule</a>' in listing
    assert "Tâche interne" not in listing
    assert "Information voirie" not in listing
    assert 'href="/signaler/nid-de-poule/"' in found
    assert "Aucun type de problème ne correspond à « piscine »." in none


@pytest.mark.parametrize("code", ["interne", "info", "inconnu"])
def test_an_internal_an_information_or_an_unknown_type_cannot_be_reported(client_for, laval, code):
    with schema_context(laval.schema_name):
        _catalog()

    assert client_for(laval).get(f"/signaler/{code}/").status_code == 404


def test_a_report_is_filed_by_the_web_and_leads_to_its_tracking_page(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    client = client_for(laval)
    form = client.get("/signaler/nid-de-poule/")

    response = _post(client, form.text)

    assert form.status_code == 200
    assert "Taille du trou" in form.text
    assert response.status_code == 302
    with schema_context(laval.schema_name):
        filed = ServiceRequest.objects.get()
        assert filed.channel == Channel.WEB
        assert filed.attributes == {"taille": "grand"}
        assert filed.address == "12, rue des Érables"
        assert filed.citizen.email == "lea.tremblay@exemple.qc.ca"
        assert filed.created_by is None
    assert response["Location"] == f"/suivi/{filed.number}/?jeton={filed.tracking_token}"
    page = client.get(response["Location"])
    assert f"Merci! Votre demande {filed.number} est reçue." in page.text
    assert "Un trou profond devant" in page.text


def test_bad_input_is_refused_next_to_its_field_keeping_what_was_typed(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    client = client_for(laval)
    form = client.get("/signaler/nid-de-poule/")

    response = _post(client, form.text, attribute_taille="", email="pas-un-courriel")
    missing_place = _post(client, client.get("/signaler/nid-de-poule/").text, address="")

    assert response.status_code == 400
    assert "Saisissez une adresse courriel valide, par exemple nom@exemple.ca." in response.text
    assert 'value="12, rue des Érables"' in response.text
    assert "Un trou profond devant l&#x27;école." in response.text
    assert missing_place.status_code == 400
    assert 'id="erreurs"' in missing_place.text
    with schema_context(laval.schema_name):
        assert not ServiceRequest.objects.exists()
        assert not Citizen.objects.filter(email="lea.tremblay@exemple.qc.ca").exists()


def test_a_missing_answer_is_refused_by_the_service_as_the_api_refuses_it(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    client = client_for(laval)

    response = _post(client, client.get("/signaler/nid-de-poule/").text, attribute_taille="")

    assert response.status_code == 400
    assert (
        'id="id_attribute_taille_error"' in response.text
        or "Taille du trou" in (response.text.split('id="erreurs"')[1])
    )
    with schema_context(laval.schema_name):
        assert not ServiceRequest.objects.exists()


def test_a_double_submission_files_one_request(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    client = client_for(laval)
    page = client.get("/signaler/nid-de-poule/").text

    first = _post(client, page)
    second = _post(client, page)  # a double click: the same form, the same token

    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    with schema_context(laval.schema_name):
        assert ServiceRequest.objects.count() == 1


def test_another_town_offers_none_of_lavals_types(client_for, laval, levis):
    with schema_context(laval.schema_name):
        _catalog()
    client = client_for(levis)

    listing = client.get("/signaler/")
    form = client.get("/signaler/nid-de-poule/")

    assert "Nid-de-poule" not in listing.text
    assert form.status_code == 404


def test_the_report_in_english(client_for, laval):
    with schema_context(laval.schema_name):
        _catalog()
    client = client_for(laval)

    listing = client.get("/en/report/")
    form = client.get("/en/report/nid-de-poule/")

    assert 'href="/en/report/nid-de-poule/">Pothole</a>' in listing.text
    assert "<h1>Report: Pothole</h1>" in form.text


def test_a_second_click_waits_for_the_first_and_gets_the_same_page(monkeypatch):
    """The first POST is still preparing photos when the second arrives: the second waits for
    it (the shared cache says "pending", then where the first one went) and answers the same
    page, since the browser shows the second answer only."""
    from crm.desk import once

    answers = iter([once.PENDING, once.PENDING, "/suivi/2026-000999/?jeton=le-premier"])

    class SlowFirst:
        def get(self, key: str, default: str = "") -> str:
            return next(answers, "/suivi/2026-000999/?jeton=le-premier")

    monkeypatch.setattr(once, "cache", SlowFirst())
    monkeypatch.setattr(once, "WAIT_STEP", 0.01)

    assert once._settled("desk-submission:None:jeton") == "/suivi/2026-000999/?jeton=le-premier"


def test_an_anonymous_report_never_joins_an_existing_persons_record(client_for, laval):
    """Typing a resident's e-mail proves nothing: the report gets a record of its own (staff
    merge the two if they are the same person), and the resident's record is untouched."""
    from crm.services import citizen_create

    with schema_context(laval.schema_name):
        _catalog()
        resident = citizen_create(actor=None, email="lea.tremblay@exemple.qc.ca")
    client = client_for(laval)

    _post(client, client.get("/signaler/nid-de-poule/").text)

    with schema_context(laval.schema_name):
        filed = ServiceRequest.objects.get()
        assert filed.citizen_id != resident.pk
        assert filed.citizen.email == "lea.tremblay@exemple.qc.ca"
        assert not ServiceRequest.objects.filter(citizen=resident).exists()
