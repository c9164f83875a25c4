"""The dashboards' and monthly reports' pages: who may open them, what each sees, the period
choice and its bad input, the charts under the Content-Security-Policy, a fixed number of
queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.selectors import Compared, PeriodKind
from tenants.models import Municipality
from tests.crm.desk.dashboard_data import TZ, build_known_month
from tests.factories import DepartmentFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db

NOVEMBER = "/personnel/tableaux-de-bord/?period=month&date=2025-11-14"
REPORT = "/personnel/tableaux-de-bord/rapport/2025-11/voirie/"


@pytest.mark.parametrize("role", ["agent", "department"])
def test_agents_and_department_staff_get_the_403_page(
    laval: Municipality, desk_client: Callable[..., Client], role: str
):
    with schema_context(laval.schema_name):
        department = DepartmentFactory()
    client = desk_client(role, department=department if role == "department" else None)

    for path in ("/personnel/tableaux-de-bord/", REPORT, "/personnel/tableaux-de-bord/rapport/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Votre rôle ne donne pas accès à cette page." in response.text


def test_the_navigation_offers_the_dashboards_to_supervisors_only(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        department = DepartmentFactory()

    agent_page = desk_client("agent").get("/personnel/")
    supervisor_page = desk_client("supervisor", department=department).get("/personnel/")

    assert "/personnel/tableaux-de-bord/" not in agent_page.text
    assert 'href="/personnel/tableaux-de-bord/"' in supervisor_page.text


def test_a_supervisor_sees_their_departments_month_beside_the_one_before(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)

    response = client.get(NOVEMBER)

    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.created == Compared(5, 2)
    assert "novembre 2025, comparé à octobre 2025" in response.text
    assert "Les chiffres du service Voirie." in response.text
    # The summary table: received, open at the end, resolved, on time, median, first contact.
    assert '<td class="nombre">67 % (2 sur 3)</td>' in response.text
    assert '<td class="nombre">2 j 12 h</td>' in response.text
    assert '<td class="nombre">50 % (2 sur 4)</td>' in response.text
    # Nothing of the other department: neither its type nor its agent.
    assert "Lampadaire" not in response.text
    assert "Zoé Morin" not in response.text
    # The town-wide comparisons between departments are for administrators.
    assert "Requêtes reçues par service" not in response.text
    assert REPORT in response.text


def test_an_administrator_compares_the_departments(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        build_known_month()

    response = desk_client("administrator").get(NOVEMBER)

    assert response.status_code == 200
    assert response.context["figures"].created == Compared(6, 2)
    assert "Requêtes reçues par service" in response.text
    assert "Lampadaire" in response.text
    assert "Zoé Morin" in response.text


def test_each_chart_is_inline_svg_the_policy_accepts_with_its_table(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)

    response = client.get(NOVEMBER)

    html = response.text
    nonce = response.wsgi_request.csp_nonce  # type: ignore[attr-defined]
    charts = html.count('<svg aria-hidden="true" focusable="false"')
    assert charts == 5  # types, channels, age of the backlog, first contact by agent, by channel
    assert html.count(f'<style nonce="{nonce}" type="text/css">') == charts
    assert "<script" not in html.split("<main", 1)[1]  # no inline script, pygal's removed
    assert ' style="' not in html
    assert html.count("<caption>") == charts + 1  # a table beside each chart, and the summary


def test_the_period_switch_shows_weeks(laval: Municipality, desk_client: Callable[..., Client]):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)

    response = client.get("/personnel/tableaux-de-bord/?period=week&date=2025-11-12")

    figures = response.context["figures"]
    assert (figures.period.kind, figures.period.start) == (
        PeriodKind.WEEK,
        datetime(2025, 11, 10, tzinfo=TZ),
    )
    assert figures.created == Compared(1, 2)
    assert "semaine du 10 novembre au 16 novembre 2025" in response.text
    assert 'href="?period=week&amp;date=2025-11-03"' in response.text  # the week before
    assert 'href="?period=week&amp;date=2025-11-17"' in response.text  # and the one after


def test_without_a_choice_the_current_month_is_shown(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        department = DepartmentFactory()

    response = desk_client("supervisor", department=department).get("/personnel/tableaux-de-bord/")

    assert response.status_code == 200
    assert response.context["figures"].period.kind == PeriodKind.MONTH
    assert "(en cours)" in response.text
    assert response.context["following_url"] is None  # no period after the current one


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("period=annee", "period", "Choisissez « Mois » ou « Semaine »."),
        ("period=week&date=14-11-2025", "date", "Entrez une date au format AAAA-MM-JJ."),
        ("date=2999-01-01", "date", "Choisissez aujourd&#x27;hui ou un jour passé."),
        ("date=1999-12-31", "date", "Choisissez un jour à partir de l&#x27;an 2000."),
    ],
)
def test_a_bad_period_gets_a_clear_message_beside_its_field(
    laval: Municipality, desk_client: Callable[..., Client], query: str, field: str, message: str
):
    with schema_context(laval.schema_name):
        department = DepartmentFactory()
    client = desk_client("supervisor", department=department)

    response = client.get(f"/personnel/tableaux-de-bord/?{query}")

    assert response.status_code == 400
    assert f'<p class="champ-erreur" id="id_{field}-erreur">{message}</p>' in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'aria-describedby="id_{field}-erreur' in response.text
    assert 'role="alert"' in response.text
    assert "figures" not in response.context


def test_the_page_takes_as_many_queries_with_5_or_50_requests(
    laval: Municipality, desk_client: Callable[..., Client]
):
    client = desk_client("administrator")
    client.get(NOVEMBER)  # the session's first page writes what the next ones read
    counts = []
    for batch in (5, 45):
        with schema_context(laval.schema_name):
            for index in range(batch):
                ServiceRequestFactory(
                    channel=["phone", "web", "email"][index % 3],
                    now=datetime(2025, 11, 1 + index % 28, 10, tzinfo=TZ),
                    status="resolved" if index % 2 else None,
                )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(NOVEMBER)
        assert response.status_code == 200
        counts.append(len(queries))

    assert response.context["figures"].created == Compared(50, 0)
    assert len(response.context["figures"].by_department) == 50
    assert counts[0] == counts[1]


def test_levis_sees_none_of_lavals_figures(
    laval: Municipality, levis: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        build_known_month()

    response = desk_client("administrator", town=levis).get(NOVEMBER)

    assert response.status_code == 200
    assert response.context["figures"].created == Compared(0, 0)
    assert "Nid-de-poule" not in response.text
    assert "Xavier Roy" not in response.text
    assert desk_client("administrator", town=levis).get(REPORT).status_code == 404


def test_the_dashboards_answer_in_english(laval: Municipality, desk_client: Callable[..., Client]):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)

    response = client.get("/en/staff/dashboards/?period=month&date=2025-11-14")

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert response.context["figures"].created == Compared(5, 2)


def test_the_monthly_report_is_a_printable_page_of_one_department(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)

    response = client.get(REPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Rapport mensuel : Voirie, novembre 2025</h1>" in response.text
    assert "Comparé à octobre 2025." in response.text
    assert response.context["figures"].created == Compared(5, 2)
    assert response.context["figures"].department == known.voirie
    assert "Lampadaire" not in response.text
    assert "desk/dashboards.js" in response.text  # the print button's script, not inline
    assert "data-imprimer hidden" in response.text


def test_a_supervisor_opens_no_other_departments_report(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)

    response = client.get("/personnel/tableaux-de-bord/rapport/2025-11/parcs/")

    assert response.status_code == 404
    assert "Lampadaire" not in response.text


def test_an_administrator_opens_any_departments_report(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        build_known_month()

    response = desk_client("administrator").get(
        "/personnel/tableaux-de-bord/rapport/2025-11/parcs/"
    )

    assert response.status_code == 200
    assert response.context["figures"].created == Compared(1, 0)


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2025-13", "Le mois 13 n&#x27;existe pas : choisissez un mois de 01 à 12."),
        ("1999-12", "Choisissez un mois à partir de l&#x27;an 2000."),
        ("2999-01", "Ce mois n&#x27;est pas encore commencé."),
    ],
)
def test_a_bad_report_month_gets_a_clear_message(
    laval: Municipality, desk_client: Callable[..., Client], month: str, message: str
):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)

    response = client.get(f"/personnel/tableaux-de-bord/rapport/{month}/voirie/")

    assert response.status_code == 400
    assert message in response.text
    assert "figures" not in response.context


def test_the_report_form_leads_to_the_report(
    laval: Municipality, desk_client: Callable[..., Client]
):
    with schema_context(laval.schema_name):
        known = build_known_month()
    client = desk_client("supervisor", department=known.voirie)
    form = client.get("/personnel/tableaux-de-bord/").context["report_form"]
    chosen = form.fields["month"].choices[1][0]  # last month

    response = client.get(
        "/personnel/tableaux-de-bord/rapport/", {"month": chosen, "department": "voirie"}
    )
    refused = client.get(
        "/personnel/tableaux-de-bord/rapport/", {"month": chosen, "department": "parcs"}
    )

    assert response.status_code == 302
    assert response.url == f"/personnel/tableaux-de-bord/rapport/{chosen}/voirie/"
    assert refused.status_code == 400
    assert "Choisissez un service de la liste." in refused.text
