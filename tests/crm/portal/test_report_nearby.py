"""« Est-ce l'une de celles-ci? »: before a problem is reported, the open requests of the same
type within 150 m are offered; following one subscribes the person (signed in, or by the
e-mail they give) instead of filing a duplicate, and a signed-in citizen finds it under « Mes
demandes ». Another town's requests are never offered."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django_tenants.utils import schema_context

from crm import services
from crm.models import RequestStatus, RequestSubscription, ServiceRequest
from crm.portal.throttling import NEARBY_RATE
from crm.services import citizen_for_account
from tests.factories import (
    ServiceAttributeFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    UserFactory,
)

NEARBY_PER_MINUTE = int(NEARBY_RATE.split("/")[0])
pytestmark = pytest.mark.django_db

# Laval's city hall, and points about 100 m and 400 m north of it.
HERE = ("45.558000", "-73.721000")
NEAR = ("45.558900", "-73.721000")
FAR = ("45.561600", "-73.721000")


def _potholes_with_one_nearby(town):
    with schema_context(town.schema_name):
        potholes = ServiceTypeFactory(code="nid-de-poule", name_fr="Nid-de-poule")
        ServiceAttributeFactory(service_type=potholes, code="taille", required=False)
        near = ServiceRequestFactory(
            service_type=potholes, latitude=NEAR[0], longitude=NEAR[1], address="1, rue Près"
        )
        ServiceRequestFactory(service_type=potholes, latitude=FAR[0], longitude=FAR[1])
        closed = ServiceRequestFactory(service_type=potholes, latitude=HERE[0], longitude=HERE[1])
        ServiceRequest.objects.filter(pk=closed.pk).update(status=RequestStatus.CLOSED)
    return near


def _report(client, **fields):
    page = client.get("/signaler/nid-de-poule/").text
    data = {
        "submission": re.search(r'name="submission" value="(\w+)"', page).group(1),
        "description": "Un trou profond.",
        "latitude": HERE[0],
        "longitude": HERE[1],
        **fields,
    }
    url = "/signaler/nid-de-poule/suivre/" if "suivre" in data else "/signaler/nid-de-poule/"
    return client.post(url, data)


def test_the_map_point_brings_the_open_requests_nearby(client_for, laval, levis):
    near = _potholes_with_one_nearby(laval)
    with schema_context(levis.schema_name):
        ServiceTypeFactory(code="nid-de-poule")

    found = client_for(laval).get(
        "/signaler/nid-de-poule/a-proximite/", {"latitude": HERE[0], "longitude": HERE[1]}
    )
    far_away = client_for(laval).get(
        "/signaler/nid-de-poule/a-proximite/", {"latitude": "46.8", "longitude": "-71.2"}
    )
    garbage = client_for(laval).get(
        "/signaler/nid-de-poule/a-proximite/", {"latitude": "<b>", "longitude": "1e999"}
    )
    elsewhere = client_for(levis).get(
        "/signaler/nid-de-poule/a-proximite/", {"latitude": HERE[0], "longitude": HERE[1]}
    )

    assert found.status_code == 200
    assert "Est-ce l'une de celles-ci?" in unescape(found.text)
    assert found.text.count('name="suivre"') == 1  # the far one and the closed one are not
    assert f'value="{near.number}"' in found.text
    assert "À 100 m" in found.text
    assert far_away.text.strip() == garbage.text.strip() == elsewhere.text.strip() == ""


def test_without_javascript_the_report_stops_once_to_offer_them(client_for, laval):
    near = _potholes_with_one_nearby(laval)
    client = client_for(laval)

    offered = _report(client)
    sent = _report(client, doublons_vus="1")

    assert offered.status_code == 200
    assert f'value="{near.number}"' in offered.text
    assert "Un trou profond." in offered.text  # what was typed is kept
    assert sent.status_code == 302
    with schema_context(laval.schema_name):
        assert ServiceRequest.objects.filter(description="Un trou profond.").count() == 1


def test_a_visitor_follows_a_nearby_request_with_their_email(client_for, laval):
    near = _potholes_with_one_nearby(laval)
    client = client_for(laval)

    refused = _report(client, suivre=near.number)
    followed = _report(client, suivre=near.number, email="voisin@exemple.qc.ca")

    assert refused.status_code == 400
    assert "Donnez votre courriel ou votre téléphone" in unescape(refused.text)
    assert followed.status_code == 302
    assert followed["Location"] == "/"
    with schema_context(laval.schema_name):
        follower = RequestSubscription.objects.get(request=near).citizen
        assert follower.email == "voisin@exemple.qc.ca"
        assert not ServiceRequest.objects.filter(description="Un trou profond.").exists()
        services.request_change_status(
            actor=None, service_request=near, status=RequestStatus.IN_PROGRESS
        )
        assert near.notifications.filter(recipient="voisin@exemple.qc.ca").exists()


def test_a_signed_in_citizen_finds_the_followed_request_in_their_account(client_for, laval):
    near = _potholes_with_one_nearby(laval)
    client = client_for(laval)
    with schema_context(laval.schema_name):
        user = UserFactory(email="lea@exemple.qc.ca")
        citizen = citizen_for_account(user=user)
        client.force_login(user)

    followed = _report(client, suivre=near.number)
    again = _report(client, suivre=near.number)
    account = client.get("/mon-compte/")

    assert followed.status_code == again.status_code == 302
    assert followed["Location"] == "/mon-compte/#suivies"
    assert "Les demandes que je suis" in account.text
    assert near.number in account.text
    assert f"jeton={near.tracking_token}" not in account.text  # someone else's request
    assert "/suivi/ne-plus-suivre/" in account.text
    with schema_context(laval.schema_name):
        assert RequestSubscription.objects.filter(citizen=citizen).count() == 1


def test_only_a_request_offered_for_that_point_can_be_followed(client_for, laval):
    near = _potholes_with_one_nearby(laval)
    with schema_context(laval.schema_name):
        far = ServiceRequest.objects.exclude(pk=near.pk).filter(latitude=FAR[0]).get()

    response = _report(client_for(laval), suivre=far.number, email="x@exemple.qc.ca")

    assert response.status_code == 400
    assert "plus ouverte" in response.text
    with schema_context(laval.schema_name):
        assert not RequestSubscription.objects.exists()


def test_a_follower_stops_following_by_the_link_of_their_message(client_for, laval, levis):
    near = _potholes_with_one_nearby(laval)
    client = client_for(laval)
    _report(client, suivre=near.number, email="voisin@exemple.qc.ca")
    with schema_context(laval.schema_name):
        services.request_change_status(
            actor=None, service_request=near, status=RequestStatus.IN_PROGRESS
        )
        message = near.notifications.get(recipient="voisin@exemple.qc.ca")
        link = re.search(r"http://\S+/suivi/ne-plus-suivre/\S+/", message.body_text).group(0)
    path = "/" + link.split("/", 3)[3]

    elsewhere = client_for(levis).get(path)
    confirm = client_for(laval).get(path)
    stopped = client_for(laval).post(path, follow=True)
    again = client_for(laval).post(path)

    assert elsewhere.status_code == 404
    assert confirm.status_code == 200
    assert "Ne plus la suivre" in confirm.text
    assert "Vous ne suivez plus la demande" in stopped.text
    assert again.status_code == 404
    with schema_context(laval.schema_name):
        assert not RequestSubscription.objects.filter(request=near).exists()
        services.request_change_status(
            actor=None, service_request=near, status=RequestStatus.ON_HOLD
        )
        assert near.notifications.filter(recipient="voisin@exemple.qc.ca").count() == 1


def test_one_address_sweeping_the_map_is_stopped_and_another_town_is_not(client_for, laval, levis):
    _potholes_with_one_nearby(laval)
    with schema_context(levis.schema_name):
        ServiceTypeFactory(code="nid-de-poule")
    point = {"latitude": HERE[0], "longitude": HERE[1]}
    sweeping = client_for(laval)

    answers = [
        sweeping.get("/signaler/nid-de-poule/a-proximite/", point).status_code
        for _ in range(NEARBY_PER_MINUTE + 1)
    ]
    refused = sweeping.get("/signaler/nid-de-poule/a-proximite/", point)
    elsewhere = client_for(levis).get("/signaler/nid-de-poule/a-proximite/", point)

    assert answers == [200] * NEARBY_PER_MINUTE + [429]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "réessayez dans une minute" in refused.text
    assert elsewhere.status_code == 200  # the same address, another town's allowance
