"""The console's billing pages (operators only: implementation specialists log their hours on
the project's page): the partner towns with what each was invoiced and paid, a town's billing
account and its drafts, one invoice with what its status allows, the invoice list and its CSV."""

from __future__ import annotations

import csv
import json
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors, services
from billing.charts import recovery_chart
from billing.errors import BillingError
from billing.forms import (
    AccountForm,
    CreditForm,
    ImplementationForm,
    InvoiceFilterForm,
    ItemForm,
    LineForm,
    PaymentForm,
    PriceBookForm,
    SubscriptionForm,
    VoidForm,
)
from billing.models import Invoice, InvoiceKind, InvoiceStatus, LineKind
from billing.money import money
from billing.pdf import invoice_pdf
from billing.stripe_gateway import SignatureError, webhook_event
from billing.webhooks import stripe_event_apply, stripe_event_prepare
from onboarding.models import ConsoleMember, ConsoleRole
from onboarding.views import console_render, console_required
from tenants.models import Municipality

OPERATOR = ConsoleRole.OPERATOR


def _render(
    request: HttpRequest,
    member: ConsoleMember,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    return console_render(request, member, template, {"nav": "billing", **context}, status)


def _refused(form: Any, error: BillingError | ValidationError) -> None:
    if isinstance(error, BillingError):
        form.add_error(error.field if error.field in form.fields else None, error.message)
    else:
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)


@require_GET
@console_required(OPERATOR)
def index(request: HttpRequest, member: ConsoleMember) -> HttpResponse:
    return _render(
        request,
        member,
        "billing/index.html",
        {"towns": selectors.partner_figures(), "recoveries": selectors.host_recovery()},
    )


def _partner(slug: str) -> Municipality:
    town = selectors.partner_by_slug(slug=slug)
    if town is None:
        raise Http404
    return town


