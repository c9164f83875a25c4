"""API keys for integrations: `Authorization: Api-Key <key>` (or `X-Api-Key: <key>`)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from crm.models import ApiKey
from crm.selectors import api_key_for
from crm.services import api_key_touch

KEYWORD = "api-key"


def key_from_headers(request: Request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    keyword, _space, value = header.partition(" ")
    if keyword.lower() == KEYWORD and value.strip():
        return value.strip()
    return request.META.get("HTTP_X_API_KEY") or None


class ApiKeyAuthentication(BaseAuthentication):
    """A key is the integration's identity: `request.auth` is the ApiKey, the user anonymous.
    A key from another town is unknown here (keys live in each town's schema)."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        raw = key_from_headers(request)
        if raw is None:
            return None
        api_key = api_key_for(key=raw)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Clé d'API inconnue ou révoquée."))
        api_key_touch(api_key=api_key)
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return "Api-Key"
