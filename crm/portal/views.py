"""The citizen portal's pages: home, answers (search, categories, one answer and whether it
helped), reporting a problem, and following a request by its number and tracking code.

Each view parses a form, calls the selectors and services of `crm`, and renders; nothing here
decides what is public (the selectors do)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from csp.decorators import csp_update
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import privacy, selectors, services
from crm.desk.once import SUBMISSION_FIELD, claimed
from crm.errors import CrmError
from crm.intake_forms import MAP_POLICY, contact_of, map_settings, place_error
from crm.models import Alert, ConsentPurpose, FaqArticle, ServiceRequest, ServiceType
from crm.portal.forms import (
    AccountDeleteForm,
    AlertsForm,
    AnswerSearchForm,
    FeedbackForm,
    PreferencesForm,
    ProfileForm,
    ReportForm,
    SatisfactionForm,
    TrackForm,
)
from crm.portal.throttling import NearbyThrottle
from crm.public import STATUS_WORDS, tracking_url
from crm.roles import acting_user, viewer_of
from crm.selectors import working_calendar
from crm.services import IntakeContact

SEARCH_RESULTS = 20
POPULAR_ANSWERS = 6
# The session remembers which answers this browser already rated: one vote per article.
FEEDBACK_SESSION_KEY = "portail_avis"
RESULTS_TARGET = "resultats-reponses"


def _language() -> str:
    return "en" if (translation.get_language() or "fr").startswith("en") else "fr"


def answer_url(article: FaqArticle) -> str:
    slug = slugify(article.localized("question"))[:80] or "reponse"
    return reverse("portal:answer", kwargs={"pk": article.pk, "slug": slug})


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.now().astimezone(working_calendar().tz).date()
    popular = selectors.portal_popular_answers(today=today, limit=POPULAR_ANSWERS)
    return render(
        request,
        "portal/home.html",
        {
            "form": AnswerSearchForm(),
            "categories": _categories(),
            "popular": [(article, answer_url(article)) for article in popular],
            "portal_section": "home",
        },
    )


def _categories() -> list[tuple[Any, str]]:
    return [
        (
            item,
            f"{reverse('portal:answers')}?{urlencode({'categorie': item.category.code})}",
        )
        for item in selectors.portal_categories()
    ]


@require_GET
def answers(request: HttpRequest) -> HttpResponse:
    """Search results (as you type with htmx, or the page), a category's answers, or every
    category when nothing is asked."""
    form = AnswerSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    category = None
    code = request.GET.get("categorie", "").strip()
    if code:
        category = selectors.portal_category(code=code)
        if category is None:
            raise Http404(_("Cette catégorie n'existe pas."))
    context: dict[str, Any] = {"form": form, "query": query, "category": category}
    if query:
        hits = selectors.portal_search(query=query, language=_language(), limit=SEARCH_RESULTS)
        context["hits"] = [(hit, answer_url(hit.article)) for hit in hits]
    elif category is not None:
        context["listed"] = [
            (article, answer_url(article))
            for article in selectors.portal_answers_in(category=category)
        ]
    else:
        context["categories"] = _categories()
    context["portal_section"] = "answers"
    status = 200 if form.is_valid() else 400
    if getattr(request, "htmx", False) and request.headers.get("HX-Target") == RESULTS_TARGET:
        context["partial"] = True
        response = render(request, "portal/_answers_results.html", context, status=status)
    else:
        response = render(request, "portal/answers.html", context, status=status)
    # The same address answers the results alone (htmx) or the page: caches keep both apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _article_or_404(pk: int) -> FaqArticle:
    article = selectors.portal_answer(pk=pk)
    if article is None:
        raise Http404(_("Cette réponse n'existe pas ou n'est plus publiée."))
    return article


@require_GET
def answer(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    article = _article_or_404(pk)
    canonical = answer_url(article)
    if request.path != canonical:  # an old or a foreign-language title: the current address
        return redirect(canonical, permanent=True)
    services.faq_consultation_record(
        article=article, day=timezone.now().astimezone(working_calendar().tz).date()
    )
    return _answer_page(request, article, FeedbackForm())


def _answer_page(
    request: HttpRequest, article: FaqArticle, form: FeedbackForm, status: int = 200
) -> HttpResponse:
    given = request.session.get(FEEDBACK_SESSION_KEY, {}).get(str(article.pk))
    return render(
        request,
        "portal/answer.html",
        {
            "article": article,
            "answer_text": article.localized("answer"),
            "form": form,
            "search_form": AnswerSearchForm(),
            "given": given,
            "feedback_url": reverse("portal:feedback", kwargs={"pk": article.pk}),
            "category_url": (
                f"{reverse('portal:answers')}?{urlencode({'categorie': article.category.code})}"
                if article.category
                else None
            ),
            "portal_section": "answers",
        },
        status=status,
    )


@require_POST
def feedback(request: HttpRequest, pk: int) -> HttpResponse:
    """« Cette réponse vous a-t-elle aidé? »: recorded once per browser and answer (a double
    click or the back button records nothing more), then back to the answer."""
    article = _article_or_404(pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return _answer_page(request, article, form, status=400)
    given = dict(request.session.get(FEEDBACK_SESSION_KEY, {}))
    if str(article.pk) not in given:
        helpful = form.cleaned_data["utile"] == "oui"
        services.faq_feedback_record(article=article, helpful=helpful, language=_language())
        given[str(article.pk)] = form.cleaned_data["utile"]
        request.session[FEEDBACK_SESSION_KEY] = given
    messages.success(request, _("Merci! Votre avis aide la Ville à améliorer ses réponses."))
    return redirect(f"{answer_url(article)}#avis")


@require_GET
def track(request: HttpRequest) -> HttpResponse:
    """Follow a request: its number and tracking code, typed or from the e-mail's link."""
    if not request.GET:
        return _track_page(request, TrackForm())
    form = TrackForm(request.GET)
    if not form.is_valid():
        return _track_page(request, form, status=400)
    found = selectors.portal_tracked_request(
        number=form.cleaned_data["numero"], token=form.cleaned_data["jeton"]
    )
    if found is None:
        form.add_error(
            None,
            _(
                "Aucune demande ne correspond à ce numéro et à ce code de suivi. Vérifiez-les "
                "dans le lien de suivi."
            ),
        )
        return _track_page(request, form, status=404)
    return redirect(tracking_url(found))


