"""The queue's filters: parsing and validating the query string, nothing more (the query is
`crm.selectors.queue_requests`). The same filters drive the page, its export and saved views."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from crm.desk.plain_forms import PlainDateInput, PlainForm, PlainHiddenInput, PlainSelect
from crm.models import OPEN_STATUSES, Channel, Priority, RequestStatus, ServiceRequest
from crm.roles import Viewer
from crm.selectors import QUEUE_DEFAULT_SORT, QUEUE_SORTS, QueueChoices, QueueFilters, QueueScope

OPEN = "open"
ALL = "all"
# The keys a queue's query string may hold, in the order a saved view writes them.
QUERY_KEYS = (
    "scope",
    "status",
    "service_type",
    "department",
    "priority",
    "sector",
    "channel",
    "overdue",
    "created_from",
    "created_to",
    "sort",
)

SCOPE_CHOICES = [
    (QueueScope.ALL.value, _("Toutes")),
    (QueueScope.MINE.value, _("Mes requêtes")),
    (QueueScope.UNASSIGNED.value, _("Non assignées")),
]
SORT_CHOICES = [
    (f"{direction}{key}", f"{key}{direction}") for key in QUEUE_SORTS for direction in ("", "-")
]


class QueueFilterSet(django_filters.FilterSet):
    """Parses a queue's query string; `queue_filters()` turns a valid one into the selector's
    `QueueFilters`. A filter of the wrong shape gets a message next to its field."""

    scope = django_filters.ChoiceFilter(
        label=_("File"), choices=SCOPE_CHOICES, empty_label=None, widget=PlainHiddenInput
    )
    status = django_filters.ChoiceFilter(
        label=_("Statut"),
        widget=PlainSelect,
        choices=[
            (OPEN, _("Ouvertes")),
            (ALL, _("Tous les statuts")),
            *RequestStatus.choices,
        ],
        empty_label=None,
    )
    service_type = django_filters.ChoiceFilter(
        label=_("Type de requête"), empty_label=_("Tous"), widget=PlainSelect
    )
    department = django_filters.ChoiceFilter(
        label=_("Service"), empty_label=_("Tous"), widget=PlainSelect
    )
    priority = django_filters.ChoiceFilter(
        label=_("Priorité"), choices=Priority.choices, empty_label=_("Toutes"), widget=PlainSelect
    )
    sector = django_filters.ChoiceFilter(
        label=_("Secteur"), empty_label=_("Tous"), widget=PlainSelect
    )
    channel = django_filters.ChoiceFilter(
        label=_("Canal"), choices=Channel.choices, empty_label=_("Tous"), widget=PlainSelect
    )
    overdue = django_filters.BooleanFilter(
        label=_("En retard seulement"), widget=forms.CheckboxInput
    )
    created_from = django_filters.DateFilter(label=_("Reçues du"), widget=PlainDateInput())
    created_to = django_filters.DateFilter(label=_("au"), widget=PlainDateInput())
    sort = django_filters.ChoiceFilter(
        label=_("Tri"), choices=SORT_CHOICES, empty_label=None, widget=PlainHiddenInput
    )

    class Meta:
        model = ServiceRequest  # django-filter asks for one; its queryset is never read
        form = PlainForm
        fields: list[str] = []

    def __init__(self, data: QueryDict | None, *, viewer: Viewer, choices: QueueChoices) -> None:
        super().__init__(data)
        self.choices = choices
        fields = self.form.fields
        fields["scope"].required = False
        fields["status"].required = False
        fields["sort"].required = False
        fields["service_type"].choices = [
            (t.code, t.localized("name")) for t in choices.service_types
        ]
        fields["sector"].choices = [(s.code, str(s)) for s in choices.sectors]
        if viewer.confined_to_department:
            del fields["department"]  # their department is their whole queue
        else:
            fields["department"].choices = [(d.code, str(d)) for d in choices.departments]
        self.form.auto_id = "filtre-%s"  # unique ids beside the bulk form's fields

    def is_valid(self) -> bool:
        valid = super().is_valid()
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.form.add_error(
                "created_to", _("La date de fin précède la date de début : inversez-les.")
            )
            return False
        return valid

    def queue_filters(self) -> QueueFilters:
        """The filters the form read; the fields in error narrow nothing (their message says
        so on the page)."""
        data: dict[str, Any] = getattr(self.form, "cleaned_data", {})
        status = data.get("status") or OPEN
        statuses: frozenset[str] = (
            frozenset(OPEN_STATUSES)
            if status == OPEN
            else frozenset()
            if status == ALL
            else frozenset({str(status)})
        )
        return QueueFilters(
            scope=data.get("scope") or QueueScope.ALL,
            statuses=statuses,
            service_codes=(data["service_type"],) if data.get("service_type") else (),
            department_code=data.get("department") or "",
            priorities=frozenset({data["priority"]}) if data.get("priority") else frozenset(),
            sector_code=data.get("sector") or "",
            channel=data.get("channel") or "",
            overdue=bool(data.get("overdue")),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            sort=data.get("sort") or QUEUE_DEFAULT_SORT,
        )

    def query(self, **changes: str) -> str:
        """The query string of these filters (only the valid fields that narrow, so that a
        saved view or a link keeps nothing else), with `changes` applied ("" removes a key)."""
        data: dict[str, Any] = getattr(self.form, "cleaned_data", {})
        query = QueryDict(mutable=True)
        for key in QUERY_KEYS:
            value: Any = changes[key] if key in changes else data.get(key)
            if value in (None, "", False):
                continue
            if key == "overdue":
                value = "on"
            query[key] = value.isoformat() if isinstance(value, date) else str(value)
        if query.get("scope") == QueueScope.ALL:
            del query["scope"]
        if query.get("status") == OPEN:
            del query["status"]
        if query.get("sort") == QUEUE_DEFAULT_SORT:
            del query["sort"]
        return query.urlencode()
