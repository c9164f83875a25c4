"""Law 25 on the portal: a citizen downloads everything the town holds on them (JSON, written
to the access log), deletes their account (password, then anonymised; refused while a request
is being handled), and reads the town's privacy policy (the administrator's text, or the
standard one) with its privacy officer. Another town sees none of it."""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from crm import privacy, services
from crm.models import (
    AccessLog,
    AlertSubscription,
    AlertTopic,
    Citizen,
    Notification,
    NotificationStatus,
    RequestStatus,
    ServiceRequest,
)
from crm.roles import ADMINISTRATOR
from crm.services import citizen_for_account
from tenants.accounts.models import User
from tests.factories import ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "un mot de passe solide 42"


def _citizen_client(town, client_for) -> tuple[Client, Citizen]:
    with schema_context(town.schema_name):
        user = UserFactory(email="lea@exemple.qc.ca", password=PASSWORD)
        citizen = citizen_for_account(user=user)
        citizen.first_name, citizen.phone = "Léa", "4505551234"
        citizen.save()
        services.alert_choices_set(
            actor=None,
            citizen=citizen,
            topics=[AlertTopic.objects.get(code="eau")],
            sectors=[],
            channel="email",
        )
        client = client_for(town)
        client.force_login(user)
    return client, citizen


def test_a_citizen_downloads_everything_the_town_holds_on_them(client_for, laval, levis):
    client, citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        mine = ServiceRequestFactory(citizen=citizen, description="Trou devant chez moi")
        agent = UserFactory(email="agent@laval.qc.ca", is_staff=True)
        services.request_add_note(
            actor=agent, service_request=mine, message="Note interne", public=False
        )
        services.access_log_record(
            actor=agent, citizen=citizen, action="view", purpose="Appel", context="desk"
        )

    response = client.post("/mon-compte/mes-donnees/")
    elsewhere = client_for(levis)
    elsewhere.cookies = client.cookies

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="mes-donnees-ville-de-laval-'
    )
    assert response["Cache-Control"] == "private, no-store"
    document = json.loads(response.content)
    assert document["version"] == 2
    assert document["citizen"]["email"] == "lea@exemple.qc.ca"
    assert [r["number"] for r in document["requests"]] == [mine.number]
    assert document["alert_subscriptions"][0]["topic"] == "eau"
    assert document["messages"][0]["kind"] == "received"
    assert document["access_log"][-1]["context"] == "portail"
    assert document["audience"] == "person"
    assert "Note interne" not in response.text  # the staff's notes are not the person's
    assert "agent@laval" not in response.text  # nor who among the staff did what
    assert document["access_log"][0]["actor"] == "ville"
    assert client.get("/mon-compte/mes-donnees/")["Location"] == "/mon-compte/#mes-renseignements"
    assert elsewhere.post("/mon-compte/mes-donnees/").status_code == 302  # not signed in there
    with schema_context(laval.schema_name):
        assert AccessLog.objects.filter(citizen=citizen, context="portail").count() == 1


