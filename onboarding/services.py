"""Onboarding of a partner town: provisioning, copy of the host's catalog, first administrator.

The console's wizard and the `onboard_municipality` command both go through here, and through
the tenancy and CRM services: nothing here writes a town's tables directly.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_tenants.utils import schema_context, schema_exists

from crm.errors import CrmError, CrmErrorCode
from crm.imports.csv import first_line, guess_delimiter
from crm.models import StaffRole as CrmStaffRole
from crm.selectors import catalog_outline, department_by_code, town_activity
from crm.services import (
    CloneReport,
    Open311ImportReport,
    RequestsImportReport,
    catalog_copy_from,
    open311_services_import,
    requests_import,
    staff_role_set,
)
from onboarding import wizard
from onboarding.errors import OnboardingError, OnboardingErrorCode
from onboarding.models import (
    AuditEntry,
    ConsoleMember,
    ConsoleRole,
    Milestone,
    OnboardingProject,
    StaffRole,
    TimeEntry,
    TownRollup,
)
from tenants.accounts.models import User
from tenants.archive import town_archive_write, town_export_record
from tenants.errors import TenancyError
from tenants.locks import advisory_xact_lock
from tenants.models import DEFAULT_BRAND_COLOUR, Municipality, TownExport
from tenants.services import (
    absolute_url,
    administrator_invite,
    municipality_create,
    municipality_delete,
    municipality_resume,
    municipality_set_status,
    staff_invite,
)

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
            OnboardingErrorCode.NOT_A_HOST,
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


# --- The platform console ----------------------------------------------------------------------
# Every write below is audited in the same transaction (AuditEntry), and the wizard's steps are
# saved one by one on the OnboardingProject so an implementation can pause and resume.

STAFF_CSV_MAX_LINES = 2000


def audit_record(
    *, actor: User | None, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one console action to the audit (public schema)."""
    with schema_context("public"):
        return AuditEntry.objects.create(
            actor=actor,
            actor_email=actor.email if actor is not None else "",
            action=action,
            target=target[:200],
            detail=detail or {},
        )


def console_member_invite(*, email: str, role: str, actor: User | None) -> ConsoleMember:
    """Give a platform staff account a console role, creating the account (public schema, no
    password) and e-mailing a link to choose a password. Raises ValidationError for a bad
    address or role."""
    email = (email or "").strip().lower()
    validate_email(email)
    if len(email) > _EMAIL_MAX:
        raise ValidationError(
            {"email": _("L'adresse dépasse {limit} caractères.").format(limit=_EMAIL_MAX)}
        )
    if role not in ConsoleRole.values:
        raise ValidationError({"role": _("Choisissez un rôle de la console.")})
    with schema_context("public"), transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, is_staff=False)
            user.set_unusable_password()
            user.save()
        member, _created = ConsoleMember.objects.update_or_create(
            user=user, defaults={"role": role}
        )
        audit_record(actor=actor, action="member_invite", target=email, detail={"role": role})
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
    link = absolute_url(settings.RELAIS_BASE_DOMAIN, f"/comptes/reset/{uid}/{token}/")
    context = {"link": link, "role": ConsoleRole(role).label}
    message = render_to_string("emails/console_invitation.txt", context)
    subject = render_to_string("emails/console_invitation_subject.txt", context).strip()
    transaction.on_commit(lambda: send_mail(subject, message, None, [email]))
    return member


