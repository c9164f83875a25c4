"""One door to every staff area: allauth's sign-in, its rate limits, and the second factor.

Regression tests of the [trust] findings: the admin's own sign-in form bypassed the console's
second factor and had no brute-force limit; a first sign-in asked the password and the code
twice; a reset link took its port from the Host header; sign-up told whether an address had an
account.
"""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    validate_totp_code,
)
from django.core import mail
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from crm.models import StaffProfile
from onboarding.models import ConsoleMember, ConsoleRole
from tenants.accounts.models import User
from tests.accounts import sign_in, signed_in_staff, totp_code, totp_device
from tests.conftest import BASE_DOMAIN, host_of
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_AREAS = ["/admin/", "/admin/accounts/user/", "/admin/mfa/authenticator/"]


def _superuser(schema_name: str, email: str) -> User:
    with schema_context(schema_name):
        return UserFactory(email=email, is_staff=True, is_superuser=True)


@pytest.fixture(params=["platform", "town"])
def area(request, laval):
    """The base domain (the operator) and a town (its administrator)."""
    if request.param == "platform":
        return BASE_DOMAIN, "public", _superuser("public", "operateur@relais.qc.ca")
    return host_of(laval), laval.schema_name, _superuser(laval.schema_name, "admin@laval.qc.ca")


def test_the_admin_has_no_sign_in_form_of_its_own(area):
    host, _schema, user = area
    client = Client(HTTP_HOST=host)

    form = client.get("/admin/login/?next=/admin/accounts/user/")
    posted = client.post(
        "/admin/login/?next=/admin/", {"username": user.email, "password": TEST_PASSWORD}
    )

    assert form.status_code == 302
    assert form.url == "/comptes/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    assert posted.status_code == 302
    assert posted.url == "/comptes/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session  # the password opened nothing
    assert client.get("/admin/").url.startswith("/admin/login/")


def test_a_password_alone_opens_no_admin_page(area):
    host, schema, user = area
    with schema_context(schema):
        totp_device(user)
    client = Client(HTTP_HOST=host)

    sign_in(client, user.email)  # the password step only: the code is still awaited

    for path in ADMIN_AREAS:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith("/admin/login/"), path


def test_an_account_without_a_device_sets_one_up_before_the_admin(area):
    host, _schema, user = area
    client = Client(HTTP_HOST=host)

    sign_in(client, user.email)

    for path in ADMIN_AREAS:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith("/comptes/2fa/totp/activate/?next="), path


def test_a_session_that_skipped_the_second_factor_is_asked_for_it(area):
    """A session opened another way (e.g. the app's token exchange, or before the device was
    added) must confirm a code before the admin."""
    host, schema, user = area
    with schema_context(schema):
        totp_device(user)
    client = Client(HTTP_HOST=host)
    with schema_context(schema):
        client.force_login(user)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response.url == "/comptes/2fa/reauthenticate/?next=%2Fadmin%2Faccounts%2Fuser%2F"


def test_with_the_second_factor_the_admin_opens(area):
    host, schema, user = area

    client = signed_in_staff(host, schema, user)

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_a_citizen_signed_in_on_the_admin_login_gets_a_refusal(laval):
    with schema_context(laval.schema_name):
        UserFactory(email="citoyen@exemple.qc.ca")
    client = Client(HTTP_HOST=host_of(laval))
    sign_in(client, "citoyen@exemple.qc.ca")

    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 403  # not a loop between the two sign-in pages


def test_brute_force_meets_one_limit_whatever_the_door(area):
    host, _schema, user = area
    client = Client(HTTP_HOST=host)

    for _attempt in range(40):
        client.post("/admin/login/", {"username": user.email, "password": "mauvais"})
    for _attempt in range(5):
        wrong = client.post("/comptes/login/", {"login": user.email, "password": "mauvais"})
        assert wrong.status_code == 200
    right = client.post("/comptes/login/", {"login": user.email, "password": TEST_PASSWORD})
    via_admin = client.post("/admin/login/", {"username": user.email, "password": TEST_PASSWORD})

    assert right.status_code == 200  # the form again, with the lock-out message
    assert "Trop de tentatives de connexion échouées" in right.text
    assert via_admin.status_code == 302
    assert via_admin.url.startswith("/comptes/login/")
    assert "_auth_user_id" not in client.session


