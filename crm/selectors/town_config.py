"""A process's copy of what every intake reads and an administrator rarely changes: the service
types with their questions, the working calendar, the sectors and their routing rules, the SLA
warning ratio and the API keys.

Intake used to load all of it on every call (a dozen queries and most of a call's Python). Each
process now keeps it per town, and checks it with one query: a row `crm_townconfigversion`
that a statement trigger on each of those tables moves to a new value of a sequence, in the
transaction that changes them (migration crm 0025). So a change is seen by every process at its
next read, with no delay and no message to deliver:

- the value comes from a sequence, never rolled back: a copy loaded inside a transaction that
  is then rolled back carries a value that no committed change will ever have again;
- the check also reads the table's OID, so a town deleted and recreated under the same schema
  name (whose sequence starts again) never matches the old copy;
- an API key's `last_used_at`, written once a minute per key, is left out of the trigger;
- a town whose row is missing (tables emptied by a test) is read from the database every time.

Within one HTTP request, outside a transaction, the check is made once per town (the
request's later reads reuse it): a request that saves or deletes one of these rows through the
ORM starts over, and one that changes them otherwise (an update of many rows, SQL) and then
reads them in the same request would see its copy from before. Inside a transaction, and in
commands and tasks, every read checks.

The trigger runs before each statement that changes a watched table: it locks the version row
first, so two transactions changing the configuration take turns in the same order (no
deadlock between them), and a town's configuration changes one transaction at a time (an
administrator's edit waits for a catalog import to commit).

What a copy holds is shared by the requests of a process: callers read it, never change it.
At most `MAX_TOWNS` towns are kept per process, the least recently used dropped first.
"""

from __future__ import annotations

import threading
import zoneinfo
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.signals import request_finished, request_started
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from crm.business_time import WorkingCalendar
from crm.errors import CrmError, CrmErrorCode
from crm.location import boundary_parse, contains
from crm.models import (
    ApiKey,
    BusinessCalendar,
    CrmSettings,
    Department,
    RoutingRule,
    Sector,
    ServiceType,
)
from tenants.db import connection

__all__ = ["TownConfig", "town_config", "town_config_forget"]

MAX_TOWNS = 200
# The tables whose changes move the version (migration crm 0025 puts a trigger on each).
WATCHED_TABLES = (
    "crm_servicetype",
    "crm_serviceattribute",
    "crm_serviceattributevalue",
    "crm_servicecategory",
    "crm_department",
    "crm_sector",
    "crm_routingrule",
    "crm_businesscalendar",
    "crm_workinghours",
    "crm_closureday",
    "crm_crmsettings",
    "crm_apikey",
)


