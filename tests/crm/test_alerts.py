"""Alerts by topic and sector, a request's sector from its place, and following a request
instead of reporting it twice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from crm import services
from crm.errors import CrmError
from crm.models import (
    AlertTopic,
    ConsentPurpose,
    Notification,
    NotificationKind,
    RequestSubscription,
)
from crm.roles import AGENT, SUPERVISOR, Viewer
from crm.selectors import sector_at
from tests.factories import CitizenFactory, SectorFactory, ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

# Two neighbouring squares around Laval's city hall (longitude, latitude).
WEST = {
    "type": "Polygon",
    "coordinates": [
        [[-73.76, 45.55], [-73.74, 45.55], [-73.74, 45.57], [-73.76, 45.57], [-73.76, 45.55]]
    ],
}
EAST = {
    "type": "Polygon",
    "coordinates": [
        [[-73.74, 45.55], [-73.72, 45.55], [-73.72, 45.57], [-73.74, 45.57], [-73.74, 45.55]]
    ],
}


def _follower(*, topic, sector=None, channel="email", **fields):
    citizen = CitizenFactory(**fields)
    services.citizen_preferences_set(
        actor=None, citizen=citizen, choices={ConsentPurpose.ALERTS: channel}
    )
    services.alert_subscriptions_set(
        citizen=citizen, topics=[topic], sectors=[sector] if sector else []
    )
    return citizen


def test_every_town_starts_with_the_four_topics(in_laval):
    assert list(AlertTopic.objects.values_list("code", flat=True)) == [
        "collectes",
        "travaux-routiers",
        "eau",
        "urgences",
    ]


def test_a_request_placed_in_a_sector_gets_it(in_laval):
    west, east = SectorFactory(boundary=WEST), SectorFactory(boundary=EAST)
    SectorFactory(boundary=None)
    assert sector_at(latitude=Decimal("45.56"), longitude=Decimal("-73.75")) == west
    assert sector_at(latitude=Decimal("45.56"), longitude=Decimal("-73.73")) == east
    assert sector_at(latitude=Decimal("45.60"), longitude=Decimal("-73.73")) is None
    placed = ServiceRequestFactory(latitude="45.56", longitude="-73.73", address="")
    assert placed.sector == east
    typed = ServiceRequestFactory(address="1, rue A")
    assert typed.sector is None


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [-73.75, 45.56]},
        {"type": "Polygon", "coordinates": [[[-73.76, 45.55], [-73.74]]]},
        # A bow tie: crosses itself.
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [-73.76, 45.55],
                    [-73.74, 45.57],
                    [-73.74, 45.55],
                    [-73.76, 45.57],
                    [-73.76, 45.55],
                ]
            ],
        },
        # Latitude and longitude swapped: in Antarctica.
        {
            "type": "Polygon",
            "coordinates": [[[45.55, -73.76], [45.55, -73.74], [45.57, -73.74], [45.55, -73.76]]],
        },
    ],
)
def test_a_bad_boundary_is_refused_with_a_message(in_laval, boundary):
    sector = SectorFactory.build(boundary=boundary)
    with pytest.raises(ValidationError) as refused:
        sector.full_clean()
    assert "boundary" in refused.value.message_dict


def test_an_alert_reaches_the_subscribers_of_its_topic_in_its_sectors_in_their_language(in_laval):
    west, east = SectorFactory(boundary=WEST), SectorFactory(boundary=EAST)
    roads = AlertTopic.objects.get(code="travaux-routiers")
    water = AlertTopic.objects.get(code="eau")
    in_west = _follower(topic=roads, sector=west, email="ouest@exemple.qc.ca")
    anywhere = _follower(topic=roads, email="partout@exemple.qc.ca", preferred_language="en")
    by_text = _follower(topic=roads, sector=west, channel="sms", phone="4505550199")
    _follower(topic=roads, sector=east, email="est@exemple.qc.ca")
    _follower(topic=water, sector=west, email="eau@exemple.qc.ca")
    _follower(topic=roads, sector=west, channel="none", email="rien@exemple.qc.ca")
    supervisor = UserFactory(is_staff=True)

    alert = services.alert_publish(
        actor=supervisor,
        viewer=Viewer(SUPERVISOR, user=supervisor),
        topic=roads,
        sectors=[west],
        title_fr="Boulevard fermé",
        body_fr="Le boulevard est fermé <b>demain</b>.",
        title_en="Boulevard closed",
        body_en="The boulevard is closed tomorrow.",
    )

    sent = {m.recipient: m for m in Notification.objects.filter(alert=alert)}
    assert set(sent) == {in_west.email, anywhere.email, by_text.phone}
    assert all(m.kind == NotificationKind.ALERT for m in sent.values())
    assert sent[in_west.email].subject == "Travaux routiers : Boulevard fermé"
    assert "&lt;b&gt;demain&lt;/b&gt;" in sent[in_west.email].body_html
    assert sent[anywhere.email].subject == "Road works: Boulevard closed"
    assert sent[by_text.phone].channel == "sms"


def test_only_supervisors_and_administrators_publish_and_texts_are_checked(in_laval):
    roads = AlertTopic.objects.get(code="travaux-routiers")
    agent = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        services.alert_publish(
            actor=agent,
            viewer=Viewer(AGENT, user=agent),
            topic=roads,
            sectors=[],
            title_fr="T",
            body_fr="B",
        )
    supervisor = UserFactory(is_staff=True)
    with pytest.raises(CrmError) as refused:
        services.alert_publish(
            actor=supervisor,
            viewer=Viewer(SUPERVISOR, user=supervisor),
            topic=roads,
            sectors=[],
            title_fr="",
            body_fr="B",
        )
    assert (refused.value.code, refused.value.field) == ("invalid_alert", "title_fr")
    assert not roads.alerts.exists()


def test_following_a_request_instead_of_reporting_it_twice(in_laval):
    author, neighbour = CitizenFactory(), CitizenFactory()
    service_request = ServiceRequestFactory(citizen=author)
    assert services.request_subscribe(citizen=neighbour, service_request=service_request)
    assert not services.request_subscribe(citizen=neighbour, service_request=service_request)
    assert not services.request_subscribe(citizen=author, service_request=service_request)
    assert RequestSubscription.objects.filter(request=service_request).count() == 1
    closed = ServiceRequestFactory(status="closed")
    with pytest.raises(CrmError) as refused:
        services.request_subscribe(citizen=neighbour, service_request=closed)
    assert refused.value.code == "illegal_transition"


def test_a_second_town_gets_none_of_the_first_towns_alerts(laval, levis):
    with schema_context(laval.schema_name):
        roads = AlertTopic.objects.get(code="travaux-routiers")
        _follower(topic=roads)
        supervisor = UserFactory(is_staff=True)
        services.alert_publish(
            actor=supervisor,
            viewer=Viewer(SUPERVISOR, user=supervisor),
            topic=roads,
            sectors=[],
            title_fr="T",
            body_fr="B",
        )
    with schema_context(levis.schema_name):
        assert not AlertTopic.objects.get(code="travaux-routiers").alerts.exists()
        assert not Notification.objects.exists()
