"""Signing in to the platform console the way a person does: password, then a TOTP code."""

from __future__ import annotations

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django_tenants.utils import schema_context

from onboarding.models import ConsoleMember
from tenants.accounts.models import User

PASSWORD = "Console-tres-solide-2026"


def console_user(email: str, role: str, *, mfa: bool = True) -> tuple[User, str]:
    """A public-schema account with a console role and, if asked, an active TOTP device."""
    with schema_context("public"):
        user = User.objects.create_user(email=email, password=PASSWORD)
        ConsoleMember.objects.create(user=user, role=role)
        secret = generate_totp_secret()
        if mfa:
            TOTP.activate(user, secret)
    return user, secret


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def sign_in(client: Client, email: str, secret: str) -> None:
    """Sign in through allauth's pages: the password step, then the second factor."""
    first = client.post("/comptes/login/", {"login": email, "password": PASSWORD})
    assert first.status_code == 302, first.content
    assert first.url == "/comptes/2fa/authenticate/"
    second = client.post("/comptes/2fa/authenticate/", {"code": totp_code(secret)})
    assert second.status_code == 302, second.content


def console_client(email: str = "operatrice@relais.quebec", role: str = "operator") -> Client:
    client = Client(HTTP_HOST="localhost")
    user, secret = console_user(email, role)
    sign_in(client, email, secret)
    client.user = user  # type: ignore[attr-defined]
    return client