def _calendar() -> WorkingCalendar:
    """The town's calendar as a value (three queries). Raises CrmError when it cannot compute
    anything (no working day, unknown time zone)."""
    calendar, _created = BusinessCalendar.objects.get_or_create(pk=1)
    hours = {h.weekday: (h.opens_at, h.closes_at) for h in calendar.working_hours.all()}
    closures = frozenset(calendar.closures.values_list("date", flat=True))
    try:
        tz = ZoneInfo(calendar.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise CrmError(
            CrmErrorCode.CALENDAR_MISCONFIGURED,
            _("Le fuseau horaire du calendrier de travail ({zone}) est inconnu.").format(
                zone=calendar.time_zone
            ),
            status=500,
        ) from error
    if not hours:
        raise CrmError(
            CrmErrorCode.CALENDAR_MISCONFIGURED,
            _("Le calendrier de travail n'a aucune heure d'ouverture : ajoutez-en une."),
            status=500,
        )
    return WorkingCalendar(
        tz=tz, hours=hours, closures=closures, quebec_holidays=calendar.quebec_holidays
    )


@dataclass
class TownConfig:
    """One town's intake configuration as of `version`; each part is loaded on first use."""

    version: tuple[int, int] | None
    _types: dict[tuple[str, bool], ServiceType] = field(default_factory=dict)
    _keys: dict[str, ApiKey] = field(default_factory=dict)
    _calendar: WorkingCalendar | None = None
    _warning_ratio: int | None = None
    _sectors: list[tuple[Sector, BaseGeometry]] | None = None
    _rules: dict[tuple[int, int | None], Department] | None = None

    def intake_type(self, *, code: str, internal: bool) -> ServiceType | None:
        """The active type `code` with its department, category, questions and choices;
        `internal`: also a type that is not public."""
        cache_key = (code, internal)
        service_type = self._types.get(cache_key)
        if service_type is None:
            types = ServiceType.objects.filter(code=code, is_active=True)
            if not internal:
                types = types.filter(is_public=True)
            service_type = (
                types.select_related("department", "category")
                .prefetch_related("attributes__values")
                .first()
            )
            # Unknown codes are not remembered: anyone can send any code.
            if service_type is not None:
                self._types[cache_key] = service_type
        return service_type

    def api_key(self, *, digest: str) -> ApiKey | None:
        """The active key of `digest`. Unknown digests are not remembered (a client trying
        keys must not fill the memory)."""
        api_key = self._keys.get(digest)
        if api_key is None:
            api_key = ApiKey.objects.filter(digest=digest, revoked_at__isnull=True).first()
            if api_key is not None:
                self._keys[digest] = api_key
        return api_key

    @property
    def calendar(self) -> WorkingCalendar:
        if self._calendar is None:
            self._calendar = _calendar()  # an error is raised again at each call, not kept
        return self._calendar

    @property
    def sla_warning_ratio(self) -> int:
        """Per cent of an SLA's working time after which a request is flagged."""
        if self._warning_ratio is None:
            settings, _created = CrmSettings.objects.get_or_create(pk=1)
            self._warning_ratio = settings.sla_warning_ratio
        return self._warning_ratio

    def sector_at(self, *, latitude: Decimal, longitude: Decimal) -> Sector | None:
        """The sector whose boundary holds the point (the first by name when boundaries
        overlap), or None when no sector has a boundary there."""
        if self._sectors is None:
            sectors = []
            for sector in Sector.objects.exclude(boundary__isnull=True).order_by("name_fr", "id"):
                try:
                    sectors.append((sector, boundary_parse(sector.boundary)))
                except CrmError:
                    continue  # a boundary saved before the checks: ignored rather than fatal
            self._sectors = sectors
        for sector, boundary in self._sectors:
            if contains(boundary, latitude, longitude):
                return sector
        return None

    def routed_department(self, *, service_type: ServiceType, sector: Sector | None) -> Department:
        """The type's department, unless a sector rule sends it elsewhere: a rule for (sector,
        this type) wins over a rule for (sector, every type)."""
        if sector is None:
            return service_type.department
        if self._rules is None:
            self._rules = {
                (rule.sector_id, rule.service_type_id): rule.department
                for rule in RoutingRule.objects.select_related("department")
            }
        return (
            self._rules.get((sector.pk, service_type.pk))
            or self._rules.get((sector.pk, None))
            or service_type.department
        )


_towns: OrderedDict[str, TownConfig] = OrderedDict()
_lock = threading.Lock()  # threaded servers (runserver, gthread): one change of _towns at once
# The towns checked during the current HTTP request (None outside one).
_checked: ContextVar[dict[str, TownConfig] | None] = ContextVar("town_config_checked", default=None)


def _current_version() -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version, tableoid::bigint FROM crm_townconfigversion")
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def town_config() -> TownConfig:
    """The current town's configuration, checked against the database (one query, once per
    town in an HTTP request outside a transaction)."""
    schema = connection.schema_name
    # Inside a transaction the check is made at every read: the transaction may change the
    # configuration, or roll back a change, after a first read.
    checked = None if connection.in_atomic_block else _checked.get()
    if checked is not None and schema in checked:
        return checked[schema]
    version = _current_version()
    with _lock:
        config = _towns.get(schema)
        if config is None or version is None or config.version != version:
            config = TownConfig(version=version)
            if version is None:
                _towns.pop(schema, None)
            else:
                _towns[schema] = config
        if version is not None:
            _towns.move_to_end(schema)
            while len(_towns) > MAX_TOWNS:
                _towns.popitem(last=False)
    if checked is not None:
        checked[schema] = config
    return config


def town_config_forget() -> None:
    """Drop every town's copy (tests that recreate tables between runs)."""
    with _lock:
        _towns.clear()
    checked = _checked.get()
    if checked is not None:
        checked.clear()


def _request_started(**_kwargs: Any) -> None:
    _checked.set({})


def _request_finished(**_kwargs: Any) -> None:
    _checked.set(None)


def _watched_row_changed(sender: type[Model], **_kwargs: Any) -> None:
    checked = _checked.get()
    if checked is not None and sender._meta.db_table in WATCHED_TABLES:
        checked.clear()


request_started.connect(_request_started, dispatch_uid="town_config_request_started")
request_finished.connect(_request_finished, dispatch_uid="town_config_request_finished")
post_save.connect(_watched_row_changed, dispatch_uid="town_config_row_saved")
post_delete.connect(_watched_row_changed, dispatch_uid="town_config_row_deleted")
