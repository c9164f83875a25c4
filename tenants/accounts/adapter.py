"""How django-allauth behaves in Relais: accounts are created by invitation, never by sign-up."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Platform staff are invited from the console and a town's staff by its administrator;
        # the citizen portal opens its own sign-up when it exists.
        return False