def _track_page(
    request: HttpRequest, form: TrackForm, status: int = 200, problem: str = ""
) -> HttpResponse:
    return render(
        request,
        "portal/track.html",
        {"form": form, "problem": problem, "portal_section": "track"},
        status=status,
    )


@require_GET
def tracked(request: HttpRequest, number: str) -> HttpResponse:
    found = selectors.portal_tracked_request(number=number, token=request.GET.get("jeton", ""))
    return _tracked_page(request, number, found)


def _tracked_page(
    request: HttpRequest,
    number: str,
    found: ServiceRequest | None,
    survey: SatisfactionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if found is None:
        problem = _(
            "Ce lien de suivi n'est pas valide. Vérifiez qu'il est complet : il se termine par "
            "le code de suivi."
        )
        return _track_page(
            request, TrackForm(initial={"numero": number}), status=404, problem=problem
        )
    calendar = working_calendar()
    response = render(
        request,
        "portal/tracked.html",
        {
            "request_": found,
            "service_name": found.service_type.localized("name"),
            "status_words": STATUS_WORDS.get(found.status, found.get_status_display()),
            "is_open": found.is_open,
            "due": found.sla_due_at.astimezone(calendar.tz)
            if found.sla_due_at and found.is_open and not found.sla_paused_at
            else None,
            "events": selectors.portal_request_events(service_request=found),
            "satisfaction": selectors.portal_satisfaction(service_request=found),
            "survey": survey or SatisfactionForm(initial={"jeton": found.tracking_token}),
            "survey_open": found.status in services.SURVEY_STATUSES,
            "survey_url": reverse("portal:satisfaction", kwargs={"number": found.number}),
            "portal_section": "track",
        },
        status=status,
    )
    # The page is the citizen's own: kept by no shared cache, and out of search engines.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def report_choose(request: HttpRequest) -> HttpResponse:
    """Report a problem, first step: the kind of problem, by subject or by a few words."""
    form = AnswerSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    return render(
        request,
        "portal/report_choose.html",
        {
            "form": form,
            "query": query,
            "groups": selectors.portal_report_types(query=query),
            "portal_section": "report",
        },
        status=200 if form.is_valid() else 400,
    )


# Sent with the report once the nearby requests were shown: the citizen chose to report anew.
NEARBY_SEEN = "doublons_vus"


@dataclass(frozen=True)
class NearbyRequest:
    """An open request near the place being reported, as the report page offers it."""

    service_request: ServiceRequest
    number: str
    service_name: str
    address: str
    received: datetime
    status_words: str
    distance_m: int


def _nearby(service_type: ServiceType, latitude: object, longitude: object) -> list[NearbyRequest]:
    return [
        NearbyRequest(
            service_request=found.service_request,
            number=found.service_request.number,
            service_name=service_type.localized("name"),
            address=found.service_request.address,
            received=found.service_request.created_at,
            status_words=str(STATUS_WORDS.get(found.service_request.status, "")),
            distance_m=round(found.distance_m),
        )
        for found in selectors.portal_nearby_requests(
            service_type=service_type, latitude=latitude, longitude=longitude, now=timezone.now()
        )
    ]


def _report_page(
    request: HttpRequest,
    service_type: ServiceType,
    form: ReportForm,
    status: int = 200,
    *,
    nearby: list[NearbyRequest] | None = None,
) -> HttpResponse:
    response = render(
        request,
        "portal/report.html",
        {
            "form": form,
            "service_type": service_type,
            "service_name": service_type.localized("name"),
            "map": map_settings(),
            # A signed-in citizen's request is theirs: no contact details to type.
            "signed_in_citizen": viewer_of(request).citizen is not None,
            "nearby": nearby or [],
            "nearby_radius": selectors.PORTAL_NEARBY_M,
            "photos_dropped": bool(nearby) and bool(request.FILES),
            "portal_section": "report",
        },
        status=status,
    )
    # A refused form shows back the contact details typed: kept by no shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


# django-csp types a view as taking the request alone; this one also takes the type's code.
@csp_update(MAP_POLICY)  # type: ignore[arg-type]
def report(request: HttpRequest, code: str) -> HttpResponseBase:
    """Report a problem of the type `code`: its questions, where, what, who; validated by
    `request_intake` as the APIs' and the desk's requests are. A double submission files one
    request."""
    service_type = selectors.portal_report_type(code=code)
    if service_type is None:
        raise Http404(_("Ce type de problème ne peut pas être signalé en ligne."))
    if request.method != "POST":
        return _report_page(request, service_type, ReportForm(service_type=service_type))
    form = ReportForm(request.POST, request.FILES, service_type=service_type)
    with claimed(request, request.POST.get(SUBMISSION_FIELD, "")) as claim:
        if not claim.first:
            return redirect(claim.done_url or reverse("portal:report", kwargs={"code": code}))
        if form.is_valid():
            cleaned = form.cleaned_data
            if not request.POST.get(NEARBY_SEEN):
                # The same problem may be reported already: offer to follow it first (the
                # page without JavaScript; with it, the list appeared when the map was used).
                nearby = _nearby(service_type, cleaned["latitude"], cleaned["longitude"])
                if nearby:
                    return _report_page(request, service_type, form, nearby=nearby)
            try:
                service_request = services.portal_report_file(
                    viewer=viewer_of(request),
                    service_type=service_type,
                    description=cleaned["description"],
                    address=cleaned["address"],
                    latitude=cleaned["latitude"] or None,
                    longitude=cleaned["longitude"] or None,
                    attributes=form.answers(),
                    photos=cleaned["photos"],
                    contact=contact_of(cleaned, _language()),
                )
            except CrmError as error:
                place_error(form, error)
            else:
                done = tracking_url(service_request)
                claim.done(done)
                messages.success(
                    request,
                    _(
                        "Merci! Votre demande {number} est reçue. Gardez l'adresse de cette page "
                        "(ajoutez-la à vos favoris) : elle permet de suivre votre demande."
                    ).format(number=service_request.number),
                )
                return redirect(done)
    return _report_page(request, service_type, form, status=400)


@require_GET
def report_nearby(request: HttpRequest, code: str) -> HttpResponse:
    """The open requests of the type near the point just placed on the report's map (htmx)."""
    service_type = selectors.portal_report_type(code=code)
    if service_type is None:
        raise Http404
    throttle = NearbyThrottle()
    if not throttle.allow_request(request, None):
        refused = HttpResponse(
            _("Trop de recherches à proximité : réessayez dans une minute."),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        refused["Retry-After"] = str(int(throttle.wait() or 60))
        return refused
    response = render(
        request,
        "portal/_nearby.html",
        {
            "nearby": _nearby(
                service_type, request.GET.get("latitude"), request.GET.get("longitude")
            ),
            "nearby_radius": selectors.PORTAL_NEARBY_M,
            "service_type": service_type,
            "signed_in_citizen": viewer_of(request).citizen is not None,
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response


# The contact fields a follower gives: the only errors their refused form shows.
FOLLOW_FIELDS = frozenset({"email", "phone", "first_name", "last_name"})


@require_POST
@csp_update(MAP_POLICY)  # type: ignore[arg-type]
def report_follow(request: HttpRequest, code: str) -> HttpResponseBase:
    """ "Est-ce l'une de celles-ci?": the report form sent by the button of a nearby request
    (`suivre`: its number); the citizen follows that request instead of filing another."""
    service_type = selectors.portal_report_type(code=code)
    if service_type is None:
        raise Http404
    form = ReportForm(request.POST, service_type=service_type)
    # Only the contact details and the point are used: what else is still missing or wrong in
    # the report does not concern someone who follows another request instead.
    form.is_valid()
    for name in [name for name in form.errors if name not in FOLLOW_FIELDS]:
        del form.errors[name]
    nearby = _nearby(service_type, request.POST.get("latitude"), request.POST.get("longitude"))
    number = request.POST.get("suivre", "")
    with claimed(request, request.POST.get(SUBMISSION_FIELD, "")) as claim:
        if not claim.first:
            return redirect(claim.done_url or reverse("portal:report", kwargs={"code": code}))
        chosen = next((item.service_request for item in nearby if item.number == number), None)
        if chosen is None:
            form.add_error(None, _("Cette demande n'est plus ouverte : envoyez la vôtre."))
            return _report_page(request, service_type, form, 400, nearby=nearby)
        cleaned = form.cleaned_data
        try:
            followed = services.portal_request_follow(
                viewer=viewer_of(request),
                service_request=chosen,
                contact=IntakeContact(
                    email=cleaned.get("email", ""),
                    phone=cleaned.get("phone", ""),
                    first_name=cleaned.get("first_name", ""),
                    last_name=cleaned.get("last_name", ""),
                    language=_language(),
                ),
            )
        except CrmError as error:
            place_error(form, error)
            return _report_page(request, service_type, form, 400, nearby=nearby)
        signed_in = viewer_of(request).citizen is not None
        done = f"{reverse('portal:account')}#suivies" if signed_in else reverse("home")
        claim.done(done)
    if followed:
        messages.success(
            request,
            _(
                "Vous suivez maintenant la demande {number} : la Ville vous avisera de ses suites. "
                "Merci de ne pas l'avoir signalée une deuxième fois!"
            ).format(number=number),
        )
    else:
        messages.info(request, _("Vous suivez déjà la demande {number}.").format(number=number))
    return redirect(done)


@require_POST
def satisfaction(request: HttpRequest, number: str) -> HttpResponse:
    """The survey of a finished request, answered from its tracking page (the token comes with
    the form): once per request."""
    form = SatisfactionForm(request.POST)
    token = request.POST.get("jeton", "")
    found = selectors.portal_tracked_request(number=number, token=token)
    if found is None:
        return _tracked_page(request, number, None)
    if not form.is_valid():
        return _tracked_page(request, number, found, survey=form, status=400)
    try:
        services.satisfaction_record(
            service_request=found,
            score=form.cleaned_data["note"],
            comment=form.cleaned_data["commentaire"],
            language=_language(),
        )
    except CrmError as error:
        field = {"score": "note", "comment": "commentaire"}.get(error.field or "")
        if field is not None:
            form.add_error(field, error.message)
            return _tracked_page(request, number, found, survey=form, status=400)
        messages.info(request, error.message)  # not finished yet, or answered already
    else:
        messages.success(request, _("Merci! Votre avis aide la Ville à mieux vous servir."))
    return redirect(f"{tracking_url(found)}#avis")


def _account_citizen(request: HttpRequest) -> Any:
    """The signed-in person's citizen record, or None (not signed in, or a staff account)."""
    user = request.user
    if not user.is_authenticated:
        return None
    return selectors.citizen_of_account(user=user)


def _topics() -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in ConsentPurpose.choices]


def _account_page(
    request: HttpRequest,
    citizen: Any,
    *,
    profile: ProfileForm | None = None,
    preferences: PreferencesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    requests_ = selectors.portal_requests_of(citizen=citizen)
    response = render(
        request,
        "portal/account.html",
        {
            "citizen": citizen,
            "requests_": [
                (r, STATUS_WORDS.get(r.status, r.get_status_display()), tracking_url(r))
                for r in requests_
            ],
            "followed": [
                (
                    follow.request,
                    STATUS_WORDS.get(follow.request.status, follow.request.get_status_display()),
                    reverse("portal:unfollow", kwargs={"token": follow.token}),
                )
                for follow in selectors.portal_followed_of(citizen=citizen)
            ],
            "profile": profile
            or ProfileForm(
                initial={
                    "first_name": citizen.first_name,
                    "last_name": citizen.last_name,
                    "phone": citizen.phone,
                    "address": citizen.address,
                    "preferred_language": citizen.preferred_language,
                }
            ),
            "preferences": preferences
            or PreferencesForm(
                initial=selectors.portal_preferences_of(citizen=citizen), topics=_topics()
            ),
            "consents": selectors.portal_consents_of(citizen=citizen),
            "portal_section": "account",
        },
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _signed_in_citizen(request: HttpRequest) -> tuple[Any, HttpResponseBase | None]:
    citizen = _account_citizen(request)
    if citizen is not None:
        return citizen, None
    if not request.user.is_authenticated:
        return None, redirect_to_login(request.get_full_path(), reverse("account_login"))
    # A staff account (or one without a citizen record): the portal's account is not theirs.
    return None, render(
        request, "portal/account_none.html", {"portal_section": "account"}, status=403
    )


def account(request: HttpRequest) -> HttpResponseBase:
    """Mon compte: the person's requests, contact details, communication preferences and the
    history of their consents."""
    citizen, refusal = _signed_in_citizen(request)
    if refusal is not None:
        return refusal
    return _account_page(request, citizen)


@require_POST
def account_profile(request: HttpRequest) -> HttpResponseBase:
    citizen, refusal = _signed_in_citizen(request)
    if refusal is not None:
        return refusal
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.citizen_update(
                actor=acting_user(request), citizen=citizen, **form.cleaned_data
            )
        except CrmError as error:
            place_error(form, error)
        else:
            messages.success(request, _("Vos coordonnées sont enregistrées."))
            return redirect(f"{reverse('portal:account')}#coordonnees")
    return _account_page(request, citizen, profile=form, status=400)


@require_POST
def account_preferences(request: HttpRequest) -> HttpResponseBase:
    citizen, refusal = _signed_in_citizen(request)
    if refusal is not None:
        return refusal
    form = PreferencesForm(request.POST, topics=_topics())
    if form.is_valid():
        try:
            services.citizen_preferences_set(
                actor=acting_user(request), citizen=citizen, choices=form.cleaned_data
            )
        except CrmError as error:
            place_error(form, error)
        else:
            messages.success(request, _("Vos préférences de communication sont enregistrées."))
            return redirect(f"{reverse('portal:account')}#preferences")
    return _account_page(request, citizen, preferences=form, status=400)


@dataclass(frozen=True)
class ShownAlert:
    """An alert as the page shows it, in the page's language."""

    title: str
    body: str
    topic: str
    sectors: list[str]
    published_at: datetime
    ends_at: datetime | None

    @classmethod
    def of(cls, alert: Alert) -> ShownAlert:
        return cls(
            title=alert.localized("title"),
            body=alert.localized("body"),
            topic=alert.topic.localized("name"),
            sectors=[sector.localized("name") for sector in alert.sectors.all()],
            published_at=alert.published_at,
            ends_at=alert.ends_at,
        )


def _alerts_form(data: Any = None, *, initial: dict[str, Any] | None = None) -> AlertsForm:
    return AlertsForm(data, initial=initial, has_sectors=selectors.alert_sectors().exists())


def alerts(request: HttpRequest) -> HttpResponseBase:
    """Les alertes: those in force for everyone to read; a signed-in citizen also chooses the
    topics and sectors they follow and how they are told (e-mail or text message)."""
    citizen = _account_citizen(request)
    status = 200
    form: AlertsForm | None = None
    if request.method == "POST":
        citizen, refusal = _signed_in_citizen(request)
        if refusal is not None:
            return refusal
        form = _alerts_form(request.POST)
        if form.is_valid():
            try:
                services.alert_choices_set(
                    actor=acting_user(request),
                    citizen=citizen,
                    topics=form.cleaned_data["topics"],
                    sectors=form.cleaned_data.get("sectors") or [],
                    channel=form.cleaned_data["channel"],
                )
            except CrmError as error:
                place_error(form, error)
            else:
                messages.success(
                    request,
                    _("Vos alertes sont enregistrées.")
                    if form.cleaned_data["topics"]
                    else _("Vous ne recevrez plus d'alertes."),
                )
                return redirect(f"{reverse('portal:alerts')}#mes-alertes")
        status = 400
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    elif citizen is not None:
        chosen = selectors.alert_subscriptions_of(citizen=citizen)
        channel = selectors.portal_preferences_of(citizen=citizen)[ConsentPurpose.ALERTS]
        if not chosen.topics and channel == "none":
            channel = "email"  # a first choice of topics: by e-mail unless they say otherwise
        form = _alerts_form(
            initial={
                "topics": sorted(chosen.topics),
                "sectors": sorted(chosen.sectors),
                "channel": channel,
            }
        )
    response = render(
        request,
        "portal/alerts.html",
        {
            "alerts": [
                ShownAlert.of(alert) for alert in selectors.alerts_current(now=timezone.now())
            ],
            "form": form,
            "signed_in": request.user.is_authenticated,
            "citizen": citizen,
            "portal_section": "alerts",
        },
        status=status,
    )
    if request.user.is_authenticated:
        response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def privacy_page(request: HttpRequest) -> HttpResponse:
    """Confidentialité: the town's privacy policy (its own text, or Relais's standard one that
    says what the portal collects and why), its privacy officer and the person's rights."""
    settings_ = selectors.crm_settings()
    own_text = settings_.privacy_policy_fr
    text_language = "fr"
    if _language() == "en" and settings_.privacy_policy_en:
        own_text, text_language = settings_.privacy_policy_en, "en"
    return render(
        request,
        "portal/privacy.html",
        {
            "policy": own_text,
            "policy_language": text_language,
            "retention_years": settings_.retention_years,
            "portal_section": "privacy",
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def account_data(request: HttpRequest) -> HttpResponseBase:
    """Download my data (a POST from « Mon compte »): everything the town holds on the person,
    as the Law 25 export (JSON) without what concerns others, written to the access log like
    every export. A GET (back from signing in) leads to the button."""
    citizen, refusal = _signed_in_citizen(request)
    if refusal is not None:
        return refusal
    if request.method != "POST":
        return redirect(f"{reverse('portal:account')}#mes-renseignements")
    with translation.override(django_settings.LANGUAGE_CODE):
        purpose = _("Accès de la personne à ses renseignements (portail)")
    document = privacy.citizen_export(
        actor=acting_user(request),
        citizen=citizen,
        purpose=purpose,
        context="portail",
        for_person=True,
    )
    today = timezone.localdate()
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="mes-donnees-{slugify(document["municipality"])}-{today}.json"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


# The password that confirms a deletion may be tried this many times per quarter of an hour.
DELETE_ATTEMPTS, DELETE_WINDOW_SECONDS = 5, 15 * 60


def _delete_attempt_allowed(request: HttpRequest) -> bool:
    """Count this attempt in the shared cache (per town, by its key function, and per account)."""
    key = f"portail-suppression:{request.user.pk}"
    cache.add(key, 0, DELETE_WINDOW_SECONDS)
    try:
        return cache.incr(key) <= DELETE_ATTEMPTS
    except ValueError:  # expired between the two calls: a new window
        cache.set(key, 1, DELETE_WINDOW_SECONDS)
        return True


def account_delete(request: HttpRequest) -> HttpResponseBase:
    """Delete my account: a confirmation page (what goes, what stays), then, with the password,
    the records are anonymised and the person is signed out."""
    citizen, refusal = _signed_in_citizen(request)
    if refusal is not None:
        return refusal
    status = 200
    if request.method == "POST":
        form = AccountDeleteForm(request.POST)
        if not _delete_attempt_allowed(request):
            form.add_error(
                None,
                _("Trop d'essais : attendez 15 minutes avant de confirmer de nouveau."),
            )
        elif form.is_valid():
            try:
                privacy.account_self_delete(
                    user=acting_user(request),
                    citizen=citizen,
                    password=form.cleaned_data["password"],
                )
            except CrmError as error:
                place_error(form, error)
            else:
                logout(request)
                messages.success(
                    request,
                    _(
                        "Votre compte est supprimé et vos renseignements personnels sont "
                        "effacés. Vos demandes restent, sans votre identité."
                    ),
                )
                return redirect("home")
        status = 400
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    else:
        form = AccountDeleteForm()
    response = render(
        request,
        "portal/account_delete.html",
        {"form": form, "portal_section": "account"},
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def unfollow(request: HttpRequest, token: str) -> HttpResponseBase:
    """Stop following a request: the link of a follower's messages (or of their account) asks
    to confirm, so that a mail scanner opening the link stops nothing."""
    follow = selectors.portal_subscription(token=token)
    if follow is not None and request.method == "POST":
        number = follow.request.number
        services.request_unsubscribe(subscription=follow)
        messages.success(
            request,
            _("Vous ne suivez plus la demande {number} : la Ville ne vous en écrira plus.").format(
                number=number
            ),
        )
        signed_in = viewer_of(request).citizen is not None
        return redirect(f"{reverse('portal:account')}#suivies" if signed_in else reverse("home"))
    response = render(
        request,
        "portal/unfollow.html",
        {
            "follow": follow,
            "service_name": follow.request.service_type.localized("name") if follow else "",
            "portal_section": "track",
        },
        status=200 if follow is not None else 404,
    )
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, no-store"
    return response
