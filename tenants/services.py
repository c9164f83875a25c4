"""Writes of the tenancy layer: creating municipalities, their domains and administrators."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from tenants.accounts.models import User
from tenants.errors import TenancyError
from tenants.models import DEFAULT_BRAND_COLOUR, Domain, Municipality
from tenants.provisioning import claim_spare_schema, schedule_pool_refill

logger = logging.getLogger(__name__)


def municipality_create(
    *,
    name: str,
    slug: str,
    domain: str,
    region: str,
    privacy_officer_name: str,
    privacy_officer_email: str,
    kind: str = Municipality.Kind.PARTNER,
    host: Municipality | None = None,
    status: str = Municipality.Status.ONBOARDING,
    population: int | None = None,
    display_name: str = "",
    primary_colour: str = DEFAULT_BRAND_COLOUR,
) -> Municipality:
    """Create a town, its schema (migrated) and its primary domain, all or nothing.

    Raises ValidationError for invalid fields and TenancyError when the domain is taken.
    """
    municipality = Municipality(
        name=name,
        slug=slug,
        kind=kind,
        host=host,
        status=status,
        region=region,
        population=population,
        privacy_officer_name=privacy_officer_name,
        privacy_officer_email=privacy_officer_email,
        display_name=display_name,
        primary_colour=primary_colour,
        schema_name=slug.replace("-", "_"),
    )
    municipality.full_clean()
    if schema_exists(municipality.schema_name):
        # django-tenants would silently adopt it, with whatever data it still holds.
        raise TenancyError.schema_exists(municipality.schema_name)
    primary_domain = Domain(domain=domain, tenant=municipality, is_primary=True)
    primary_domain.full_clean(exclude=["tenant"], validate_unique=False)
    if Domain.objects.filter(domain=primary_domain.domain).exists():
        raise TenancyError.domain_taken(primary_domain.domain)
    # Schema creation is DDL, transactional in PostgreSQL: a failure leaves no schema behind.
    with transaction.atomic():
        claimed = claim_spare_schema(municipality.schema_name)
        # A claimed spare is already migrated; otherwise django-tenants migrates a new schema.
        municipality.auto_create_schema = not claimed
        municipality.save()
        primary_domain.tenant = municipality
        primary_domain.save()
        transaction.on_commit(schedule_pool_refill)
    logger.info(
        "municipality created: schema=%s from=%s",
        municipality.schema_name,
        "spare" if claimed else "migrations",
    )
    return municipality


def municipality_set_status(*, municipality: Municipality, status: str) -> Municipality:
    """Change a town's status; suspended towns show a maintenance page, archived ones a 404."""
    if status not in Municipality.Status.values:
        raise ValidationError(
            {"status": _("« {status} » n'est pas un statut de municipalité.").format(status=status)}
        )
    with transaction.atomic():
        current = Municipality.objects.select_for_update().get(pk=municipality.pk)
        current.status = status
        current.save(update_fields=["status", "updated_at"])
    logger.info("municipality status: schema=%s status=%s", current.schema_name, status)
    return current


def town_url(municipality: Municipality, path: str = "/") -> str:
    """Absolute address of a page on the town's primary domain."""
    domain = Domain.objects.filter(tenant=municipality, is_primary=True).first()
    host = domain.domain if domain else f"{municipality.slug}.{settings.RELAIS_BASE_DOMAIN}"
    scheme = "https" if settings.RELAIS_HTTPS else "http"
    port = f":{settings.RELAIS_PUBLIC_PORT}" if settings.RELAIS_PUBLIC_PORT else ""
    return f"{scheme}://{host}{port}{path}"


def administrator_invite(*, municipality: Municipality, email: str) -> User:
    """Create the town's first administrator without a password and e-mail them a link to
    choose one (sent once the transaction commits). Raises ValidationError for a bad address.
    """
    email = (email or "").strip().lower()
    validate_email(email)
    with schema_context(municipality.schema_name), transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_superuser(email=email, password=None)
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
    link = town_url(municipality, f"/comptes/reset/{uid}/{token}/")
    context = {"town": municipality.display_name or municipality.name, "link": link}
    message = render_to_string("emails/administrator_invitation.txt", context)
    subject = render_to_string("emails/administrator_invitation_subject.txt", context).strip()
    transaction.on_commit(lambda: send_mail(subject, message, None, [email]))
    return user


def administrator_ensure(*, municipality: Municipality, email: str, password: str) -> User:
    """Create (or reset) a superuser in the town's own schema."""
    with schema_context(municipality.schema_name), transaction.atomic():
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            user = User.objects.create_superuser(email=email, password=password)
        else:
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save()
    return user
