"""One list of requests for every interface: `selectors.request_list(viewer=…, filters=…)`
applies each role's scope and the filters, and `services.request_intake(viewer=…)` files a
request as each kind of caller does, whether it came through REST, Open311 or a page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from crm import selectors
from crm.errors import CrmError
from crm.models import Citizen, ServiceRequest
from crm.roles import (
    ADMINISTRATOR,
    AGENT,
    CITIZEN,
    DEPARTMENT,
    KEY,
    PUBLIC,
    PUBLISHED_REGISTER,
    SUPERVISOR,
    Viewer,
)
from crm.services import IntakeContact, api_key_create, request_create, request_intake
from tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    ServiceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/Toronto")
LAVAL_POINT = {"latitude": "45.557", "longitude": "-73.721"}


def _request(service_type, *, citizen=None, when=None):
    return request_create(
        actor=None,
        service_type=service_type,
        channel="web",
        citizen=citizen,
        now=when or datetime(2026, 11, 23, 9, 0, tzinfo=TZ),
        **LAVAL_POINT,
    )


@pytest.fixture
def world(in_laval):
    roads, parks = DepartmentFactory(code="voirie"), DepartmentFactory(code="parcs")
    pothole = ServiceTypeFactory(code="nid-de-poule", department=roads, is_public=True)
    internal = ServiceTypeFactory(code="interne", department=parks, is_public=False)
    camille = CitizenFactory()
    return {
        "roads": roads,
        "parks": parks,
        "camille": camille,
        "mine": _request(pothole, citizen=camille),
        "roads_other": _request(pothole, when=datetime(2026, 11, 24, 9, 0, tzinfo=TZ)),
        "parks_internal": _request(internal, when=datetime(2026, 11, 25, 9, 0, tzinfo=TZ)),
    }


def _numbers(viewer, filters=selectors.NO_FILTERS):
    return sorted(r.number for r in selectors.request_list(viewer=viewer, filters=filters))


def _key(scope="read"):
    api_key, _secret = api_key_create(actor=None, name=f"Clé {scope}", scope=scope)
    return api_key


def test_each_role_reads_its_own_scope(world):
    every = sorted(world[k].number for k in ("mine", "roads_other", "parks_internal"))
    staff = UserFactory(is_staff=True)

    assert _numbers(Viewer(ADMINISTRATOR, user=staff)) == every
    assert _numbers(Viewer(AGENT, user=staff)) == every
    assert _numbers(Viewer(KEY, api_key=_key())) == every
    assert _numbers(Viewer(SUPERVISOR, user=staff, department=world["roads"])) == sorted(
        [world["mine"].number, world["roads_other"].number]
    )
    assert _numbers(Viewer(DEPARTMENT, user=staff, department=world["parks"])) == [
        world["parks_internal"].number
    ]
    assert _numbers(Viewer(CITIZEN, citizen=world["camille"])) == [world["mine"].number]
    assert _numbers(Viewer(PUBLIC)) == []
    # The published register: requests of public types only.
    assert _numbers(PUBLISHED_REGISTER) == sorted(
        [world["mine"].number, world["roads_other"].number]
    )


def test_filters_narrow_within_the_scope(world):
    agent = Viewer(AGENT, user=UserFactory(is_staff=True))
    Filters = selectors.RequestFilters

    assert _numbers(agent, Filters(department_code="parcs")) == [world["parks_internal"].number]
    assert _numbers(agent, Filters(service_codes=("nid-de-poule",))) == sorted(
        [world["mine"].number, world["roads_other"].number]
    )
    assert _numbers(agent, Filters(statuses=frozenset({"closed"}))) == []
    assert _numbers(
        agent,
        Filters(
            created_after=datetime(2026, 11, 24, 9, 0, tzinfo=TZ),
            created_before=datetime(2026, 11, 25, 9, 0, tzinfo=TZ),
        ),
    ) == [world["roads_other"].number]
    assert _numbers(
        agent, Filters(created_until=datetime(2026, 11, 24, 9, 0, tzinfo=TZ))
    ) == sorted([world["mine"].number, world["roads_other"].number])
    # Numbers override every other filter (Open311's rule), inside the scope still.
    assert _numbers(agent, Filters(numbers=(world["mine"].number,), department_code="parcs")) == [
        world["mine"].number
    ]
    assert _numbers(PUBLISHED_REGISTER, Filters(numbers=(world["parks_internal"].number,))) == []


def test_a_request_outside_the_scope_does_not_exist_for_the_viewer(world):
    supervisor = Viewer(SUPERVISOR, user=UserFactory(is_staff=True), department=world["parks"])

    with pytest.raises(CrmError) as refused:
        selectors.request_for(viewer=supervisor, number=world["mine"].number)

    assert (refused.value.code, refused.value.status) == ("not_found", 404)
    found = selectors.request_for(viewer=supervisor, number=world["parks_internal"].number)
    assert found.pk == world["parks_internal"].pk


def test_intake_sets_channel_citizen_and_priority_by_who_files(world):
    pothole = world["mine"].service_type
    agent = Viewer(AGENT, user=UserFactory(is_staff=True))
    camille = Viewer(CITIZEN, user=UserFactory(), citizen=world["camille"])
    app = Viewer(KEY, api_key=_key("write"))

    by_phone = request_intake(
        viewer=agent,
        service_type=pothole,
        citizen_id=world["camille"].pk,
        priority="high",
        **LAVAL_POINT,
    )
    from_app = request_intake(viewer=camille, service_type=pothole, priority="high", **LAVAL_POINT)
    from_api = request_intake(
        viewer=app,
        service_type=pothole,
        contact=IntakeContact(email="Nouveau@Exemple.qc.ca", first_name="Noé"),
        priority="high",
        **LAVAL_POINT,
    )

    assert (by_phone.channel, by_phone.citizen, by_phone.priority) == (
        "phone",
        world["camille"],
        "high",
    )
    assert (from_app.channel, from_app.citizen, from_app.priority) == (
        "app",
        world["camille"],
        pothole.default_priority,
    )
    assert (from_api.channel, from_api.channel_detail, from_api.priority) == (
        "api",
        "Clé write",
        pothole.default_priority,
    )
    assert from_api.citizen.email == "nouveau@exemple.qc.ca"
    # The same contact again is the same citizen, found by e-mail.
    again = request_intake(
        viewer=app,
        service_type=pothole,
        contact=IntakeContact(email="nouveau@exemple.qc.ca"),
        **LAVAL_POINT,
    )
    assert again.citizen == from_api.citizen


def test_a_refused_intake_leaves_neither_a_request_nor_a_citizen(world):
    pothole = world["mine"].service_type
    app = Viewer(KEY, api_key=_key("write"))
    before = (ServiceRequest.objects.count(), Citizen.objects.count())

    with pytest.raises(CrmError) as refused:
        request_intake(
            viewer=app,
            service_type=pothole,
            contact=IntakeContact(email="neuf@exemple.qc.ca"),
            latitude="12",  # outside Québec: refused after the citizen was found or created
            longitude="-73.7",
        )

    assert refused.value.code == "invalid_location"
    assert (ServiceRequest.objects.count(), Citizen.objects.count()) == before
    with pytest.raises(CrmError) as unknown:
        request_intake(
            viewer=Viewer(AGENT, user=UserFactory(is_staff=True)),
            service_type=pothole,
            citizen_id=10**9,
            **LAVAL_POINT,
        )
    assert (unknown.value.code, unknown.value.status) == ("not_found", 404)


def test_another_town_lists_none_of_the_first_towns_requests(world, levis):
    with schema_context(levis.schema_name):
        staff = UserFactory(is_staff=True)
        assert _numbers(Viewer(ADMINISTRATOR, user=staff)) == []
        assert _numbers(PUBLISHED_REGISTER) == []
