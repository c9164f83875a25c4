"""A small known month for the dashboards' tests: November 2025 beside October 2025, in the
town's time zone, for two departments ("voirie" is measured, "parcs" must stay out of its
figures). Every figure the tests assert is worked out in the comments.

Call inside the town's schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm.models import Department, ServiceRequest, ServiceType
from crm.services import interaction_record, request_cancel
from tenants.accounts.models import User
from tests.factories import (
    DepartmentFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    UserFactory,
)

TZ = ZoneInfo("America/Toronto")
AFTER = datetime(2025, 12, 5, 12, 0, tzinfo=TZ)  # "now" for the selector: November is over


def at(day: str, hour: float = 10) -> datetime:
    """A moment of the town's time zone: `at("2025-11-03", 10)`."""
    midnight = datetime.fromisoformat(day).replace(tzinfo=TZ)
    return midnight + timedelta(hours=hour)


@dataclass
class KnownMonth:
    voirie: Department
    parcs: Department
    potholes: ServiceType
    signs: ServiceType
    information: ServiceType
    lights: ServiceType
    agent_x: User
    agent_y: User
    agent_z: User


def _request(
    service_type: ServiceType,
    channel: str,
    created: datetime,
    *,
    resolved: datetime | None = None,
    due: datetime | None = None,
    first_contact: bool = False,
) -> ServiceRequest:
    service_request = ServiceRequestFactory(service_type=service_type, channel=channel, now=created)
    fields: dict[str, object] = {"sla_due_at": due, "first_contact_resolution": first_contact}
    if resolved is not None:
        fields |= {"status": "resolved", "resolved_at": resolved}
    if first_contact:
        fields |= {"status": "closed", "resolved_at": created, "closed_at": created}
    ServiceRequest.objects.filter(pk=service_request.pk).update(**fields)
    return service_request


def build_known_month() -> KnownMonth:
    voirie = DepartmentFactory(code="voirie", name_fr="Voirie", name_en="Roads")
    parcs = DepartmentFactory(code="parcs", name_fr="Parcs", name_en="Parks")
    potholes = ServiceTypeFactory(code="nid-de-poule", name_fr="Nid-de-poule", department=voirie)
    signs = ServiceTypeFactory(code="panneau", name_fr="Panneau", department=voirie)
    information = ServiceTypeFactory(
        code="info-voirie", name_fr="Information voirie", department=voirie, kind="information"
    )
    lights = ServiceTypeFactory(code="lampadaire", name_fr="Lampadaire", department=parcs)

    # Voirie, November: 5 received (potholes 3, signs 1, information 1; phone 3, web 1,
    # counter 1). Resolved there, not at first contact: r1 in 24 h (on time), r2 in 72 h (late),
    # r5 in 60 h (on time): median 60 h, 2 of 3 on time. Open on 1 December: r3 (10 days old).
    _request(potholes, "phone", at("2025-11-03"), resolved=at("2025-11-04"), due=at("2025-11-05"))
    _request(potholes, "web", at("2025-11-10"), resolved=at("2025-11-13"), due=at("2025-11-12"))
    _request(signs, "phone", at("2025-11-20"), due=at("2025-11-24"))
    cancelled = _request(potholes, "phone", at("2025-11-28"))
    request_cancel(
        actor=None, service_request=cancelled, reason="Réglé par le citoyen.", now=at("2025-11-29")
    )
    _request(information, "counter", at("2025-11-05"), first_contact=True)
    # Voirie, October: 2 received (potholes 1 by phone, signs 1 by e-mail). r4 resolved in 26 h
    # on time. Open on 1 November: r5 (1.5 days old), resolved in November.
    _request(
        potholes, "phone", at("2025-10-15", 9), resolved=at("2025-10-16", 11), due=at("2025-10-17")
    )
    _request(
        signs, "email", at("2025-10-30", 12), resolved=at("2025-11-02", 0), due=at("2025-11-03")
    )
    # Parcs, November: one request, resolved in 2 hours, out of every voirie figure.
    _request(lights, "phone", at("2025-11-07"), resolved=at("2025-11-07", 12), due=at("2025-11-10"))

    agent_x = UserFactory(first_name="Xavier", last_name="Roy", is_staff=True)
    agent_y = UserFactory(first_name="Yasmine", last_name="Côté", is_staff=True)
    agent_z = UserFactory(first_name="Zoé", last_name="Morin", is_staff=True)
    # First contact, voirie, November: Xavier 2 of 3 (phone 1 of 2, counter 1 of 1), Yasmine 0
    # of 1 (phone): 2 of 4, phone 1 of 3. October: Xavier 1 of 1 (phone). Parcs: Zoé 1 of 1.
    for agent, channel, settled, when, department in (
        (agent_x, "phone", True, at("2025-11-04"), voirie),
        (agent_x, "phone", False, at("2025-11-12"), voirie),
        (agent_x, "counter", True, at("2025-11-18"), voirie),
        (agent_y, "phone", False, at("2025-11-19"), voirie),
        (agent_x, "phone", True, at("2025-10-21"), voirie),
        (agent_z, "phone", True, at("2025-11-21"), parcs),
    ):
        interaction_record(
            actor=agent,
            channel=channel,
            summary="Appel de suivi.",
            department=department,
            resolved_at_first_contact=settled,
            now=when,
        )
    return KnownMonth(
        voirie, parcs, potholes, signs, information, lights, agent_x, agent_y, agent_z
    )
