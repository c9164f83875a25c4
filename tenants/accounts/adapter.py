"""How django-allauth behaves in Relais.

Platform staff (base domain) are invited from the console, never signed up. On a town's hosts
citizens may open an account (web or the mobile app's headless API); each new account gets its
own citizen record (the CRM's part of sign-up: `crm.accounts.CitizenAccountAdapter`, the adapter
the settings name, extends this one). Staff accounts of a town are created by invitation.

Sign-up never tells whether an address already has an account (ACCOUNT_PREVENT_ENUMERATION
with mandatory verification: the owner gets an e-mail instead). Links in allauth's e-mails are
built from the host's configured name and the deployment's public scheme and port, never from
the port a visitor wrote in the Host header.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context as allauth_context
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils.translation import gettext as _

from tenants.accounts.models import User
from tenants.requests import town_of
from tenants.services import absolute_url, town_sender


@dataclass(frozen=True)
class PublicSite:
    """What allauth's e-mail templates call the site: the town (or the platform) by name."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return town_of(request) is not None

    def clean_email(self, email: str) -> str:
        """The address as allauth lower-cases it must still be one an account and a citizen
        record hold: Django's validator alone lets through 320 characters, and "İ@…", whose
        lower case is not ASCII."""
        try:
            validate_email(email)
        except ValidationError as error:
            raise ValidationError(_("Saisissez une adresse courriel valide.")) from error
        limit = User._meta.get_field("email").max_length or 254
        if len(email) > limit:
            raise ValidationError(_("L'adresse dépasse {limit} caractères.").format(limit=limit))
        return email

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A sign-in completed within the re-authentication delay is as fresh as a
        re-authentication: setting up a second factor right after signing in does not ask
        for the password again."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = allauth_context.request
        if request is None or not request.user.is_authenticated:
            return True
        records = get_authentication_records(request, request.user)
        signed_in_at = max((record.get("at", 0.0) for record in records), default=0.0)
        return time.time() - signed_in_at >= account_settings.REAUTHENTICATION_TIMEOUT

    def format_email_subject(self, subject: str) -> str:
        """On a town's host, its messages say its name: « [Ville de Laval] … »."""
        request = allauth_context.request
        town = town_of(request) if request is not None else None
        if town is None:
            return super().format_email_subject(subject)
        return f"[{town.public_name}] {subject}"

    def get_from_email(self) -> str:
        request = allauth_context.request
        return town_sender(town_of(request) if request is not None else None)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        request = allauth_context.request
        if request is not None:
            context = {**_with_public_links(request, context), "current_site": _site(request)}
        super().send_mail(template_prefix, email, context)


def _site(request: HttpRequest) -> PublicSite:
    host = split_domain_port(request.get_host())[0]
    town = town_of(request)
    return PublicSite(name=town.public_name if town else "Relais", domain=host)


def _with_public_links(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Rewrite the links allauth built from the request (the host and port as the visitor
    wrote them) to the deployment's public address. The host name itself was checked by the
    routing (only configured hosts are served); the port and scheme were not."""
    written = re.compile(rf"https?://{re.escape(request.get_host())}(?=/|$)")
    public = absolute_url(split_domain_port(request.get_host())[0], "")
    return {
        key: written.sub(public, value) if isinstance(value, str) else value
        for key, value in context.items()
    }
