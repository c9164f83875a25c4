"""Requests as the routing middleware leaves them, typed.

`TenantRoutingMiddleware` binds every request it lets through to a tenant: on a town's host,
the town's routing snapshot (`TownRoute`, never a model instance: see `tenants.routing`); on the
base domain, django-tenants' stand-in for the public schema. A view served on a town's host
annotates its request as `TownRequest` and reads `request.tenant` typed.
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.http import HttpRequest
from django_tenants.postgresql_backend.base import FakeTenant

from tenants.routing import TownRoute


class TownRequest(HttpRequest):
    """A request on a town's host."""

    tenant: TownRoute
    urlconf: str


class PlatformRequest(HttpRequest):
    """A request on the base domain (the platform: the public schema)."""

    tenant: FakeTenant
    urlconf: str


def bind_town(request: HttpRequest, town: TownRoute) -> TownRequest:
    """Bind `request` to `town` and its URLs: the routing middleware's job, done here only, so
    that the attributes `TownRequest` promises are set in one place."""
    bound = cast(TownRequest, request)
    bound.tenant = town
    bound.urlconf = settings.ROOT_URLCONF
    return bound


def bind_platform(request: HttpRequest, public: FakeTenant) -> PlatformRequest:
    """Bind `request` to the public schema and the platform's URLs."""
    bound = cast(PlatformRequest, request)
    bound.tenant = public
    bound.urlconf = settings.PUBLIC_SCHEMA_URLCONF
    return bound


def town_of(request: HttpRequest | None) -> TownRoute | None:
    """The town `request` is bound to; None on the base domain, or before the routing (an
    error answered early, a request built outside the middleware)."""
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, TownRoute) else None
