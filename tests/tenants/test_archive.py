"""A town exported then restored into a new town comes back whole, and separate."""

from __future__ import annotations

import tarfile
from io import StringIO

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from crm.models import (
    AccessLog,
    Citizen,
    FaqArticle,
    RequestAttachment,
    RequestEvent,
    ServiceRequest,
    ServiceType,
)
from crm.roles import Viewer
from crm.search import faq_search
from crm.selectors import desk_citizen_search
from crm.services import (
    access_log_record,
    citizen_create,
    faq_article_create,
    request_add_note,
    request_attach,
    request_create,
)
from tenants.accounts.models import User
from tenants.models import Municipality
from tests.crm.desk.request_files import PNG, upload
from tests.factories import ServiceAttributeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def laval_data(laval):
    with schema_context(laval.schema_name):
        agent = UserFactory(email="agent@laval.qc.ca", is_staff=True)
        agent.user_permissions.add(Permission.objects.get(codename="view_citizen"))
        attribute = ServiceAttributeFactory(
            code="taille", datatype="singlevaluelist", required=True, choices=["petit", "grand"]
        )
        citizen = citizen_create(
            actor=None,
            first_name="Camille",
            last_name="Bélanger",
            email="camille@exemple.qc.ca",
            phone="4505550101",
        )
        request = request_create(
            actor=agent,
            service_type=attribute.service_type,
            channel="phone",
            citizen=citizen,
            address="12, rue Principale",
            attributes={"taille": "grand"},
        )
        request_add_note(
            actor=agent, service_request=request, message="Équipe jeudi.", public=False
        )
        request_attach(actor=agent, service_request=request, upload=upload("trou.png", PNG))
        faq_article_create(
            actor=agent,
            question_fr="Quand passe le déneigement?",
            answer_fr="Dès 5 cm.",
            question_en="When?",
            answer_en="At 5 cm.",
            status="published",
            owner_department=attribute.service_type.department,
        )
        access_log_record(actor=agent, citizen=citizen, action="view", purpose="Suivi")
        LogEntry.objects.create(
            user=agent,
            content_type=ContentType.objects.get_for_model(Citizen),
            object_id=str(citizen.pk),
            object_repr="camille",
            action_flag=ADDITION,
        )
        return {"request": request.number}


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Citizen,
            ServiceType,
            ServiceRequest,
            RequestEvent,
            RequestAttachment,
            FaqArticle,
            AccessLog,
            LogEntry,
        )
    }


def test_a_town_comes_back_whole_in_a_new_schema(
    laval, laval_data, tmp_path, client_for, django_capture_on_commit_callbacks
):
    archive = tmp_path / "laval.tar.gz"
    with schema_context(laval.schema_name):
        expected = _counts()

    call_command("export_tenant", tenant="laval", output=str(archive), stdout=StringIO())
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the files move in at commit
        call_command(
            "restore_tenant",
            input=str(archive),
            slug="laval-copie",
            domain="laval-copie.localhost",
            stdout=out,
        )

    assert out.getvalue().splitlines()[-1] == "http://laval-copie.localhost/"
    copy = Municipality.objects.get(slug="laval-copie")
    assert (copy.name, copy.region, copy.status) == (laval.name, laval.region, "onboarding")
    with schema_context(copy.schema_name):
        assert _counts() == expected
        request = ServiceRequest.objects.get(number=laval_data["request"])
        assert request.attributes == {"taille": "grand"}
        assert request.citizen.phone == "4505550101"
        assert [e.kind for e in request.events.order_by("id")] == [
            "created",
            "internal_note",
            "internal_note",
        ]
        # The staff's attachment (a private file) came with it, and generated columns were
        # computed again (the desk's accent-free search finds the citizen).
        attachment = RequestAttachment.objects.get()
        with attachment.file.open("rb") as handle:
            assert handle.read() == PNG
        administrator = Viewer(role="administrator", user=request.created_by)
        assert [c.email for c in desk_citizen_search(viewer=administrator, query="belanger")] == [
            "camille@exemple.qc.ca"
        ]
        agent = User.objects.get(email="agent@laval.qc.ca")
        assert agent.has_perm("crm.view_citizen")
        assert LogEntry.objects.get().content_type.model == "citizen"
        assert [hit.question for hit in faq_search(query="deneigement")] == [
            "Quand passe le déneigement?"
        ]
        # Sequences moved past the restored ids: new rows do not collide.
        new = request_create(
            actor=None,
            service_type=request.service_type,
            channel="web",
            address="1, rue B",
            attributes={"taille": "petit"},
        )
        assert new.pk > request.pk
    with schema_context("levis"):
        assert Citizen.objects.count() == 0


