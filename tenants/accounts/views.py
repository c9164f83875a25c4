"""The page an invitation links to: choose a password, which also proves the address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from tenants.accounts.services import account_email_verify


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        account_email_verify(user=form.user)
        return response
