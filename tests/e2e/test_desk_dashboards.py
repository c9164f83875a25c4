"""The dashboards in Chromium: a supervisor opens their department's month, switches to the
week, opens the monthly report; every page passes axe in French and English, and the inline
charts raise no Content-Security-Policy violation (the `page` fixture fails on any)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Department, ServiceCategory, ServiceType
from crm.services import interaction_record
from tenants.accounts.models import User
from tests.e2e.desk import TOWN, axe_violations, desk_account, document, sign_in
from tests.e2e.test_accessibility import committed
from tests.factories import ServiceRequestFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

DEPARTMENT = "e2e-voirie"


def _activity(user_id: int) -> None:
    """Requests filed by the supervisor's account (removed with it) over the last 60 days, half
    resolved, and their first-contact interactions."""
    with schema_context(TOWN):
        user = User.objects.get(pk=user_id)
        department = Department.objects.get(code=DEPARTMENT)
        category, _created = ServiceCategory.objects.get_or_create(
            code="e2e-tableaux", defaults={"name_fr": "Essais des tableaux de bord"}
        )
        types = [
            ServiceType.objects.get_or_create(
                code=code,
                defaults={
                    "name_fr": name,
                    "name_en": name,
                    "category": category,
                    "department": department,
                    "kind": "request",
                    "sla_value": 2,
                    "sla_unit": "days",
                },
            )[0]
            for code, name in (("e2e-tdb-nid", "Nid-de-poule"), ("e2e-panneau", "Panneau"))
        ]
        now = timezone.now()
        for index in range(16):
            when = now - timedelta(days=index * 4, hours=1)
            ServiceRequestFactory(
                actor=user,
                service_type=types[index % 2],
                channel=["phone", "web", "app", "counter"][index % 4],
                now=when,
                status="resolved" if index % 2 else None,
                status__at=when + timedelta(hours=5 + index * 3),
            )
            interaction_record(
                actor=user,
                channel=["phone", "counter"][index % 2],
                summary="Appel de suivi.",
                department=department,
                resolved_at_first_contact=index % 3 != 0,
                now=when,
            )


def test_a_supervisor_reads_the_dashboards_and_the_monthly_report(page, live_port):
    with desk_account(
        "e2e-tableaux@laval.localhost", "supervisor", department=DEPARTMENT, first_name="Isabelle"
    ) as supervisor:
        committed(lambda: _activity(supervisor.user_id))
        sign_in(page, live_port, supervisor, path="/personnel/tableaux-de-bord/")

        expect(page.get_by_role("heading", level=1, name="Tableaux de bord")).to_be_visible()
        expect(page.get_by_role("table", name="Sommaire")).to_be_visible()
        expect(page.get_by_role("heading", name="Requêtes reçues par type")).to_be_visible()
        assert page.locator(".graphique svg").count() == 5
        assert axe_violations(page) == []
        document(page, "dashboards-month")

        page.get_by_label("Période", exact=True).select_option("week")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_url("**/tableaux-de-bord/?period=week*")
        expect(page.get_by_role("heading", name="semaine du", exact=False).first).to_be_visible()
        assert axe_violations(page) == []
        document(page, "dashboards-week")

        page.get_by_label("Un jour de la période").fill("1999-01-01")
        page.get_by_role("button", name="Afficher").click()
        expect(page.get_by_role("alert")).to_contain_text("à partir de l'an 2000")
        assert axe_violations(page) == []

        page.goto(f"http://laval.localhost:{live_port}/personnel/tableaux-de-bord/")
        page.get_by_role("button", name="Ouvrir le rapport").click()
        page.wait_for_url(f"**/tableaux-de-bord/rapport/*/{DEPARTMENT}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Rapport mensuel")
        expect(page.get_by_role("button", name="Imprimer")).to_be_visible()  # shown by its script
        assert axe_violations(page) == []
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Espace du personnel")).to_be_hidden()
        document(page, "dashboards-report")
        page.emulate_media(media="screen")

        page.get_by_role("link", name="English").click()
        page.wait_for_url(f"**/en/staff/dashboards/**/{DEPARTMENT}/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert axe_violations(page) == []
        page.goto(f"http://laval.localhost:{live_port}/en/staff/dashboards/")
        assert page.locator(".graphique svg").count() == 5
        assert axe_violations(page) == []
