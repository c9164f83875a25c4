"""The CRM's part of sign-up: a citizen who opens an account on a town's host gets a citizen
record of their own. Sign-up itself (who may, how addresses are checked, e-mails) is
`tenants.accounts.adapter.AccountAdapter`; the settings name this subclass, so that `tenants`
imports nothing of the CRM."""

from __future__ import annotations

from typing import Any

from allauth.core import context as allauth_context
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.http import HttpRequest
from django.utils.translation import get_language

from crm.services import MessageContent, branded_html, citizen_for_account
from tenants.accounts.adapter import AccountAdapter
from tenants.accounts.models import User
from tenants.requests import town_of


class CitizenAccountAdapter(AccountAdapter):
    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """On a town's host, account messages (verification, password reset…) also have an HTML
        version in the town's name and colour, like every message it sends; same words."""
        message = super().render_mail(template_prefix, email, context, headers)
        request = allauth_context.request
        town = town_of(request) if request is not None else None
        if (
            town is not None
            and isinstance(message, EmailMultiAlternatives)
            and not message.alternatives
        ):
            content = MessageContent(
                subject=str(message.subject),
                paragraphs=[part for part in message.body.split("\n\n") if part.strip()],
            )
            language = get_language() or settings.LANGUAGE_CODE
            message.attach_alternative(
                branded_html(town=town, content=content, language=language), "text/html"
            )
        return message

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> User:
        saved = super().save_user(request, user, form, commit=commit)
        # The CRM's tables exist in towns' schemas only; sign-up is closed on the base domain.
        if commit and town_of(request) is not None:
            citizen_for_account(user=saved)
        return saved
