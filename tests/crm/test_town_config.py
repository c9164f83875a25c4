"""Each process keeps a town's intake configuration (crm/selectors/town_config.py) and sees an
administrator's change at its next read: a question added, a calendar changed, a key revoked,
a routing rule, in the same process and in a gunicorn worker; a rolled-back change never
stays; two towns never share a copy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from decimal import Decimal
from http.client import HTTPConnection

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.models import ApiKey, BusinessCalendar, CrmSettings, RoutingRule, ServiceAttributeValue
from crm.selectors import town_config as module
from crm.selectors.town_config import WATCHED_TABLES, town_config
from crm.services import api_key_revoke
from tests.e2e.test_accessibility import committed
from tests.factories import (
    ApiKeyFactory,
    DepartmentFactory,
    SectorFactory,
    ServiceAttributeFactory,
    ServiceCategoryFactory,
    ServiceTypeFactory,
)
from tests.processes import free_port, gunicorn, running, wait_for

pytestmark = pytest.mark.django_db

WEST = {
    "type": "Polygon",
    "coordinates": [
        [[-73.76, 45.55], [-73.74, 45.55], [-73.74, 45.57], [-73.76, 45.57], [-73.76, 45.55]]
    ],
}


class Rollback(Exception):
    pass


def _choices(code: str) -> list[str]:
    service_type = town_config().intake_type(code=code, internal=False)
    assert service_type is not None
    return [value.key for value in service_type.attributes.all()[0].values.all()]


def test_a_reused_copy_costs_one_query_and_a_new_choice_is_seen_at_once(laval):
    with schema_context(laval.schema_name):
        attribute = ServiceAttributeFactory(
            service_type__code="nid-de-poule", code="taille", choices=["petit", "grand"]
        )
        assert _choices("nid-de-poule") == ["petit", "grand"]
        calendar = town_config().calendar
        with CaptureQueriesContext(connection) as queries:
            assert _choices("nid-de-poule") == ["petit", "grand"]
            assert town_config().calendar is calendar
        assert len(queries) == 2  # the version, twice: nothing else is read again

        ServiceAttributeValue.objects.create(attribute=attribute, key="moyen", order=9)

        assert _choices("nid-de-poule") == ["petit", "grand", "moyen"]


def test_bulk_and_sql_changes_move_the_version_too(laval):
    with schema_context(laval.schema_name):
        service_type = ServiceTypeFactory(code="arbre", name_fr="Arbre")
        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre"

        type(service_type).objects.filter(pk=service_type.pk).update(name_fr="Arbre tombé")
        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre tombé"

        with connection.cursor() as cursor:
            cursor.execute("UPDATE crm_servicetype SET is_public = false WHERE code = 'arbre'")
        assert town_config().intake_type(code="arbre", internal=False) is None
        assert town_config().intake_type(code="arbre", internal=True) is not None


def test_a_calendar_or_warning_change_is_seen_at_the_next_read(laval):
    with schema_context(laval.schema_name):
        hours = town_config().calendar.hours
        calendar = BusinessCalendar.objects.get(pk=1)
        calendar.working_hours.filter(weekday=0).update(opens_at=time(6), closes_at=time(7))
        assert town_config().calendar.hours[0] == (time(6), time(7))
        assert town_config().calendar.hours != hours

        CrmSettings.objects.filter(pk=1).update(sla_warning_ratio=25)
        assert town_config().sla_warning_ratio == 25


def test_sectors_and_routing_rules_are_seen_when_they_change(laval):
    with schema_context(laval.schema_name):
        pothole = ServiceTypeFactory(code="nid-de-poule")
        config = town_config()
        point = {"latitude": Decimal("45.56"), "longitude": Decimal("-73.75")}
        assert config.sector_at(**point) is None

        west = SectorFactory(code="ouest", boundary=WEST)
        sector = town_config().sector_at(**point)
        assert sector == west
        assert town_config().routed_department(service_type=pothole, sector=west) == (
            pothole.department
        )

        parks = DepartmentFactory(code="parcs")
        RoutingRule.objects.create(sector=west, department=parks)
        assert town_config().routed_department(service_type=pothole, sector=west) == parks
        roads = DepartmentFactory(code="voirie")
        RoutingRule.objects.create(sector=west, service_type=pothole, department=roads)
        assert town_config().routed_department(service_type=pothole, sector=west) == roads


def test_a_revoked_key_is_refused_at_its_next_call_and_use_does_not_reload(laval):
    with schema_context(laval.schema_name):
        api_key = ApiKeyFactory(scope="write")
        digest = api_key.digest
        first = town_config()
        assert first.api_key(digest=digest) == api_key

        # Recording a use (once a minute) does not count as a change of the configuration.
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=datetime.now(UTC))
        assert town_config() is first

        api_key_revoke(actor=None, api_key=api_key)
        assert town_config().api_key(digest=digest) is None


def _renamed_then_rolled_back(code: str) -> str:
    """Rename the type `code` to « Jamais » by an update of many rows (no ORM signal) in a
    transaction that rolls back; the name the town's configuration gave inside it."""
    seen_inside = []

    def change_then_fail() -> None:
        with transaction.atomic():
            ServiceTypeFactory._meta.model.objects.filter(code=code).update(name_fr="Jamais")
            seen_inside.append(town_config().intake_type(code=code, internal=False).name_fr)
            raise Rollback

    with pytest.raises(Rollback):
        change_then_fail()
    return seen_inside[0]