def project_start(
    *, host: Municipality, name: str, slug: str, domain: str, actor: User
) -> OnboardingProject:
    """Open an onboarding project with the town's identity (wizard step 1). Raises
    ValidationError for a taken or invalid slug or domain, OnboardingError for a host that is
    not a host city."""
    if host.kind != Municipality.Kind.HOST:
        raise OnboardingError(
            OnboardingErrorCode.NOT_A_HOST,
            _("{town} n'est pas une ville hôte.").format(town=host.name),
            field="host",
        )
    slug, domain = slug.strip().lower(), domain.strip().lower()
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Le nom officiel est obligatoire.")})
    # A first guess at the privacy officer's address, when the domain leaves room for it.
    privacy_officer_email = f"vie-privee@{domain}"
    if len(privacy_officer_email) > _EMAIL_MAX:
        privacy_officer_email = ""
    with transaction.atomic():
        wizard.identity_check(slug=slug, domain=domain, project=None)
        project = OnboardingProject(
            host=host,
            name=name,
            slug=slug,
            domain=domain,
            region=host.region,
            privacy_officer_email=privacy_officer_email,
            completed_steps=[wizard.IDENTITY.key],
            created_by=actor,
        )
        project.full_clean(exclude=["host", "municipality", "created_by"])
        project.save()
        Milestone.objects.create(project=project, kind=Milestone.Kind.STARTED, actor=actor)
        audit_record(actor=actor, action="project_start", target=slug, detail={"domain": domain})
    return project


def _editable(project: OnboardingProject) -> None:
    if project.status not in {OnboardingProject.Status.DRAFT, OnboardingProject.Status.FAILED}:
        raise OnboardingError(
            OnboardingErrorCode.PROJECT_PROVISIONED,
            _("La municipalité est déjà mise en service : cette étape ne se modifie plus."),
            status=409,
        )


def project_step_save(
    *, project: OnboardingProject, step: str, values: Mapping[str, Any], actor: User
) -> OnboardingProject:
    """Save the values of the wizard step `step` (its key) on the project and mark the step
    done. Raises ValidationError for invalid values (nothing is saved) and OnboardingError for
    an unknown step or field, a review before the other steps, or once the town is provisioned.
    """
    wizard_step = wizard.BY_KEY.get(step)
    if wizard_step is None:
        raise OnboardingError(
            OnboardingErrorCode.UNKNOWN_STEP, _("Cette étape n'existe pas."), status=404
        )
    unknown = set(values) - wizard_step.fields
    if unknown:
        raise OnboardingError(
            OnboardingErrorCode.UNKNOWN_FIELD,
            _("Champs inattendus : {fields}.").format(fields=", ".join(unknown)),
        )
    with transaction.atomic():
        project = OnboardingProject.objects.select_for_update().get(pk=project.pk)
        _editable(project)
        wizard_step.check(project, values)
        for name, value in values.items():
            if isinstance(value, str):
                value = value.strip().lower() if name in _LOWER_CASE_FIELDS else value.strip()
            setattr(project, name, value)
        if step not in project.completed_steps:
            project.completed_steps = [*project.completed_steps, step]
        project.full_clean(exclude=["host", "municipality", "created_by"])
        project.save()
        audit_record(
            actor=actor,
            action="project_step",
            target=project.slug,
            detail={"step": step, "fields": sorted(values)},
        )
    return project


# An e-mail address as an account and the project's fields hold it (Django's validator alone
# allows 320 characters).
_EMAIL_MAX = User._meta.get_field("email").max_length or 254
# Host names are checked in lower case, so they are kept so; addresses too, as every account's
# and staff line's are (the administrator is then recognised among the staff at provisioning).
_LOWER_CASE_FIELDS = frozenset({"slug", "domain", "administrator_email", "privacy_officer_email"})


@dataclass(frozen=True)
class StaffColumn:
    key: str  # the row's key, in code and in the project's saved list
    header: str  # the file's documented header (French), as line errors name the column
    headers: frozenset[str]  # every header read as this column (in lower case), English too


STAFF_COLUMNS: tuple[StaffColumn, ...] = (
    StaffColumn("email", "courriel", frozenset({"courriel", "email"})),
    StaffColumn("first_name", "prenom", frozenset({"prenom", "prénom", "first_name"})),
    StaffColumn("last_name", "nom", frozenset({"nom", "last_name"})),
    StaffColumn("role", "role", frozenset({"role", "rôle"})),
    StaffColumn("language", "langue", frozenset({"langue", "language"})),
)
_STAFF_COLUMN_OF_HEADER = {
    header: column.key for column in STAFF_COLUMNS for header in column.headers
}
_STAFF_HEADER_OF_KEY = {column.key: column.header for column in STAFF_COLUMNS}


