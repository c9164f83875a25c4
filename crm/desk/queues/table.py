"""The queue's table rows, written in Python.

A page holds 50 rows of ten cells; through the template engine, their 850 variables, filters
(`timesince`, `date`) and translations took more of the page's time than its two queries. Here
each label is translated once per page, dates are formatted directly, and each row is one
string format, every value escaped with the standard library's `html.escape` (Django's
`escape` is that function behind a lazy-string wrapper that cost most of the time). The
table's head and caption stay in templates/desk/queues/_results.html."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext

from crm.models import Channel, Priority, RequestStatus
from crm.selectors import QueueRow
from crm.sla import SlaState

# The number in the request page's URL worked out once per page (see `table_rows`).
NUMBER_PLACEHOLDER = "0000-000000"

SLA_LABELS = {
    SlaState.BREACHED: gettext_lazy("En retard"),
    SlaState.DUE_SOON: gettext_lazy("Bientôt dû"),
    SlaState.PAUSED: gettext_lazy("En pause"),
    SlaState.ON_TIME: gettext_lazy("Dans les délais"),
    SlaState.NONE: "",
}
SLA_BADGES = {
    SlaState.BREACHED: "pastille--retard",
    SlaState.DUE_SOON: "pastille--bientot",
    SlaState.ON_TIME: "pastille--ok",
    SlaState.PAUSED: "pastille--neutre",
    SlaState.NONE: "",
}
_AGES: dict[str, Callable[[int], str]] = {
    "days": lambda n: ngettext("%(num)d jour", "%(num)d jours", n),
    "hours": lambda n: ngettext("%(num)d heure", "%(num)d heures", n),
    "minutes": lambda n: ngettext("%(num)d minute", "%(num)d minutes", n),
}
_UNITS = ((86400, "days"), (3600, "hours"), (60, "minutes"))

_ROW = (
    "<tr>"
    '<td><input type="checkbox" name="requests" value="{number}" id="cocher-{number}"{checked}'
    "{described}>"
    '<label for="cocher-{number}" class="visuellement-cache">{check} {number}</label></td>'
    '<td><a href="{url}">{number}</a></td>'
    "<td>{type_name}</td><td>{status}</td><td>{priority}</td><td>{sector}</td><td>{channel}</td>"
    '<td><time datetime="{created_iso}">{age}</time></td>'
    "<td>{assignee}{department}</td>"
    "<td>{sla}{due}</td>"
    "</tr>"
)


class PageText:
    """Dates as the table writes them, with what they need translated once per page."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.zone = timezone.get_current_timezone()
        self.months = {number: str(name).title() for number, name in MONTHS_3.items()}
        self.ages: dict[tuple[str, int], str] = {}

    def age(self, moment: datetime) -> str:
        """How long ago, in its largest unit: "3 jours", "5 heures", "0 minute"."""
        seconds = max(0, int((self.now - moment).total_seconds()))
        size, unit = next((size, unit) for size, unit in _UNITS if seconds >= size or size == 60)
        key = (unit, seconds // size)
        if key not in self.ages:
            self.ages[key] = _AGES[unit](key[1]) % {"num": key[1]}
        return self.ages[key]

    def moment(self, moment: datetime) -> str:
        """Day, abbreviated month, year and time in the town's zone: "4 Déc 2026 14:05"."""
        local = moment.astimezone(self.zone)
        return f"{local.day} {self.months[local.month]} {local.year} {local:%H:%M}"

    def iso(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).isoformat()


def table_rows(
    rows: list[QueueRow],
    request_url: str,
    *,
    checked: frozenset[str],
    now: datetime,
    show_department: bool,
    described_by_error: bool,
) -> list[SafeString]:
    """The `<tr>` of each row. `request_url`: the request page's path with NUMBER_PLACEHOLDER;
    `show_department`: each row names its department (the queue spans several);
    `described_by_error`: the check boxes point to the bulk form's error about them."""
    labels: dict[str, dict[str, str]] = {
        "status": {value: str(label) for value, label in RequestStatus.choices},
        "priority": {value: str(label) for value, label in Priority.choices},
        "channel": {value: str(label) for value, label in Channel.choices},
        "sla": {state: str(label) for state, label in SLA_LABELS.items()},
    }
    check, unassigned = escape(gettext("Cocher la requête")), escape(gettext("Non assignée"))
    described = ' aria-describedby="groupe-requests_error"' if described_by_error else ""
    text = PageText(now)
    rendered = []
    for row in rows:
        request = row.request
        assignee = request.assignee
        sla_label = labels["sla"][row.sla]
        due = request.sla_due_at if request.sla_due_at and request.is_open else None
        number = escape(request.number)
        cells = {
            "number": number,
            "checked": " checked" if request.number in checked else "",
            "described": described,
            "check": check,
            "url": escape(request_url.replace(NUMBER_PLACEHOLDER, request.number)),
            "type_name": escape(request.service_type.localized("name")),
            "status": escape(labels["status"].get(request.status, request.status)),
            "priority": escape(labels["priority"].get(request.priority, request.priority)),
            "sector": escape(str(request.sector)) if request.sector else "—",
            "channel": escape(labels["channel"].get(request.channel, request.channel)),
            "created_iso": text.iso(request.created_at),
            "age": escape(text.age(request.created_at)),
            "assignee": (
                escape(assignee.get_full_name() or assignee.email)
                if assignee
                else f'<span class="file-vide">{unassigned}</span>'
            ),
            "department": (
                f'<br><span class="file-service">{escape(str(request.department))}</span>'
                if show_department
                else ""
            ),
            "sla": (
                f'<span class="pastille {SLA_BADGES[row.sla]}">{escape(sla_label)}</span>'
                if sla_label
                else ""
            ),
            "due": (
                f'<br><time datetime="{text.iso(due)}">{escape(text.moment(due))}</time>'
                if due
                else ""
            ),
        }
        # Every value above is escaped (or markup of this module's own).
        rendered.append(mark_safe(_ROW.format(**cells)))  # noqa: S308
    return rendered
