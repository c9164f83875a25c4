"""The CRM's part of sign-up: a citizen who opens an account on a town's host gets a citizen
record of their own. Sign-up itself (who may, how addresses are checked, e-mails) is
`tenants.accounts.adapter.AccountAdapter`; the settings name this subclass, so that `tenants`
imports nothing of the CRM."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crm.services import citizen_for_account
from tenants.accounts.adapter import AccountAdapter
from tenants.accounts.models import User
from tenants.requests import town_of


class CitizenAccountAdapter(AccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> User:
        saved = super().save_user(request, user, form, commit=commit)
        # The CRM's tables exist in towns' schemas only; sign-up is closed on the base domain.
        if commit and town_of(request) is not None:
            citizen_for_account(user=saved)
        return saved
