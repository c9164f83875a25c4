"""Mon compte: a citizen's requests, contact details, communication preferences per topic and
the history of their consents; bad input refused next to its field, nothing saved; another
town's account or a staff account opens nothing here."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import Citizen, Consent
from crm.services import citizen_for_account
from tests.factories import ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _citizen_client(town, client_for) -> tuple[Client, Citizen]:
    with schema_context(town.schema_name):
        user = UserFactory(email="lea@exemple.qc.ca")
        citizen = citizen_for_account(user=user)
        client = client_for(town)
        client.force_login(user)
    return client, citizen


def test_the_account_lists_the_persons_requests_with_their_tracking_links(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        mine = ServiceRequestFactory(citizen=citizen)
        ServiceRequestFactory()  # someone else's

    response = client.get("/mon-compte/")

    assert response.status_code == 200
    assert f'href="/suivi/{mine.number}/?jeton={mine.tracking_token}"' in response.text
    assert response.text.count("?jeton=") == 1
    assert "Reçue : votre demande attend" in response.text
    assert response["Cache-Control"] == "private, no-store"


def test_anonymous_visitors_are_sent_to_sign_in(client_for, laval):
    response = client_for(laval).get("/mon-compte/")

    assert response.status_code == 302
    assert response["Location"] == "/comptes/login/?next=/mon-compte/"


def test_contact_details_are_saved_or_refused_next_to_their_field(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)

    saved = client.post(
        "/mon-compte/coordonnees/",
        {
            "first_name": "Léa",
            "last_name": "Tremblay",
            "phone": "450 555-1234",
            "address": "12, rue des Érables",
            "preferred_language": "en",
        },
    )
    refused = client.post(
        "/mon-compte/coordonnees/",
        {"first_name": "Léa", "phone": "555", "preferred_language": "fr"},
    )

    assert saved.status_code == 302
    assert refused.status_code == 400
    assert "doit compter 10 chiffres" in refused.text
    assert 'value="555"' in refused.text
    with schema_context(laval.schema_name):
        citizen.refresh_from_db()
    assert (citizen.phone, citizen.preferred_language) == ("4505551234", "en")
    assert citizen.last_name == "Tremblay"


def test_preferences_per_topic_are_recorded_as_consents_with_their_date(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)
    choices = {"request_follow_up": "email", "alerts": "email", "surveys": "none"}

    first = client.post("/mon-compte/preferences/", choices)
    again = client.post("/mon-compte/preferences/", choices)  # nothing changed: nothing new
    page = client.get("/mon-compte/")

    assert first.status_code == again.status_code == 302
    with schema_context(laval.schema_name):
        recorded = list(
            Consent.objects.filter(citizen=citizen).values_list("purpose", "granted", "channel")
        )
    # Each explicit choice is recorded once, with its date; the same choices again add nothing.
    assert sorted(recorded) == [
        ("alerts", True, "email"),
        ("request_follow_up", True, "email"),
        ("surveys", False, ""),
    ]
    assert "Alertes municipales" in page.text
    assert "Accordé, par courriel" in page.text


def test_text_messages_need_a_phone_number(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)

    response = client.post(
        "/mon-compte/preferences/",
        {"request_follow_up": "sms", "alerts": "none", "surveys": "none"},
    )

    assert response.status_code == 400
    assert "Ajoutez un numéro de téléphone à vos coordonnées pour recevoir des textos." in (
        response.text
    )
    with schema_context(laval.schema_name):
        assert not Consent.objects.filter(citizen=citizen).exists()


def test_an_unknown_choice_is_refused(client_for, laval):
    client, _citizen = _citizen_client(laval, client_for)

    response = client.post(
        "/mon-compte/preferences/",
        {"request_follow_up": "pigeon", "alerts": "none", "surveys": "none"},
    )

    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.text


def test_a_laval_session_opens_nothing_at_levis_and_staff_have_no_citizen_account(
    client_for, laval, levis
):
    client, _citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        staff = UserFactory(is_staff=True)
        staff_client = client_for(laval)
        staff_client.force_login(staff)

    elsewhere = client_for(levis)
    elsewhere.cookies = client.cookies
    at_levis = elsewhere.get("/mon-compte/")
    as_staff = staff_client.get("/mon-compte/")

    assert at_levis.status_code == 302  # no session there: sign in at Lévis
    assert as_staff.status_code == 403
    assert "n&#x27;est pas un compte citoyen" in as_staff.text or (
        "n'est pas un compte citoyen" in as_staff.text
    )
