"""How django-allauth behaves in Relais.

Platform staff (base domain) are invited from the console, never signed up. On a town's hosts
citizens may open an account (web or the mobile app's headless API); each new account gets its
own citizen record. Staff accounts of a town are created by invitation.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tenants.accounts.models import User
from tenants.routing import TownRoute


def _town_of(request: HttpRequest | None) -> TownRoute | None:
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, TownRoute) else None


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return _town_of(request) is not None

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

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> User:
        from crm.services import citizen_for_account  # the CRM exists in towns' schemas only

        saved = super().save_user(request, user, form, commit=commit)
        if commit and _town_of(request) is not None:
            citizen_for_account(user=saved)
        return saved
