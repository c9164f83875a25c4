"""The platform console: roles with two-factor sign-in, the onboarding wizard end to end, time
tracking, the go-live checklist, the audit of console actions and the home page's rollup."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from crm.models import Department, FaqArticle, ServiceRequest, ServiceType, StaffProfile
from crm.services import request_create
from onboarding.models import (
    AuditEntry,
    Milestone,
    OnboardingProject,
    TimeEntry,
    TownRollup,
)
from onboarding.services import project_start, rollup_refresh, staff_csv_preview
from tenants.accounts.models import User
from tenants.models import Domain, Municipality
from tests.onboarding.console_helpers import PASSWORD, console_client, console_user, sign_in

pytestmark = pytest.mark.django_db

STAFF_CSV = (
    "courriel;prenom;nom;role;langue\n"
    "agent1@terrebonne.qc.ca;Léa;Tremblay;personnel;fr\n"
    "Chef@Terrebonne.qc.ca;Omar;Roy;administrateur;en\n"
)


def _upload(content: str, name: str = "personnel.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


# --- Access ------------------------------------------------------------------------------------


def test_the_console_sends_anonymous_visitors_to_sign_in(platform_client):
    response = platform_client.get("/console/")

    assert response.status_code == 302
    assert response.url.startswith("/comptes/login/?next=/console/")


def test_an_account_without_a_console_role_is_refused(platform_client):
    with schema_context("public"):
        user = User.objects.create_user(email="curieux@relais.quebec", password=PASSWORD)
    platform_client.force_login(user)

    assert platform_client.get("/console/").status_code == 403


def test_a_member_without_two_factor_must_turn_it_on_first(platform_client):
    user, _secret = console_user("nouveau@relais.quebec", "specialist", mfa=False)
    platform_client.force_login(user)

    response = platform_client.get("/console/projets/")

    assert response.status_code == 302
    assert response.url.startswith("/comptes/2fa/totp/activate/")


def test_a_password_only_session_must_confirm_the_second_factor(platform_client):
    # force_login stands for a sign-in that skipped the second factor (e.g. /admin/).
    user, _secret = console_user("presse@relais.quebec", "operator")
    platform_client.force_login(user)

    response = platform_client.get("/console/")

    assert response.status_code == 302
    assert response.url.startswith("/comptes/2fa/reauthenticate/")


def test_sign_in_asks_for_the_code_and_opens_the_console(platform_client):
    _user, secret = console_user("specialiste@relais.quebec", "specialist")
    sign_in(platform_client, "specialiste@relais.quebec", secret)

    response = platform_client.get("/console/")

    assert response.status_code == 200
    assert "Municipalités de la plateforme" in response.content.decode()


def test_a_wrong_code_does_not_sign_in(platform_client):
    console_user("erreur@relais.quebec", "operator")
    platform_client.post("/comptes/login/", {"login": "erreur@relais.quebec", "password": PASSWORD})

    platform_client.post("/comptes/2fa/authenticate/", {"code": "000000"})

    assert platform_client.get("/console/").status_code == 302


def test_only_operators_see_the_audit_and_the_members():
    specialist = console_client("spec@relais.quebec", "specialist")
    operator = console_client("op@relais.quebec", "operator")

    assert specialist.get("/console/journal/").status_code == 403
    assert specialist.get("/console/membres/").status_code == 403
    assert operator.get("/console/journal/").status_code == 200
    assert operator.get("/console/membres/").status_code == 200


def test_the_console_does_not_exist_on_a_town_host(laval, client_for):
    assert client_for(laval).get("/console/").status_code == 404


def test_an_operator_invites_a_member_who_chooses_a_password(
    operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(
            "/console/membres/", {"email": "Nouvelle@Relais.Quebec", "role": "specialist"}
        )

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://localhost(/comptes/reset/\S+/)", mail.outbox[0].body).group(1)
    client = Client(HTTP_HOST="localhost")
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Un-mot-de-passe-2026!", "new_password2": "Un-mot-de-passe-2026!"},
    )
    assert done.status_code == 302
    with schema_context("public"):
        member = User.objects.get(email="nouvelle@relais.quebec").console_member
        assert member.role == "specialist"
        entry = AuditEntry.objects.get(action="member_invite")
    assert (entry.actor_email, entry.target) == (
        "operatrice@relais.quebec",
        "nouvelle@relais.quebec",
    )


# --- The wizard, end to end ---------------------------------------------------------------------


def _start(client: Client, laval, **overrides) -> OnboardingProject:
    data = {
        "host": laval.pk,
        "name": "Ville de Terrebonne",
        "slug": "terrebonne",
        "domain": "terrebonne.localhost",
    } | overrides
    response = client.post("/console/projets/nouveau/", data)
    assert response.status_code == 302, response.content.decode()
    return OnboardingProject.objects.get(slug=data["slug"])


def _fill_wizard(client: Client, project: OnboardingProject, host_catalog) -> None:
    base = f"/console/projets/{project.pk}/etapes"
    steps = [
        ("profil", {"population": "119000", "region": "14"}),
        ("forfait", {"plan": "metropole"}),
        (
            "catalogue",
            {
                "copy_catalog": "on",
                "include_faq": "on",
                "service_type_codes": ["nid-de-poule", "fuite-eau"],
                # Water merged into public works; the 311 desk keeps its code.
                "dept_travaux-publics": "travaux",
                "dept_eau": "travaux",
                "dept_centre-311": "centre-311",
            },
        ),
    ]
    for step, data in steps:
        response = client.post(f"{base}/{step}/", data)
        assert response.status_code == 302, (step, response.content.decode())
    preview = client.post(
        f"{base}/personnel/",
        {"administrator_email": "dg@terrebonne.qc.ca", "staff_file": _upload(STAFF_CSV)},
    )
    assert preview.status_code == 200
    assert "2 personnes à inviter" in preview.content.decode()
    signed = preview.context["signed_rows"]
    confirmed = client.post(
        f"{base}/personnel/",
        {"administrator_email": "dg@terrebonne.qc.ca", "staff_rows": signed},
    )
    assert confirmed.status_code == 302
    response = client.post(
        f"{base}/image/",
        {
            "display_name": "Terrebonne",
            "primary_colour": "#7a1f1f",
            "privacy_officer_name": "Greffe de Terrebonne",
            "privacy_officer_email": "greffe@terrebonne.qc.ca",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert client.post(f"{base}/revue/").status_code == 302


def test_a_specialist_onboards_a_town_through_the_wizard_and_its_staff_sign_in(
    laval, levis, host_catalog, client_for, django_capture_on_commit_callbacks
):
    specialist = console_client("spec@relais.quebec", "specialist")
    project = _start(specialist, laval)
    _fill_wizard(specialist, project, host_catalog)

    with django_capture_on_commit_callbacks(execute=True):
        response = specialist.post(f"/console/projets/{project.pk}/mise-en-service/")
    assert response.status_code == 302

    project.refresh_from_db()
    town = project.municipality
    assert project.status == "provisioned"
    assert (town.slug, town.kind, town.host, town.status) == (
        "terrebonne",
        "partner",
        laval,
        "onboarding",
    )
    assert (town.population, town.region, town.primary_colour) == (119000, "14", "#7a1f1f")
    assert [entry["step"] for entry in project.provisioning_log] == [
        "schema",
        "catalog",
        "staff",
        "total",
    ]
    with schema_context(town.schema_name):
        assert sorted(ServiceType.objects.values_list("code", flat=True)) == [
            "fuite-eau",
            "nid-de-poule",
        ]
        assert list(Department.objects.values_list("code", flat=True)) == ["travaux"]
        assert FaqArticle.objects.count() == 1
        assert ServiceRequest.objects.count() == 0  # requests never travel
        staff = dict(User.objects.values_list("email", "is_superuser"))
    assert staff == {
        "dg@terrebonne.qc.ca": True,
        "agent1@terrebonne.qc.ca": False,
        "chef@terrebonne.qc.ca": True,
    }
    with schema_context(town.schema_name):
        roles = dict(StaffProfile.objects.values_list("user__email", "role"))
    assert roles == {"agent1@terrebonne.qc.ca": "agent", "chef@terrebonne.qc.ca": "administrator"}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(staff)
    # The second town sees none of it.
    with schema_context(levis.schema_name):
        assert not User.objects.filter(email__endswith="@terrebonne.qc.ca").exists()
        assert not ServiceType.objects.filter(code="fuite-eau").exists()

    # An administrator from the staff file follows the invitation and signs in on the town's
    # own domain.
    message = next(m for m in mail.outbox if m.to == ["chef@terrebonne.qc.ca"])
    link = re.search(r"http://terrebonne\.localhost(/comptes/reset/\S+/)", message.body).group(1)
    town_client = client_for("terrebonne.localhost")
    form = town_client.get(link, follow=True)
    town_client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Agent-solide-2026!", "new_password2": "Agent-solide-2026!"},
    )
    signed_in = town_client.post(
        "/comptes/login/", {"login": "chef@terrebonne.qc.ca", "password": "Agent-solide-2026!"}
    )
    assert signed_in.status_code == 302
    # The same account means nothing on Lévis's domain.
    other = client_for(levis)
    refused = other.post(
        "/comptes/login/", {"login": "chef@terrebonne.qc.ca", "password": "Agent-solide-2026!"}
    )
    assert refused.status_code == 200

    # Go-live: the platform checks what it can, the team ticks the rest.
    checklist = specialist.get(f"/console/projets/{project.pk}/mise-en-ligne/")
    assert checklist.status_code == 200
    early = specialist.post(
        f"/console/projets/{project.pk}/mise-en-ligne/", {"done": ["dns"], "go_live": "1"}
    )
    assert early.status_code == 302
    town.refresh_from_db()
    assert town.status == "onboarding"
    done = specialist.post(
        f"/console/projets/{project.pk}/mise-en-ligne/",
        {"done": ["dns", "training", "test_request", "privacy"], "go_live": "1"},
    )
    assert done.status_code == 302
    town.refresh_from_db()
    project.refresh_from_db()
    assert (town.status, project.status) == ("live", "live")
    assert [m.kind for m in project.milestones.all()] == [
        "started",
        "provisioned",
        "catalog_copied",
        "staff_invited",
        "went_live",
    ]
    actions = list(
        AuditEntry.objects.filter(target="terrebonne")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions[0] == "project_start"
    assert actions.count("project_step") == 6
    assert "project_provision" in actions
    assert actions[-1] == "project_go_live"
    assert set(AuditEntry.objects.values_list("actor_email", flat=True)) == {"spec@relais.quebec"}


def test_the_wizard_resumes_where_it_was_left(laval, host_catalog, operator):
    project = _start(operator, laval)
    operator.post(
        f"/console/projets/{project.pk}/etapes/profil/", {"population": "5000", "region": "15"}
    )

    # Another day, another session: the saved values and progress are there.
    page = operator.get(f"/console/projets/{project.pk}/etapes/profil/")
    detail = operator.get(f"/console/projets/{project.pk}/")

    assert page.context["form"].initial == {"population": 5000, "region": "15"}
    done = [s["key"] for s in detail.context["steps"] if s["done"]]
    assert done == ["identity", "profile"]
    review = operator.get(f"/console/projets/{project.pk}/etapes/revue/")
    assert review.status_code == 200
    assert len(review.context["missing"]) == 4
    refused = operator.post(f"/console/projets/{project.pk}/etapes/revue/")
    assert refused.status_code == 200
    project.refresh_from_db()
    assert "review" not in project.completed_steps


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "laval", "déjà pris"),
        ("domain", "levis.localhost", "déjà utilisé"),
        ("slug", "Mauvais_Nom", "identifiant valide"),
        ("domain", "localhost", "domaine de base"),
    ],
)
def test_identity_conflicts_are_refused_and_nothing_is_saved(
    laval, levis, operator, field, value, message
):
    data = {
        "host": laval.pk,
        "name": "Ville de Mascouche",
        "slug": "mascouche",
        "domain": "mascouche.localhost",
        field: value,
    }

    response = operator.post("/console/projets/nouveau/", data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not OnboardingProject.objects.exists()


def test_two_projects_cannot_claim_the_same_domain(laval, operator):
    _start(operator, laval)

    response = operator.post(
        "/console/projets/nouveau/",
        {"host": laval.pk, "name": "Autre", "slug": "autre", "domain": "terrebonne.localhost"},
    )

    assert response.status_code == 200
    assert OnboardingProject.objects.count() == 1


def test_a_staff_file_with_errors_is_reported_line_by_line_and_not_saved(laval, operator):
    project = _start(operator, laval)
    bad = (
        "email,first_name,last_name,role,language\n"
        "ok@terrebonne.qc.ca,Ana,Roy,personnel,fr\n"
        "pas-un-courriel,Bob,Roy,personnel,fr\n"
        "ok@terrebonne.qc.ca,Ana,Roy,chef,de\n"
    )

    response = operator.post(
        f"/console/projets/{project.pk}/etapes/personnel/",
        {"administrator_email": "dg@terrebonne.qc.ca", "staff_file": _upload(bad)},
    )

    assert response.status_code == 422
    errors = [(e.line, e.column) for e in response.context["preview"].errors]
    assert errors == [(3, "email"), (4, "email"), (4, "role"), (4, "language")]
    # The page names each column as the file's documented header.
    assert "<td>courriel</td>" in response.content.decode()
    assert "<td>langue</td>" in response.content.decode()
    assert "rien n'a été enregistré" in response.content.decode()
    project.refresh_from_db()
    assert (project.staff, project.administrator_email) == ([], "")
    assert "staff" not in project.completed_steps


def test_a_tampered_staff_preview_is_refused(laval, operator):
    project = _start(operator, laval)

    response = operator.post(
        f"/console/projets/{project.pk}/etapes/personnel/",
        {"administrator_email": "dg@terrebonne.qc.ca", "staff_rows": "[{'email': 'x'}]"},
    )

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.staff == []


def test_staff_csv_preview_reads_french_and_english_headers_and_a_bom():
    preview = staff_csv_preview(content=("\ufeff" + STAFF_CSV).encode())
    english = staff_csv_preview(content=b"email,language\nA@B.ca,en\n")
    latin1 = staff_csv_preview(content="courriel\nélise@b.ca\n".encode("latin-1"))
    no_email = staff_csv_preview(content=b"nom,prenom\nRoy,Ana\n")

    assert preview.valid
    assert [r["email"] for r in preview.rows] == [
        "agent1@terrebonne.qc.ca",
        "chef@terrebonne.qc.ca",
    ]
    assert english.rows == [
        {
            "email": "a@b.ca",
            "first_name": "",
            "last_name": "",
            "role": "personnel",
            "language": "en",
        }
    ]
    assert not latin1.valid
    assert "UTF-8" in latin1.errors[0].message
    assert not no_email.valid
    assert no_email.errors[0].column == "email"


def test_a_failed_provisioning_leaves_nothing_and_says_why(laval, host_catalog, operator):
    project = _start(operator, laval)
    _fill_wizard(operator, project, host_catalog)
    # Between the review and the provisioning, someone else takes the domain.
    with schema_context("public"):
        Domain.objects.create(domain="terrebonne.localhost", tenant=laval, is_primary=False)
    schemas_before = _schemas()

    response = operator.post(f"/console/projets/{project.pk}/mise-en-service/", follow=True)

    project.refresh_from_db()
    assert project.status == "failed"
    assert "terrebonne.localhost" in project.failure_message
    assert "a échoué" in response.content.decode()
    assert not Municipality.objects.filter(slug="terrebonne").exists()
    assert not schema_exists("terrebonne")
    assert _schemas() == schemas_before
    assert not Milestone.objects.filter(project=project, kind="provisioned").exists()
    assert AuditEntry.objects.filter(action="project_provision_failed").count() == 1


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def test_a_provisioned_project_cannot_be_provisioned_again(laval, host_catalog, operator):
    project = _start(operator, laval)
    _fill_wizard(operator, project, host_catalog)
    operator.post(f"/console/projets/{project.pk}/mise-en-service/")

    again = operator.post(f"/console/projets/{project.pk}/mise-en-service/", follow=True)

    assert "déjà mise en service" in again.content.decode()
    assert Municipality.objects.filter(slug="terrebonne").count() == 1
    project.refresh_from_db()
    assert (project.status, project.municipality.slug) == ("provisioned", "terrebonne")


# --- Time tracking ------------------------------------------------------------------------------


def test_specialists_log_hours_by_activity(laval):
    specialist = console_client("spec@relais.quebec", "specialist")
    project = _start(specialist, laval)
    today = timezone.localdate()
    for activity, hours in [("formation", "3.5"), ("formation", "2"), ("donnees", "1.25")]:
        response = specialist.post(
            f"/console/projets/{project.pk}/",
            {"day": today.isoformat(), "activity": activity, "hours": hours, "note": ""},
        )
        assert response.status_code == 302

    page = specialist.get(f"/console/projets/{project.pk}/")

    assert [(h.activity, h.hours) for h in page.context["hours"]] == [
        ("donnees", Decimal("1.25")),
        ("formation", Decimal("5.50")),
    ]
    assert page.context["total_hours"] == Decimal("6.75")
    listing = specialist.get("/console/projets/")
    assert listing.context["projects"][0].hours == Decimal("6.75")
    assert AuditEntry.objects.filter(action="time_log").count() == 3


@pytest.mark.parametrize(
    ("day_offset", "hours", "field"),
    [(1, "2", "day"), (0, "0", "hours"), (0, "25", "hours"), (0, "abc", "hours")],
)
def test_bad_hours_are_refused(laval, operator, day_offset, hours, field):
    project = _start(operator, laval)
    day = timezone.localdate() + timedelta(days=day_offset)

    response = operator.post(
        f"/console/projets/{project.pk}/",
        {"day": day.isoformat(), "activity": "formation", "hours": hours},
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not TimeEntry.objects.exists()


# --- Home, rollup and audit ---------------------------------------------------------------------


def test_the_rollup_counts_each_towns_staff_requests_and_activity(laval, levis, host_catalog):
    with schema_context(laval.schema_name):
        User.objects.create_user(email="agent@laval.localhost", is_staff=True)
        request_create(
            actor=None,
            service_type=host_catalog["pothole"],
            channel="phone",
            address="2, rue B",
            attributes={"taille": "petit"},
        )

    assert rollup_refresh() >= 2

    rows = {r.municipality.slug: r for r in TownRollup.objects.select_related("municipality")}
    assert (rows["laval"].staff_count, rows["laval"].requests_this_month) == (1, 2)
    assert rows["laval"].last_activity_at is not None
    assert (rows["levis"].staff_count, rows["levis"].requests_this_month) == (0, 0)
    assert rows["levis"].last_activity_at is None


def test_the_home_reads_the_rollup_without_visiting_any_town_schema(
    laval, levis, operator, django_assert_max_num_queries
):
    call_command("refresh_console_rollup", stdout=None)
    operator.get("/console/")  # warm the session and routing

    with django_assert_max_num_queries(10) as captured:
        response = operator.get("/console/")

    assert response.status_code == 200
    assert not any("search_path" in q["sql"].lower() for q in captured.captured_queries)
    rows = {row.municipality.slug: row for row in response.context["towns"]}
    assert set(rows) >= {"laval", "levis"}
    assert rows["levis"].domains == ["levis.localhost"]
    assert rows["laval"].rollup is not None


def test_the_towns_are_found_by_name_address_or_domain(laval, levis, operator):
    """A provincial platform lists hundreds of towns: the home finds them by what an operator
    knows of them, and says when nothing matches."""
    for search in ("lévis", "LEVIS", "levis.local"):
        response = operator.get("/console/", {"q": search})
        slugs = [row.municipality.slug for row in response.context["towns"]]
        assert slugs == ["levis"], search
    page = operator.get("/console/", {"q": "  Lévis  "}).content.decode()
    assert "1 municipalité correspond à « Lévis »" in page
    assert 'value="Lévis"' in page

    nothing = operator.get("/console/", {"q": "<script>x</script>"}).content.decode()
    assert "Aucune municipalité ne correspond à cette recherche." in nothing
    assert "<script>x</script>" not in nothing
    english = operator.get("/en/console/", {"q": "zzz"}).content.decode()
    assert "0 municipalities match “zzz”" in english
    assert "No municipality matches this search." in english


def test_the_towns_come_by_pages_and_a_bad_page_is_the_nearest_one(
    laval, levis, operator, monkeypatch
):
    from onboarding import selectors as console_selectors

    monkeypatch.setattr(console_selectors, "TOWNS_PER_PAGE", 1)
    names = sorted(
        Municipality.objects.exclude(schema_name="public").values_list("name", flat=True)
    )

    first = operator.get("/console/")
    second = operator.get("/console/", {"page": "2"})
    assert [row.municipality.name for row in first.context["towns"]] == names[:1]
    assert [row.municipality.name for row in second.context["towns"]] == names[1:2]
    assert f"page 1 sur {len(names)}" in first.content.decode()
    assert 'href="?page=2" rel="next"' in first.content.decode()
    assert 'href="?page=1" rel="prev"' in second.content.decode()
    for bad, expected in (("abc", 1), ("-4", 1), ("9" * 5000, 1), ("999", len(names))):
        assert operator.get("/console/", {"page": bad}).context["listing"].page == expected
    searched = operator.get("/console/", {"q": "l", "page": "1"}).content.decode()
    assert 'href="?q=l&amp;page=2" rel="next"' in searched


def test_the_audit_cannot_be_changed_or_deleted(laval):
    project = project_start(
        host=laval, name="Ville de Blainville", slug="blainville", domain="b.localhost", actor=None
    )
    entry = AuditEntry.objects.get(target=project.slug)

    with pytest.raises(ValueError, match="ne se modifie pas"):
        entry.save()
    with transaction.atomic(), pytest.raises(DatabaseError, match="append-only"):
        AuditEntry.objects.filter(pk=entry.pk).update(action="autre")
    with transaction.atomic(), pytest.raises(DatabaseError, match="append-only"):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "project_start"


def test_a_custom_domain_gets_a_reminder_about_dns_and_allowed_hosts(laval, operator):
    response = operator.post(
        "/console/projets/nouveau/",
        {
            "host": laval.pk,
            "name": "Ville de Mirabel",
            "slug": "mirabel",
            "domain": "311.mirabel.ca",
        },
        follow=True,
    )

    page = response.content.decode()
    assert "RELAIS_EXTRA_HOSTS" in page
    assert OnboardingProject.objects.get(slug="mirabel").domain == "311.mirabel.ca"
