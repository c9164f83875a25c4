"""Onboarding of a partner town: provisioning, copy of the host's catalog, first administrator.

The console's wizard and the `onboard_municipality` command both go through here, and through
the tenancy and CRM services: nothing here writes a town's tables directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from crm.cloning import CloneReport, catalog_copy_from
from onboarding.errors import OnboardingError
from tenants.models import DEFAULT_BRAND_COLOUR, Municipality
from tenants.services import administrator_invite, municipality_create

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnboardingResult:
    municipality: Municipality
    clone: CloneReport | None
    provisioning_ms: float


def municipality_onboard(
    *,
    name: str,
    slug: str,
    domain: str,
    host: Municipality,
    region: str,
    privacy_officer_name: str,
    privacy_officer_email: str,
    copy_catalog: bool = True,
    department_map: Mapping[str, str] | None = None,
    service_type_codes: Iterable[str] | None = None,
    include_faq: bool = True,
    administrator_email: str = "",
    population: int | None = None,
    display_name: str = "",
    primary_colour: str = DEFAULT_BRAND_COLOUR,
) -> OnboardingResult:
    """Provision a partner town of `host`, copy the host's catalog and bank into it, and invite
    its first administrator; all or nothing.

    Raises OnboardingError when `host` is not a host city, and the tenancy and CRM services'
    errors (ValidationError, TenancyError, CrmError) for invalid fields.
    """
    if host.kind != Municipality.Kind.HOST:
        raise OnboardingError(
            "not_a_host",
            _(
                "{town} n'est pas une ville hôte : elle ne peut pas accueillir de partenaire."
            ).format(town=host.name),
            field="host",
        )
    started = time.perf_counter()
    with transaction.atomic():
        town = municipality_create(
            name=name,
            slug=slug,
            domain=domain,
            region=region,
            privacy_officer_name=privacy_officer_name,
            privacy_officer_email=privacy_officer_email,
            kind=Municipality.Kind.PARTNER,
            host=host,
            status=Municipality.Status.ONBOARDING,
            population=population,
            display_name=display_name,
            primary_colour=primary_colour,
        )
        provisioning_ms = (time.perf_counter() - started) * 1000
        clone = None
        if copy_catalog:
            with schema_context(town.schema_name):
                clone = catalog_copy_from(
                    source_schema=host.schema_name,
                    department_map=department_map,
                    service_type_codes=service_type_codes,
                    include_faq=include_faq,
                )
        if administrator_email:
            administrator_invite(municipality=town, email=administrator_email)
    logger.info(
        "town onboarded: schema=%s from=%s provisioning_ms=%.0f copied=%s",
        town.schema_name,
        host.schema_name,
        provisioning_ms,
        clone.total if clone else 0,
    )
    return OnboardingResult(municipality=town, clone=clone, provisioning_ms=provisioning_ms)
