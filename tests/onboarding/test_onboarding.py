from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from crm.errors import CrmError
from crm.models import Citizen, Department, FaqArticle, ServiceRequest, ServiceType
from crm.search import faq_search
from onboarding.errors import OnboardingError
from onboarding.services import municipality_onboard
from tenants.models import Municipality, Region

pytestmark = pytest.mark.django_db


def _onboard(laval, **overrides):
    fields = {
        "name": "Ville de Terrebonne",
        "slug": "terrebonne",
        "domain": "terrebonne.localhost",
        "host": laval,
        "region": Region.LANAUDIERE,
        "privacy_officer_name": "Greffe de Terrebonne",
        "privacy_officer_email": "greffe@terrebonne.localhost",
    } | overrides
    return municipality_onboard(**fields)


def test_a_partner_gets_a_copy_of_the_catalog_and_bank_with_provenance(laval, host_catalog):
    result = _onboard(laval)

    town = result.municipality
    assert (town.kind, town.host, town.status) == ("partner", laval, "onboarding")
    assert result.clone.counts == {
        "departments": 3,
        "categories": 1,
        "service_types": 3,
        "attributes": 1,
        "attribute_values": 2,
        "faq_articles": 1,
        "faq_links": 1,
        "faq_versions": 1,
    }
    with schema_context("terrebonne"):
        pothole = ServiceType.objects.get(code="nid-de-poule")
        assert pothole.source_uuid == host_catalog["pothole"].uuid
        assert pothole.uuid != host_catalog["pothole"].uuid
        assert [v.key for v in pothole.attributes.get().values.all()] == ["petit", "grand"]
        article = FaqArticle.objects.get()
        assert article.source_uuid == host_catalog["article"].uuid
        assert list(article.service_types.all()) == [pothole]
        assert article.versions.count() == 1
        assert [h.article for h in faq_search(query="nid-de-poule")] == [article]
        # Personal data never travels.
        assert Citizen.objects.count() == 0
        assert ServiceRequest.objects.count() == 0
        assert Department.objects.get(code="travaux-publics").email == ""


def test_copying_again_copies_nothing_twice(laval, host_catalog):
    from crm.cloning import catalog_copy_from

    _onboard(laval)

    with schema_context("terrebonne"):
        again = catalog_copy_from(source_schema="laval")
        assert again.total == 0
        assert ServiceType.objects.count() == 3


def test_departments_can_be_renamed_and_merged(laval, host_catalog):
    _onboard(laval, department_map={"eau": "travaux-publics", "centre-311": "service-citoyens"})

    with schema_context("terrebonne"):
        # The merged department keeps the name of the one whose code it keeps.
        assert Department.objects.get(code="travaux-publics").name_fr == "Travaux publics"
        assert sorted(Department.objects.values_list("code", flat=True)) == [
            "service-citoyens",
            "travaux-publics",
        ]
        assert ServiceType.objects.get(code="fuite-eau").department.code == "travaux-publics"
        assert ServiceType.objects.get(code="renseignement").department.code == "service-citoyens"


def test_a_selection_copies_only_what_it_needs(laval, host_catalog):
    result = _onboard(laval, service_type_codes=["nid-de-poule"])

    assert result.clone.counts["service_types"] == 1
    with schema_context("terrebonne"):
        assert list(Department.objects.values_list("code", flat=True)) == ["travaux-publics"]
        assert FaqArticle.objects.count() == 1


def test_a_failed_onboarding_leaves_nothing(laval, host_catalog):
    schemas_before = set(_schemas())

    with pytest.raises(CrmError):
        _onboard(laval, department_map={"eau": "Mauvais Code"})

    assert not Municipality.objects.filter(slug="terrebonne").exists()
    assert _schemas() == schemas_before


def test_only_a_host_city_takes_partners(levis):
    with pytest.raises(OnboardingError) as error:
        _onboard(levis)
    assert error.value.code == "not_a_host"


def test_the_first_administrator_is_invited_to_choose_a_password(
    laval, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _onboard(laval, administrator_email="Admin@Terrebonne.qc.ca")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["admin@terrebonne.qc.ca"]
    assert "Ville de Terrebonne" in message.subject
    link = re.search(r"http://terrebonne\.localhost(/comptes/reset/\S+/)", message.body).group(1)
    client = client_for("terrebonne.localhost")
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "Un-mot-de-passe-solide-2026",
            "new_password2": "Un-mot-de-passe-solide-2026",
        },
    )
    assert done.status_code == 302
    # The invitation proved the address: signing in needs no verification code, and the
    # administration asks for a second factor to be set up first.
    signed_in = client.post(
        "/comptes/login/",
        {"login": "admin@terrebonne.qc.ca", "password": "Un-mot-de-passe-solide-2026"},
    )
    assert signed_in.status_code == 302
    assert signed_in.url == "/"
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert admin.url.startswith("/comptes/2fa/totp/activate/")


def test_the_command_onboards_and_prints_the_address(laval, host_catalog):
    out = StringIO()

    call_command(
        "onboard_municipality",
        "--name",
        "Ville de Terrebonne",
        "--slug",
        "terrebonne",
        "--domain",
        "terrebonne.localhost",
        "--from",
        "laval",
        "--all-catalog",
        stdout=out,
    )

    lines = out.getvalue().splitlines()
    assert lines[-1] == "http://terrebonne.localhost/"
    assert lines[0].startswith("Mise en service : ")
    assert "service_types 3" in lines[1]
    town = Municipality.objects.get(slug="terrebonne")
    assert (town.region, town.privacy_officer_email) == (
        laval.region,
        "vie-privee@terrebonne.localhost",
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "inconnue", "--all-catalog"], "Aucune municipalité"),
        (["--from", "laval"], "--all-catalog"),
        (["--from", "laval", "--all-catalog", "--department-map", "{"], "JSON"),
        (["--from", "laval", "--all-catalog", "--department-map", "[1]"], "attend un objet"),
        (["--from", "levis", "--all-catalog"], "pas une ville hôte"),
    ],
)
def test_the_command_explains_what_is_wrong(laval, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "onboard_municipality",
            "--name",
            "X",
            "--slug",
            "terrebonne",
            "--domain",
            "terrebonne.localhost",
            *arguments,
            stdout=StringIO(),
        )
    assert not schema_exists("terrebonne")


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}