def test_deleting_needs_the_password_and_the_box_and_waits_for_open_requests(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        open_request = ServiceRequestFactory(citizen=citizen)

    page = client.get("/mon-compte/supprimer/")
    wrong = client.post("/mon-compte/supprimer/", {"password": "non", "understood": "on"})
    unchecked = client.post("/mon-compte/supprimer/", {"password": PASSWORD})
    still_open = client.post("/mon-compte/supprimer/", {"password": PASSWORD, "understood": "on"})

    assert page.status_code == 200
    assert "Ce qui reste" in page.text
    assert wrong.status_code == unchecked.status_code == still_open.status_code == 400
    assert "n'est pas celui de votre compte" in unescape(wrong.text)
    assert "Cochez cette case pour confirmer." in unchecked.text
    assert "Vous avez 1 demande en cours" in still_open.text
    with schema_context(laval.schema_name):
        citizen.refresh_from_db()
        assert citizen.anonymised_at is None
        assert citizen.email == "lea@exemple.qc.ca"
        assert ServiceRequest.objects.get(pk=open_request.pk).citizen_id == citizen.pk


def test_the_password_may_be_tried_five_times_per_quarter_hour(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)

    tries = [
        client.post("/mon-compte/supprimer/", {"password": "non", "understood": "on"})
        for _attempt in range(6)
    ]
    right_one = client.post("/mon-compte/supprimer/", {"password": PASSWORD, "understood": "on"})

    assert "n'est pas celui de votre compte" in unescape(tries[4].text)
    assert "Trop d'essais" in unescape(tries[5].text)
    assert right_one.status_code == 400  # even the right password waits
    with schema_context(laval.schema_name):
        citizen.refresh_from_db()
        assert citizen.anonymised_at is None


def test_a_deleted_account_is_anonymised_signed_out_and_cannot_sign_in(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)
    account_id = citizen.account_id
    with schema_context(laval.schema_name):
        done = ServiceRequestFactory(citizen=citizen, description="Trou devant chez moi")
        ServiceRequest.objects.filter(pk=done.pk).update(status=RequestStatus.CLOSED)
        Notification.objects.filter(citizen=citizen).update(status=NotificationStatus.PENDING)

    deleted = client.post(
        "/mon-compte/supprimer/", {"password": PASSWORD, "understood": "on"}, follow=True
    )

    assert deleted.redirect_chain[-1][0] == "/"
    assert "Votre compte est supprimé" in deleted.text
    assert client.get("/mon-compte/").status_code == 302  # signed out
    signing_in = client_for(laval).post(
        "/comptes/login/", {"login": "lea@exemple.qc.ca", "password": PASSWORD}
    )
    assert signing_in.status_code == 200  # the form again: no such account any more
    with schema_context(laval.schema_name):
        citizen.refresh_from_db()
        assert citizen.anonymised_at is not None
        assert (citizen.email, citizen.first_name, citizen.phone) == ("", "", "")
        assert citizen.account_id is None
        assert not User.objects.get(pk=account_id).is_active
        assert not AlertSubscription.objects.filter(citizen=citizen).exists()
        message = Notification.objects.get(citizen=citizen)
        assert message.status == NotificationStatus.FAILED
        assert "lea@" not in message.recipient
        assert "Trou" not in message.body_text
        done.refresh_from_db()
        assert done.description != "Trou devant chez moi"
        assert AccessLog.objects.filter(citizen=citizen, action="erase").exists()


def test_the_privacy_page_shows_the_officer_and_the_standard_or_the_towns_text(
    client_for, staff_client, laval, levis
):
    standard = client_for(laval).get("/confidentialite/")
    administrator = staff_client(laval, ADMINISTRATOR)
    form = administrator.get("/personnel/catalogue/parametres/").context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value not in (None, False)}
    data |= {
        "privacy_policy_fr": "Notre politique.\n\n<script>alert(1)</script>",
        "privacy_policy_en": "",
        "submission": "politique",
    }
    saved = administrator.post("/personnel/catalogue/parametres/", data)
    french = client_for(laval).get("/confidentialite/")
    english = client_for(laval).get("/en/privacy/")

    assert standard.status_code == 200
    assert laval.privacy_officer_email in standard.text
    assert "Ce que nous recueillons" in standard.text
    assert "5 ans après sa fin" in standard.text
    assert saved.status_code == 302
    assert "<p>Notre politique.</p>" in french.text
    assert "&lt;script&gt;" in french.text
    assert "Ce que nous recueillons" not in french.text
    assert '<section aria-labelledby="titre-politique" lang="fr">' in english.text
    assert "Ce que nous recueillons" in client_for(levis).get("/confidentialite/").text
    assert 'href="/confidentialite/"' in client_for(laval).get("/").text


def test_retention_deletes_the_copies_of_old_messages(client_for, laval):
    _client, citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        ServiceRequestFactory(citizen=citizen)
        old = timezone.now() - timedelta(days=365 * 6)
        Notification.objects.filter(citizen=citizen).update(
            created_at=old, status=NotificationStatus.SENT
        )
        ServiceRequestFactory(citizen=citizen)

        privacy.retention_apply()

        assert Notification.objects.filter(citizen=citizen).count() == 1
