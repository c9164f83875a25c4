"""Session-wide fixtures: two towns created once per test database and reused.

django-tenants' TenantTestCase builds a schema per test class; here Laval and Lévis are created
once (and kept by --reuse-db), and every test runs in a rolled-back transaction.

Also the fixtures every app's tests share: clients for a town (`client_for`, `key_client`,
`staff_client`), Laval's `catalog`, `api_key` and `import_catalog`. Models are built with the
factories of tests/factories.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.selectors.town_config import town_config_forget
from tenants import routing
from tenants.models import Municipality, Region
from tenants.services import municipality_create
from tests.accounts import signed_in_staff
from tests.crm.api_catalog import api_catalog
from tests.factories import (
    ApiKeyFactory,
    DepartmentFactory,
    SectorFactory,
    ServiceTypeFactory,
    StaffProfileFactory,
    UserFactory,
)

BASE_DOMAIN = "localhost"

TOWNS: dict[str, dict[str, Any]] = {
    "laval": {
        "name": "Ville de Laval",
        "display_name": "Laval",
        "kind": Municipality.Kind.HOST,
        "region": Region.LAVAL,
        "population": 438_366,
        "privacy_officer_name": "Julie Responsable",
        "privacy_officer_email": "vie-privee@laval.localhost",
        "primary_colour": "#00558c",
    },
    "levis": {
        "name": "Ville de Lévis",
        "display_name": "Lévis",
        "kind": Municipality.Kind.PARTNER,
        "region": Region.CHAUDIERE_APPALACHES,
        "population": 149_683,
        "privacy_officer_name": "Marc Gardien",
        "privacy_officer_email": "vie-privee@levis.localhost",
        "primary_colour": "#1b5e20",
    },
}


def data_queries(captured: CaptureQueriesContext) -> list[str]:
    """The SQL a request ran, without the shared cache's (rate-limit counters, sign-in
    lock-outs): those are one or two statements per counter, and absent with Redis."""
    return [q["sql"] for q in captured.captured_queries if '"relais_cache"' not in q["sql"]]


def host_of(municipality: Municipality) -> str:
    return f"{municipality.slug}.{BASE_DOMAIN}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        host = None
        for slug, spec in TOWNS.items():
            town = Municipality.objects.filter(slug=slug).first()
            fields = {
                **spec,
                "status": Municipality.Status.LIVE,
                "host": host if spec["kind"] == Municipality.Kind.PARTNER else None,
            }
            if town is None:
                town = municipality_create(slug=slug, domain=f"{slug}.{BASE_DOMAIN}", **fields)
            else:
                # --reuse-db keeps the towns: bring them back to this fixture's state, whatever
                # an interrupted run (or a changed fixture) left behind.
                Municipality.objects.filter(pk=town.pk).update(**fields)
            if town.kind == Municipality.Kind.HOST:
                host = town
        connection.set_schema_to_public()


def _clear_shared_cache() -> None:
    """Empty the cache on a connection of its own, committed at once: inside the test's
    transaction the deletion would hold row locks that a server or worker process of the
    test (writing the same rate-limit key) would wait on until the test ends."""

    def clear() -> None:
        try:
            cache.clear()
        finally:
            connections.close_all()

    thread = threading.Thread(target=clear)
    thread.start()
    thread.join(30)


DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def _uses_database(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _throttle_windows_stand_still(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limits count by fixed windows (crm/api/throttling.py): a test whose calls
    straddled the turn of a minute would see its count start again. In the tests' process the
    throttles' clock stands still one second into the current day (UTC), so every window of a
    minute, an hour or a day stays the same for the test; the counters' own expiry is real
    (tests/shared_config/test_shared_cache.py tests it)."""
    from crm.api.throttling import WindowRateThrottle

    now = time.time()
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: now - now % 86400 + 1))


@pytest.fixture(autouse=True)
def _reset_tenancy(request: pytest.FixtureRequest, django_db_blocker: Any) -> Iterator[None]:
    """Each test starts and ends on the public schema with a cold routing table and an empty
    cache (rate-limit counters of sign-ins and of the API included). The cache is shared by
    every process (Redis, or a table of the test database), so emptying it needs the database:
    only for a test that uses it (pytest-django creates the test database only when a selected
    test needs it; a run of database-free tests alone must not reach the development one)."""
    if _uses_database(request):
        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            _clear_shared_cache()
    routing.invalidate()
    # The towns' intake configuration kept by this process (crm/selectors/town_config.py):
    # a test's rolled-back tables must not meet a copy made by another test.
    town_config_forget()
    yield
    connection.set_schema_to_public()
    routing.invalidate()


