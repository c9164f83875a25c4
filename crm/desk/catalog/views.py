"""The catalog, for administrators: service types with their questions, routing rules, the
host city's updates and the town's workspace settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import selectors, services, upstream
from crm.desk.access import staff_required
from crm.desk.catalog.forms import (
    ConfirmForm,
    MoveForm,
    QuestionForm,
    RoutingRuleForm,
    ServiceTypeForm,
    SettingsForm,
    UpstreamDecisionForm,
)
from crm.desk.navigation import CATALOG_ROLES
from crm.desk.once import SUBMISSION_FIELD, claimed
from crm.desk.rendering import desk_render
from crm.diffs import word_diff
from crm.errors import CrmError
from crm.models import ServiceAttribute, ServiceType
from crm.roles import Viewer


def _render(
    request: HttpRequest, viewer: Viewer, template: str, context: dict[str, Any]
) -> HttpResponse:
    return desk_render(request, viewer, f"desk/catalog/{template}", context, section="catalog")


def _type_or_404(pk: int) -> ServiceType:
    found = selectors.catalog_service_type(pk=pk)
    if found is None:
        raise Http404
    return found


def _question_or_404(service_type: ServiceType, pk: int) -> ServiceAttribute:
    found = selectors.catalog_service_attribute(service_type=service_type, pk=pk)
    if found is None:
        raise Http404
    return found


def _act_once(
    request: HttpRequest, form: Any, write: Callable[[], tuple[str, str]]
) -> HttpResponseBase | None:
    """Claim the form's token, validate the form, then `write`, which returns the page to go
    to and its success message. A redirect once written (or for a second submission of the
    same form, before validating it: what the first one wrote may make it invalid now); None
    when the form or the service refused the input, whose messages are then on the form."""
    with claimed(request, str(request.POST.get(SUBMISSION_FIELD, ""))) as claim:
        if not claim.first:
            return HttpResponseRedirect(claim.done_url or request.path)
        if not form.is_valid():
            return None
        try:
            done_url, message = write()
        except CrmError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            return None
        claim.done(done_url)
    messages.success(request, message)
    return HttpResponseRedirect(done_url)


@require_GET
@staff_required(CATALOG_ROLES)
def index(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return _render(
        request,
        viewer,
        "index.html",
        {
            "service_types": selectors.catalog_service_types(),
            "pending_updates": upstream.upstream_change_count(),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(CATALOG_ROLES)
def service_type(request: HttpRequest, viewer: Viewer, pk: int | None = None) -> HttpResponseBase:
    """A new service type (no `pk`), or one with its questions."""
    current = _type_or_404(pk) if pk is not None else None
    if request.method == "POST":
        form = ServiceTypeForm(request.POST, instance=current)

        def write() -> tuple[str, str]:
            saved = services.service_type_save(
                viewer=viewer, service_type=current, **form.service_fields()
            )
            return reverse("desk:catalog_type", args=[saved.pk]), _(
                "Type de requête enregistré : {name}."
            ).format(name=saved.name_fr)

        response = _act_once(request, form, write)
        if response is not None:
            return response
    else:
        form = ServiceTypeForm(instance=current)
    return _render(
        request,
        viewer,
        "service_type.html",
        {
            "form": form,
            "service_type": current,
            "questions": list(current.attributes.all()) if current else [],
            "move_form": MoveForm(),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(CATALOG_ROLES)
def question(
    request: HttpRequest, viewer: Viewer, pk: int, question: int | None = None
) -> HttpResponseBase:
    parent = _type_or_404(pk)
    current = _question_or_404(parent, question) if question is not None else None
    back = reverse("desk:catalog_type", args=[parent.pk])
    if request.method == "POST":
        form = QuestionForm(request.POST)

        def write() -> tuple[str, str]:
            data = form.cleaned_data
            saved = services.service_attribute_save(
                viewer=viewer,
                service_type=parent,
                attribute=current,
                code=data["code"],
                label_fr=data["label_fr"],
                label_en=data["label_en"],
                datatype=data["datatype"],
                required=data["required"],
                choices=data["choices"],
            )
            return back, _("Question enregistrée : {label}.").format(label=saved.label_fr)

        response = _act_once(request, form, write)
        if response is not None:
            return response
    else:
        form = QuestionForm(initial=QuestionForm.initial_of(current) if current else None)
    return _render(
        request,
        viewer,
        "question.html",
        {"form": form, "service_type": parent, "question": current},
    )


@require_POST
@staff_required(CATALOG_ROLES)
def question_move(request: HttpRequest, viewer: Viewer, pk: int, question: int) -> HttpResponseBase:
    parent = _type_or_404(pk)
    current = _question_or_404(parent, question)
    back = reverse("desk:catalog_type", args=[parent.pk])
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Demande incomplète : rechargez la page."))
        return HttpResponseRedirect(back)

    def write() -> tuple[str, str]:
        services.service_attribute_move(
            viewer=viewer, attribute=current, step=form.cleaned_data["step"]
        )
        return back, _("Ordre des questions modifié.")

    return _act_once(request, form, write) or HttpResponseRedirect(back)


@require_http_methods(["GET", "POST"])
@staff_required(CATALOG_ROLES)
def question_delete(
    request: HttpRequest, viewer: Viewer, pk: int, question: int
) -> HttpResponseBase:
    """GET asks to confirm (a removal cannot be undone); POST removes."""
    parent = _type_or_404(pk)
    current = _question_or_404(parent, question)
    back = reverse("desk:catalog_type", args=[parent.pk])
    if request.method == "GET":
        return _confirm_removal(
            request,
            viewer,
            back=back,
            back_label=_("Retour au type « {code} »").format(code=parent.code),
            heading=_("Retirer la question « {label} »?").format(label=current.label_fr),
            consequence=_(
                "Elle ne sera plus posée aux citoyens ni à l'accueil 311, dans aucun canal. "
                "Les réponses déjà données restent sur leurs requêtes."
            ),
            button=_("Retirer la question"),
        )
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Demande incomplète : rechargez la page."))
        return HttpResponseRedirect(back)

    def write() -> tuple[str, str]:
        services.service_attribute_delete(viewer=viewer, attribute=current)
        return back, _("Question retirée : {label}.").format(label=current.label_fr)

    return _act_once(request, form, write) or HttpResponseRedirect(back)


def _confirm_removal(request: HttpRequest, viewer: Viewer, **context: str) -> HttpResponse:
    return _render(
        request, viewer, "confirm_remove.html", context | {"confirm_form": ConfirmForm()}
    )


@require_http_methods(["GET", "POST"])
@staff_required(CATALOG_ROLES)
def routing(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    here = reverse("desk:catalog_routing")
    form = RoutingRuleForm(request.POST or None)
    if request.method == "POST":

        def write() -> tuple[str, str]:
            data = form.cleaned_data
            services.routing_rule_save(
                viewer=viewer,
                rule=None,
                sector=data["sector"],
                service_type=data["service_type"],
                department=data["department"],
            )
            return here, _("Règle d'acheminement ajoutée.")

        response = _act_once(request, form, write)
        if response is not None:
            return response
    return _render(
        request,
        viewer,
        "routing.html",
        {
            "form": form,
            "rules": selectors.catalog_routing_rules(),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(CATALOG_ROLES)
def routing_delete(request: HttpRequest, viewer: Viewer, pk: int) -> HttpResponseBase:
    """GET asks to confirm; POST removes."""
    here = reverse("desk:catalog_routing")
    rule = selectors.catalog_routing_rule(pk=pk)
    if request.method == "GET":
        if rule is None:
            raise Http404
        kind = rule.service_type.localized("name") if rule.service_type else _("tous les types")
        return _confirm_removal(
            request,
            viewer,
            back=here,
            back_label=_("Retour à l'acheminement"),
            heading=_("Retirer la règle du secteur {sector}?").format(sector=rule.sector),
            consequence=_(
                "Les nouvelles requêtes du secteur {sector} ({kind}) iront de nouveau au "
                "service responsable de leur type, et non plus à {department}. Les requêtes "
                "déjà acheminées ne changent pas."
            ).format(sector=rule.sector, kind=kind, department=rule.department),
            button=_("Retirer la règle"),
        )
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Demande incomplète : rechargez la page."))
        return HttpResponseRedirect(here)
    if rule is None:  # removed already (a second click, or another administrator)
        return HttpResponseRedirect(here)

    def write() -> tuple[str, str]:
        services.routing_rule_delete(viewer=viewer, rule=rule)
        return here, _("Règle d'acheminement retirée.")

    return _act_once(request, form, write) or HttpResponseRedirect(here)


def _upstream_items() -> list[dict[str, Any]]:
    items = []
    for change in upstream.upstream_changes():
        followed = upstream.FOLLOWED[change.kind]
        rows = []
        for field in change.fields:
            mine = upstream.shown_value(followed, field.name, field.local_value)
            theirs = upstream.shown_value(followed, field.name, field.host_value)
            rows.append(
                {
                    "label": field.label,
                    "mine": mine,
                    "parts": word_diff(mine, theirs),
                    "effect": upstream.decision_effect(change, field),
                    "conflict": field.changed_upstream and field.changed_locally,
                }
            )
        url = (
            reverse("desk:bank_article", args=[change.id])
            if change.kind == "faq_article"
            else reverse("desk:catalog_type", args=[change.id])
        )
        items.append(
            {
                "change": change,
                "rows": rows,
                "url": url,
                "form": UpstreamDecisionForm(
                    initial={"kind": change.kind, "item": change.id, "token": change.token}
                ),
            }
        )
    return items


@require_http_methods(["GET", "POST"])
@staff_required(CATALOG_ROLES)
def upstream_updates(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    """The host city's changes to the items this town copied, each to accept or ignore."""
    here = reverse("desk:catalog_upstream")
    if request.method == "POST":
        form = UpstreamDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Demande incomplète : rechargez la page."))
            return HttpResponseRedirect(here)
        data = form.cleaned_data
        accept = data["decision"] == "accept"

        def write() -> tuple[str, str]:
            change = services.upstream_decide(
                viewer=viewer,
                kind=data["kind"],
                item_id=data["item"],
                token=data["token"],
                accept=accept,
            )
            return here, (
                _("Mise à jour de la ville hôte acceptée : « {title} ».")
                if accept
                else _("Mise à jour de la ville hôte ignorée : « {title} ».")
            ).format(title=change.title)

        response = _act_once(request, form, write)
        if response is None:  # refused (changed again at the host, nothing pending any more)
            for error in form.non_field_errors():
                messages.error(request, str(error))
        return response or HttpResponseRedirect(here)
    return _render(
        request,
        viewer,
        "upstream.html",
        {
            "items": _upstream_items(),
            "has_host": upstream.host_schema() is not None,
            "decisions": [
                ("accept", _("Accepter la mise à jour")),
                ("ignore", _("Ignorer et garder ma version")),
            ],
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(CATALOG_ROLES)
def settings(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    here = reverse("desk:catalog_settings")
    current = selectors.crm_settings()
    if request.method == "POST":
        form = SettingsForm(request.POST, instance=current)

        def write() -> tuple[str, str]:
            changed = services.crm_settings_update(viewer=viewer, **form.service_fields())
            if not changed:
                return here, _("Aucun paramètre n'a changé.")
            return here, _("Paramètres enregistrés.")

        response = _act_once(request, form, write)
        if response is not None:
            return response
    else:
        form = SettingsForm(instance=current)
    return _render(request, viewer, "settings.html", {"form": form})