@dataclass(frozen=True)
class StaffLineError:
    line: int
    column: str  # a StaffColumn's key; "" for the whole line or file
    message: str

    @property
    def header(self) -> str:
        """The column as the file names it (its documented header)."""
        return _STAFF_HEADER_OF_KEY.get(self.column, "")


@dataclass(frozen=True)
class StaffPreview:
    rows: list[dict[str, str]]  # keyed by the StaffColumns' keys
    errors: list[StaffLineError]

    @property
    def valid(self) -> bool:
        return not self.errors and bool(self.rows)


def staff_csv_preview(*, content: bytes) -> StaffPreview:
    """Read a staff file (CSV, UTF-8; comma, semicolon, tab or bar, as the header uses most) into
    rows, with an error per bad line.

    Columns (STAFF_COLUMNS): courriel (required), prenom, nom, role (administrateur or
    personnel; default personnel), langue (fr or en; default fr). English headers are accepted
    too. Rows are keyed in English (email, first_name, last_name, role, language). Cells are
    trimmed and their NUL characters dropped, as the other imports do; lines are numbered as a
    spreadsheet shows them.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return StaffPreview([], [StaffLineError(0, "", _("Le fichier doit être encodé en UTF-8."))])
    header_line = first_line(text)
    if not header_line.strip():
        return StaffPreview([], [StaffLineError(0, "", _("Le fichier est vide."))])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=guess_delimiter(header_line))
    try:
        header = next(reader)
    except csv.Error as error:
        return StaffPreview([], [_unreadable_line(1, error)])
    columns = [_STAFF_COLUMN_OF_HEADER.get(_cell(name).lower()) for name in header]
    if "email" not in columns:
        return StaffPreview(
            [],
            [
                StaffLineError(
                    1, "email", _("La colonne « courriel » (ou « email ») est obligatoire.")
                )
            ],
        )
    rows: list[dict[str, str]] = []
    errors: list[StaffLineError] = []
    seen: dict[str, int] = {}
    line = reader.line_num
    for count in itertools.count(1):
        number = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # e.g. a cell over the csv module's 128 KiB
            errors.append(_unreadable_line(number, error))
            break
        line = reader.line_num
        if count > STAFF_CSV_MAX_LINES:
            errors.append(
                StaffLineError(
                    number,
                    "",
                    _("Le fichier dépasse {limit} lignes.").format(limit=STAFF_CSV_MAX_LINES),
                )
            )
            break
        row = dict.fromkeys((column.key for column in STAFF_COLUMNS), "")
        for column, value in zip(columns, cells, strict=False):
            if column:
                row[column] = _cell(value)
        if not any(row.values()):
            continue
        row["email"] = row["email"].lower()
        row["role"] = (row["role"] or StaffRole.STAFF).lower()
        row["language"] = (row["language"] or "fr").lower()
        line_errors = _staff_line_errors(row, number, seen)
        seen.setdefault(row["email"], number)
        errors.extend(line_errors)
        if not line_errors:
            rows.append(row)
    if not rows and not errors:
        errors.append(StaffLineError(0, "", _("Le fichier ne contient aucune ligne de personnel.")))
    return StaffPreview(rows, errors)


def _cell(value: str) -> str:
    return value.replace("\x00", "").strip()


def _unreadable_line(number: int, error: csv.Error) -> StaffLineError:
    return StaffLineError(number, "", _("Ligne illisible : {error}.").format(error=error))


def _staff_line_errors(
    row: dict[str, str], number: int, seen: dict[str, int]
) -> list[StaffLineError]:
    line_errors = []
    try:
        validate_email(row["email"])
    except ValidationError:
        line_errors.append(
            StaffLineError(
                number,
                "email",
                _("« {value} » n'est pas une adresse courriel valide.").format(value=row["email"]),
            )
        )
    else:
        if len(row["email"]) > _EMAIL_MAX:  # the validator allows 320; an account, 254
            line_errors.append(
                StaffLineError(
                    number,
                    "email",
                    _("L'adresse dépasse {limit} caractères.").format(limit=_EMAIL_MAX),
                )
            )
    if row["email"] in seen:
        line_errors.append(
            StaffLineError(
                number,
                "email",
                _("Cette adresse figure déjà à la ligne {line}.").format(line=seen[row["email"]]),
            )
        )
    if row["role"] not in StaffRole.values:
        line_errors.append(
            StaffLineError(
                number,
                "role",
                _("Rôle « {value} » inconnu : administrateur ou personnel.").format(
                    value=row["role"]
                ),
            )
        )
    if row["language"] not in {"fr", "en"}:
        line_errors.append(
            StaffLineError(
                number,
                "language",
                _("Langue « {value} » inconnue : fr ou en.").format(value=row["language"]),
            )
        )
    for column in ("first_name", "last_name"):
        if len(row[column]) > 150:
            line_errors.append(StaffLineError(number, column, _("150 caractères au plus.")))
    return line_errors


def _log_step(project: OnboardingProject, label: str, started: float, **extra: Any) -> None:
    project.provisioning_log = [
        *project.provisioning_log,
        {"step": label, "ms": round((time.perf_counter() - started) * 1000, 1), **extra},
    ]


def project_provision(*, project: OnboardingProject, actor: User) -> OnboardingProject:
    """Provision the town the project describes: schema, domain, branding, copy of the host's
    catalog and bank, administrator and staff invitations; all or nothing. On failure the
    project records why (status failed) and no schema, domain or account is left behind.
    Raises OnboardingError when the review step is not done or the town already exists.

    The project's row stays locked until the end, so a second click waits and then finds the
    town provisioned instead of racing the first one."""
    with transaction.atomic():
        project = OnboardingProject.objects.select_for_update().get(pk=project.pk)
        _editable(project)
        if wizard.REVIEW.key not in project.completed_steps:
            raise OnboardingError(
                OnboardingErrorCode.REVIEW_MISSING,
                _("Validez la revue du projet avant la mise en service."),
                status=409,
            )
        failure = _provision_locked(project=project, actor=actor)
        if failure is not None:
            OnboardingProject.objects.filter(pk=project.pk, municipality__isnull=True).update(
                status=OnboardingProject.Status.FAILED,
                failure_message=failure,
                provisioning_log=[{"step": "failed"}],
            )
            audit_record(
                actor=actor, action="project_provision_failed", target=project.slug, detail={}
            )
            logger.info("provisioning failed: project=%s", project.pk)
        project.refresh_from_db()
    return project


def _provision_locked(*, project: OnboardingProject, actor: User) -> str | None:
    """The provisioning itself, in a savepoint: None when done, else why it failed (and then
    nothing of it is left)."""
    project.provisioning_log = []
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = municipality_onboard(
                name=project.name,
                slug=project.slug,
                domain=project.domain,
                host=project.host,
                region=project.region,
                population=project.population,
                display_name=project.display_name,
                primary_colour=project.primary_colour,
                privacy_officer_name=project.privacy_officer_name,
                privacy_officer_email=project.privacy_officer_email,
                copy_catalog=project.copy_catalog,
                department_map=project.department_map or None,
                service_type_codes=project.service_type_codes,
                include_faq=project.include_faq,
                administrator_email=project.administrator_email,
            )
            town = result.municipality
            project.provisioning_log = [
                {"step": "schema", "ms": round(result.provisioning_ms, 1)},
            ]
            if result.clone is not None:
                project.provisioning_log.append(
                    {
                        "step": "catalog",
                        "ms": round(result.clone.milliseconds, 1),
                        "counts": result.clone.counts,
                    }
                )
            invited_started = time.perf_counter()
            for row in project.staff:
                if row["email"] == project.administrator_email:
                    continue
                administrator = row.get("role") == StaffRole.ADMINISTRATOR
                member = staff_invite(
                    municipality=town,
                    email=row["email"],
                    first_name=row.get("first_name", ""),
                    last_name=row.get("last_name", ""),
                    administrator=administrator,
                    language=row.get("language", "fr"),
                )
                # Staff start as 311 agents; the town's administrator refines roles later.
                with schema_context(town.schema_name):
                    staff_role_set(
                        user=member,
                        role=CrmStaffRole.ADMINISTRATOR if administrator else CrmStaffRole.AGENT,
                    )
            _log_step(
                project,
                "staff",
                invited_started,
                count=len(project.staff) + (1 if project.administrator_email else 0),
            )
            project.municipality = town
            project.status = OnboardingProject.Status.PROVISIONED
            project.failure_message = ""
            _log_step(project, "total", started)
            project.save()
            Milestone.objects.get_or_create(
                project=project, kind=Milestone.Kind.PROVISIONED, defaults={"actor": actor}
            )
            if result.clone is not None:
                Milestone.objects.get_or_create(
                    project=project, kind=Milestone.Kind.CATALOG_COPIED, defaults={"actor": actor}
                )
            if project.administrator_email or project.staff:
                Milestone.objects.get_or_create(
                    project=project, kind=Milestone.Kind.STAFF_INVITED, defaults={"actor": actor}
                )
            transaction.on_commit(_refresh_rollup_later)
            audit_record(
                actor=actor,
                action="project_provision",
                target=project.slug,
                detail={"schema": town.schema_name, "log": project.provisioning_log},
            )
    except (ValidationError, OnboardingError, TenancyError, CrmError, IntegrityError) as error:
        if isinstance(error, ValidationError):
            return "; ".join(error.messages)
        if isinstance(error, IntegrityError):  # a concurrent operation took a name first
            return str(_("Une autre opération a pris le même identifiant ou domaine entre-temps."))
        return error.message
    return None


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    automatic: bool


MANUAL_CHECKLIST: dict[str, Any] = {
    "dns": _lazy("Le domaine pointe vers la plateforme (DNS) et le certificat est en place."),
    "training": _lazy("Le personnel a reçu sa formation."),
    "test_request": _lazy("Une requête d'essai a été créée et traitée de bout en bout."),
    "privacy": _lazy("Le responsable de la vie privée a validé la politique publiée."),
}


def project_checklist(*, project: OnboardingProject) -> list[ChecklistItem]:
    """The go-live checklist: facts read from the town, then the items staff tick by hand."""
    town = project.municipality
    activated = False
    catalog_ready = False
    if town is not None:
        with schema_context(town.schema_name):
            # An invited account has an unusable password ("!…") until its owner chooses one.
            activated = (
                User.objects.filter(is_superuser=True, is_active=True)
                .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
                .exists()
            )
            catalog_ready = any(department.service_types for department in catalog_outline())
    items = [
        ChecklistItem(
            "provisioned", str(_("La municipalité est mise en service.")), town is not None, True
        ),
        ChecklistItem(
            "catalog",
            str(_("Le catalogue de services contient au moins un type de requête.")),
            catalog_ready,
            True,
        ),
        ChecklistItem(
            "administrator",
            str(_("Un administrateur municipal a activé son compte (mot de passe choisi).")),
            activated,
            True,
        ),
    ]
    items += [
        ChecklistItem(key, str(label), bool(project.checklist.get(key)), False)
        for key, label in MANUAL_CHECKLIST.items()
    ]
    return items


def project_checklist_update(
    *, project: OnboardingProject, done: Iterable[str], actor: User
) -> OnboardingProject:
    """Record which manual go-live items are done."""
    done = set(done)
    unknown = done - set(MANUAL_CHECKLIST)
    if unknown:
        raise OnboardingError(OnboardingErrorCode.UNKNOWN_ITEM, _("Élément de liste inconnu."))
    with transaction.atomic():
        project = OnboardingProject.objects.select_for_update().get(pk=project.pk)
        project.checklist = {key: key in done for key in MANUAL_CHECKLIST}
        project.save(update_fields=["checklist", "updated_at"])
        audit_record(
            actor=actor, action="checklist_update", target=project.slug, detail=project.checklist
        )
    return project


def project_go_live(*, project: OnboardingProject, actor: User) -> OnboardingProject:
    """Put the town online once every checklist item is done. Raises OnboardingError (409)
    listing what is missing."""
    missing = [item.label for item in project_checklist(project=project) if not item.done]
    if missing:
        raise OnboardingError(
            OnboardingErrorCode.CHECKLIST_INCOMPLETE,
            _("La liste de mise en ligne n'est pas complète : {items}").format(
                items=" ".join(missing)
            ),
            status=409,
        )
    with transaction.atomic():
        project = OnboardingProject.objects.select_for_update().get(pk=project.pk)
        if project.status != OnboardingProject.Status.PROVISIONED or project.municipality is None:
            raise OnboardingError(
                OnboardingErrorCode.NOT_PROVISIONED,
                _("Seul un projet mis en service peut passer en ligne."),
                status=409,
            )
        municipality_set_status(municipality=project.municipality, status=Municipality.Status.LIVE)
        project.status = OnboardingProject.Status.LIVE
        project.save(update_fields=["status", "updated_at"])
        Milestone.objects.get_or_create(
            project=project, kind=Milestone.Kind.WENT_LIVE, defaults={"actor": actor}
        )
        audit_record(actor=actor, action="project_go_live", target=project.slug)
        transaction.on_commit(_refresh_rollup_later)
    return project


def time_entry_log(
    *,
    project: OnboardingProject,
    user: User,
    day: date,
    activity: str,
    hours: Decimal,
    note: str = "",
) -> TimeEntry:
    """Log hours on a project. Raises ValidationError for a bad activity, a future day or hours
    outside 0.25–24."""
    entry = TimeEntry(
        project=project, user=user, day=day, activity=activity, hours=hours, note=note.strip()
    )
    entry.full_clean()
    if day > timezone.localdate():
        raise ValidationError({"day": _("On ne consigne pas d'heures dans le futur.")})
    with transaction.atomic():
        entry.save()
        audit_record(
            actor=user,
            action="time_log",
            target=project.slug,
            detail={"day": day.isoformat(), "activity": activity, "hours": str(hours)},
        )
    return entry


def _refresh_rollup_later() -> None:
    from onboarding.tasks import refresh_console_rollup  # the task module imports this one

    refresh_console_rollup.enqueue()


def rollup_refresh() -> int:
    """Recompute every town's activity figures for the console home (one visit per schema,
    in a task, never in a page view). Returns the number of towns refreshed.

    Safe to run twice, and twice at once: each town is computed and written in a transaction
    of its own under that town's advisory lock, so concurrent runs take turns per town and the
    figures kept are the latest computed (a slower run never overwrites newer ones). A run
    stopped half-way leaves the towns it did refreshed and the others as they were.
    """
    count = 0
    for town in Municipality.objects.exclude(schema_name="public").order_by("pk"):
        with transaction.atomic():
            advisory_xact_lock(f"onboarding.rollup.{town.schema_name}")
            if not schema_exists(town.schema_name):
                continue
            now = timezone.now()
            month_start = timezone.localtime(now).replace(
                day=1, hour=0, minute=0, second=0, microsecond=0
            )
            with schema_context(town.schema_name):
                activity = town_activity(since=month_start)
            TownRollup.objects.update_or_create(
                municipality=town,
                defaults={
                    "staff_count": activity.staff_count,
                    "requests_this_month": activity.requests_since,
                    "last_activity_at": activity.last_activity_at,
                    "refreshed_at": now,
                },
            )
        count += 1
    logger.info("console rollup refreshed: towns=%s", count)
    return count


# --- A town's page in the console: lifecycle, export, imports ----------------------------------

LIFECYCLE_ACTIONS = {
    "suspend": Municipality.Status.SUSPENDED,
    "resume": Municipality.Status.LIVE,
    "archive": Municipality.Status.ARCHIVED,
}


def console_town_status(*, municipality: Municipality, action: str, actor: User) -> Municipality:
    """Suspend, resume or archive a town from the console. Raises OnboardingError for an
    unknown action and TenancyError for a move the lifecycle refuses."""
    if action not in LIFECYCLE_ACTIONS:
        raise OnboardingError(OnboardingErrorCode.UNKNOWN_ACTION, _("Action inconnue."))
    with transaction.atomic():
        if action == "resume":
            town = municipality_resume(municipality=municipality)
        else:
            town = municipality_set_status(
                municipality=municipality, status=LIFECYCLE_ACTIONS[action]
            )
        audit_record(actor=actor, action=f"town_{action}", target=town.slug)
    return town


def console_town_export(*, municipality: Municipality, actor: User) -> TownExport:
    """Write the town's complete archive in RELAIS_EXPORT_DIR (private to the server's user),
    then record it and its audit entry together. The archive is read from a snapshot of its
    own, which cannot share their transaction: if recording fails, the file is deleted (a
    town's personal data that no record lists)."""
    folder = Path(settings.RELAIS_EXPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    output = folder / f"{municipality.slug}-{stamp}.tar.gz"
    summary = town_archive_write(municipality=municipality, output=output)
    try:
        with transaction.atomic():
            export = town_export_record(municipality=municipality, output=output, summary=summary)
            audit_record(
                actor=actor,
                action="town_export",
                target=municipality.slug,
                detail={"rows": summary.rows, "files": summary.files, "file": output.name},
            )
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    return export


def console_export_download_record(*, export: TownExport, actor: User) -> None:
    """A download of a town's archive is an access to personal data: it is audited."""
    audit_record(
        actor=actor,
        action="town_export_download",
        target=export.slug,
        detail={"file": Path(export.path).name},
    )


def console_town_delete(*, municipality: Municipality, confirmation: str, actor: User) -> None:
    """Delete an archived, exported town (the typed slug confirms). Raises TenancyError."""
    slug = municipality.slug
    with transaction.atomic():
        municipality_delete(municipality=municipality, confirmation=confirmation)
        audit_record(actor=actor, action="town_delete", target=slug)


def console_services_import(
    *, municipality: Municipality, content: bytes, department_code: str, language: str, actor: User
) -> Open311ImportReport:
    """Import an Open311 service list into the town's catalog, under one of its departments.
    Raises CrmError (nothing imported) for a bad document or an unknown department."""
    with schema_context(municipality.schema_name), transaction.atomic():
        department = department_by_code(code=department_code)
        if department is None:
            raise CrmError(
                CrmErrorCode.UNKNOWN_DEPARTMENT,
                _("Le service « {code} » n'existe pas dans cette municipalité.").format(
                    code=department_code
                ),
                field="department",
            )
        report = open311_services_import(content=content, department=department, language=language)
        audit_record(
            actor=actor,
            action="open311_import",
            target=municipality.slug,
            detail={"created": len(report.created), "updated": len(report.updated)},
        )
    return report


def console_requests_import(
    *,
    municipality: Municipality,
    content: bytes,
    mapping: Mapping[str, Any],
    file_name: str,
    dry_run: bool,
    actor: User,
) -> RequestsImportReport:
    """Validate (dry run) or import a CSV of historical requests into the town, all or nothing.
    Raises RequestImportError listing every problem, line by line."""
    with schema_context(municipality.schema_name), transaction.atomic():
        report = requests_import(
            actor=None, content=content, mapping=mapping, file_name=file_name, dry_run=dry_run
        )
        audit_record(
            actor=actor,
            action="requests_import_check" if dry_run else "requests_import",
            target=municipality.slug,
            detail={"file": file_name, "sha256": report.sha256, "imported": report.imported},
        )
    return report
