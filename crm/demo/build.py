"""Demo data of a town's CRM: for the host (Laval) its catalog and information bank; for every
demo town its staff of each role, citizens, a few hundred requests and interactions over the last
90 days (resolved or not, some past their due time, handled by several agents), so that the
dashboards show something. Idempotent: what exists is kept or brought back to the demo state,
and requests are only added up to the target count of the last 90 days (a demo database run
again months later is topped up, not left with old figures only).

Called by `onboarding.demo.build_demo` inside the town's schema, through the CRM's services.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from crm import selectors, services
from crm.demo.catalog_data import CATEGORIES, DEPARTMENTS, SECTORS, SERVICE_TYPES
from crm.demo.faq_data import ARTICLES
from crm.models import (
    AlertSubscription,
    AlertTopic,
    BusinessCalendar,
    Citizen,
    ClosureDay,
    Consent,
    Department,
    FaqArticle,
    Interaction,
    RequestStatus,
    RoutingRule,
    Sector,
    ServiceAttribute,
    ServiceCategory,
    ServiceRequest,
    ServiceType,
    SlaUnit,
    fold_text,
)
from crm.roles import SUPERVISOR, Viewer
from crm.services import notifications_paused, staff_role_set
from tenants.accounts.models import User
from tenants.accounts.services import account_email_verify

# The dashboards look back 90 days at most (a month beside the month before, and the backlog).
DEMO_DAYS = 90
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Olivier",
    "Gabriel",
    "Chloé",
    "Mathis",
    "Florence",
    "Samuel",
    "Zoé",
    "William",
    "Alice",
    "Thomas",
    "Rosalie",
    "Félix",
    "Jade",
    "Nathan",
    "Emma",
    "Jacob",
    "Maëlle",
    "Louis",
]
LAST_NAMES = [
    "Tremblay",
    "Gagnon",
    "Roy",
    "Côté",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Gagné",
    "Ouellet",
    "Pelletier",
    "Bélanger",
    "Lévesque",
    "Bergeron",
    "Leblanc",
    "Paquette",
    "Girard",
    "Simard",
    "Boucher",
]
STREETS = [
    "boulevard Saint-Martin Ouest",
    "boulevard des Laurentides",
    "rue Principale",
    "boulevard Lévesque Est",
    "avenue des Bois",
    "rue Cartier",
    "boulevard Sainte-Rose",
    "rue de l'Église",
    "boulevard Dagenais Ouest",
    "avenue Papineau",
    "rue Notre-Dame",
]
# Staff of each demo town with their role (and department), at the town's domain: the 311
# agents first (they take the calls), then the people who handle the requests.
STAFF = [
    ("agente.311", "Sophie", "Lachance", "agent", None),
    ("agent.311", "Marc", "Dupuis", "agent", None),
    ("agente.comptoir", "Nadia", "Bouchard", "agent", None),
    ("voirie", "Isabelle", "Thériault", "supervisor", "travaux-publics"),
    ("environnement", "Julie", "Gendron", "supervisor", "environnement"),
    ("collectes", "Kevin", "Nadeau", "department", "environnement"),
]
AGENT_COUNT = 3


@dataclass(frozen=True)
class DemoPlace:
    """Where a demo town's requests are: its streets, a box of coordinates, its area code, and
    how many requests and interactions its last 90 days hold."""

    streets: tuple[str, ...]
    latitudes: tuple[float, float]
    longitudes: tuple[float, float]
    area_code: str
    requests: int
    interactions: int


LAVAL = DemoPlace(
    streets=tuple(STREETS),
    latitudes=(45.53, 45.65),
    longitudes=(-73.85, -73.62),
    area_code="450",
    requests=320,
    interactions=200,
)
LEVIS = DemoPlace(
    streets=(
        "boulevard Guillaume-Couture",
        "route du Président-Kennedy",
        "rue Saint-Laurent",
        "avenue Bégin",
        "rue Saint-Georges",
        "boulevard de la Rive-Sud",
        "chemin du Sault",
    ),
    latitudes=(46.70, 46.82),
    longitudes=(-71.30, -71.10),
    area_code="418",
    requests=100,
    interactions=60,
)


@dataclass(frozen=True)
class DemoStaffMember:
    email: str
    role: str
    department_code: str | None


@dataclass(frozen=True)
class CrmDemoCounts:
    departments: int
    service_types: int
    faq_articles: int
    citizens: int
    requests: int
    interactions: int


def _catalog() -> None:
    for code, fr, en in DEPARTMENTS:
        Department.objects.update_or_create(
            code=code, defaults={"name_fr": fr, "name_en": en, "email": f"{code}@laval.localhost"}
        )
    for order, (code, fr, en) in enumerate(CATEGORIES):
        ServiceCategory.objects.update_or_create(
            code=code, defaults={"name_fr": fr, "name_en": en, "order": order}
        )
    for code, name, (west, south, east, north) in SECTORS:
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        Sector.objects.update_or_create(
            code=code,
            defaults={
                "name_fr": name,
                "name_en": name,
                "boundary": {"type": "Polygon", "coordinates": [ring]},
            },
        )
    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in ServiceCategory.objects.all()}
    for (
        code,
        fr,
        en,
        category,
        department,
        kind,
        sla,
        unit,
        priority,
        location,
        attributes,
    ) in SERVICE_TYPES:
        service_type, _created = ServiceType.objects.update_or_create(
            code=code,
            defaults={
                "name_fr": fr,
                "name_en": en,
                "description_fr": f"{fr}. Traité par le service {departments[department].name_fr}.",
                "description_en": f"{en}. Handled by {departments[department].name_en}.",
                "category": categories[category],
                "department": departments[department],
                "kind": kind,
                "sla_value": sla,
                "sla_unit": unit,
                "default_priority": priority,
                "location_required": location,
                "keywords": [
                    word for word in fr.lower().replace("'", " ").split() if len(word) > 3
                ],
            },
        )
        for order, (attr_code, label_fr, label_en, datatype, required, values) in enumerate(
            attributes
        ):
            attribute, _ = ServiceAttribute.objects.update_or_create(
                service_type=service_type,
                code=attr_code,
                defaults={
                    "label_fr": label_fr,
                    "label_en": label_en,
                    "datatype": datatype,
                    "required": required,
                    "order": order,
                },
            )
            for value_order, (key, name_fr, name_en) in enumerate(values):
                attribute.values.update_or_create(
                    key=key, defaults={"name_fr": name_fr, "name_en": name_en, "order": value_order}
                )
    RoutingRule.objects.update_or_create(
        sector=Sector.objects.get(code="sainte-dorothee"),
        service_type=ServiceType.objects.get(code="elagage"),
        defaults={"department": departments["environnement"]},
    )
    calendar, _ = BusinessCalendar.objects.get_or_create(pk=1)
    year = timezone.localdate().year
    for day, name in ((24, "Veille de Noël"), (31, "Veille du jour de l'an")):
        ClosureDay.objects.get_or_create(
            calendar=calendar, date=date(year, 12, day), defaults={"name": name}
        )


def _sla_phrase(service_type: ServiceType, english: bool) -> str:
    if not service_type.sla_value:
        return ""
    unit = service_type.sla_unit
    if english:
        label = "business hours" if unit == SlaUnit.HOURS else "business days"
        return f" The target time is {service_type.sla_value} {label}."
    label = "heures ouvrables" if unit == SlaUnit.HOURS else "jours ouvrables"
    return f" Le délai visé est de {service_type.sla_value} {label}."


def _faq() -> None:
    existing = set(FaqArticle.objects.values_list("question_fr", flat=True))
    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in ServiceCategory.objects.all()}
    for category, department, audience, q_fr, a_fr, q_en, a_en in ARTICLES:
        if q_fr not in existing:
            services.faq_article_create(
                actor=None,
                question_fr=q_fr,
                answer_fr=a_fr,
                question_en=q_en,
                answer_en=a_en,
                category=categories[category],
                owner_department=departments[department],
                audience=audience,
                status="published",
            )
    for service_type in ServiceType.objects.select_related("department", "category"):
        name_fr, name_en = service_type.name_fr, service_type.name_en
        dept_fr, dept_en = service_type.department.name_fr, service_type.department.name_en
        if service_type.kind == "information":
            generated = [
                (
                    f"Où trouver de l'information : {name_fr.lower()}?",
                    f"Un agent du 311 répond à vos questions ({name_fr.lower()}) au téléphone, au "
                    f"comptoir ou en ligne. Le service {dept_fr} tient cette information à jour.",
                    f"Where can I find information: {name_en.lower()}?",
                    f"A 311 agent answers your questions ({name_en.lower()}) by phone, at the counter "
                    f"or online. {dept_en} keeps this information up to date.",
                ),
                (
                    f"Qui répond aux questions : {name_fr.lower()}?",
                    f"Le service {dept_fr} est responsable de ce sujet. Le 311 transmet les questions "
                    "qu'il ne peut pas régler au premier contact.",
                    f"Who answers questions: {name_en.lower()}?",
                    f"{dept_en} is responsible for this topic. 311 forwards the questions it cannot "
                    "settle at first contact.",
                ),
            ]
        else:
            generated = [
                (
                    f"Comment signaler : {name_fr.lower()}?",
                    f"Faites une requête « {name_fr} » au 311, en ligne ou dans l'application mobile, "
                    f"avec l'adresse ou le lieu précis. Le service {dept_fr} la prend en charge."
                    + _sla_phrase(service_type, english=False),
                    f"How do I report: {name_en.lower()}?",
                    f"Make a “{name_en}” request through 311, online or in the mobile app, with the "
                    f"exact address or place. {dept_en} handles it."
                    + _sla_phrase(service_type, english=True),
                ),
                (
                    f"Que se passe-t-il après ma requête : {name_fr.lower()}?",
                    f"Votre requête reçoit un numéro et est acheminée au service {dept_fr}. Vous "
                    "recevez un avis à chaque étape si vous l'avez demandé, et pouvez la suivre en "
                    "ligne avec son numéro.",
                    f"What happens after my request: {name_en.lower()}?",
                    f"Your request gets a number and is routed to {dept_en}. You get a notice at each "
                    "step if you asked for it, and can follow it online with its number.",
                ),
            ]
        for q_fr, a_fr, q_en, a_en in generated:
            if q_fr not in existing:
                services.faq_article_create(
                    actor=None,
                    question_fr=q_fr,
                    answer_fr=a_fr,
                    question_en=q_en,
                    answer_en=a_en,
                    category=service_type.category,
                    owner_department=service_type.department,
                    status="published",
                    service_types=[service_type],
                )


def demo_staff(*, domain: str) -> list[DemoStaffMember]:
    """The demo staff accounts of the town at `domain`, as `_staff` makes them."""
    return [
        DemoStaffMember(f"{local}@{domain}", role, department)
        for local, _first, _last, role, department in STAFF
    ]


def _staff(domain: str) -> list[User]:
    staff = []
    # Hashed once for every new account: a hash costs a third of a second by design.
    hashed = ""
    for local, first, last, role, department in STAFF:
        email = f"{local}@{domain}"
        user = User.objects.filter(email=email).first()
        if user is None:
            hashed = hashed or make_password("relais-demo-2026")
            user = User.objects.create_user(email=email)
            user.password = hashed
        user.first_name, user.last_name, user.is_staff = first, last, True
        user.save()
        account_email_verify(user=user)
        staff_role_set(
            user=user,
            role=role,
            department=Department.objects.get(code=department) if department else None,
        )
        staff.append(user)
    return staff


def _citizens(rng: random.Random, place: DemoPlace) -> list[Citizen]:
    citizens = []
    for index in range(40):
        first, last = FIRST_NAMES[index % 20], LAST_NAMES[(index * 7) % 20]
        email = fold_text(f"{first}.{last}.{index}@exemple.qc.ca")
        citizen = Citizen.objects.filter(email=email).first() or services.citizen_create(
            actor=None,
            first_name=first,
            last_name=last,
            email=email,
            phone=f"{place.area_code}555{index:04d}",
            address=f"{rng.randint(10, 4999)}, {rng.choice(place.streets)}",
            preferred_language="en" if index % 8 == 0 else "fr",
        )
        citizens.append(citizen)
    return citizens


def demo_citizen_email(*, domain: str) -> str:
    """The demo citizen account of the town at `domain` (the portal's « Mon compte »)."""
    return f"citoyenne@{domain}"


def _citizen_account(domain: str, citizen: Citizen) -> None:
    """A citizen's own account, signed in on the portal, linked to the first demo citizen
    (whose requests it then lists), with a verified address and their first preferences."""
    email = demo_citizen_email(domain=domain)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password="relais-demo-2026")  # noqa: S106
    user.first_name, user.last_name = citizen.first_name, citizen.last_name
    user.save()
    account_email_verify(user=user)
    if citizen.account_id != user.pk:
        citizen.account = user
        citizen.save(update_fields=["account"])
    if not Consent.objects.filter(citizen=citizen).exists():
        services.citizen_preferences_set(
            actor=user,
            citizen=citizen,
            choices={"request_follow_up": "email", "alerts": "sms", "surveys": "email"},
        )