def test_a_first_console_sign_in_asks_the_password_once_and_a_code_once(platform_client):
    with schema_context("public"):
        member = UserFactory(email="nouvelle@relais.quebec")
        ConsoleMember.objects.create(user=member, role=ConsoleRole.OPERATOR)
    passwords = codes = 0

    sign_in(platform_client, member.email)
    passwords += 1
    detour = platform_client.get("/console/")
    setup = platform_client.get(detour.url)
    secret = platform_client.session["mfa.totp.secret"]
    activated = platform_client.post(detour.url, {"code": totp_code(secret)})
    codes += 1
    recovery_codes = platform_client.get(activated.url)
    console = platform_client.get("/console/")

    assert detour.url == "/comptes/2fa/totp/activate/?next=%2Fconsole%2F"
    assert setup.status_code == 200  # the set-up page, not a password prompt
    assert activated.status_code == 302
    # The recovery codes, to note, then the way back to the page that asked for the device.
    assert activated.url == "/comptes/2fa/recovery-codes/"
    assert 'href="/console/"' in recovery_codes.text
    assert console.status_code == 200
    assert (passwords, codes) == (1, 1)


def test_a_stale_sign_in_is_asked_to_re_authenticate_before_setting_up_a_device(
    platform_client, monkeypatch
):
    """The freshness rule only spares a sign-in made moments ago."""
    with schema_context("public"):
        member = UserFactory(email="ancienne@relais.quebec")
        ConsoleMember.objects.create(user=member, role=ConsoleRole.OPERATOR)
    sign_in(platform_client, member.email)
    session = platform_client.session
    records = session["account_authentication_methods"]
    session["account_authentication_methods"] = [{**r, "at": r["at"] - 3600} for r in records]
    session.save()

    setup = platform_client.get("/comptes/2fa/totp/activate/?next=/console/")

    assert setup.status_code == 302
    assert setup.url.startswith("/comptes/reauthenticate/")


@pytest.mark.parametrize(
    ("settings_override", "origin"),
    [
        ({}, "http://laval.localhost/"),
        ({"RELAIS_PUBLIC_PORT": "8443"}, "http://laval.localhost:8443/"),
    ],
)
def test_a_reset_link_takes_the_public_port_not_the_host_header(laval, settings_override, origin):
    with schema_context(laval.schema_name):
        UserFactory(email="camille@exemple.qc.ca")
    client = Client(HTTP_HOST="laval.localhost:6666")

    with override_settings(**settings_override):
        response = client.post("/comptes/password/reset/", {"email": "camille@exemple.qc.ca"})

    assert response.status_code == 302
    body = mail.outbox[-1].body
    links = re.findall(r"https?://\S+", body)
    assert links, body
    assert all(link.startswith(origin) for link in links), links
    assert ":6666" not in body


def _web_sign_up(town, email: str) -> tuple[Client, object]:
    client = Client(HTTP_HOST=host_of(town))
    response = client.post(
        "/comptes/signup/",
        {
            "email": email,
            "password1": "Un-mot-de-passe-solide-2026",
            "password2": "Un-mot-de-passe-solide-2026",
        },
    )
    return client, response