@pytest.fixture
def laval(db: None) -> Municipality:
    return Municipality.objects.get(slug="laval")


@pytest.fixture
def levis(db: None) -> Municipality:
    return Municipality.objects.get(slug="levis")


@pytest.fixture
def client_for() -> Callable[[Municipality | str], Client]:
    """A test client whose requests carry the Host of a town (or of any host name given)."""

    def make(target: Municipality | str) -> Client:
        host = target if isinstance(target, str) else host_of(target)
        return Client(HTTP_HOST=host)

    return make


@pytest.fixture
def key_client() -> Callable[..., Client]:
    """`key_client(town, key)`: a test client on the town's host that sends an integration's
    key (`Authorization: Api-Key …`) with every request; other arguments go to the Client."""

    def make(town: Municipality, key: str, **defaults: Any) -> Client:
        return Client(HTTP_HOST=host_of(town), HTTP_AUTHORIZATION=f"Api-Key {key}", **defaults)

    return make


@pytest.fixture
def platform_client() -> Client:
    return Client(HTTP_HOST=BASE_DOMAIN)


@pytest.fixture
def staff_client() -> Callable[..., Client]:
    """`staff_client(town, role)`: a new staff account of `town`, signed in on its host the way
    a person does (password, then a TOTP code, as staff rights require). The account is on
    `client.user`.

    `role` is one of crm's staff roles (agent, department, supervisor, administrator), None for
    a staff account without a role, or "superuser" for the town's first administrator (every
    right, no role). `department` goes with the department and supervisor roles; `permissions`
    are codenames of crm's Django permissions (the admin's pages need them); `email` defaults to
    a fresh address.
    """

    def make(
        town: Municipality,
        role: str | None,
        *,
        email: str | None = None,
        department: Any = None,
        permissions: tuple[str, ...] = (),
    ) -> Client:
        account: dict[str, Any] = {"is_staff": True} | ({"email": email} if email else {})
        with schema_context(town.schema_name):
            if role is None or role == "superuser":
                user = UserFactory(**account, is_superuser=role == "superuser")
            else:
                profile = StaffProfileFactory(
                    role=role,
                    department=department,
                    **{f"user__{name}": value for name, value in account.items()},
                )
                user = profile.user
            if permissions:
                user.user_permissions.set(
                    Permission.objects.filter(
                        content_type__app_label="crm", codename__in=list(permissions)
                    )
                )
        return signed_in_staff(host_of(town), town.schema_name, user)

    return make


@pytest.fixture
def catalog(laval: Municipality) -> dict[str, Any]:
    """Laval's small catalog, the one the API tests work on (see tests/crm/api_catalog.py):
    departments `roads` and `parks`; `pothole` (public, a required choice `taille`: petit or
    grand), `tree` (public, no location) and `internal` (staff only); and `articles`, one
    published for the public and one for agents only."""
    with schema_context(laval.schema_name):
        return api_catalog()


@pytest.fixture
def api_key(laval: Municipality) -> str:
    """A write key of Laval's, named after the mobile app that uses it ("Voilà! Signalement"):
    the key itself, as an integrator sends it."""
    with schema_context(laval.schema_name):
        return ApiKeyFactory(name="Voilà! Signalement", scope="write").secret


@pytest.fixture
def queued_task() -> Iterator[Callable[..., str]]:
    """Queue a task in PostgreSQL, committed so that a worker process sees it (see
    tests/processes.py); returns its id. The tasks queued are deleted after the test."""
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from tests.e2e.test_accessibility import committed

    queued: list[str] = []

    def enqueue(task: Any, *args: Any, **kwargs: Any) -> str:
        def write() -> None:
            backend = {"default": {"BACKEND": "tenants.tasks_backend.DatabaseBackend"}}
            with override_settings(TASKS=backend):
                queued.append(str(task.enqueue(*args, **kwargs).id))

        committed(write)
        return queued[-1]

    yield enqueue
    committed(lambda: DBTaskResult.objects.filter(id__in=queued).delete())


@pytest.fixture
def import_catalog(laval: Municipality) -> dict[str, object]:
    """Laval's catalog for the import tests: a type that needs a location and one that does
    not, in their departments, and a sector."""
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="voirie")
        return {
            "roads": roads,
            "pothole": ServiceTypeFactory(code="nid-de-poule", department=roads),
            "graffiti": ServiceTypeFactory(code="graffiti", location_required=False, sla_value=5),
            "sector": SectorFactory(code="centre"),
        }