def test_the_archive_holds_no_sessions_and_says_what_it_holds(laval, laval_data, tmp_path):
    archive = tmp_path / "laval.tar.gz"
    call_command("export_tenant", tenant="laval", output=str(archive), stdout=StringIO())

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "manifest.json" in names
    assert "tables/crm_servicerequest.csv" in names
    assert "tables/django_session.csv" not in names


def test_a_bad_archive_is_refused_and_creates_nothing(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"pas une archive")

    with pytest.raises(CommandError, match="archive Relais lisible"):
        call_command(
            "restore_tenant",
            input=str(bogus),
            slug="copie",
            domain="copie.localhost",
            stdout=StringIO(),
        )
    assert not Municipality.objects.filter(slug="copie").exists()
    assert not schema_exists("copie")


def test_an_archive_from_a_newer_relais_is_refused(laval, tmp_path):
    archive = tmp_path / "newer.tar.gz"
    call_command("export_tenant", tenant="laval", output=str(archive), stdout=StringIO())
    _rewrite(
        archive,
        lambda manifest, members: manifest["migrations"].append(["crm", "9999_from_the_future"]),
    )

    with pytest.raises(CommandError, match="plus récente"):
        call_command(
            "restore_tenant",
            input=str(archive),
            slug="copie",
            domain="copie.localhost",
            stdout=StringIO(),
        )
    assert not schema_exists("copie")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _rewrite(archive, change) -> None:
    import io
    import json

    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    manifest = json.loads(members["manifest.json"])
    change(manifest, members)
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("table", ['levis"."crm_department', 'public"."accounts_user', "pg_class"])
def test_a_crafted_table_name_never_reaches_another_schema(laval, levis, tmp_path, table):
    archive = tmp_path / "evil.tar.gz"
    call_command("export_tenant", tenant="laval", output=str(archive), stdout=StringIO())

    def smuggle(manifest, members):
        manifest["tables"][table] = 1
        members[f"tables/{table}.csv"] = b"id,code,name_fr\n999,intrus,Intrus\n"

    _rewrite(archive, smuggle)

    with pytest.raises(CommandError, match="tables inconnues"):
        call_command(
            "restore_tenant",
            input=str(archive),
            slug="copie",
            domain="copie.localhost",
            stdout=StringIO(),
        )
    with schema_context(levis.schema_name):
        from crm.models import Department

        assert not Department.objects.filter(code="intrus").exists()
    assert not Municipality.objects.filter(slug="copie").exists()


def test_a_crafted_column_or_a_wrong_count_is_refused(laval, laval_data, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    call_command("export_tenant", tenant="laval", output=str(archive), stdout=StringIO())

    def add_column(manifest, members):
        members["tables/crm_citizen.csv"] = members["tables/crm_citizen.csv"].replace(
            b"id,", b'id","evil', 1
        )

    _rewrite(archive, add_column)
    with pytest.raises(CommandError, match="colonnes inconnues"):
        call_command(
            "restore_tenant",
            input=str(archive),
            slug="copie",
            domain="copie.localhost",
            stdout=StringIO(),
        )

    call_command("export_tenant", tenant="laval", output=str(archive), stdout=StringIO())
    _rewrite(archive, lambda manifest, members: manifest["tables"].update(crm_citizen=7))
    with pytest.raises(CommandError, match="crm_citizen de l'archive compte 1 lignes au lieu de 7"):
        call_command(
            "restore_tenant",
            input=str(archive),
            slug="copie",
            domain="copie.localhost",
            stdout=StringIO(),
        )
    assert not Municipality.objects.filter(slug="copie").exists()


def test_counts_are_rows_not_lines_and_the_archive_is_private(laval, tmp_path):
    with schema_context(laval.schema_name):
        from tests.factories import DepartmentFactory

        faq_article_create(
            actor=None,
            question_fr="Q",
            answer_fr="Ligne 1\nLigne 2\nLigne 3",
            owner_department=DepartmentFactory(),
        )
    archive = tmp_path / "laval.tar.gz"

    call_command("export_tenant", tenant="laval", output=str(archive), stdout=StringIO())

    import json

    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["tables"]["crm_faqarticle"] == 1
    assert archive.stat().st_mode & 0o777 == 0o600
