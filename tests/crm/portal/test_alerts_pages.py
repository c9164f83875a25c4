"""The alerts pages: the portal's `/alertes/` (those in force for everyone; a signed-in citizen
chooses topics, sectors and channel) and the workspace's publishing page (supervisors and
administrators); another town sees none of it."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from crm import selectors, services
from crm.models import Alert, AlertSubscription, AlertTopic, Citizen, Notification
from crm.roles import ADMINISTRATOR, AGENT, SUPERVISOR, Viewer
from crm.services import citizen_for_account
from tests.factories import DepartmentFactory, SectorFactory, UserFactory

pytestmark = pytest.mark.django_db


def _citizen_client(town, client_for, **fields) -> tuple[Client, Citizen]:
    with schema_context(town.schema_name):
        user = UserFactory(email=fields.pop("email", "lea@exemple.qc.ca"))
        citizen = citizen_for_account(user=user)
        for name, value in fields.items():
            setattr(citizen, name, value)
        citizen.save()
        client = client_for(town)
        client.force_login(user)
    return client, citizen


def _publish(town, *, title="Collecte reportée", ends_in=None, published_ago=None, **fields):
    with schema_context(town.schema_name):
        staff = UserFactory(is_staff=True)
        now = timezone.now()
        return services.alert_publish(
            actor=staff,
            viewer=Viewer(user=staff, role=ADMINISTRATOR),
            topic=AlertTopic.objects.get(code=fields.pop("topic", "collectes")),
            sectors=fields.pop("sectors", []),
            title_fr=title,
            body_fr=fields.pop("body_fr", "La collecte de lundi a lieu mardi."),
            ends_at=now + ends_in if ends_in else None,
            now=now - published_ago if published_ago else now,
            **fields,
        )


def test_alerts_in_force_are_shown_to_everyone_in_their_language(client_for, laval, levis):
    _publish(laval, title="Collecte reportée", title_en="Pickup postponed")
    _publish(laval, title="Travaux terminés", published_ago=timedelta(days=20))
    _publish(
        laval,
        title="Avis d'ébullition",
        topic="eau",
        published_ago=timedelta(days=20),
        ends_in=timedelta(days=25),
    )

    french = client_for(laval).get("/alertes/")
    english = client_for(laval).get("/en/alerts/")

    assert french.status_code == english.status_code == 200
    assert "Collecte reportée" in french.text
    assert "Avis d&#x27;ébullition" in french.text
    assert "Travaux terminés" not in french.text  # no end, published 20 days ago
    assert "Pickup postponed" in english.text
    assert "Créer mon compte" in french.text  # subscribing needs an account
    assert "Collecte reportée" not in client_for(levis).get("/alertes/").text


def test_a_citizen_subscribes_by_topic_and_sector_and_receives_the_next_alert(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        north, south = SectorFactory(name_fr="Nord"), SectorFactory(name_fr="Sud")
        collectes = AlertTopic.objects.get(code="collectes")

    page = client.get("/alertes/")
    saved = client.post(
        "/alertes/", {"topics": [collectes.pk], "sectors": [north.pk], "channel": "email"}
    )

    assert page.status_code == 200
    assert "Nord" in page.text
    assert saved.status_code == 302
    assert saved["Location"] == "/alertes/#mes-alertes"
    with schema_context(laval.schema_name):
        assert list(AlertSubscription.objects.values_list("citizen", "topic", "sector")) == [
            (citizen.pk, collectes.pk, north.pk)
        ]
        assert selectors.portal_preferences_of(citizen=citizen)["alerts"] == "email"
    _publish(laval, title="Sud seulement", sectors=[south])
    _publish(laval, title="Nord seulement", sectors=[north])
    with schema_context(laval.schema_name):
        sent = Notification.objects.filter(citizen=citizen)
        assert [n.subject for n in sent] == ["Collectes : Nord seulement"]
        assert "/alertes/" in sent.get().body_text
    shown = client.get("/alertes/").context["form"]
    assert shown["sectors"].value() == [north.pk]
    assert (shown["topics"].value(), shown["channel"].value()) == ([collectes.pk], "email")


def test_topics_without_a_channel_or_sms_without_a_phone_are_refused(client_for, laval):
    client, _citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        eau = AlertTopic.objects.get(code="eau")

    no_channel = client.post("/alertes/", {"topics": [eau.pk], "channel": "none"})
    no_phone = client.post("/alertes/", {"topics": [eau.pk], "channel": "sms"})
    bad_topic = client.post("/alertes/", {"topics": ["999999"], "channel": "email"})

    assert no_channel.status_code == no_phone.status_code == bad_topic.status_code == 400
    assert "Choisissez le courriel ou le texto" in no_channel.text
    assert "Ajoutez un numéro de téléphone" in no_phone.text
    assert 'id="erreurs"' in bad_topic.text
    with schema_context(laval.schema_name):
        assert not AlertSubscription.objects.exists()


def test_unchecking_everything_unsubscribes(client_for, laval):
    client, citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        eau = AlertTopic.objects.get(code="eau")
    client.post("/alertes/", {"topics": [eau.pk], "channel": "email"})

    response = client.post("/alertes/", {"channel": "none"}, follow=True)

    assert "Vous ne recevrez plus d'alertes." in unescape(response.text)
    with schema_context(laval.schema_name):
        assert not AlertSubscription.objects.filter(citizen=citizen).exists()


def test_anonymous_posts_are_sent_to_sign_in_and_staff_get_the_403_page(
    client_for, staff_client, laval
):
    anonymous = client_for(laval).post("/alertes/", {"channel": "email"})
    staff = staff_client(laval, AGENT).post("/alertes/", {"channel": "email"})

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/comptes/login/")
    assert staff.status_code == 403


def test_a_laval_account_cannot_subscribe_at_levis(client_for, laval, levis):
    client, _citizen = _citizen_client(laval, client_for)
    levis_client = client_for(levis)
    levis_client.cookies = client.cookies

    response = levis_client.post("/alertes/", {"channel": "email"})

    assert response.status_code == 302  # not signed in there
    with schema_context(levis.schema_name):
        assert not AlertSubscription.objects.exists()


def test_supervisors_publish_from_the_workspace_and_see_the_reach(
    client_for, staff_client, laval, levis
):
    _subscriber, citizen = _citizen_client(laval, client_for)
    with schema_context(laval.schema_name):
        collectes = AlertTopic.objects.get(code="collectes")
        services.alert_choices_set(
            actor=None, citizen=citizen, topics=[collectes], sectors=[], channel="email"
        )
    with schema_context(laval.schema_name):
        works = DepartmentFactory()
    client = staff_client(laval, SUPERVISOR, department=works)
    form = client.get("/personnel/alertes/")
    token = form.context["form"]["submission"].value()
    data = {
        "topic": collectes.pk,
        "title_fr": "Collecte reportée <script>alert(1)</script>",
        "body_fr": "Mardi plutôt que lundi.",
        "ends_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "submission": token,
    }

    published = client.post("/personnel/alertes/", data)
    again = client.post("/personnel/alertes/", data)  # a double click

    assert form.status_code == 200
    assert published.status_code == again.status_code == 302
    listed = client.get("/personnel/alertes/")
    assert "1 message envoyé aux abonnés" in listed.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listed.text
    with schema_context(laval.schema_name):
        assert Alert.objects.count() == 1
        assert Notification.objects.filter(citizen=citizen).count() == 1
    portal = client_for(laval).get("/alertes/")
    assert "&lt;script&gt;" in portal.text
    assert "<script>alert(1)" not in portal.text
    assert client_for(levis).get("/alertes/").text.count("Collecte reportée") == 0


def test_publishing_refuses_bad_input_next_to_the_field_and_agents_may_not(staff_client, laval):
    client = staff_client(laval, ADMINISTRATOR)
    token = client.get("/personnel/alertes/").context["form"]["submission"].value()
    with schema_context(laval.schema_name):
        topic = AlertTopic.objects.get(code="eau")

    refused = client.post(
        "/personnel/alertes/",
        {
            "topic": topic.pk,
            "title_fr": "",
            "body_fr": "x" * 2001,
            "ends_at": "2020-01-01T10:00",
            "submission": token,
        },
    )
    past = client.post(
        "/personnel/alertes/",
        {
            "topic": topic.pk,
            "title_fr": "Eau",
            "body_fr": "Texte",
            "ends_at": "2020-01-01T10:00",
            "submission": token,
        },
    )

    assert refused.status_code == past.status_code == 400
    assert "Ce champ est obligatoire." in refused.text
    assert "La fin de l'alerte doit être dans l'avenir." in unescape(past.text)
    assert 'value="Eau"' in past.text
    assert staff_client(laval, AGENT).get("/personnel/alertes/").status_code == 403
    with schema_context(laval.schema_name):
        assert not Alert.objects.exists()