def _answers(service_type: ServiceType, when: datetime, rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {}
    for attribute in service_type.attributes.all():
        keys = [value.key for value in attribute.values.all()]
        if attribute.datatype == "singlevaluelist":
            answers[attribute.code] = rng.choice(keys)
        elif attribute.datatype == "multivaluelist":
            answers[attribute.code] = rng.sample(keys, k=rng.randint(1, 2))
        elif attribute.datatype == "datetime":
            answers[attribute.code] = (when - timedelta(days=1)).isoformat()
        elif attribute.datatype == "number":
            answers[attribute.code] = str(rng.randint(15, 80))
        elif attribute.required:
            answers[attribute.code] = (
                f"{rng.randint(1000, 9999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
            )
    return answers


# Where a request of the demo ends up, with its weight.
OUTCOMES = [
    ("new", 14),
    ("assigned", 14),
    ("in_progress", 18),
    ("on_hold", 5),
    ("resolved", 16),
    ("closed", 22),
    ("cancelled", 5),
    ("duplicate", 6),
]


def _since(now: datetime) -> datetime:
    return now - timedelta(days=DEMO_DAYS)


def _requests(
    rng: random.Random, place: DemoPlace, citizens: list[Citizen], staff: list[User], now: datetime
) -> None:
    missing = place.requests - ServiceRequest.objects.filter(created_at__gte=_since(now)).count()
    if missing <= 0:
        return
    types = list(
        ServiceType.objects.exclude(kind="information").prefetch_related("attributes__values")
    )
    outcomes, weights = zip(*OUTCOMES, strict=True)
    created: list[ServiceRequest] = []
    # Oldest first, so that numbers follow dates as they would have.
    agents, handlers = staff[:AGENT_COUNT], staff[AGENT_COUNT:]
    moments = sorted(now - timedelta(days=rng.uniform(0, DEMO_DAYS)) for _ in range(missing))
    for when in moments:
        service_type = rng.choice(types)
        outcome = rng.choices(outcomes, weights)[0]
        located = service_type.location_required or rng.random() < 0.3
        request = services.request_create(
            actor=rng.choice(agents),
            service_type=service_type,
            channel=rng.choice(["phone", "phone", "web", "app", "counter", "email"]),
            description=f"Signalé par un citoyen : {service_type.name_fr.lower()}.",
            citizen=rng.choice(citizens) if rng.random() < 0.8 else None,
            address=f"{rng.randint(10, 4999)}, {rng.choice(place.streets)}" if located else "",
            latitude=Decimal(f"{rng.uniform(*place.latitudes):.6f}") if located else None,
            longitude=Decimal(f"{rng.uniform(*place.longitudes):.6f}") if located else None,
            # A placed request gets the sector whose boundary holds it (`request_create`).
            attributes=_answers(service_type, when, rng),
            now=when,
        )
        step = when

        def later(hours: float) -> datetime:
            nonlocal step
            step = min(step + timedelta(hours=hours), now)
            return step

        if outcome == "duplicate" and created:
            parent = next((r for r in reversed(created) if r.is_open), None)
            if parent is not None:
                services.request_merge(
                    actor=agents[0], duplicate=request, parent=parent, now=later(1)
                )
                continue
        if outcome == "cancelled":
            services.request_cancel(
                actor=agents[1],
                service_request=request,
                reason="Réglé par le citoyen avant notre passage.",
                now=later(rng.uniform(1, 48)),
            )
            continue
        if outcome != "new":
            request = services.request_assign(
                actor=agents[0],
                service_request=request,
                assignee=rng.choice(handlers),
                now=later(rng.uniform(0.5, 8)),
            )
        if outcome in {"in_progress", "on_hold", "resolved", "closed"}:
            request = services.request_change_status(
                actor=handlers[0],
                service_request=request,
                status="in_progress",
                now=later(rng.uniform(2, 30)),
            )
        if outcome == "on_hold":
            services.request_add_note(
                actor=handlers[0],
                service_request=request,
                message="En attente d'une pièce.",
                public=False,
                now=later(1),
            )
            request = services.request_change_status(
                actor=handlers[0], service_request=request, status="on_hold", now=later(4)
            )
        if outcome in {"resolved", "closed"}:
            services.request_add_note(
                actor=handlers[0],
                service_request=request,
                message="Travaux effectués. Merci de votre signalement.",
                public=True,
                now=later(rng.uniform(4, 90)),
            )
            request = services.request_change_status(
                actor=handlers[0],
                service_request=request,
                status="resolved",
                now=later(0.1),
            )
        if outcome == "closed":
            request = services.request_change_status(
                actor=agents[0], service_request=request, status="closed", now=later(48)
            )
        created.append(request)
    services.request_check_sla(now=now)


def _interactions(
    rng: random.Random, place: DemoPlace, citizens: list[Citizen], staff: list[User], now: datetime
) -> None:
    missing = place.interactions - Interaction.objects.filter(created_at__gte=_since(now)).count()
    if missing <= 0:
        return
    agents = staff[:AGENT_COUNT]
    information_types = list(ServiceType.objects.filter(kind="information"))
    articles = list(FaqArticle.objects.filter(audience="public").order_by("id")[:60])
    open_requests = list(
        ServiceRequest.objects.filter(status__in=["new", "assigned", "in_progress"]).order_by("id")
    )
    requests = rng.sample(open_requests, k=min(missing, len(open_requests)))
    moments = sorted(now - timedelta(days=rng.uniform(0, DEMO_DAYS)) for _ in range(missing))
    for index, when in enumerate(moments):
        agent_index = rng.randrange(len(agents))
        # Each agent settles a different share at first contact: the dashboards compare them.
        if rng.random() < (0.7, 0.55, 0.4)[agent_index % 3]:
            article = rng.choice(articles)
            services.information_call_answer(
                actor=agents[agent_index],
                channel=rng.choice(["phone", "phone", "counter", "email"]),
                summary=f"Question répondue : {article.question_fr}",
                faq_articles=[article],
                citizen=rng.choice(citizens) if rng.random() < 0.5 else None,
                service_type=rng.choice(information_types),
                duration_seconds=rng.randint(60, 420),
                now=when,
            )
        else:
            request = requests[index % len(requests)] if requests else None
            services.interaction_record(
                actor=agents[agent_index],
                channel=rng.choice(["phone", "web", "counter"]),
                summary="Suivi d'une requête en cours.",
                citizen=request.citizen if request else None,
                service_request=request,
                duration_seconds=rng.randint(60, 600),
                now=max(when, request.created_at) if request else when,
            )


def _alerts(staff: list[User], citizen: Citizen, now: datetime) -> None:
    """The demo citizen follows collections and road works in their district, and a recent
    alert is in force (published by the environment supervisor) when none is."""
    collections = AlertTopic.objects.get(code="collectes")
    road_works = AlertTopic.objects.get(code="travaux-routiers")
    chomedey = Sector.objects.get(code="chomedey")
    if not AlertSubscription.objects.filter(citizen=citizen).exists():
        services.alert_choices_set(
            actor=None,
            citizen=citizen,
            topics=[collections, road_works],
            sectors=[chomedey],
            channel="email",
        )
    if selectors.alerts_current(now=now):
        return
    publisher = next(user for user in staff if user.email.startswith("environnement@"))
    services.alert_publish(
        actor=publisher,
        viewer=Viewer(user=publisher, role=SUPERVISOR),
        topic=collections,
        sectors=[chomedey, Sector.objects.get(code="laval-des-rapides")],
        title_fr="Collecte des résidus verts reportée au lendemain",
        title_en="Yard waste pickup moved to the next day",
        body_fr=(
            "En raison de la pluie verglaçante, la collecte des résidus verts prévue aujourd'hui "
            "à Chomedey et à Laval-des-Rapides aura lieu demain. Laissez vos sacs en bordure de "
            "rue."
        ),
        body_en=(
            "Because of freezing rain, today's yard waste pickup in Chomedey and "
            "Laval-des-Rapides will take place tomorrow. Leave your bags at the curb."
        ),
        ends_at=now + timedelta(days=2),
        now=now - timedelta(hours=3),
    )


def build_crm_demo(
    *,
    domain: str = "laval.localhost",
    place: DemoPlace = LAVAL,
    with_catalog: bool = True,
    seed: int = 2026,
    now: datetime | None = None,
) -> CrmDemoCounts:
    """Fill the current schema's CRM with the demo data (call inside the town's schema).
    `with_catalog`: the host's catalog and bank too (a partner has a copy of them already)."""
    rng = random.Random(seed)
    now = now or timezone.now()
    # The demo's history happened to nobody: no message is written for it.
    with transaction.atomic(), notifications_paused():
        if with_catalog:
            _catalog()
            _faq()
        staff = _staff(domain)
        citizens = _citizens(rng, place)
        _citizen_account(domain, citizens[0])
        _requests(rng, place, citizens, staff, now)
        _interactions(rng, place, citizens, staff, now)
        if with_catalog:
            _alerts(staff, citizens[0], now)
    return CrmDemoCounts(
        departments=Department.objects.count(),
        service_types=ServiceType.objects.count(),
        faq_articles=FaqArticle.objects.count(),
        citizens=Citizen.objects.count(),
        requests=ServiceRequest.objects.count(),
        interactions=Interaction.objects.count(),
    )


__all__ = [
    "LAVAL",
    "LEVIS",
    "CrmDemoCounts",
    "DemoPlace",
    "DemoStaffMember",
    "RequestStatus",
    "build_crm_demo",
    "demo_citizen_email",
    "demo_staff",
]
