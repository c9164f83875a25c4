"""Writes of the tenancy layer: creating municipalities, their domains and administrators."""

from __future__ import annotations

import logging
import shutil
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from tenants.accounts.models import User
from tenants.accounts.services import account_email_verify
from tenants.errors import TenancyError, TenancyErrorCode
from tenants.models import DEFAULT_BRAND_COLOUR, Domain, Municipality, TownExport
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


# Where a town may go from each status (provisioning ends with the first administrator).
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Municipality.Status.PROVISIONING: frozenset({"onboarding", "live", "suspended", "archived"}),
    Municipality.Status.ONBOARDING: frozenset({"live", "suspended", "archived"}),
    Municipality.Status.LIVE: frozenset({"suspended", "archived"}),
    Municipality.Status.SUSPENDED: frozenset({"live", "onboarding", "archived"}),
    Municipality.Status.ARCHIVED: frozenset({"suspended"}),
}


def municipality_set_status(*, municipality: Municipality, status: str) -> Municipality:
    """Move a town along its lifecycle: suspended towns show a maintenance page, archived ones
    a 404; their data is kept. Raises ValidationError for an unknown status and TenancyError for
    a move the lifecycle does not allow."""
    if status not in Municipality.Status.values:
        raise ValidationError(
            {"status": _("« {status} » n'est pas un statut de municipalité.").format(status=status)}
        )
    with transaction.atomic():
        current = Municipality.objects.select_for_update().get(pk=municipality.pk)
        if status != current.status and status not in STATUS_TRANSITIONS[current.status]:
            raise TenancyError(
                TenancyErrorCode.ILLEGAL_STATUS_CHANGE,
                _("Une municipalité « {current} » ne peut pas passer à « {target} ».").format(
                    current=Municipality.Status(current.status).label,
                    target=Municipality.Status(status).label,
                ),
                status=409,
            )
        if status == Municipality.Status.SUSPENDED and current.status != status:
            current.suspended_from = current.status
        current.status = status
        current.save(update_fields=["status", "suspended_from", "updated_at"])
    logger.info("municipality status: schema=%s status=%s", current.schema_name, status)
    return current


def municipality_resume(*, municipality: Municipality) -> Municipality:
    """End a suspension: the town goes back to the status it had (a town suspended during its
    implementation returns to it; going live stays the go-live checklist's decision).
    Raises TenancyError when the town is not suspended."""
    current = Municipality.objects.get(pk=municipality.pk)
    if current.status != Municipality.Status.SUSPENDED:
        raise TenancyError(
            TenancyErrorCode.NOT_SUSPENDED,
            _("{town} n'est pas suspendue.").format(town=current.name),
            status=409,
        )
    previous = current.suspended_from
    if previous not in {Municipality.Status.ONBOARDING, Municipality.Status.LIVE}:
        previous = Municipality.Status.LIVE
    return municipality_set_status(municipality=current, status=previous)


