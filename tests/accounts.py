"""Signing in the way a person does: allauth's pages, the password, then a TOTP code."""

from __future__ import annotations

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tests.factories import TEST_PASSWORD


def totp_device(user: User) -> str:
    """Give `user` an active TOTP device (in the schema the account lives in); returns its
    secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now (the current step, not the tolerance's first)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def sign_in(
    client: Client, email: str, *, password: str = TEST_PASSWORD, secret: str | None = None
) -> None:
    """Sign in through allauth's pages: the password step, then the code if the account has
    a device."""
    first = client.post("/comptes/login/", {"login": email, "password": password})
    assert first.status_code == 302, first.content
    if secret is None:
        return
    assert first.url == "/comptes/2fa/authenticate/", first.url
    second = client.post("/comptes/2fa/authenticate/", {"code": totp_code(secret)})
    assert second.status_code == 302, second.content


def signed_in_staff(host: str, schema_name: str, user: User) -> Client:
    """A client on `host` signed in as `user` (of `schema_name`) with a second factor, as the
    staff areas (the admin, the console) require."""
    with schema_context(schema_name):
        secret = totp_device(user)
    client = Client(HTTP_HOST=host)
    sign_in(client, user.email, secret=secret)
    connection.set_schema_to_public()
    client.user = user  # type: ignore[attr-defined]
    return client
