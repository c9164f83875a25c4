"""The 311 desk: find the caller, answer from the information bank, log the call in one step
or file a request.

The desk's state is in its address (`q` the bank search, `appelant` the caller search,
`citoyen` the caller opened, `article` the articles answered with), so that every step works
as a plain link or GET form without JavaScript; htmx only refreshes a panel as the agent types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from csp.decorators import csp_update
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import selectors, services
from crm.admin_privacy import (
    LAST_PURPOSE_KEY,
    LIST_SCOPE,
    record_scope,
    state_purpose,
    stated_purpose,
)
from crm.desk.access import staff_required
from crm.desk.calls.forms import (
    BankSearchForm,
    CitizenSearchForm,
    DeskPurposeForm,
    InformationCallForm,
    RequestForm,
)
from crm.desk.navigation import DESK_ROLES, QUEUE_ROLES
from crm.desk.once import SUBMISSION_FIELD, claimed
from crm.desk.rendering import desk_render
from crm.errors import CrmError
from crm.intake_forms import MAP_POLICY, contact_of, map_settings, place_error
from crm.models import AccessAction, Channel, FaqArticle
from crm.roles import Viewer, acting_user
from crm.search import faq_search

STATE = ("q", "appelant", "citoyen", "article")
ACCESS_CONTEXT = "desk"
BANK_RESULTS = 8
CITIZEN_RESULTS = 15


def _htmx_target(request: HttpRequest) -> str | None:
    """The id of the panel htmx asks to refresh (None for a whole page)."""
    details = getattr(request, "htmx", None)
    return details.target if details else None


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()][:10]


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _with(params: QueryDict, **changes: Any) -> str:
    """The desk's address with `params`' state, changed by `changes` (None removes)."""
    pairs = [
        (name, value)
        for name in STATE
        if name not in changes
        for value in params.getlist(name)
        if value
    ]
    for name, value in changes.items():
        if value is None:
            continue
        pairs += [(name, item) for item in (value if isinstance(value, list) else [value])]
    query = urlencode(pairs)
    return reverse("desk:home") + (f"?{query}" if query else "")


def _purpose_form(request: HttpRequest, scope: str, next_url: str) -> DeskPurposeForm:
    answer = request.session.get(LAST_PURPOSE_KEY) or {}
    return DeskPurposeForm(initial={**answer, "scope": scope, "next": next_url})


@dataclass
class Caller:
    """The caller panel: the search's results, or the purpose asked first; the record opened,
    or the purpose asked first."""

    search: CitizenSearchForm
    results: list[tuple[Any, str]] = field(default_factory=list)
    searched: bool = False
    list_purpose: DeskPurposeForm | None = None
    record: selectors.CitizenRecord | None = None
    record_purpose: DeskPurposeForm | None = None
    missing: bool = False


def _caller(request: HttpRequest, viewer: Viewer, params: QueryDict) -> Caller:
    search = CitizenSearchForm(params)
    caller = Caller(search)
    text = search.cleaned_data.get("appelant", "") if search.is_valid() else ""
    here = _with(params)
    if len(text.strip()) >= selectors.DESK_SEARCH_MIN_LENGTH:
        caller.searched = True
        purpose = stated_purpose(request, LIST_SCOPE)
        if purpose is None:
            caller.list_purpose = _purpose_form(request, LIST_SCOPE, here)
        else:
            found = selectors.desk_citizen_search(viewer=viewer, query=text, limit=CITIZEN_RESULTS)
            caller.results = [(citizen, _with(params, citoyen=citizen.pk)) for citizen in found]
            if found:
                services.access_list_log_record(
                    actor=acting_user(request),
                    purpose=purpose,
                    context=ACCESS_CONTEXT,
                    details=f"{len(found)} fiche(s), recherche « {text.strip()} »",
                )
    pk = _number(params.get("citoyen"))
    if pk is not None:
        purpose = stated_purpose(request, record_scope(pk))
        if purpose is None:
            caller.record_purpose = _purpose_form(request, record_scope(pk), here)
            return caller
        try:
            caller.record = selectors.desk_citizen_record(viewer=viewer, pk=pk)
        except CrmError:
            caller.missing = True
            return caller
        services.access_log_record(
            actor=acting_user(request),
            citizen=caller.record.citizen,
            action=AccessAction.VIEW,
            purpose=purpose,
            context=ACCESS_CONTEXT,
            details="Accueil 311 : fiche, requêtes et interactions",
        )
    return caller


def _bank(viewer: Viewer, params: QueryDict) -> tuple[BankSearchForm, list[Any]]:
    form = BankSearchForm(params)
    text = form.cleaned_data.get("q", "") if form.is_valid() else ""
    if not text.strip():
        return form, []
    hits = faq_search(
        query=text,
        audience=viewer.faq_audience,
        language=translation.get_language() or "fr",
        limit=BANK_RESULTS,
    )
    return form, hits


def _summary_of(articles: list[FaqArticle]) -> str:
    return _("Question répondue : {questions}").format(
        questions=" ; ".join(article.localized("question") for article in articles)
    )


def _desk_page(
    request: HttpRequest,
    viewer: Viewer,
    params: QueryDict,
    *,
    call_form: InformationCallForm | None = None,
) -> HttpResponse:
    target = _htmx_target(request)
    chosen_ids = _ids(params.getlist("article"))
    context: dict[str, Any] = {"state": params, "chosen_ids": chosen_ids}
    if target != "resultats-banque":
        context["caller"] = _caller(request, viewer, params)
    if target != "resultats-citoyens":
        context["bank"], context["hits"] = _bank(viewer, params)
    if target == "resultats-citoyens":
        return desk_render(request, viewer, "desk/calls/_citizens.html", context, section="desk")
    if target == "resultats-banque":
        return desk_render(request, viewer, "desk/calls/_bank.html", context, section="desk")
    if call_form is None:
        articles = selectors.desk_answer_articles(viewer=viewer, ids=chosen_ids)
        record = context["caller"].record
        call_form = InformationCallForm(
            articles=articles,
            initial={
                "article": [article.pk for article in articles],
                "summary": _summary_of(articles) if articles else "",
                "channel": Channel.PHONE,
                "citizen": record.citizen.pk if record else None,
            },
        )
    context |= {
        "call_form": call_form,
        "just_chosen": bool(chosen_ids) and not call_form.is_bound,
        "state_fields": [
            (name, value) for name in ("q", "appelant", "citoyen") if (value := params.get(name))
        ],
        "rate": selectors.agent_first_contact_today(viewer=viewer),
        "new_request_url": reverse("desk:new_request")
        + (f"?citoyen={context['caller'].record.citizen.pk}" if context["caller"].record else ""),
        "close_url": _with(params, citoyen=None),
    }
    return desk_render(request, viewer, "desk/calls/index.html", context, section="desk")


@staff_required(QUEUE_ROLES)
def index(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    """The desk; department staff, who take no calls, land on their queue."""
    if not viewer.admitted(DESK_ROLES, writes=False):
        return redirect("desk:queue")
    return _desk_page(request, viewer, request.GET)


def _desk_next(request: HttpRequest, url: str) -> str:
    home = reverse("desk:home")
    if url.startswith(home) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}
    ):
        return url
    return home


@require_POST
@staff_required(DESK_ROLES)
def purpose(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    """The reason the staff member gives before a citizen (or a search of citizens) is shown:
    the admin's rule (crm.admin_privacy), remembered for the same 30 minutes."""
    form = DeskPurposeForm(request.POST)
    with claimed(request, request.POST.get(SUBMISSION_FIELD, "")) as claim:
        if not claim.first:
            return redirect(claim.done_url or reverse("desk:home"))
        if form.is_valid():
            next_url = _desk_next(request, form.cleaned_data["next"])
            state_purpose(
                request,
                form.cleaned_data["scope"],
                form.purpose(),
                {"reason": form.cleaned_data["reason"], "details": form.cleaned_data["details"]},
            )
            claim.done(next_url)
            return redirect(next_url)
    return desk_render(request, viewer, "desk/calls/purpose.html", {"form": form}, section="desk")


