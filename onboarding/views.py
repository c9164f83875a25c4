"""The platform console (base domain, public schema): thin views over onboarding.services.

Only console members get in (platform operators and implementation specialists), and only
after a two-factor sign-in in the current session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, Concatenate, ParamSpec

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm.errors import CrmError
from crm.imports.csv import guess_encoding, header_columns
from crm.models import Channel, RequestStatus
from crm.services import REQUEST_IMPORT_FIELDS as IMPORT_FIELDS
from crm.services import RequestImportError
from onboarding import forms, wizard
from onboarding.errors import OnboardingError
from onboarding.models import (
    AuditEntry,
    ConsoleMember,
    ConsoleRole,
    OnboardingProject,
    StaffRole,
    TownRollup,
)
from onboarding.pending_uploads import PendingUploads
from onboarding.selectors import (
    console_town_list,
    host_catalog_outline,
    project_hours,
    project_list,
)
from onboarding.services import (
    LIFECYCLE_ACTIONS,
    MANUAL_CHECKLIST,
    console_export_download_record,
    console_member_invite,
    console_requests_import,
    console_services_import,
    console_town_delete,
    console_town_export,
    console_town_status,
    project_checklist,
    project_checklist_update,
    project_go_live,
    project_provision,
    project_start,
    project_step_save,
    staff_csv_preview,
    time_entry_log,
)
from tenants.accounts.second_factor import second_factor_detour
from tenants.errors import TenancyError
from tenants.models import Municipality, TownExport
from tenants.services import town_url

P = ParamSpec("P")


def console_required(
    *roles: str,
) -> Callable[
    [Callable[Concatenate[HttpRequest, ConsoleMember, P], HttpResponseBase]],
    Callable[Concatenate[HttpRequest, P], HttpResponseBase],
]:
    """Let in console members with one of `roles` (any role when empty), signed in with a
    second factor in this session, and hand the view their `ConsoleMember` (whose `user` is
    the actor of what the view does); send others to sign in, set up or confirm their second
    factor."""

    def decorator(
        view: Callable[Concatenate[HttpRequest, ConsoleMember, P], HttpResponseBase],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("account_login"))
            member = ConsoleMember.objects.select_related("user").filter(user=user).first()
            if member is None or (roles and member.role not in roles):
                raise PermissionDenied(_("Votre compte n'a pas accès à cette page de la console."))
            detour = second_factor_detour(request, required=True)
            if detour is not None:
                return detour
            return view(request, member, *args, **kwargs)

        return wrapper

    return decorator


def console_render(
    request: HttpRequest,
    member: ConsoleMember,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    """A console page: every page's navigation shows the member's role and what it opens."""
    return render(request, template, {"member": member, **context}, status=status)


def _error_messages(request: HttpRequest, error: ValidationError | OnboardingError) -> None:
    if isinstance(error, OnboardingError):
        messages.error(request, error.message)
    else:
        for message in error.messages:
            messages.error(request, message)


def _form_errors(form: Any, error: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or on the form)."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


@console_required()
def console_home(request: HttpRequest, member: ConsoleMember) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    listing = console_town_list(search=request.GET.get("q", ""), page=page)
    return console_render(
        request,
        member,
        "onboarding/home.html",
        {
            "listing": listing,
            "towns": listing.towns,
            "projects": project_list(open_only=True),
            "step_count": len(wizard.STEPS),
        },
    )


@console_required()
def project_index(request: HttpRequest, member: ConsoleMember) -> HttpResponse:
    return console_render(
        request,
        member,
        "onboarding/projects.html",
        {"projects": project_list(), "step_count": len(wizard.STEPS)},
    )


@console_required()
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest, member: ConsoleMember) -> HttpResponse:
    form = forms.ProjectStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_start(
                host=form.cleaned_data["host"],
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                domain=form.cleaned_data["domain"],
                actor=member.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        except OnboardingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Projet créé. Étape suivante : la population et la région.")
            )
            _custom_domain_notice(request, project.domain)
            following = wizard.next_step(wizard.IDENTITY) or wizard.REVIEW
            return redirect("console:project_step", pk=project.pk, step=following.slug)
    return console_render(
        request,
        member,
        "onboarding/wizard_step.html",
        {"form": form, **_wizard_context(None, wizard.IDENTITY)},
    )


def _custom_domain_notice(request: HttpRequest, domain: str) -> None:
    """A town's own domain needs DNS and the platform's host list, beyond the wizard."""
    if not domain.strip().lower().endswith("." + settings.RELAIS_BASE_DOMAIN):
        messages.warning(
            request,
            _(
                "« {domain} » n'est pas un sous-domaine de la plateforme : faites-le pointer vers "
                "la plateforme (DNS, certificat) et ajoutez-le à RELAIS_EXTRA_HOSTS avant la "
                "mise en ligne."
            ).format(domain=domain),
        )


def _wizard_context(project: OnboardingProject | None, step: wizard.WizardStep) -> dict[str, Any]:
    done = set(project.completed_steps) if project else set()
    steps = [
        {
            "key": each.key,
            "slug": each.slug,
            "label": each.label,
            "done": each.key in done,
            "current": each is step,
        }
        for each in wizard.STEPS
    ]
    return {
        "project": project,
        "step": step,
        "steps": steps,
        "step_label": step.label,
        "step_number": wizard.STEPS.index(step) + 1,
        "step_count": len(wizard.STEPS),
    }


@console_required()
@require_http_methods(["GET", "POST"])
def project_step(request: HttpRequest, member: ConsoleMember, pk: int, step: str) -> HttpResponse:
    project = get_object_or_404(OnboardingProject.objects.select_related("host"), pk=pk)
    wizard_step = wizard.BY_SLUG.get(step)
    if wizard_step is None:
        raise Http404
    if project.status in {OnboardingProject.Status.PROVISIONED, OnboardingProject.Status.LIVE}:
        return redirect("console:project_detail", pk=project.pk)
    context: dict[str, Any] = _wizard_context(project, wizard_step)
    if wizard_step.form is None:
        return _review(request, member, project, context)
    form = wizard_step.form(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        project=project,
        initial=wizard_step.initial(project),
    )
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        if isinstance(form, forms.StaffForm):
            preview_response = _staff_preview(request, member, form, context)
            if preview_response is not None:
                return preview_response
        values = form.values()
        try:
            project_step_save(
                project=project, step=wizard_step.key, values=values, actor=member.user
            )
        except ValidationError as error:
            _form_errors(form, error)
        except OnboardingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Étape enregistrée."))
            if wizard_step is wizard.IDENTITY:
                _custom_domain_notice(request, values["domain"])
            following = wizard.next_step(wizard_step) or wizard.REVIEW
            return redirect("console:project_step", pk=project.pk, step=following.slug)
    return console_render(request, member, "onboarding/wizard_step.html", context)


def _staff_preview(
    request: HttpRequest,
    member: ConsoleMember,
    form: forms.StaffForm,
    context: dict[str, Any],
) -> HttpResponse | None:
    """An uploaded staff file is shown first (lines kept, errors line by line); it is saved
    only when the preview is confirmed, and never when a line is wrong."""
    upload = form.cleaned_data.get("staff_file")
    if upload is None:
        return None
    preview = staff_csv_preview(content=upload.read())
    context.update(
        {
            "preview": preview,
            "signed_rows": signing.dumps(preview.rows, salt=forms.STAFF_SIGNING_SALT)
            if preview.valid
            else "",
            "administrator_email": form.cleaned_data["administrator_email"],
            "role_labels": dict(StaffRole.choices),
        }
    )
    status = 200 if preview.valid else 422
    return console_render(request, member, "onboarding/wizard_step.html", context, status=status)


def _review(
    request: HttpRequest, member: ConsoleMember, project: OnboardingProject, context: dict[str, Any]
) -> HttpResponse:
    if request.method == "POST":
        try:
            project_step_save(project=project, step=wizard.REVIEW.key, values={}, actor=member.user)
        except (ValidationError, OnboardingError) as error:
            _error_messages(request, error)
        else:
            return redirect("console:project_provision", pk=project.pk)
    chosen = project.service_type_codes
    type_count = sum(
        1
        for department in host_catalog_outline(project=project)
        for t in department.service_types
        if chosen is None or t.code in chosen
    )
    missing = [step.label for step in wizard.steps_missing(project)]
    context.update({"type_count": type_count, "missing": missing})
    return console_render(request, member, "onboarding/review.html", context)


@console_required()
@require_http_methods(["GET", "POST"])
def project_provision_view(request: HttpRequest, member: ConsoleMember, pk: int) -> HttpResponse:
    project = get_object_or_404(OnboardingProject.objects.select_related("host"), pk=pk)
    if request.method == "POST":
        try:
            project = project_provision(project=project, actor=member.user)
        except OnboardingError as error:
            messages.error(request, error.message)
        else:
            if project.status == OnboardingProject.Status.FAILED:
                messages.error(
                    request,
                    _("La mise en service a échoué et rien n'a été créé : {reason}").format(
                        reason=project.failure_message
                    ),
                )
            else:
                messages.success(request, _("La municipalité est mise en service."))
        return redirect("console:project_provision", pk=project.pk)
    return console_render(
        request,
        member,
        "onboarding/provision.html",
        {
            "project": project,
            "log": project.provisioning_log,
            "review_done": wizard.REVIEW.key in project.completed_steps,
            "town_address": town_url(project.municipality) if project.municipality else "",
        },
    )


@console_required()
@require_http_methods(["GET", "POST"])
def project_golive(request: HttpRequest, member: ConsoleMember, pk: int) -> HttpResponse:
    project = get_object_or_404(OnboardingProject, pk=pk)
    if project.municipality is None:
        messages.info(request, _("La liste de mise en ligne vient après la mise en service."))
        return redirect("console:project_detail", pk=project.pk)
    choices = [(key, str(label)) for key, label in MANUAL_CHECKLIST.items()]
    form = forms.ChecklistForm(
        request.POST or None,
        choices=choices,
        initial={"done": [k for k, v in project.checklist.items() if v]},
    )
    if request.method == "POST" and form.is_valid():
        project = project_checklist_update(
            project=project, done=form.cleaned_data["done"], actor=member.user
        )
        if "go_live" in request.POST:
            try:
                project_go_live(project=project, actor=member.user)
            except OnboardingError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("La municipalité est en ligne."))
                return redirect("console:project_detail", pk=project.pk)
        else:
            messages.success(request, _("Liste enregistrée."))
        return redirect("console:project_golive", pk=project.pk)
    return console_render(
        request,
        member,
        "onboarding/golive.html",
        {"project": project, "form": form, "items": project_checklist(project=project)},
    )


@console_required()
@require_http_methods(["GET", "POST"])
def project_detail(request: HttpRequest, member: ConsoleMember, pk: int) -> HttpResponse:
    project = get_object_or_404(
        OnboardingProject.objects.select_related("host", "municipality"), pk=pk
    )
    form = forms.TimeEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            time_entry_log(project=project, user=member.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Heures consignées."))
            return redirect("console:project_detail", pk=project.pk)
    entries = project.time_entries.select_related("user").order_by("-day", "-id")
    return console_render(
        request,
        member,
        "onboarding/project.html",
        {
            "project": project,
            "form": form,
            "entries": entries[:50],
            "hours": project_hours(project=project),
            "total_hours": entries.aggregate(total=Sum("hours"))["total"] or 0,
            "milestones": project.milestones.all(),
            "steps": _wizard_context(project, wizard.REVIEW)["steps"],
        },
    )


@console_required(ConsoleRole.OPERATOR)
def audit_log(request: HttpRequest, member: ConsoleMember) -> HttpResponse:
    page = Paginator(AuditEntry.objects.all(), 50).get_page(request.GET.get("page"))
    return console_render(request, member, "onboarding/audit.html", {"page": page})


@console_required(ConsoleRole.OPERATOR)
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, member: ConsoleMember) -> HttpResponse:
    form = forms.MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            console_member_invite(actor=member.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Invitation envoyée."))
            return redirect("console:members")
    return console_render(
        request,
        member,
        "onboarding/members.html",
        {"form": form, "members": ConsoleMember.objects.select_related("user").order_by("user")},
    )


# --- A town's page: lifecycle, export, imports ---------------------------------------------------

REQUEST_FIELD_LABELS = {
    "service_code": _lazy("Type de requête (code)"),
    "created_at": _lazy("Date de création"),
    "status": _lazy("Statut"),
    "channel": _lazy("Canal"),
    "priority": _lazy("Priorité"),
    "description": _lazy("Description"),
    "address": _lazy("Adresse"),
    "latitude": _lazy("Latitude"),
    "longitude": _lazy("Longitude"),
    "sector": _lazy("Secteur"),
    "department": _lazy("Service responsable"),
    "external_id": _lazy("Numéro dans l'ancien système"),
    "resolved_at": _lazy("Date de résolution"),
    "closed_at": _lazy("Date de fermeture"),
}


def _town(slug: str) -> Municipality:
    return get_object_or_404(Municipality.objects.exclude(schema_name="public"), slug=slug)


def _town_context(town: Municipality) -> dict[str, Any]:
    return {
        "town": town,
        "domains": list(town.domains.order_by("-is_primary", "domain")),
        "rollup": TownRollup.objects.filter(municipality=town).first(),
        "exports": TownExport.objects.filter(municipality=town).order_by("-created_at")[:10],
        "services_form": forms.ServicesImportForm(),
        "upload_form": forms.RequestsUploadForm(),
        "delete_form": forms.ConfirmDeleteForm(),
        "actions": LIFECYCLE_ACTIONS,
    }


@console_required()
def town_detail(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponse:
    return console_render(request, member, "onboarding/town.html", _town_context(_town(slug)))


@console_required(ConsoleRole.OPERATOR)
@require_POST
def town_lifecycle(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponse:
    town = _town(slug)
    try:
        console_town_status(
            municipality=town,
            action=request.POST.get("action", ""),
            actor=member.user,
        )
    except (OnboardingError, TenancyError) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Statut de la municipalité modifié."))
    return redirect("console:town", slug=town.slug)


@console_required(ConsoleRole.OPERATOR)
@require_POST
def town_export_view(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponse:
    town = _town(slug)
    export = console_town_export(municipality=town, actor=member.user)
    messages.success(
        request,
        _("Exportation terminée : {rows} lignes, {files} fichier(s).").format(
            rows=export.rows, files=export.files
        ),
    )
    return redirect("console:town", slug=town.slug)


@console_required(ConsoleRole.OPERATOR)
def town_export_download(
    request: HttpRequest, member: ConsoleMember, slug: str, pk: int
) -> HttpResponseBase:
    export = get_object_or_404(TownExport, pk=pk, municipality__slug=slug)
    path = Path(export.path)
    if not path.is_file():
        raise Http404
    console_export_download_record(export=export, actor=member.user)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@console_required(ConsoleRole.OPERATOR)
@require_POST
def town_delete(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponse:
    town = _town(slug)
    form = forms.ConfirmDeleteForm(request.POST)
    if form.is_valid():
        try:
            console_town_delete(
                municipality=town,
                confirmation=form.cleaned_data["confirmation"],
                actor=member.user,
            )
        except TenancyError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("La municipalité a été supprimée."))
            return redirect("console:home")
    return redirect("console:town", slug=town.slug)


@console_required()
@require_POST
def town_import_services(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponse:
    town = _town(slug)
    form = forms.ServicesImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            report = console_services_import(
                municipality=town,
                content=form.cleaned_data["services_file"].read(),
                department_code=form.cleaned_data["department"],
                language=form.cleaned_data["language"],
                actor=member.user,
            )
        except CrmError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Catalogue importé : {created} type(s) créé(s), {updated} mis à jour.").format(
                    created=len(report.created), updated=len(report.updated)
                ),
            )
            return redirect("console:town", slug=town.slug)
    context = _town_context(town) | {"services_form": form}
    return console_render(request, member, "onboarding/town.html", context, status=400)


@console_required()
@require_http_methods(["GET", "POST"])
def town_import_requests(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponse:
    """Historical requests: upload the CSV, map its columns, check (nothing written), import."""
    town = _town(slug)
    uploads = PendingUploads(request.session)
    if request.method == "POST" and "requests_file" in request.FILES:
        upload_form = forms.RequestsUploadForm(request.POST, request.FILES)
        if not upload_form.is_valid():
            page = _town_context(town) | {"upload_form": upload_form}
            return console_render(request, member, "onboarding/town.html", page, status=400)
        upload = upload_form.cleaned_data["requests_file"]
        uploads.put(town=town.slug, name=upload.name or "", content=upload.read())
        return redirect("console:town_import_requests", slug=town.slug)
    pending = uploads.get(town=town.slug)
    if pending is None:
        messages.info(request, _("Téléversez d'abord le fichier des requêtes."))
        return redirect("console:town", slug=town.slug)
    content = pending.read()
    if content is None:
        messages.error(request, _("Le fichier téléversé n'est plus disponible : recommencez."))
        return redirect("console:town", slug=town.slug)
    # The columns offered are the header read in the encoding the import will use: the one
    # chosen, else the one the file seems to be in (a Windows-1252 "Catégorie" would
    # otherwise be offered as "Cat�gorie", a column the import never finds).
    encodings = {value for value, _label in forms.RequestsMappingForm.ENCODINGS}
    encoding = request.POST.get("encoding", "")
    if encoding not in encodings:
        encoding = guess_encoding(content)
    form = forms.RequestsMappingForm(
        request.POST or None,
        initial={"encoding": encoding},
        columns=header_columns(content, encoding),
        fields=IMPORT_FIELDS,
        field_labels={k: str(v) for k, v in REQUEST_FIELD_LABELS.items()},
        statuses=[(s.value, str(s.label)) for s in RequestStatus],
        channels=[(c.value, str(c.label)) for c in Channel],
    )
    context: dict[str, Any] = {"town": town, "form": form, "file_name": pending.name}
    if request.method == "POST" and form.is_valid():
        dry_run = "import" not in request.POST
        try:
            report = console_requests_import(
                municipality=town,
                content=content,
                mapping=form.mapping(),
                file_name=pending.name,
                dry_run=dry_run,
                actor=member.user,
            )
        except RequestImportError as error:
            context.update({"problems": error.problems[:500], "problem_count": len(error.problems)})
            return console_render(
                request, member, "onboarding/import_requests.html", context, status=422
            )
        if not dry_run:
            uploads.discard()
            messages.success(
                request,
                _("{count} requête(s) importée(s), {skipped} déjà présente(s).").format(
                    count=report.imported, skipped=len(report.skipped)
                ),
            )
            return redirect("console:town", slug=town.slug)
        context["report"] = report
    return console_render(request, member, "onboarding/import_requests.html", context)
