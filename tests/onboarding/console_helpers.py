"""Signing in to the platform console the way a person does: password, then a TOTP code."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context

from onboarding.models import ConsoleMember
from tenants.accounts.models import User
from tenants.accounts.services import account_email_verify
from tests.accounts import sign_in as sign_in_with_password
from tests.accounts import totp_code, totp_device

PASSWORD = "Console-tres-solide-2026"
__all__ = ["PASSWORD", "console_client", "console_user", "sign_in", "totp_code"]


def console_user(email: str, role: str, *, mfa: bool = True) -> tuple[User, str]:
    """A public-schema account with a console role and, if asked, an active TOTP device."""
    with schema_context("public"):
        user = User.objects.create_user(email=email, password=PASSWORD)
        account_email_verify(user=user)
        ConsoleMember.objects.create(user=user, role=role)
        secret = totp_device(user) if mfa else ""
    return user, secret


def sign_in(client: Client, email: str, secret: str) -> None:
    """Sign in through allauth's pages: the password step, then the second factor."""
    sign_in_with_password(client, email, password=PASSWORD, secret=secret)


def console_client(email: str = "operatrice@relais.quebec", role: str = "operator") -> Client:
    client = Client(HTTP_HOST="localhost")
    user, secret = console_user(email, role)
    sign_in(client, email, secret)
    client.user = user  # type: ignore[attr-defined]
    return client