@require_POST
@staff_required(DESK_ROLES)
def log_call(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    """ "Résolu au premier contact": the call answered with the chosen articles, logged."""
    articles = selectors.desk_answer_articles(
        viewer=viewer, ids=_ids(request.POST.getlist("article"))
    )
    form = InformationCallForm(request.POST, articles=articles)
    with claimed(request, request.POST.get(SUBMISSION_FIELD, "")) as claim:
        if not claim.first:
            return redirect(claim.done_url or reverse("desk:home"))
        if form.is_valid():
            try:
                services.information_call_log(
                    viewer=viewer,
                    channel=form.cleaned_data["channel"],
                    summary=form.cleaned_data["summary"],
                    faq_article_ids=form.cleaned_data["article"],
                    citizen_id=form.cleaned_data["citizen"],
                )
            except CrmError as error:
                place_error(form, error)
            else:
                messages.success(request, _("Appel consigné : résolu au premier contact."))
                done = reverse("desk:home")
                claim.done(done)
                return redirect(done)
    state = QueryDict(mutable=True)
    for name in ("q", "appelant", "citoyen"):
        if request.POST.get(name):
            state[name] = request.POST[name]
    return _desk_page(request, viewer, state, call_form=form)


def _request_form_page(
    request: HttpRequest, viewer: Viewer, form: RequestForm, caller: Any, *, unknown: str = ""
) -> HttpResponse:
    context = {
        "form": form,
        "unknown_type": unknown,
        "service_types": selectors.service_types_offered(viewer=viewer),
        "caller": caller,
        "map": map_settings(),
    }
    if _htmx_target(request) == "questions":
        return desk_render(request, viewer, "desk/calls/_questions.html", context, section="desk")
    return desk_render(request, viewer, "desk/calls/new_request.html", context, section="desk")


def _known_caller(request: HttpRequest, viewer: Viewer, pk: int | None) -> Any:
    """The citizen opened on the desk, while the purpose given for their record holds."""
    if pk is None or stated_purpose(request, record_scope(pk)) is None:
        return None
    try:
        return selectors.citizen_for(viewer=viewer, pk=pk)
    except CrmError:
        return None


@csp_update(MAP_POLICY)
@staff_required(DESK_ROLES)
def new_request(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    """A request taken on the phone, validated by `request_intake` as the APIs' are."""
    data = request.POST if request.method == "POST" else request.GET
    code = (data.get("service_type") or "").strip()
    service_type = selectors.service_type_for_intake(viewer=viewer, code=code) if code else None
    caller = _known_caller(request, viewer, _number(data.get("citoyen") or data.get("citizen")))
    if request.method != "POST" or "show_questions" in request.POST:
        # Showing the type's questions (the step htmx takes as the type is chosen) writes
        # nothing: what was typed is offered again, without errors, with a new token.
        typed = {k: v for k, v in data.items() if v and k not in {SUBMISSION_FIELD, "citizen"}}
        form = RequestForm(
            initial={"channel": Channel.PHONE, **typed, "citizen": caller.pk if caller else None},
            service_type=service_type,
        )
        unknown = code if code and service_type is None else ""
        return _request_form_page(request, viewer, form, caller, unknown=unknown)
    form = RequestForm(request.POST, service_type=service_type)
    with claimed(request, request.POST.get(SUBMISSION_FIELD, "")) as claim:
        if not claim.first:
            return redirect(claim.done_url or reverse("desk:new_request"))
        if form.is_valid():
            if service_type is None:
                form.add_error(
                    "service_type",
                    _(
                        "Choisissez un type de requête dans la liste (« {code} » n'en est pas un)."
                    ).format(code=code[:60]),
                )
            else:
                cleaned = form.cleaned_data
                try:
                    service_request = services.request_intake(
                        viewer=viewer,
                        service_type=service_type,
                        description=cleaned["description"],
                        address=cleaned["address"],
                        latitude=cleaned["latitude"] or None,
                        longitude=cleaned["longitude"] or None,
                        attributes=form.answers(),
                        channel=cleaned["channel"],
                        citizen_id=caller.pk if caller else None,
                        contact=contact_of(cleaned, translation.get_language() or "fr"),
                    )
                except CrmError as error:
                    place_error(form, error)
                else:
                    done = reverse("desk:request_created", args=[service_request.number])
                    claim.done(done)
                    return redirect(done)
    return _request_form_page(request, viewer, form, caller)


@staff_required(DESK_ROLES)
def request_created(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    try:
        service_request = selectors.request_for(viewer=viewer, number=number)
    except CrmError:
        service_request = None
    return desk_render(
        request,
        viewer,
        "desk/calls/created.html",
        {
            "service_request": service_request,
            "number": number,
            "request_url": reverse("desk:request", args=[number]),
        },
        section="desk",
    )
