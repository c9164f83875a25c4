"""`manage.py create_host_town`: an installation's first town, live, with its administrator
invited."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from tenants.models import Domain, Municipality

pytestmark = pytest.mark.django_db


def _create(*extra: str) -> str:
    out = StringIO()
    call_command(
        "create_host_town",
        "--name=Ville de Gatineau",
        "--slug=gatineau",
        "--domain=gatineau.localhost",
        "--region=07",
        "--admin-email=admin@gatineau.localhost",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_the_host_town_is_live_and_its_administrator_is_invited(
    client_for, django_capture_on_commit_callbacks
):
    from tenants.accounts.models import User

    with django_capture_on_commit_callbacks(execute=True):
        out = _create("--population=291041")

    town = Municipality.objects.get(slug="gatineau")
    assert (town.kind, town.status, town.population) == (
        Municipality.Kind.HOST,
        Municipality.Status.LIVE,
        291041,
    )
    assert town.privacy_officer_email == "vie-privee@gatineau.localhost"
    assert Domain.objects.get(tenant=town, is_primary=True).domain == "gatineau.localhost"
    assert out.splitlines()[-1] == "http://gatineau.localhost/"  # plain HTTP in the tests
    with schema_context("gatineau"):
        admin = User.objects.get(email="admin@gatineau.localhost")
        assert not admin.has_usable_password()
    with schema_context("laval"):
        assert not User.objects.filter(email="admin@gatineau.localhost").exists()
    assert [message.to for message in mail.outbox] == [["admin@gatineau.localhost"]]
    assert client_for("gatineau.localhost").get("/").status_code == 200


def test_a_taken_domain_is_refused_and_leaves_nothing():
    with pytest.raises(CommandError):
        call_command(
            "create_host_town",
            "--name=Autre",
            "--slug=autre",
            "--domain=laval.localhost",
            "--region=13",
            "--admin-email=admin@autre.localhost",
            stdout=StringIO(),
        )
    assert not Municipality.objects.filter(slug="autre").exists()


def test_a_bad_administrator_address_leaves_no_town():
    with pytest.raises(CommandError):
        _create("--admin-email=pas-une-adresse")
    assert not Municipality.objects.filter(slug="gatineau").exists()


def test_an_invitation_the_mail_server_refuses_leaves_the_town_and_says_what_to_do():
    from django.conf import settings
    from django.db import connection

    from tests.e2e.test_accessibility import committed
    from tests.processes import child_env, free_port

    closed = free_port()  # nothing listens there: the mail server refuses the connection
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_host_town",
            "--name=Ville de Gatineau",
            "--slug=gatineau",
            "--domain=gatineau.localhost",
            "--region=07",
            "--admin-email=admin@gatineau.localhost",
        ],
        cwd=settings.BASE_DIR,
        env=child_env(RELAIS_TEST_EMAIL_URL=f"smtp://127.0.0.1:{closed}?timeout=5"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        assert done.returncode == 1, done.stderr
        assert "L'invitation à admin@gatineau.localhost n'a pas pu partir" in done.stderr
        assert "http://gatineau.localhost/comptes/password/reset/" in done.stderr
        assert done.stdout.splitlines()[-1] == "http://gatineau.localhost/"
        assert Municipality.objects.get(slug="gatineau").status == Municipality.Status.LIVE
    finally:

        def remove() -> None:
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA IF EXISTS gatineau CASCADE")
            Domain.objects.filter(tenant__slug="gatineau").delete()
            Municipality.objects.filter(slug="gatineau").delete()

        committed(remove)