def municipality_delete(*, municipality: Municipality, confirmation: str) -> None:
    """Delete an archived town for good: its schema, its files, its record.

    Refused (TenancyError, nothing changes) unless the town is archived, an export of it exists
    on disk, `confirmation` is its slug typed again, and no partner town depends on it.
    """
    if confirmation != municipality.slug:
        raise TenancyError(
            TenancyErrorCode.CONFIRMATION_MISMATCH,
            _("Tapez l'identifiant « {slug} » pour confirmer la suppression.").format(
                slug=municipality.slug
            ),
        )
    if municipality.status != Municipality.Status.ARCHIVED:
        raise TenancyError(
            TenancyErrorCode.NOT_ARCHIVED,
            _(
                "Archivez d'abord la municipalité : seule une municipalité "
                "archivée peut être supprimée."
            ),
            status=409,
        )
    # An export made since the town was archived (nothing can have changed after it), still on
    # disk: an older one, or a vanished file, does not count.
    exports = TownExport.objects.filter(
        municipality=municipality, created_at__gte=municipality.updated_at
    )
    if not any(Path(export.path).is_file() for export in exports):
        raise TenancyError(
            TenancyErrorCode.NO_EXPORT,
            _(
                "Aucune exportation de {town} depuis son archivage : exportez ses données "
                "avant de la supprimer."
            ).format(town=municipality.name),
            status=409,
        )
    if municipality.partners.exists():
        raise TenancyError(
            TenancyErrorCode.HAS_PARTNERS,
            _("{town} sert encore des villes partenaires.").format(town=municipality.name),
            status=409,
        )
    schema = municipality.schema_name
    folders = [Path(settings.MEDIA_ROOT) / schema, Path(settings.RELAIS_PRIVATE_ROOT) / schema]
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:  # DROP refuses to run with FK checks pending
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            Domain.objects.filter(tenant=municipality).delete()
            municipality.delete(force_drop=True)
            transaction.on_commit(lambda: _remove_folders(folders))
    except ProtectedError as error:
        # Platform records that must outlive nothing: e.g. onboarding projects it hosts.
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
        raise TenancyError(
            TenancyErrorCode.STILL_REFERENCED,
            _("{town} est encore liée à : {records}. Réglez-les avant de la supprimer.").format(
                town=municipality.name, records=", ".join(kinds)
            ),
            status=409,
        ) from error
    logger.info("municipality deleted: schema=%s", schema)


def absolute_url(host: str, path: str = "/") -> str:
    """An address Relais writes in messages: the scheme and public port of this deployment."""
    scheme = "https" if settings.RELAIS_HTTPS else "http"
    port = f":{settings.RELAIS_PUBLIC_PORT}" if settings.RELAIS_PUBLIC_PORT else ""
    return f"{scheme}://{host}{port}{path}"


def town_url(municipality: Municipality, path: str = "/") -> str:
    """Absolute address of a page on the town's primary domain."""
    domain = Domain.objects.filter(tenant=municipality, is_primary=True).first()
    host = domain.domain if domain else f"{municipality.slug}.{settings.RELAIS_BASE_DOMAIN}"
    return absolute_url(host, path)


class NamedTown(Protocol):
    """A town as its messages show it: a Municipality, or the routing's copy of one."""

    @property
    def public_name(self) -> str: ...

    @property
    def primary_colour(self) -> str: ...


def town_sender(municipality: NamedTown | None) -> str:
    """The From of messages sent for a town: its name, the deployment's address."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if municipality is None or not address:
        return str(settings.DEFAULT_FROM_EMAIL)
    return formataddr((municipality.public_name, address))


def administrator_invite(*, municipality: Municipality, email: str) -> User:
    """Create the town's first administrator without a password and e-mail them a link to
    choose one (sent once the transaction commits). Raises ValidationError for a bad address.
    """
    return staff_invite(municipality=municipality, email=email, administrator=True)


def staff_invite(
    *,
    municipality: Municipality,
    email: str,
    first_name: str = "",
    last_name: str = "",
    administrator: bool = False,
    language: str = "fr",
) -> User:
    """Create a staff account in the town's own schema, without a password, and e-mail a link
    to choose one (sent once the transaction commits). An existing account keeps its password
    and gets a fresh link. Raises ValidationError for a bad address.
    """
    email = (email or "").strip().lower()
    validate_email(email)
    with schema_context(municipality.schema_name), transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, is_staff=True, is_superuser=administrator)
            user.set_unusable_password()
        user.first_name = first_name or user.first_name
        user.last_name = last_name or user.last_name
        user.preferred_language = language if language in {"fr", "en"} else "fr"
        user.is_staff = True
        user.is_superuser = user.is_superuser or administrator
        user.save()
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
    link = town_url(municipality, f"/comptes/reset/{uid}/{token}/")
    context = {
        "town": municipality.display_name or municipality.name,
        "link": link,
        "administrator": user.is_superuser,
    }
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
        account_email_verify(user=user)
    return user


def _remove_folders(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
