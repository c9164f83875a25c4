"""The information bank: every staff role searches and reads it; its editors (administrators)
write articles with a preview, compare versions, publish and archive, and follow the review
dates."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from crm import selectors, services
from crm.desk.access import staff_required
from crm.desk.bank.forms import ArticleForm, CompareForm, ReviewForm, SearchForm, StatusForm
from crm.desk.navigation import BANK_ROLES, CATALOG_ROLES
from crm.desk.once import SUBMISSION_FIELD, claimed
from crm.desk.rendering import desk_render
from crm.errors import CrmError
from crm.models import FaqArticle, FaqStatus
from crm.roles import Viewer

# The bank's editors are the catalog's: administrators (Viewer.edits_bank says the same).
EDITOR_ROLES = CATALOG_ROLES


def _htmx(request: HttpRequest) -> HtmxDetails | None:
    """django-htmx's details of the request (falsy when htmx did not send it)."""
    return getattr(request, "htmx", None)


def _article_or_404(viewer: Viewer, pk: int) -> FaqArticle:
    article = selectors.bank_article(viewer=viewer, pk=pk)
    if article is None:
        raise Http404
    return article


@require_GET
@staff_required(BANK_ROLES)
def index(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    form = SearchForm(request.GET)
    query, category = "", None
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        category = form.cleaned_data["categorie"]
    hits = (
        selectors.bank_search(viewer=viewer, query=query, language=get_language() or "fr")
        if query
        else None
    )
    context = {
        "form": form,
        "query": query,
        "hits": hits,
        "category": category,
        "articles": None if query else selectors.bank_articles(viewer=viewer, category=category),
        "categories": selectors.bank_categories(viewer=viewer),
    }
    htmx = _htmx(request)
    if htmx and htmx.target == "resultats":
        return desk_render(request, viewer, "desk/bank/_results.html", context, section="bank")
    return desk_render(request, viewer, "desk/bank/index.html", context, section="bank")


@require_GET
@staff_required(BANK_ROLES)
def article(request: HttpRequest, viewer: Viewer, pk: int) -> HttpResponse:
    found = _article_or_404(viewer, pk)
    return desk_render(
        request,
        viewer,
        "desk/bank/article.html",
        {"article": found, "status_actions": _status_actions(found)},
        section="bank",
    )


def _status_actions(article: FaqArticle) -> list[tuple[str, StatusForm]]:
    """The status changes offered on an article's page: (button label, its form)."""
    labels = {
        FaqStatus.PUBLISHED: _("Publier"),
        FaqStatus.ARCHIVED: _("Archiver"),
        FaqStatus.DRAFT: _("Remettre en brouillon"),
    }
    return [
        (str(label), StatusForm(initial={"status": status}))
        for status, label in labels.items()
        if status != article.status
    ]


@require_http_methods(["GET", "POST"])
@staff_required(EDITOR_ROLES)
def edit(request: HttpRequest, viewer: Viewer, pk: int | None = None) -> HttpResponseBase:
    """A new article (no `pk`) or a new version of one. "Prévisualiser" shows the article as it
    will read, under the form, without saving; "Enregistrer" saves."""
    current = _article_or_404(viewer, pk) if pk is not None else None
    preview = None
    if request.method == "POST":
        form = ArticleForm(request.POST, article=current)
        if "preview" in request.POST:
            if form.is_valid():
                preview = form.preview()
        else:
            # Claimed before validating: a second submission is sent where the first went,
            # even when what the first one wrote would make it invalid now.
            with claimed(request, str(request.POST.get(SUBMISSION_FIELD, ""))) as claim:
                if not claim.first:
                    return HttpResponseRedirect(claim.done_url or request.path)
                saved = _saved(viewer, current, form)
                if saved is not None:
                    url = reverse("desk:bank_article", args=[saved.pk])
                    claim.done(url)
                    messages.success(
                        request,
                        _("Article enregistré : version {version}.").format(version=saved.version),
                    )
                    return HttpResponseRedirect(url)
    else:
        form = ArticleForm(article=current)
    context = {"form": form, "article": current, "preview": preview}
    template = "desk/bank/edit.html"
    if _htmx(request) and preview is not None:
        template = "desk/bank/_preview.html"
    return desk_render(request, viewer, template, context, section="bank")


def _saved(viewer: Viewer, current: FaqArticle | None, form: ArticleForm) -> FaqArticle | None:
    """The article saved from a valid form; None when the form or the service refused it (the
    messages are then on the form)."""
    if not form.is_valid():
        return None
    try:
        return services.bank_article_save(
            viewer=viewer,
            article=current,
            service_types=form.cleaned_data["service_types"],
            **form.article_fields(),
        )
    except CrmError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None


@require_POST
@staff_required(EDITOR_ROLES)
def change_status(request: HttpRequest, viewer: Viewer, pk: int) -> HttpResponseBase:
    current = _article_or_404(viewer, pk)
    url = reverse("desk:bank_article", args=[current.pk])
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Demande incomplète : rechargez la page."))
        return HttpResponseRedirect(url)
    with claimed(request, str(request.POST.get(SUBMISSION_FIELD, ""))) as claim:
        if not claim.first:
            return HttpResponseRedirect(claim.done_url or url)
        try:
            saved = services.bank_article_set_status(
                viewer=viewer, article=current, status=form.cleaned_data["status"]
            )
        except CrmError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(url)
        claim.done(url)
    messages.success(
        request,
        _("Statut de l'article : {status} (version {version}).").format(
            status=saved.get_status_display(), version=saved.version
        ),
    )
    return HttpResponseRedirect(url)


@require_GET
@staff_required(EDITOR_ROLES)
def versions(request: HttpRequest, viewer: Viewer, pk: int) -> HttpResponse:
    """Every version of an article, and what changed between two of them (by default the
    latest and the one before)."""
    current = _article_or_404(viewer, pk)
    history = selectors.bank_article_versions(article=current)
    by_number = {version.version: version for version in history}
    numbers = sorted(by_number)
    defaults = {"de": numbers[-2] if len(numbers) > 1 else numbers[0], "a": numbers[-1]}
    form = CompareForm(request.GET or defaults, versions=numbers)
    before = after = None
    if form.is_valid():
        first, second = sorted((form.cleaned_data["de"], form.cleaned_data["a"]))
        before, after = by_number[first], by_number[second]
    changes = (
        selectors.bank_version_changes(before=before, after=after)
        if before is not None and after is not None and before != after
        else []
    )
    return desk_render(
        request,
        viewer,
        "desk/bank/versions.html",
        {
            "article": current,
            "history": history,
            "form": form,
            "before": before,
            "after": after,
            "changes": changes,
        },
        section="bank",
    )


@require_GET
@staff_required(EDITOR_ROLES)
def to_review(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    form = ReviewForm(request.GET)
    within = selectors.REVIEW_SOON_DAYS
    if form.is_valid() and form.cleaned_data["jours"] is not None:
        within = form.cleaned_data["jours"]
    today = timezone.localdate()
    articles = selectors.bank_articles_to_review(viewer=viewer, today=today, within_days=within)
    return desk_render(
        request,
        viewer,
        "desk/bank/review.html",
        {"form": form, "articles": articles, "today": today, "within": within},
        section="bank",
    )
