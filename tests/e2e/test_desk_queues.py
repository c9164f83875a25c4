"""The queues in Chromium: a supervisor filters their department's queue, saves the view, and
bulk-assigns two requests to a colleague; each state of the page passes axe in French and in
English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Department, ServiceCategory, ServiceRequest, ServiceType
from tenants.accounts.models import User
from tests.e2e.desk import TOWN, axe_violations, desk_account, document, remove_e2e_catalog, sign_in
from tests.e2e.test_accessibility import committed
from tests.factories import ServiceRequestFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

DEPARTMENT = "e2e-voirie"
TYPE_CODE = "e2e-files-nid-de-poule"


@pytest.fixture
def requests_of() -> Callable[[str, int], list[str]]:
    """`requests_of(email, count)`: requests of the e2e department, filed by that committed
    account (so that its clean-up removes them), the first one late; their numbers."""
    made: list[str] = []
    committed(remove_e2e_catalog)

    def make(email: str, count: int) -> list[str]:
        def create() -> None:
            with schema_context(TOWN):
                actor = User.objects.get(email=email)
                department = Department.objects.get(code=DEPARTMENT)
                category, _created = ServiceCategory.objects.get_or_create(
                    code=TYPE_CODE, defaults={"name_fr": "Voirie (essai)"}
                )
                kind, _created = ServiceType.objects.get_or_create(
                    code=TYPE_CODE,
                    defaults={
                        "name_fr": "Nid-de-poule (essai)",
                        "name_en": "Pothole (test)",
                        "category": category,
                        "department": department,
                        "sla_value": 2,
                    },
                )
                for _ in range(count):
                    made.append(ServiceRequestFactory(service_type=kind, actor=actor).number)
                ServiceRequest.objects.filter(number=made[0]).update(
                    sla_due_at=timezone.now() - timedelta(hours=3)
                )

        committed(create)
        return list(made)

    return make


def test_a_supervisor_filters_saves_a_view_and_bulk_assigns(page, live_port, requests_of):
    with (
        desk_account(
            "e2e-files-superviseure@laval.localhost", "supervisor", department=DEPARTMENT
        ) as supervisor,
        desk_account(
            "e2e-files-col@laval.localhost",
            "department",
            department=DEPARTMENT,
            first_name="Bruno",
        ),
    ):
        first, second, third = requests_of(supervisor.email, 3)
        sign_in(page, live_port, supervisor, path="/personnel/files/")

        expect(page.get_by_role("heading", name="Files de travail", level=1)).to_be_visible()
        expect(page.get_by_text("En retard").first).to_be_visible()
        assert axe_violations(page) == []
        document(page, "queues-department")

        page.get_by_label("Statut").first.select_option("new")
        page.get_by_label("Type de requête").select_option(TYPE_CODE)
        page.get_by_role("button", name="Filtrer").click()
        page.wait_for_url("**/personnel/files/?*status=new*")
        expect(page.get_by_role("status").filter(has_text="3 requêtes")).to_be_visible()
        assert axe_violations(page) == []

        page.get_by_label("Nom de la vue").fill("Nouvelles (essai)")
        page.get_by_role("button", name="Enregistrer cette vue").click()
        expect(page.get_by_text("Vue « Nouvelles (essai) » enregistrée.")).to_be_visible()
        expect(page.get_by_role("link", name="Nouvelles (essai)")).to_have_attribute(
            "aria-current", "page"
        )
        assert axe_violations(page) == []
        document(page, "queues-saved-view")

        page.get_by_label(f"Cocher la requête {first}").check()
        page.get_by_label(f"Cocher la requête {second}").check()
        page.get_by_role("combobox", name="Personne").select_option(label="Bruno Essai")
        page.get_by_role("button", name="Assigner", exact=True).click()
        expect(page.get_by_text("2 requêtes assignées.")).to_be_visible()
        assert axe_violations(page) == []
        document(page, "queues-bulk-assigned")
        with schema_context(TOWN):
            assigned = dict(
                ServiceRequest.objects.filter(number__in=[first, second, third]).values_list(
                    "number", "assignee__email"
                )
            )
        assert assigned == {
            first: "e2e-files-col@laval.localhost",
            second: "e2e-files-col@laval.localhost",
            third: None,
        }

        page.goto(f"http://laval.localhost:{live_port}/en/staff/queues/?status=all")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert axe_violations(page) == []
        page.goto(f"http://laval.localhost:{live_port}/en/staff/queues/?status=perdue")
        expect(page.get_by_role("alert")).to_be_visible()
        assert axe_violations(page) == []
    committed(remove_e2e_catalog)
