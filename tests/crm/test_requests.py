from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from crm import selectors
from crm.errors import CrmError
from crm.models import (
    CrmSettings,
    EventKind,
    RequestCounter,
    RequestEvent,
    RequestStatus,
    RoutingRule,
    ServiceRequest,
)
from crm.roles import AGENT, Viewer
from crm.services import (
    request_add_note,
    request_assign,
    request_cancel,
    request_change_status,
    request_check_sla,
    request_merge,
)
from tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    SectorFactory,
    ServiceAttributeFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/Toronto")
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
LAVAL_POINT = {"latitude": "45.557", "longitude": "-73.721"}


# This file's requests come from the web on Monday 23 November 2026 at 9:00, at a point in Laval;
# a test changes what it is about.
web_request = partial(
    ServiceRequestFactory,
    channel="web",
    description="Un nid-de-poule profond devant le 12, rue Principale.",
    address="",
    now=MONDAY_9AM,
    **LAVAL_POINT,
)


def _nothing_written():
    return (
        ServiceRequest.objects.count(),
        RequestEvent.objects.count(),
        list(RequestCounter.objects.values_list("year", "last_number")),
    )


def test_a_request_is_numbered_routed_timed_and_logged(in_laval):
    service_type = ServiceTypeFactory(sla_value=2, sla_unit="days")
    citizen = CitizenFactory()

    first = web_request(service_type=service_type, citizen=citizen)
    second = web_request(service_type=service_type)

    assert first.number == "2026-000001"
    assert second.number == "2026-000002"
    assert first.status == RequestStatus.NEW
    assert first.department == service_type.department
    assert first.kind == "request"
    assert first.priority == "normal"
    assert first.sla_due_at == datetime(2026, 11, 25, 9, 0, tzinfo=TZ)
    assert first.latitude == Decimal("45.557000")
    assert len(first.tracking_token) >= 20
    assert first.tracking_token != second.tracking_token
    events = list(first.events.values_list("kind", "visibility", "to_status"))
    assert events == [(EventKind.CREATED, "public", "new")]


def test_numbers_restart_each_year(in_laval):
    service_type = ServiceTypeFactory()
    web_request(service_type=service_type, now=datetime(2026, 12, 31, 23, 0, tzinfo=TZ))
    new_year = web_request(service_type=service_type, now=datetime(2027, 1, 1, 0, 30, tzinfo=TZ))

    assert new_year.number == "2027-000001"


