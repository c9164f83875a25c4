"""The workspace's sections, and which roles see each in the navigation (the views' own
`staff_required` roles are what enforce it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.roles import ADMINISTRATOR, AGENT, DEPARTMENT, SUPERVISOR, Viewer

DESK_ROLES = frozenset({AGENT, SUPERVISOR, ADMINISTRATOR})
QUEUE_ROLES = frozenset({AGENT, DEPARTMENT, SUPERVISOR, ADMINISTRATOR})
BANK_ROLES = frozenset({AGENT, DEPARTMENT, SUPERVISOR, ADMINISTRATOR})
CATALOG_ROLES = frozenset({ADMINISTRATOR})
DASHBOARD_ROLES = frozenset({SUPERVISOR, ADMINISTRATOR})
# As `crm.services.ALERT_PUBLISHER_ROLES`: an alert reaches every subscriber of the town.
ALERT_ROLES = frozenset({SUPERVISOR, ADMINISTRATOR})


@dataclass(frozen=True)
class Section:
    key: str
    url_name: str
    label: Promise
    roles: frozenset[str]


SECTIONS = (
    Section("desk", "desk:home", _("Accueil 311"), DESK_ROLES),
    Section("queues", "desk:queue", _("Files de travail"), QUEUE_ROLES),
    Section("bank", "desk:bank", _("Banque d'information"), BANK_ROLES),
    Section("catalog", "desk:catalog", _("Catalogue"), CATALOG_ROLES),
    Section("dashboards", "desk:dashboards", _("Tableaux de bord"), DASHBOARD_ROLES),
    Section("alerts", "desk:alerts", _("Alertes"), ALERT_ROLES),
)


@dataclass(frozen=True)
class NavLink:
    key: str
    url: str
    label: Promise


def navigation(viewer: Viewer) -> list[NavLink]:
    return [
        NavLink(section.key, reverse(section.url_name), section.label)
        for section in SECTIONS
        if viewer.admitted(section.roles, writes=False)
    ]
