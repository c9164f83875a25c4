"""Writes on accounts that are not allauth's own flows."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from tenants.accounts.models import User


@transaction.atomic
def account_email_verify(*, user: User) -> EmailAddress:
    """Record the account's address as verified and primary: its owner proved it (they
    followed an invitation sent to it) or the town or platform vouches for it (an account it
    created). Sign-in requires a verified address (ACCOUNT_EMAIL_VERIFICATION)."""
    address, _created = EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    EmailAddress.objects.filter(user=user, primary=True).exclude(pk=address.pk).update(
        primary=False
    )
    return address