def test_a_sla_in_hours_counts_working_hours(in_laval):
    service_type = ServiceTypeFactory(sla_value=4, sla_unit="hours")
    friday_3pm = datetime(2026, 11, 27, 15, 0, tzinfo=TZ)

    request = web_request(service_type=service_type, now=friday_3pm)

    assert request.sla_due_at == datetime(2026, 11, 30, 11, 0, tzinfo=TZ)  # 1.5 h + 2.5 h


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"latitude": "48.5", "longitude": "2.35"}, "invalid_location", "longitude"),  # Paris
        ({"latitude": "-73.7", "longitude": "45.5"}, "invalid_location", "latitude"),  # swapped
        ({"latitude": "abc", "longitude": "-73.7"}, "invalid_location", "latitude"),
        ({"latitude": "45.5", "longitude": None}, "invalid_location", "longitude"),
        ({"latitude": None, "longitude": None, "address": ""}, "location_required", "location"),
        ({"channel": "pigeon"}, "invalid_channel", "channel"),
        ({"priority": "tout-de-suite"}, "invalid_priority", "priority"),
        ({"description": "x" * 4001}, "description_too_long", "description"),
        ({"close_at_intake": True}, "not_information", "service_type"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(in_laval, overrides, code, field):
    service_type = ServiceTypeFactory()
    before = _nothing_written()

    with pytest.raises(CrmError) as error:
        web_request(service_type=service_type, **overrides)

    assert (error.value.code, error.value.field) == (code, field)
    assert error.value.message
    assert _nothing_written() == before


def test_an_address_is_enough_when_a_location_is_required(in_laval):
    request = web_request(latitude=None, longitude=None, address="12, rue Principale")
    assert (request.address, request.latitude) == ("12, rue Principale", None)


def test_invalid_answers_are_refused_naming_the_field(in_laval):
    attribute = ServiceAttributeFactory(
        code="taille",
        label_fr="Taille du trou",
        datatype="singlevaluelist",
        required=True,
        choices=["petit", "grand"],
    )
    before = _nothing_written()

    with pytest.raises(CrmError) as missing:
        web_request(service_type=attribute.service_type, attributes={})
    with pytest.raises(CrmError) as outside:
        web_request(service_type=attribute.service_type, attributes={"taille": "immense"})

    assert missing.value.field == "attribute[taille]"
    assert missing.value.message == "Le champ « Taille du trou » est obligatoire."
    assert (
        outside.value.message == "« immense » n'est pas un choix possible pour « Taille du trou »."
    )
    assert _nothing_written() == before
    ok = web_request(service_type=attribute.service_type, attributes={"taille": "grand"})
    assert ok.attributes == {"taille": "grand"}


def test_a_sector_rule_overrides_the_department(in_laval):
    service_type = ServiceTypeFactory()
    sector, other_sector = SectorFactory(code="chomedey"), SectorFactory(code="vimont")
    any_type = DepartmentFactory(code="bureau-chomedey")
    this_type = DepartmentFactory(code="voirie-chomedey")
    RoutingRule.objects.create(sector=sector, service_type=None, department=any_type)

    assert web_request(service_type=service_type, sector=sector).department == any_type
    RoutingRule.objects.create(sector=sector, service_type=service_type, department=this_type)
    assert web_request(service_type=service_type, sector=sector).department == this_type
    assert (
        web_request(service_type=service_type, sector=other_sector).department
        == service_type.department
    )


def test_the_workflow_allows_only_its_transitions(in_laval):
    request = web_request()
    agent = UserFactory(is_staff=True)

    request = request_change_status(actor=agent, service_request=request, status="in_progress")
    request = request_change_status(actor=agent, service_request=request, status="resolved")
    assert request.resolved_at is not None
    events_before = request.events.count()

    with pytest.raises(CrmError) as error:
        request_change_status(actor=agent, service_request=request, status="new")

    assert error.value.code == "illegal_transition"
    assert error.value.status == 409
    assert error.value.message == "Une requête « Résolue » ne peut pas passer à « Nouvelle »."
    request.refresh_from_db()
    assert request.status == RequestStatus.RESOLVED
    assert request.events.count() == events_before
    request = request_change_status(actor=agent, service_request=request, status="closed")
    assert list(request.events.values_list("from_status", "to_status").order_by("id"))[1:] == [
        ("new", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert request.events.order_by("id").last().actor == agent


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("closed", "illegal_transition"),
        ("cancelled", "use_dedicated_action"),
        ("duplicate", "use_dedicated_action"),
        ("bidon", "invalid_status"),
    ],
)
def test_statuses_that_need_their_own_action_or_do_not_exist(in_laval, status, code):
    request = web_request()
    with pytest.raises(CrmError) as error:
        request_change_status(actor=None, service_request=request, status=status)
    request.refresh_from_db()
    assert error.value.code == code
    assert request.status == "new"
    assert request.events.count() == 1


def test_time_on_hold_extends_the_due_time(in_laval):
    two_days = ServiceTypeFactory(sla_value=2, sla_unit="days")
    request = web_request(service_type=two_days)  # due Wed 9:00
    request_change_status(
        actor=None,
        service_request=request,
        status="on_hold",
        now=datetime(2026, 11, 23, 10, 0, tzinfo=TZ),
    )
    resumed = request_change_status(
        actor=None,
        service_request=request,
        status="in_progress",
        now=datetime(2026, 11, 24, 10, 0, tzinfo=TZ),  # one working day (8 h) on hold
    )

    assert resumed.sla_paused_at is None
    assert resumed.sla_due_at == datetime(2026, 11, 26, 9, 0, tzinfo=TZ)


def test_assignment_moves_a_new_request_to_assigned(in_laval):
    request = web_request()
    agent, department = UserFactory(is_staff=True), DepartmentFactory(code="parcs")
    with pytest.raises(CrmError) as error:
        request_assign(actor=None, service_request=request, assignee=UserFactory())
    assert (error.value.code, request.events.count()) == ("not_staff", 1)

    request = request_assign(
        actor=None, service_request=request, department=department, assignee=agent
    )

    assert (request.status, request.department, request.assignee) == ("assigned", department, agent)
    assert request.events.filter(kind="assigned").get().data == {
        "department": "parcs",
        "assignee": agent.pk,
    }


def test_notes_are_internal_and_replies_public(in_laval):
    request = web_request()

    request_add_note(
        actor=None, service_request=request, message="Équipe prévue jeudi.", public=False
    )
    request_add_note(actor=None, service_request=request, message="Réparation jeudi.", public=True)

    public = selectors.request_timeline(service_request=request, public_only=True)
    assert [e.message for e in public if e.kind != "created"] == ["Réparation jeudi."]
    with pytest.raises(CrmError):
        request_add_note(actor=None, service_request=request, message="   ", public=True)


def test_refused_assign_cancel_and_merge_write_nothing(in_laval):
    closed = request_cancel(actor=None, service_request=web_request(), reason="Réglé.")
    other = web_request()
    events_before = RequestEvent.objects.count()
    snapshot = list(
        ServiceRequest.objects.values_list("id", "status", "department_id", "assignee_id")
    )

    for attempt in (
        lambda: request_assign(actor=None, service_request=closed, department=DepartmentFactory()),
        lambda: request_assign(actor=None, service_request=other),
        lambda: request_cancel(actor=None, service_request=closed, reason="Encore"),
        lambda: request_merge(actor=None, duplicate=other, parent=closed),
        lambda: request_merge(actor=None, duplicate=other, parent=other),
    ):
        with pytest.raises(CrmError):
            attempt()

    assert RequestEvent.objects.count() == events_before
    assert (
        list(ServiceRequest.objects.values_list("id", "status", "department_id", "assignee_id"))
        == snapshot
    )


def test_cancellation_needs_a_reason(in_laval):
    request = web_request()
    with pytest.raises(CrmError) as error:
        request_cancel(actor=None, service_request=request, reason=" ")
    assert error.value.field == "reason"

    request = request_cancel(actor=None, service_request=request, reason="Réglé par le citoyen.")

    assert (request.status, request.cancellation_reason) == ("cancelled", "Réglé par le citoyen.")
    with pytest.raises(CrmError):
        request_cancel(actor=None, service_request=request, reason="Encore")


def test_nearby_requests_of_the_same_type_are_duplicates_and_merge(in_laval):
    service_type = ServiceTypeFactory()
    parent = web_request(service_type=service_type, latitude="45.557000", longitude="-73.721000")
    # ~24 m from the first, then ~330 m
    near = web_request(service_type=service_type, latitude="45.557200", longitude="-73.721100")
    far = web_request(service_type=service_type, latitude="45.560000", longitude="-73.721000")
    other_type = web_request(latitude="45.557000", longitude="-73.721000")

    candidates = selectors.request_duplicate_candidates(
        service_type=service_type,
        latitude=near.latitude,
        longitude=near.longitude,
        now=MONDAY_9AM,
        exclude_pk=near.pk,
    )
    assert [c.service_request for c in candidates] == [parent]
    assert 20 < candidates[0].distance_m < 30
    assert far.pk
    assert other_type.pk

    merged = request_merge(actor=None, duplicate=near, parent=parent)

    assert (merged.status, merged.duplicate_of) == ("duplicate", parent)
    assert parent.events.filter(kind="merged").get().data == {"duplicate": near.number}
    with pytest.raises(CrmError):
        request_merge(actor=None, duplicate=near, parent=parent)
    CrmSettings.objects.filter(pk=1).update(duplicate_radius_m=500)
    wide = selectors.request_duplicate_candidates(
        service_type=service_type,
        latitude=parent.latitude,
        longitude=parent.longitude,
        now=MONDAY_9AM,
        exclude_pk=parent.pk,
    )
    assert [c.service_request for c in wide] == [far]


def test_sla_warnings_count_working_time_then_breaches_are_recorded_once(in_laval):
    friday_9am = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
    request = web_request(
        service_type=ServiceTypeFactory(sla_value=1, sla_unit="days"), now=friday_9am
    )
    # Due Monday 9:00: 480 working minutes; the warning comes at 80 %, Friday 15:24.
    assert request.sla_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    assert request.sla_warn_at == datetime(2026, 11, 27, 15, 24, tzinfo=TZ)

    assert request_check_sla(now=datetime(2026, 11, 27, 15, 0, tzinfo=TZ)) == (0, 0)
    assert request_check_sla(now=datetime(2026, 11, 27, 15, 30, tzinfo=TZ)) == (1, 0)
    assert request_check_sla(now=datetime(2026, 11, 28, 12, 0, tzinfo=TZ)) == (0, 0)
    assert request_check_sla(now=datetime(2026, 11, 30, 9, 1, tzinfo=TZ)) == (0, 1)
    assert request_check_sla(now=datetime(2026, 12, 1, 9, 1, tzinfo=TZ)) == (0, 0)
    kinds = list(request.events.values_list("kind", flat=True).order_by("id"))
    assert kinds == ["created", "sla_warning", "sla_breached"]


def test_a_request_on_hold_is_neither_warned_nor_breached(in_laval):
    request = web_request(service_type=ServiceTypeFactory(sla_value=1, sla_unit="hours"))
    request_change_status(
        actor=None,
        service_request=request,
        status="on_hold",
        now=datetime(2026, 11, 23, 9, 30, tzinfo=TZ),
    )

    assert request_check_sla(now=datetime(2026, 11, 30, 9, 0, tzinfo=TZ)) == (0, 0)
    assert request.events.filter(kind__startswith="sla").count() == 0


def test_an_information_request_can_be_closed_at_intake(in_laval):
    information = ServiceTypeFactory(kind="information", location_required=False, sla_value=None)

    request = web_request(
        service_type=information, latitude=None, longitude=None, close_at_intake=True
    )

    assert (request.status, request.first_contact_resolution) == ("closed", True)
    assert request.closed_at == MONDAY_9AM
    assert request.sla_due_at is None


def test_the_timeline_is_append_only_in_code_and_in_the_database(in_laval):
    event = web_request().events.get()

    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    for statement in ("UPDATE crm_requestevent SET message = 'x'", "DELETE FROM crm_requestevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert RequestEvent.objects.filter(message="x").count() == 0


def test_request_list_costs_the_same_queries_for_one_or_many(in_laval, django_assert_num_queries):
    agent = Viewer(AGENT, user=UserFactory(is_staff=True))
    service_type = ServiceTypeFactory()
    web_request(service_type=service_type, citizen=CitizenFactory())
    with django_assert_num_queries(1):
        rows = [
            (r.number, r.service_type.code, r.department.code, r.citizen)
            for r in selectors.request_list(viewer=agent)
        ]
    assert len(rows) == 1
    for _ in range(5):
        web_request(service_type=service_type, citizen=CitizenFactory())
    with django_assert_num_queries(1):
        rows = [
            (r.number, r.service_type.code, r.department.code, r.citizen)
            for r in selectors.request_list(viewer=agent)
        ]
    assert len(rows) == 6


def test_a_merged_citizen_stands_for_the_record_it_was_merged_into(in_laval):
    from crm.services import citizen_merge

    kept, merged = CitizenFactory(), CitizenFactory()
    citizen_merge(actor=None, kept=kept, merged=merged)
    merged.refresh_from_db()

    request = web_request(citizen=merged)

    assert request.citizen == kept


def test_a_misconfigured_calendar_is_a_clear_error_not_a_crash(in_laval):
    from crm.models import BusinessCalendar, WorkingHours

    WorkingHours.objects.all().delete()
    with pytest.raises(CrmError) as no_hours:
        web_request()
    BusinessCalendar.objects.update(time_zone="Amérique/Laval ")
    with pytest.raises(CrmError) as bad_zone:
        web_request()

    assert no_hours.value.code == bad_zone.value.code == "calendar_misconfigured"
    assert ServiceRequest.objects.count() == 0


def test_levis_sees_nothing_of_lavals_requests(laval, levis):
    with schema_context(laval.schema_name):
        request = web_request()
        assert ServiceRequest.objects.filter(number=request.number).exists()
    with schema_context(levis.schema_name):
        assert ServiceRequest.objects.count() == 0
        assert RequestEvent.objects.count() == 0
        assert RequestCounter.objects.count() == 0
        first_in_levis = web_request()
        assert first_in_levis.number == "2026-000001"  # Lévis has its own numbering


def test_the_check_sla_command_visits_each_town(laval, levis):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with schema_context(laval.schema_name):
        web_request(  # due 2 March 2026 at 10:00, long past
            service_type=ServiceTypeFactory(sla_value=1, sla_unit="hours"),
            now=datetime(2026, 3, 2, 9, 0, tzinfo=TZ),
        )
    out = StringIO()

    call_command("check_sla", stdout=out)

    assert "laval: 0 avertissement(s), 1 dépassement(s)" in out.getvalue()
    assert "levis: 0 avertissement(s), 0 dépassement(s)" in out.getvalue()
    with pytest.raises(CommandError, match="inconnue"):
        call_command("check_sla", tenant="inconnue")


def test_a_closure_day_in_laval_does_not_close_levis(laval, levis):
    from datetime import date

    from crm.models import BusinessCalendar, ClosureDay

    with schema_context(laval.schema_name):
        ClosureDay.objects.create(
            calendar=BusinessCalendar.objects.get(), date=date(2026, 11, 24), name="Tempête"
        )
        assert not selectors.working_calendar().is_working_day(date(2026, 11, 24))
    with schema_context(levis.schema_name):
        assert ClosureDay.objects.count() == 0
        assert selectors.working_calendar().is_working_day(date(2026, 11, 24))