def test_a_copy_made_inside_a_rolled_back_change_is_never_used(laval):
    with schema_context(laval.schema_name):
        ServiceTypeFactory(code="arbre", name_fr="Arbre")
        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre"
        assert _renamed_then_rolled_back("arbre") == "Jamais"

        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre"
        # A later committed-looking change whose value the rolled-back copy could have matched.
        ServiceTypeFactory._meta.model.objects.filter(code="arbre").update(name_fr="Arbre 2")
        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre 2"


def test_two_towns_never_share_a_copy(laval, levis):
    with schema_context(laval.schema_name):
        ServiceTypeFactory(code="arbre", name_fr="Arbre de Laval")
        laval_key = ApiKeyFactory().digest
        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre de Laval"
    with schema_context(levis.schema_name):
        assert town_config().intake_type(code="arbre", internal=False) is None
        assert town_config().api_key(digest=laval_key) is None
        ServiceTypeFactory(code="arbre", name_fr="Arbre de Lévis")
        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre de Lévis"
    with schema_context(laval.schema_name):
        assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre de Laval"


def test_every_watched_table_has_its_trigger(laval):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE t.tgname = 'crm_townconfig_changed' AND n.nspname = %s",
            [laval.schema_name],
        )
        tables = {name for (name,) in cursor.fetchall()}
    assert tables == set(WATCHED_TABLES)


def test_a_process_keeps_a_bounded_number_of_towns(laval, levis, monkeypatch):
    monkeypatch.setattr(module, "MAX_TOWNS", 1)
    with schema_context(laval.schema_name):
        town_config()
    with schema_context(levis.schema_name):
        town_config()
    assert list(module._towns) == [levis.schema_name]


# --- In a gunicorn worker ------------------------------------------------------------------------


def _cleanup(schema: str, code: str, key_name: str) -> None:
    with schema_context(schema):
        ServiceTypeFactory._meta.model.objects.filter(code=code).delete()
        DepartmentFactory._meta.model.objects.filter(code=code).delete()
        ServiceCategoryFactory._meta.model.objects.filter(code=code).delete()
        ApiKey.objects.filter(name=key_name).delete()


def test_a_gunicorn_worker_sees_each_change_at_its_next_request(laval, tmp_path):
    """The worker keeps its copy between requests; each committed change (a new type, a new
    required question, a revoked key) is seen by its very next request. No request is created:
    each answer is a refusal that only the current configuration explains."""
    schema, code, key_name = laval.schema_name, "cache-gunicorn", "Clé du test de cache"
    secret: dict[str, str] = {}

    def make_key() -> None:
        with schema_context(schema):
            secret["key"] = ApiKeyFactory(name=key_name, scope="write").secret

    committed(make_key)
    port = free_port()
    command, env = gunicorn(port, application="relais-town-config-test")

    def post() -> tuple[int, dict]:
        client = HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            body = json.dumps({"service_code": code, "description": "Test", "address": "1, rue"})
            client.request(
                "POST",
                "/api/v1/requests/",
                body=body,
                headers={
                    "Host": "laval.localhost",
                    "Content-Type": "application/json",
                    "Authorization": f"Api-Key {secret['key']}",
                },
            )
            response = client.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            client.close()

    def up() -> bool:
        try:
            return post()[0] == 404
        except OSError:
            return False

    def add_type() -> None:
        with schema_context(schema):
            ServiceTypeFactory(
                code=code,
                location_required=False,
                department=DepartmentFactory(code=code),
                category=ServiceCategoryFactory(code=code),
            )

    def add_question() -> None:
        with schema_context(schema):
            service_type = ServiceTypeFactory._meta.model.objects.get(code=code)
            ServiceAttributeFactory(
                service_type=service_type, code="urgence", required=True, choices=["oui", "non"]
            )

    def revoke() -> None:
        with schema_context(schema):
            api_key_revoke(actor=None, api_key=ApiKey.objects.get(name=key_name))

    try:
        with running(command, env=env, log=tmp_path / "gunicorn.log"):
            wait_for(up, timeout=60, what="gunicorn answers")
            assert post()[0] == 404  # the unknown type, from the worker's copy

            committed(add_type)
            committed(add_question)
            status, body = post()
            assert status == 400
            assert "urgence" in json.dumps(body)  # the question added a moment ago is required

            committed(revoke)
            status, body = post()
            assert status in (401, 403)
            assert body["error"]["code"] == "authentication_failed"
    finally:
        committed(lambda: _cleanup(schema, code, key_name))


def test_inside_a_request_a_transaction_checks_at_every_read(laval):
    """The request's memo is not used inside a transaction: a change made there without the
    ORM's signals (an update of many rows) is seen, and the copy made from it is never used
    once the transaction rolls back."""
    token = module._checked.set({})  # as during an HTTP request
    try:
        with schema_context(laval.schema_name):
            ServiceTypeFactory(code="arbre", name_fr="Arbre")
            assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre"
            assert _renamed_then_rolled_back("arbre") == "Jamais"
            assert town_config().intake_type(code="arbre", internal=False).name_fr == "Arbre"
    finally:
        module._checked.reset(token)


def test_unknown_codes_are_not_remembered(laval):
    with schema_context(laval.schema_name):
        config = town_config()
        for n in range(50):
            assert config.intake_type(code=f"inconnu-{n}", internal=False) is None
        assert config._types == {}