@require_http_methods(["GET", "POST"])
@console_required(OPERATOR)
def account(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponseBase:
    """The town's billing account (created here the first time) and the drafts made from its
    project's hours or its subscription."""
    town = _partner(slug)
    current = selectors.account_of(town=town)
    project = selectors.project_of(town=town)
    form = AccountForm(instance=current)
    implementation, subscription = ImplementationForm(), SubscriptionForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "account":
            form = AccountForm(request.POST, instance=current)
            if form.is_valid():
                try:
                    services.account_save(
                        actor=member.user,
                        municipality=town,
                        **{name: form.cleaned_data[name] for name in form.fields},
                    )
                except (BillingError, ValidationError) as error:
                    _refused(form, error)
                else:
                    messages.success(request, _("Compte de facturation enregistré."))
                    return redirect("billing:account", slug=slug)
        elif action in ("stripe_start", "stripe_stop") and current is not None and project:
            try:
                if action == "stripe_start":
                    services.stripe_subscription_start(
                        actor=member.user, project=project, today=timezone.localdate()
                    )
                    messages.success(request, _("Demande transmise à Stripe."))
                else:
                    services.stripe_subscription_stop(actor=member.user, account=current)
                    messages.success(request, _("Arrêt demandé à Stripe."))
            except BillingError as error:
                messages.error(request, error.message)
            return redirect("billing:account", slug=slug)
        elif action in ("implementation", "subscription") and project is not None:
            draft_form: Any = (
                ImplementationForm(request.POST)
                if action == "implementation"
                else SubscriptionForm(request.POST)
            )
            if action == "implementation":
                implementation = draft_form
            else:
                subscription = draft_form
            if draft_form.is_valid():
                try:
                    today = timezone.localdate()
                    if action == "implementation":
                        draft = services.implementation_draft(
                            actor=member.user,
                            project=project,
                            until=draft_form.cleaned_data["until"],
                            today=today,
                        )
                    else:
                        draft = services.subscription_draft(
                            actor=member.user,
                            project=project,
                            period_start=draft_form.cleaned_data["period_start"],
                            today=today,
                        )
                except BillingError as error:
                    _refused(draft_form, error)
                else:
                    messages.success(
                        request, _("Brouillon préparé : vérifiez-le, puis émettez-le.")
                    )
                    return redirect("billing:invoice", pk=draft.pk)
        status = 400
    return _render(
        request,
        member,
        "billing/account.html",
        {
            "town": town,
            "account": current,
            "project": project,
            "form": form,
            "implementation": implementation,
            "subscription": subscription,
            "invoices": selectors.invoice_list(town=slug) if current else [],
            "stripe_on": bool(django_settings.STRIPE_SECRET_KEY),
            "stripe_from": services.stripe_bills_from(current) if current else None,
        },
        status=status,
    )


@require_GET
@console_required(OPERATOR)
def invoice(request: HttpRequest, member: ConsoleMember, pk: int) -> HttpResponse:
    found = selectors.invoice_detail(pk=pk)
    if found is None:
        raise Http404
    return _invoice_page(request, member, found)


def _invoice_page(
    request: HttpRequest,
    member: ConsoleMember,
    found: Invoice,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    return _render(
        request,
        member,
        "billing/invoice.html",
        {
            "invoice": found,
            "line_form": forms.get("line_form") or LineForm(),
            "item_form": forms.get("item_form") or ItemForm(book=found.price_book),
            "payment_form": forms.get("payment_form") or PaymentForm(),
            "credit_form": forms.get("credit_form") or CreditForm(),
            "void_form": forms.get("void_form") or VoidForm(),
        },
        status=status,
    )


@require_POST
@console_required(OPERATOR)
def invoice_action(request: HttpRequest, member: ConsoleMember, pk: int) -> HttpResponseBase:
    """What the invoice's page sends: `action` says which form. Each refusal comes back next to
    its field, nothing written."""
    found = selectors.invoice_detail(pk=pk)
    if found is None:
        raise Http404
    action = request.POST.get("action", "")
    today = timezone.localdate()
    form: Any
    try:
        if action == "issue":
            issued = services.invoice_issue(actor=member.user, invoice=found, today=today)
            messages.success(request, _("{number} émise.").format(number=issued.number))
            return redirect("billing:invoice", pk=pk)
        if action == "delete":
            slug = found.account.municipality.slug
            services.draft_delete(actor=member.user, invoice=found)
            messages.success(request, _("Brouillon supprimé : ses heures redeviennent à facturer."))
            return redirect("billing:account", slug=slug)
        forms_by_action = {
            "line": ("line_form", LineForm),
            "item": ("item_form", ItemForm),
            "payment": ("payment_form", PaymentForm),
            "credit": ("credit_form", CreditForm),
            "void": ("void_form", VoidForm),
        }
        if action not in forms_by_action:
            return HttpResponse(status=400)
        name, form_class = forms_by_action[action]
        form = (
            ItemForm(request.POST, book=found.price_book)
            if action == "item"
            else form_class(request.POST)
        )
        if form.is_valid():
            data = form.cleaned_data
            if action == "item":
                services.item_add(
                    actor=member.user,
                    invoice=found,
                    item=data["item"],
                    quantity=data["item_quantity"],
                )
                messages.success(request, _("Article ajouté."))
                return redirect("billing:invoice", pk=pk)
            if action == "line":
                services.line_add(
                    actor=member.user,
                    invoice=found,
                    kind=LineKind.ADJUSTMENT,
                    description_fr=data["description_fr"],
                    description_en=data["description_en"],
                    quantity=data["quantity"],
                    unit_cents=data["unit"],
                )
                messages.success(request, _("Ligne ajoutée."))
                return redirect("billing:invoice", pk=pk)
            if action == "payment":
                services.payment_record(
                    actor=member.user,
                    invoice=found,
                    amount_cents=data["amount"],
                    method=data["method"],
                    received_on=data["received_on"],
                    reference=data["reference"],
                )
                messages.success(
                    request, _("Paiement de {amount} inscrit.").format(amount=money(data["amount"]))
                )
                return redirect("billing:invoice", pk=pk)
            if action == "credit":
                note = services.credit_note_draft(
                    actor=member.user,
                    invoice=found,
                    amount_cents=data["amount"],
                    reason=data["reason"],
                )
                messages.success(
                    request, _("Note de crédit préparée : vérifiez-la, puis émettez-la.")
                )
                return redirect("billing:invoice", pk=note.pk)
            services.invoice_void(actor=member.user, invoice=found, reason=data["reason"])
            messages.success(request, _("Facture annulée."))
            return redirect("billing:invoice", pk=pk)
    except BillingError as error:
        if action in ("issue", "delete"):
            messages.error(request, error.message)
            return redirect("billing:invoice", pk=pk)
        _refused(form, error)
    detail = selectors.invoice_detail(pk=pk)
    assert detail is not None  # noqa: S101  (found above)
    return _invoice_page(request, member, detail, 400, **{name: form})


def _csv_text(text: str) -> str:
    """A text cell that a spreadsheet will not take for a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = (
    "numero", "nature", "municipalite", "statut", "emise_le", "echeance",
    "sous_total", "tps", "tvq", "total", "paye", "credite", "solde",
)  # fmt: skip


@require_GET
@console_required(OPERATOR)
def invoices(request: HttpRequest, member: ConsoleMember) -> HttpResponseBase:
    """Every invoice and credit note, filtered by status, town and year; `?format=csv` gives the
    same list for the accounting system (amounts in dollars, a point for decimals)."""
    form = InvoiceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    listed = selectors.invoice_list(
        status=filters.get("status", ""),
        town=filters.get("town", ""),
        year=filters.get("year"),
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="factures.csv"'
        response.write("\ufeff")  # Excel reads the accents of a UTF-8 file with its mark
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for item in listed:
            writer.writerow(
                [
                    item.number or "",
                    item.kind,
                    _csv_text(item.account.municipality.name),
                    item.status,
                    item.issued_on or "",
                    item.due_on or "",
                    *(
                        f"{cents / 100:.2f}"
                        for cents in (
                            item.subtotal_cents,
                            item.gst_cents,
                            item.qst_cents,
                            item.total_cents,
                            item.paid_cents,
                            item.credited_cents,
                            # A credit note owes nothing: its amount is on its invoice's balance.
                            item.balance_cents if item.kind == InvoiceKind.INVOICE else 0,
                        )
                    ),
                ]
            )
        return response
    return _render(
        request,
        member,
        "billing/invoices.html",
        {
            "form": form,
            "invoices": listed[:200],
            "csv_query": request.GET.urlencode(),
            "statuses": InvoiceStatus,
        },
    )


@require_GET
@console_required(OPERATOR)
def invoice_pdf_view(request: HttpRequest, member: ConsoleMember, pk: int) -> HttpResponse:
    """The invoice as a PDF, in the account's language (`?langue=en` or `fr` to choose)."""
    found = selectors.invoice_detail(pk=pk)
    if found is None:
        raise Http404
    document = invoice_pdf(invoice=found, language=request.GET.get("langue"))
    response = HttpResponse(document, content_type="application/pdf")
    name = found.number or f"brouillon-{found.pk}"
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events (`/stripe/webhook/` on the base domain): the signature checked with
    STRIPE_WEBHOOK_SECRET, then each event applied once. 404 while Stripe is off; 400 for a
    missing, wrong or stale signature (nothing recorded); 503 when a subscription period's draft
    could not be held at Stripe (nothing recorded, Stripe sends it again); 200 otherwise, a
    redelivery too."""
    if not django_settings.STRIPE_WEBHOOK_SECRET:
        raise Http404
    try:
        webhook_event(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
        event = json.loads(request.body)
    except (ValueError, SignatureError):
        return JsonResponse({"error": "invalid signature or payload"}, status=400)
    prepared = stripe_event_prepare(event=event)
    if prepared.retry:
        # Stripe could not be told to hold its draft: nothing recorded, Stripe tries again.
        return JsonResponse({"error": "stripe unreachable, send it again"}, status=503)
    outcome = stripe_event_apply(event=event, hold_refused=prepared.refused)
    return JsonResponse({"received": True, "outcome": outcome})


@require_GET
@console_required(OPERATOR)
def recovery(request: HttpRequest, member: ConsoleMember) -> HttpResponse:
    """Each host city's investment being recovered: month by month, in a chart and its table,
    with the date it would be recovered at the recent pace."""
    today = timezone.localdate()
    reports = [
        report
        for report in (
            selectors.recovery_report(host=item.host, today=today)
            for item in selectors.host_recovery()
        )
        if report is not None
    ]
    return _render(
        request,
        member,
        "billing/recovery.html",
        {
            "reports": [
                (report, recovery_chart(request, report) if report.months else "")
                for report in reports
            ],
        },
    )


@require_http_methods(["GET", "POST"])
@console_required(OPERATOR)
def price_book(request: HttpRequest, member: ConsoleMember, slug: str) -> HttpResponseBase:
    """The host's price book: its versions, and a new version made from the current one. A
    price is never changed in place: the invoices keep the version they were priced with."""
    host = selectors.host_by_slug(slug=slug)
    if host is None:
        raise Http404
    books = selectors.price_books_of(host=host)
    status = 200
    if request.method == "POST":
        form = PriceBookForm(request.POST)
        if form.is_valid():
            try:
                book = services.price_book_create(
                    actor=member.user, host=host, **form.service_fields()
                )
            except BillingError as error:
                _refused(form, error)
            else:
                messages.success(
                    request, _("Version {version} enregistrée.").format(version=book.version)
                )
                return redirect("billing:price_book", slug=slug)
        status = 400
    else:
        form = PriceBookForm(initial=PriceBookForm.initial_of(books[0] if books else None))
    return _render(
        request,
        member,
        "billing/price_book.html",
        {"host": host, "books": books, "form": form},
        status=status,
    )