def test_web_sign_up_answers_the_same_for_a_taken_address(laval):
    with schema_context(laval.schema_name):
        staff = UserFactory(email="agent@laval.qc.ca", is_staff=True)
        users_before = User.objects.count()

    _client, taken = _web_sign_up(laval, "agent@laval.qc.ca")
    taken_mail = mail.outbox[-1]
    _client, fresh = _web_sign_up(laval, "nouvelle@exemple.qc.ca")
    fresh_mail = mail.outbox[-1]

    assert (taken.status_code, taken.url) == (fresh.status_code, fresh.url)
    assert taken.url == "/comptes/confirm-email/"
    # The owner of the taken address is told, privately, by e-mail.
    assert taken_mail.to == ["agent@laval.qc.ca"]
    assert fresh_mail.to == ["nouvelle@exemple.qc.ca"]
    assert taken_mail.subject != fresh_mail.subject
    with schema_context(laval.schema_name):
        assert User.objects.count() == users_before + 1  # only the new address
        staff.refresh_from_db()
        assert staff.check_password(TEST_PASSWORD)


def test_app_sign_up_answers_the_same_for_a_taken_address(laval):
    with schema_context(laval.schema_name):
        UserFactory(email="agent@laval.qc.ca", is_staff=True)

    def sign_up(email: str) -> dict:
        response = Client(HTTP_HOST=host_of(laval)).post(
            "/_allauth/app/v1/auth/signup",
            {"email": email, "password": "Citoyen-tres-solide-2026"},
            content_type="application/json",
        )
        body = response.json()
        body["meta"].pop("session_token")
        return {"status": response.status_code, **body}

    assert sign_up("agent@laval.qc.ca") == sign_up("nouveau@exemple.qc.ca")


def _staff_with_role(town, email: str, role: str, **fields) -> User:
    with schema_context(town.schema_name):
        user = UserFactory(email=email, is_staff=True, **fields)
        StaffProfile.objects.create(user=user, role=role)
    return user


def test_the_api_gives_staff_rights_only_to_a_session_with_the_second_factor(laval):
    """The REST API is a staff area like the admin: a session or app token that skipped the
    account's device, or of a staff account without one, has no staff rights there."""
    citizens = "/api/v1/citizens/?purpose=Appel"
    administrator = _superuser(laval.schema_name, "admin@laval.qc.ca")
    agent = _staff_with_role(laval, "agent@laval.qc.ca", "agent")
    newcomer = _staff_with_role(laval, "nouveau@laval.qc.ca", "agent")
    with schema_context(laval.schema_name):
        secret = totp_device(agent)
    no_device = Client(HTTP_HOST=host_of(laval))
    sign_in(no_device, administrator.email)
    no_device_agent = Client(HTTP_HOST=host_of(laval))
    sign_in(no_device_agent, newcomer.email)
    skipped = Client(HTTP_HOST=host_of(laval))
    with schema_context(laval.schema_name):
        skipped.force_login(agent)  # a session opened without the code
    app_token = Client(HTTP_HOST=host_of(laval)).post(
        "/_allauth/app/v1/auth/login",
        {"email": newcomer.email, "password": TEST_PASSWORD},
        content_type="application/json",
    )
    token_client = Client(
        HTTP_HOST=host_of(laval), HTTP_X_SESSION_TOKEN=app_token.json()["meta"]["session_token"]
    )
    with_code = Client(HTTP_HOST=host_of(laval))
    sign_in(with_code, agent.email, secret=secret)

    refused = [
        client.get(citizens) for client in (no_device, no_device_agent, skipped, token_client)
    ]

    for response in refused:
        assert response.status_code == 403
        assert "double authentification" in response.json()["error"]["message"]
    assert with_code.get(citizens).status_code == 200


def test_a_code_one_step_old_still_opens_two_steps_old_does_not():
    """RFC 6238's one step of tolerance: a code typed as its 30 seconds end (or read from a
    phone whose clock drifts a little) opens; an older one does not."""
    secret = generate_totp_secret()
    step = int(time.time()) // app_settings.TOTP_PERIOD

    assert validate_totp_code(secret, format_hotp_value(hotp_value(secret, step - 1)))
    assert validate_totp_code(secret, format_hotp_value(hotp_value(secret, step + 1)))
    assert not validate_totp_code(secret, format_hotp_value(hotp_value(secret, step - 3)))
