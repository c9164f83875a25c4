"""Writes of the charge-back ledger: price books, billing accounts, draft invoices (from a
project's unbilled hours, from a subscription period), issuing with a gap-free number, credit
notes, payments received by cheque or transfer. Each service validates first, runs in one
transaction and writes the console's audit in it."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing.errors import BillingError, BillingErrorCode
from billing.models import (
    ActivityRate,
    BilledTime,
    BillingAccount,
    CatalogItem,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentMethod,
    PlanPrice,
    PriceBook,
)
from billing.money import money
from billing.tasks import (
    stripe_discard_enqueue,
    stripe_send_enqueue,
    stripe_settle_enqueue,
    stripe_subscription_enqueue,
)
from billing.taxes import line_amount, totals
from onboarding.models import Activity, Milestone, OnboardingProject, TimeEntry
from onboarding.services import audit_record
from tenants.accounts.models import User
from tenants.models import Municipality

__all__ = [
    "ACCOUNT_FIELDS",
    "account_save",
    "credit_note_draft",
    "draft_delete",
    "implementation_draft",
    "invoice_issue",
    "invoice_number",
    "invoice_void",
    "line_add",
    "payment_record",
    "price_book_create",
    "subscription_draft",
]

ACCOUNT_FIELDS = (
    "contact_name",
    "contact_email",
    "address",
    "purchase_order",
    "payment_terms_days",
    "gst_number",
    "qst_number",
    "language",
)
MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
MONTHS_EN = [calendar.month_name[month] for month in range(1, 13)]


def _refuse(code: BillingErrorCode, message: str, *, field: str = "", status: int = 400) -> None:
    raise BillingError(code, message, field=field, status=status)


# --- Price books and accounts --------------------------------------------------------------------
def price_book_create(
    *,
    actor: User | None,
    host: Municipality,
    effective_from: date,
    implementation_fixed_cents: int = 0,
    rates: Mapping[str, int],
    plans: Iterable[Mapping[str, Any]] = (),
    items: Iterable[Mapping[str, Any]] = (),
) -> PriceBook:
    """The host's next price book version: hourly `rates` by activity, `plans` (plan, basis,
    period, amount, minimum_cents) and one-off `items` (code, label_fr, label_en, unit_cents).
    Earlier versions stay as they are: the invoices priced with them name them."""
    if host.kind != Municipality.Kind.HOST:
        _refuse(BillingErrorCode.NOT_A_PARTNER, _("Seule une ville hôte a une grille de prix."))
    unknown = set(rates) - set(Activity.values)
    if unknown:
        _refuse(
            BillingErrorCode.MISSING_RATE,
            _("Activité inconnue : {activity}.").format(activity=sorted(unknown)[0]),
            field="rates",
        )
    with transaction.atomic():
        # Two versions made at once: the second waits, then numbers after the first.
        Municipality.objects.select_for_update().filter(pk=host.pk).first()
        last = PriceBook.objects.filter(host=host).aggregate(last=Max("version"))["last"] or 0
        book = PriceBook.objects.create(
            host=host,
            version=last + 1,
            effective_from=effective_from,
            implementation_fixed_cents=implementation_fixed_cents,
            created_by=actor,
        )
        ActivityRate.objects.bulk_create(
            ActivityRate(price_book=book, activity=activity, hourly_cents=cents)
            for activity, cents in rates.items()
        )
        for plan in plans:
            PlanPrice.objects.create(price_book=book, **plan)
        for item in items:
            CatalogItem.objects.create(price_book=book, **item)
        audit_record(
            actor=actor,
            action="billing.price_book_create",
            target=str(book),
            detail={"version": book.version, "effective_from": effective_from.isoformat()},
        )
    return book


def price_book_current(*, host: Municipality, on: date) -> PriceBook:
    """The version in force on `on`. Raises BillingError `no_price_book`."""
    book = (
        PriceBook.objects.filter(host=host, effective_from__lte=on)
        .order_by("-effective_from", "-version")
        .first()
    )
    if book is None:
        _refuse(
            BillingErrorCode.NO_PRICE_BOOK,
            _("La ville hôte n'a pas de grille de prix en vigueur le {day}.").format(day=on),
        )
    assert book is not None  # noqa: S101  (refused above)
    return book


def account_save(
    *, actor: User | None, municipality: Municipality, **fields: Any
) -> BillingAccount:
    """Create or change a partner town's billing account (ACCOUNT_FIELDS). Raises BillingError
    `not_a_partner` for a town without a host, ValidationError for a bad value."""
    if municipality.host_id is None:
        _refuse(
            BillingErrorCode.NOT_A_PARTNER,
            _("Seule une ville partenaire est facturée par sa ville hôte."),
        )
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("Champ inconnu.")})
    with transaction.atomic():
        Municipality.objects.select_for_update().filter(pk=municipality.pk).first()
        account = BillingAccount.objects.filter(municipality=municipality).first()
        account = account or BillingAccount(municipality=municipality)
        for name, value in fields.items():
            setattr(account, name, value.strip() if isinstance(value, str) else value)
        account.full_clean()
        account.save()
        audit_record(
            actor=actor,
            action="billing.account_save",
            target=str(municipality),
            detail={"fields": sorted(fields)},
        )
    return account


# --- Drafts --------------------------------------------------------------------------------------
def _account_of(municipality: Municipality) -> BillingAccount:
    account = BillingAccount.objects.filter(municipality=municipality).first()
    if account is None:
        _refuse(
            BillingErrorCode.NO_BILLING_ACCOUNT,
            _("{town} n'a pas encore de compte de facturation.").format(town=municipality),
        )
    assert account is not None  # noqa: S101  (refused above)
    return account


def _recompute(invoice: Invoice) -> Invoice:
    amounts = list(invoice.lines.values_list("amount_cents", flat=True))
    result = totals(amounts)
    invoice.subtotal_cents = result.subtotal_cents
    invoice.gst_cents = result.gst_cents
    invoice.qst_cents = result.qst_cents
    invoice.total_cents = result.total_cents
    invoice.save(update_fields=["subtotal_cents", "gst_cents", "qst_cents", "total_cents"])
    return invoice


def _month_label(day: date, language: str) -> str:
    months = MONTHS_EN if language == "en" else MONTHS_FR
    return f"{months[day.month - 1]} {day.year}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Group:
    activity: str
    month: date


def implementation_draft(
    *, actor: User | None, project: OnboardingProject, until: date, today: date
) -> Invoice:
    """A draft invoice of the project's hours logged up to `until` and not billed yet, one line
    per activity and month at the hourly rate of the price book in force `today`, with the
    implementation's fixed fee the first time. Each time entry is billed at most once (a unique
    row per entry, taken in this transaction). Raises BillingError `no_billing_account`,
    `no_price_book`, `missing_rate`, `nothing_to_bill`."""
    municipality = project.municipality
    if municipality is None:
        _refuse(BillingErrorCode.NOTHING_TO_BILL, _("Ce projet n'a pas encore de municipalité."))
    assert municipality is not None  # noqa: S101  (refused above)
    account = _account_of(municipality)
    book = price_book_current(host=project.host, on=today)
    rates = dict(book.rates.values_list("activity", "hourly_cents"))
    with transaction.atomic():
        # One draft at a time per project: the second reads the hours once the first committed.
        OnboardingProject.objects.select_for_update().filter(pk=project.pk).first()
        entries = list(
            TimeEntry.objects.filter(
                project=project, day__lte=until, billing__isnull=True
            ).order_by("day", "id")
        )
        fixed_billed = InvoiceLine.objects.filter(
            invoice__account=account, kind=LineKind.IMPLEMENTATION_FIXED
        ).exclude(invoice__status=InvoiceStatus.VOID)
        fixed = book.implementation_fixed_cents if not fixed_billed.exists() else 0
        if not entries and not fixed:
            _refuse(
                BillingErrorCode.NOTHING_TO_BILL,
                _("Aucune heure à facturer jusqu'au {day}.").format(day=until),
            )
        groups: dict[_Group, list[TimeEntry]] = defaultdict(list)
        for entry in entries:
            if entry.activity not in rates:
                _refuse(
                    BillingErrorCode.MISSING_RATE,
                    _("La grille de prix n'a pas de taux pour « {activity} ».").format(
                        activity=entry.get_activity_display()
                    ),
                )
            groups[_Group(entry.activity, entry.day.replace(day=1))].append(entry)
        invoice = Invoice.objects.create(
            account=account, price_book=book, language=account.language, created_by=actor
        )
        position = 0
        if fixed:
            InvoiceLine.objects.create(
                invoice=invoice,
                kind=LineKind.IMPLEMENTATION_FIXED,
                description_fr="Frais fixes d'implantation",
                description_en="Implementation fixed fee",
                quantity=Decimal(1),
                unit_cents=fixed,
                amount_cents=fixed,
                position=position,
            )
        for group in sorted(groups, key=lambda g: (g.month, g.activity)):
            position += 1
            hours = sum((entry.hours for entry in groups[group]), Decimal(0))
            label = dict(Activity.choices)[group.activity]
            with override("fr"):
                description_fr = f"{_capital(str(label))} — {_month_label(group.month, 'fr')}"
            with override("en"):
                description_en = f"{_capital(str(label))} — {_month_label(group.month, 'en')}"
            line = InvoiceLine.objects.create(
                invoice=invoice,
                kind=LineKind.IMPLEMENTATION_HOURS,
                description_fr=description_fr[:300],
                description_en=str(description_en)[:300],
                quantity=hours,
                unit_cents=rates[group.activity],
                amount_cents=line_amount(hours, rates[group.activity]),
                activity=group.activity,
                period_start=group.month,
                period_end=_month_end(group.month),
                position=position,
            )
            BilledTime.objects.bulk_create(
                BilledTime(time_entry=entry, line=line) for entry in groups[group]
            )
        _recompute(invoice)
        audit_record(
            actor=actor,
            action="billing.implementation_draft",
            target=str(municipality),
            detail={"invoice": invoice.pk, "entries": len(entries), "until": until.isoformat()},
        )
    return invoice


def _month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _period_end(start: date, period: str) -> date:
    if period == PlanPrice.Period.MONTHLY:
        return _month_end(start)
    # A year from `start`: the day before its anniversary (from 29 February, the next
    # period starts on 1 March, so this one ends on 28 February).
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:
        return date(start.year + 1, 3, 1) - timedelta(days=1)


def subscription_amount(price: PlanPrice, population: int) -> int:
    """One full period's amount: flat, or per resident (in hundredths of a cent) with the
    minimum."""
    if price.basis == PlanPrice.Basis.FLAT:
        return price.amount
    per_resident = (population * price.amount * 2 + 100) // 200  # half-up to the cent
    return max(per_resident, price.minimum_cents)


def subscription_draft(
    *, actor: User | None, project: OnboardingProject, period_start: date, today: date
) -> Invoice:
    """A draft invoice of the town's subscription for the period starting `period_start` (a
    month's first day for a monthly plan; any day for a yearly one), at the plan's price in the
    book in force `today`, prorated by day from the go-live date when the town went live during
    the period. Raises BillingError `not_live` (not live yet, or live after the period),
    `no_plan`, `invalid_period`, `period_already_billed`, and as the other drafts."""
    municipality = project.municipality
    went_live = (
        Milestone.objects.filter(project=project, kind=Milestone.Kind.WENT_LIVE)
        .values_list("at", flat=True)
        .first()
    )
    if municipality is None or went_live is None:
        _refuse(BillingErrorCode.NOT_LIVE, _("Cette municipalité n'est pas encore en ligne."))
    assert municipality is not None  # noqa: S101  (refused above)
    assert went_live is not None  # noqa: S101  (refused above)
    account = _account_of(municipality)
    book = price_book_current(host=project.host, on=today)
    price = PlanPrice.objects.filter(price_book=book, plan=project.plan).first()
    if price is None:
        _refuse(
            BillingErrorCode.NO_PLAN,
            _("La grille de prix n'a pas de prix pour le forfait de ce projet."),
            field="plan",
        )
    assert price is not None  # noqa: S101  (refused above)
    if price.period == PlanPrice.Period.MONTHLY and period_start.day != 1:
        _refuse(
            BillingErrorCode.INVALID_PERIOD,
            _("Un forfait mensuel se facture du premier jour d'un mois."),
            field="period_start",
        )
    period_end = _period_end(period_start, price.period)
    live_day = timezone.localdate(went_live)
    if live_day > period_end:
        _refuse(BillingErrorCode.NOT_LIVE, _("La municipalité n'était pas en ligne à ce moment."))
    billed_from = max(period_start, live_day)
    with transaction.atomic():
        BillingAccount.objects.select_for_update().filter(pk=account.pk).first()
        overlapping = InvoiceLine.objects.filter(
            invoice__account=account,
            kind=LineKind.SUBSCRIPTION,
            period_start__lte=period_end,
            period_end__gte=billed_from,
        ).exclude(invoice__status=InvoiceStatus.VOID)
        if overlapping.exists():
            _refuse(
                BillingErrorCode.PERIOD_ALREADY_BILLED,
                _("Cette période d'abonnement est déjà facturée."),
                field="period_start",
                status=409,
            )
        full = subscription_amount(price, municipality.population or 0)
        days = (period_end - billed_from).days + 1
        period_days = (period_end - period_start).days + 1
        amount = line_amount(Decimal(days) / Decimal(period_days), full)
        plan = project.get_plan_display()
        prorated_fr = (
            f" (au prorata : {days} jours sur {period_days})" if days < period_days else ""
        )
        prorated_en = f" (prorated: {days} of {period_days} days)" if days < period_days else ""
        invoice = Invoice.objects.create(
            account=account, price_book=book, language=account.language, created_by=actor
        )
        InvoiceLine.objects.create(
            invoice=invoice,
            kind=LineKind.SUBSCRIPTION,
            description_fr=(
                f"Abonnement {plan}, du {billed_from:%Y-%m-%d} au {period_end:%Y-%m-%d}"
                f"{prorated_fr}"
            )[:300],
            description_en=(
                f"Subscription {plan}, {billed_from:%Y-%m-%d} to {period_end:%Y-%m-%d}{prorated_en}"
            )[:300],
            quantity=Decimal(1),
            unit_cents=amount,
            amount_cents=amount,
            period_start=billed_from,
            period_end=period_end,
        )
        _recompute(invoice)
        audit_record(
            actor=actor,
            action="billing.subscription_draft",
            target=str(municipality),
            detail={"invoice": invoice.pk, "period_start": billed_from.isoformat()},
        )
    return invoice


# How many periods back the automatic drafts look for one not billed yet (a schedule that stopped
# for a while), never before the period in which the town's billing account was opened.
CATCH_UP_PERIODS = 12
# The Stripe subscription statuses under which Stripe bills the periods itself.
STRIPE_BILLS = ("active", "trialing", "past_due", "unpaid")


def stripe_bills_from(account: BillingAccount) -> date | None:
    """The first period the town's Stripe subscription bills (asked for, or running), or None
    when the ledger drafts every period. A subscription made elsewhere (Stripe's dashboard) is
    taken to bill every period: nothing is ever billed twice."""
    running = account.stripe_subscription_id and account.stripe_subscription_status in STRIPE_BILLS
    if running or account.stripe_subscription_request == "start":
        return account.stripe_subscription_from or date.min
    return None


@dataclass(frozen=True)
class AutomaticDraft:
    town: str
    period_start: date | None
    invoice: Invoice | None = None
    reason: str = ""


def _period_starts(*, first_day: date, period: str, since: date, today: date) -> list[date]:
    """The starts of the periods that begun on or before `today`, from the one holding `since`:
    months from their first day; years from the go-live day's anniversaries."""
    starts: list[date] = []
    if period == PlanPrice.Period.MONTHLY:
        start = max(first_day, since).replace(day=1)
        while start <= today:
            starts.append(start)
            start = _month_end(start) + timedelta(days=1)
    else:
        start = first_day
        while start <= today:
            if _period_end(start, period) >= since:
                starts.append(start)
            start = _period_end(start, period) + timedelta(days=1)
    return starts[-CATCH_UP_PERIODS:]


def subscription_drafts_due(*, today: date) -> list[AutomaticDraft]:
    """Draft each subscription period begun by `today` and not billed yet, for every live
    partner town with a billing account, except those whose Stripe subscription bills its own
    periods. Nothing is issued: the finance team reviews the drafts, then issues them. Safe to
    run again (a period already billed, or drafted, is skipped); the schedule runs it daily
    (`manage.py billing_subscription_drafts`)."""
    done: list[AutomaticDraft] = []
    projects = (
        OnboardingProject.objects.filter(
            municipality__billing_account__isnull=False,
            milestones__kind=Milestone.Kind.WENT_LIVE,
        )
        .select_related("municipality__billing_account", "host")
        .distinct()
        .order_by("municipality__name")
    )
    for project in projects:
        municipality = project.municipality
        assert municipality is not None  # noqa: S101  (filtered above)
        account = municipality.billing_account
        stripe_from = stripe_bills_from(account)
        went_live = Milestone.objects.filter(
            project=project, kind=Milestone.Kind.WENT_LIVE
        ).values_list("at", flat=True)[0]
        try:
            book = price_book_current(host=project.host, on=today)
        except BillingError as error:
            done.append(AutomaticDraft(str(municipality), None, reason=error.message))
            continue
        price = PlanPrice.objects.filter(price_book=book, plan=project.plan).first()
        if price is None:
            done.append(
                AutomaticDraft(
                    str(municipality),
                    None,
                    reason=_("La grille de prix n'a pas de prix pour le forfait de ce projet."),
                )
            )
            continue
        starts = _period_starts(
            first_day=timezone.localdate(went_live),
            period=price.period,
            since=timezone.localdate(account.created_at),
            today=today,
        )
        for start in starts:
            if stripe_from is not None and start >= stripe_from:
                break  # Stripe drafts this period and the next ones
            drafted_until = account.subscription_drafted_until
            if drafted_until is not None and start <= drafted_until:
                continue  # drafted once already (perhaps deleted, or voided, since)
            try:
                invoice = subscription_draft(
                    actor=None, project=project, period_start=start, today=today
                )
            except BillingError as error:
                if error.code != BillingErrorCode.PERIOD_ALREADY_BILLED:
                    # Reported, and the next periods wait for it: none is ever skipped.
                    done.append(AutomaticDraft(str(municipality), start, reason=error.message))
                    break
            else:
                done.append(AutomaticDraft(str(municipality), start, invoice=invoice))
            # Only this schedule moves the mark, one period after the other.
            account.subscription_drafted_until = _period_end(start, price.period)
            BillingAccount.objects.filter(pk=account.pk).update(
                subscription_drafted_until=account.subscription_drafted_until
            )
    return done


def _draft(invoice: Invoice) -> Invoice:
    """The invoice locked, when it is still a draft. Raises BillingError `not_draft` (409)."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status != InvoiceStatus.DRAFT:
        _refuse(
            BillingErrorCode.NOT_DRAFT,
            _("La facture {number} est émise : une note de crédit la corrige.").format(
                number=locked.number
            ),
            status=409,
        )
    return locked


def line_add(
    *,
    actor: User | None,
    invoice: Invoice,
    kind: str,
    description_fr: str,
    unit_cents: int,
    quantity: Decimal = Decimal(1),
    description_en: str = "",
) -> InvoiceLine:
    """Add an adjustment (positive or negative) or a one-off item to a draft."""
    if kind not in (LineKind.ADJUSTMENT, LineKind.ITEM):
        _refuse(
            BillingErrorCode.INVALID_AMOUNT, _("Seuls les ajustements et les articles s'ajoutent.")
        )
    if not description_fr.strip():
        _refuse(BillingErrorCode.REASON_REQUIRED, _("Décrivez la ligne."), field="description_fr")
    if quantity <= 0:
        _refuse(
            BillingErrorCode.INVALID_AMOUNT, _("La quantité doit être positive."), field="quantity"
        )
    with transaction.atomic():
        locked = _draft(invoice)
        if locked.kind != InvoiceKind.INVOICE:
            _refuse(
                BillingErrorCode.NOT_DRAFT,
                _("Une note de crédit garde sa seule ligne : préparez-en une autre."),
                status=409,
            )
        position = (locked.lines.aggregate(last=Max("position"))["last"] or 0) + 1
        line = InvoiceLine.objects.create(
            invoice=locked,
            kind=kind,
            description_fr=description_fr.strip()[:300],
            description_en=description_en.strip()[:300],
            quantity=quantity,
            unit_cents=unit_cents,
            amount_cents=line_amount(quantity, unit_cents),
            position=position,
        )
        _recompute(locked)
        audit_record(
            actor=actor,
            action="billing.line_add",
            target=f"draft {locked.pk}",
            detail={"kind": kind, "amount_cents": line.amount_cents},
        )
    return line


def item_add(
    *, actor: User | None, invoice: Invoice, item: CatalogItem, quantity: Decimal = Decimal(1)
) -> InvoiceLine:
    """Add a one-off item at the price of the draft's own price book (the prices the invoice
    is issued with). Raises BillingError `invalid_amount` for an item of another book."""
    if item.price_book_id != invoice.price_book_id:
        _refuse(
            BillingErrorCode.INVALID_AMOUNT,
            _("Cet article n'est pas dans la grille de prix de ce brouillon."),
            field="item",
        )
    return line_add(
        actor=actor,
        invoice=invoice,
        kind=LineKind.ITEM,
        description_fr=item.label_fr,
        description_en=item.label_en,
        unit_cents=item.unit_cents,
        quantity=quantity,
    )


def draft_delete(*, actor: User | None, invoice: Invoice) -> None:
    """Delete a draft; its time entries become unbilled again."""
    with transaction.atomic():
        locked = _draft(invoice)
        audit_record(
            actor=actor,
            action="billing.draft_delete",
            target=str(locked.account),
            detail={"invoice": locked.pk, "total_cents": locked.total_cents},
        )
        locked.delete()


# --- Subscriptions billed by Stripe ---------------------------------------------------------------
def _went_live(project: OnboardingProject | None) -> date | None:
    at = (
        Milestone.objects.filter(project=project, kind=Milestone.Kind.WENT_LIVE)
        .values_list("at", flat=True)
        .first()
        if project is not None
        else None
    )
    return timezone.localdate(at) if at is not None else None


def stripe_subscription_start(
    *, actor: User | None, project: OnboardingProject, today: date
) -> BillingAccount:
    """Ask Stripe to bill the town's subscription from the next period on (the ledger bills the
    current one, and those before), at the plan's price in the book in force `today`; the task
    `billing.tasks.stripe_subscription` starts it. Raises BillingError `stripe_off`,
    `not_live`, `no_plan`, `subscription_exists`."""
    if not settings.STRIPE_SECRET_KEY:
        _refuse(BillingErrorCode.STRIPE_OFF, _("Stripe n'est pas configuré (STRIPE_API_KEY)."))
    municipality = project.municipality
    live_day = _went_live(project)
    if municipality is None or live_day is None:
        _refuse(BillingErrorCode.NOT_LIVE, _("Cette municipalité n'est pas encore en ligne."))
    assert municipality is not None  # noqa: S101  (refused above)
    assert live_day is not None  # noqa: S101  (refused above)
    book = price_book_current(host=project.host, on=today)
    price = PlanPrice.objects.filter(price_book=book, plan=project.plan).first()
    if price is None:
        _refuse(
            BillingErrorCode.NO_PLAN,
            _("La grille de prix n'a pas de prix pour le forfait de ce projet."),
        )
    assert price is not None  # noqa: S101  (refused above)
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=_account_of(municipality).pk)
        if account.stripe_subscription_request or stripe_bills_from(account) is not None:
            _refuse(
                BillingErrorCode.SUBSCRIPTION_EXISTS,
                _("Stripe facture déjà cet abonnement, ou une demande est en cours."),
                status=409,
            )
        period_start = _period_holding(price, live_day=live_day, day=max(live_day, today))
        account.stripe_subscription_from = _period_end(period_start, price.period) + timedelta(
            days=1
        )
        account.stripe_subscription_interval = (
            "month" if price.period == PlanPrice.Period.MONTHLY else "year"
        )
        account.stripe_subscription_price_cents = subscription_amount(
            price, municipality.population or 0
        )
        _subscription_request(
            actor=actor,
            account=account,
            request="start",
            detail={
                "from": account.stripe_subscription_from.isoformat(),
                "amount_cents": account.stripe_subscription_price_cents,
                "interval": account.stripe_subscription_interval,
            },
        )
    return account


def _subscription_request(
    *, actor: User | None, account: BillingAccount, request: str, detail: dict[str, Any]
) -> None:
    """Record a request to Stripe on the (locked) account, queue the task that carries it out
    after the commit, and audit it."""
    account.stripe_subscription_request = request
    account.stripe_subscription_requested_at = timezone.now()
    account.stripe_subscription_error = ""
    account.save()
    stripe_subscription_enqueue(account_id=account.pk)
    audit_record(
        actor=actor,
        action=f"billing.stripe_subscription_{'start' if request == 'start' else 'stop'}",
        target=str(account),
        detail=detail,
    )


def _period_holding(price: PlanPrice, *, live_day: date, day: date) -> date:
    """The first day of the plan's period that holds `day`: the month's first day, or the
    go-live day's anniversary."""
    if price.period == PlanPrice.Period.MONTHLY:
        return day.replace(day=1)
    return _anniversary_on_or_before(live_day, day)


def _anniversary_on_or_before(first: date, day: date) -> date:
    """The start of the yearly period (from `first`'s anniversaries) that holds `day`."""
    start = first
    while _period_end(start, PlanPrice.Period.YEARLY) < day:
        start = _period_end(start, PlanPrice.Period.YEARLY) + timedelta(days=1)
    return start


def stripe_subscription_stop(*, actor: User | None, account: BillingAccount) -> BillingAccount:
    """Ask Stripe to stop billing the town's subscription (the ledger's schedule drafts the
    periods again). Raises BillingError `stripe_off`, `no_subscription`."""
    if not settings.STRIPE_SECRET_KEY:
        _refuse(BillingErrorCode.STRIPE_OFF, _("Stripe n'est pas configuré (STRIPE_API_KEY)."))
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if not locked.stripe_subscription_id or locked.stripe_subscription_request:
            _refuse(
                BillingErrorCode.NO_SUBSCRIPTION,
                _("Aucun abonnement Stripe à arrêter (ou une demande est en cours)."),
                status=409,
            )
        _subscription_request(
            actor=actor,
            account=locked,
            request="cancel",
            detail={"subscription": locked.stripe_subscription_id},
        )
    return locked


def subscription_period_holding(*, account: BillingAccount, day: date) -> date:
    """The first day of the town's subscription period that holds `day` (a month's first day,
    or the go-live day's anniversary), whatever hour Stripe's cycle began at; `day` itself when
    the town has no live project or no price (the adoption then refuses it)."""
    project = OnboardingProject.objects.filter(municipality=account.municipality).first()
    live_day = _went_live(project)
    if project is None or live_day is None:
        return day
    try:
        book = price_book_current(host=project.host, on=day)
    except BillingError:
        return day
    price = PlanPrice.objects.filter(price_book=book, plan=project.plan).first()
    if price is None:
        return day
    return _period_holding(price, live_day=live_day, day=day)


def stripe_cycle_adopt(
    *,
    account: BillingAccount,
    stripe_invoice_id: str,
    period_start: date,
    prebilled_cents: int,
    today: date,
) -> Invoice | None:
    """Stripe drafted a period of the town's subscription: the ledger drafts the same period
    from its price book, numbers it and issues it, linked to Stripe's draft, which the task
    completes (the ledger's number, taxes to the cent, a correction if the price changed) and
    sends. A period the ledger cannot bill there (already billed, or refused) is not billed
    twice: Stripe's draft is deleted, and the account's page says why. Runs in the webhook's
    transaction."""
    project = OnboardingProject.objects.filter(municipality=account.municipality).first()
    try:
        if project is None:
            _refuse(BillingErrorCode.NOT_LIVE, _("Cette municipalité n'est pas encore en ligne."))
        assert project is not None  # noqa: S101  (refused above)
        with transaction.atomic():
            draft = subscription_draft(
                actor=None, project=project, period_start=period_start, today=today
            )
            draft.stripe_invoice_id = stripe_invoice_id
            draft.stripe_prebilled_cents = prebilled_cents
            draft.save(update_fields=["stripe_invoice_id", "stripe_prebilled_cents"])
            return invoice_issue(actor=None, invoice=draft, today=today)
    except BillingError as error:
        message = _("Période du {day} non facturée chez Stripe : {reason}").format(
            day=period_start.isoformat(), reason=error.message
        )
        BillingAccount.objects.filter(pk=account.pk).update(stripe_subscription_error=message[:300])
        stripe_discard_enqueue(stripe_invoice_id=stripe_invoice_id)
        audit_record(
            actor=None,
            action="billing.stripe_cycle_discarded",
            target=str(account),
            detail={"period_start": period_start.isoformat(), "code": str(error.code)},
        )
        return None


# --- Issuing -------------------------------------------------------------------------------------
def _tell_stripe(invoice: Invoice) -> None:
    """An invoice Stripe sent was voided, or settled in part or whole in the ledger: Stripe is
    told, after the commit, by the task (its payment page then asks for the balance only, or
    stops asking)."""
    if settings.STRIPE_SECRET_KEY and invoice.stripe_invoice_id:
        stripe_settle_enqueue(invoice_id=invoice.pk)


def invoice_number(*, series: str) -> str:
    """The next number of `series` (FAC-2026, NC-2026), gap-free: the counter's row stays locked
    until the caller's transaction ends, and a rollback takes the number back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_invoicecounter (series, last_number) VALUES (%s, 1) "
            "ON CONFLICT (series) DO UPDATE SET last_number = "
            "billing_invoicecounter.last_number + 1 RETURNING last_number",
            [series],
        )
        (sequence,) = cursor.fetchone()
    return f"{series}-{sequence:05d}"


def invoice_issue(*, actor: User | None, invoice: Invoice, today: date) -> Invoice:
    """Issue a draft: its number (FAC-YYYY-NNNNN, a credit note NC-YYYY-NNNNN), its date and
    due date (the account's terms); from then on nothing on it changes. An issued credit note
    takes its amount off its invoice's balance (settled at zero). Raises BillingError
    `not_draft`, `empty_invoice`, `credit_too_large`."""
    with transaction.atomic():
        locked = _draft(invoice)
        if not locked.lines.exists():
            _refuse(BillingErrorCode.EMPTY_INVOICE, _("Une facture sans ligne ne s'émet pas."))
        if locked.kind == InvoiceKind.INVOICE and locked.total_cents <= 0:
            _refuse(
                BillingErrorCode.INVALID_AMOUNT,
                _(
                    "Le total d'une facture doit être positif : une remise plus grande se fait "
                    "par une note de crédit."
                ),
            )
        corrected = None
        if locked.kind == InvoiceKind.CREDIT_NOTE:
            assert locked.corrects_id is not None  # noqa: S101  (a credit note's constraint)
            corrected = Invoice.objects.select_for_update().get(pk=locked.corrects_id)
            if locked.total_cents >= 0 or corrected.status not in (
                InvoiceStatus.OPEN,
                InvoiceStatus.PAID,
            ):
                _refuse(
                    BillingErrorCode.NOT_OPEN,
                    _("Cette note de crédit ne corrige plus une facture émise."),
                    status=409,
                )
            if -locked.total_cents > corrected.creditable_cents:
                _refuse(
                    BillingErrorCode.CREDIT_TOO_LARGE,
                    _("Le crédit dépasse le solde de la facture {number}.").format(
                        number=corrected.number
                    ),
                )
        prefix = "NC" if locked.kind == InvoiceKind.CREDIT_NOTE else "FAC"
        locked.number = invoice_number(series=f"{prefix}-{today.year}")
        locked.status = InvoiceStatus.OPEN
        locked.issued_on = today
        locked.due_on = today + timedelta(days=locked.account.payment_terms_days)
        if corrected is not None:
            was_open = corrected.status == InvoiceStatus.OPEN
            corrected.credited_cents += -locked.total_cents
            # Settled by the credit (a negative balance is what the town is owed back).
            if corrected.balance_cents <= 0 and was_open:
                corrected.status = InvoiceStatus.PAID
            if was_open:
                _tell_stripe(corrected)
            corrected.save(update_fields=["credited_cents", "status", "updated_at"])
            locked.status = InvoiceStatus.PAID  # a credit note is settled by its invoice
            locked.due_on = today
        if settings.STRIPE_SECRET_KEY and locked.kind == InvoiceKind.INVOICE:
            # Copied to Stripe after the commit, by the task (it retries what fails).
            locked.stripe_state = "pending"
            stripe_send_enqueue(invoice_id=locked.pk)
        locked.save(
            update_fields=["number", "status", "issued_on", "due_on", "stripe_state", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="billing.invoice_issue",
            target=locked.number or "",
            detail={"total_cents": locked.total_cents, "account": locked.account_id},
        )
    return locked


def credit_note_draft(
    *, actor: User | None, invoice: Invoice, amount_cents: int, reason: str
) -> Invoice:
    """A draft credit note taking `amount_cents` (before taxes, positive) off an issued invoice:
    one line, negative, with the reason. Raises BillingError `not_open`, `reason_required`,
    `invalid_amount`, `credit_too_large` (over what the invoice's balance allows)."""
    reason = (reason or "").strip()
    if not reason:
        _refuse(BillingErrorCode.REASON_REQUIRED, _("Indiquez le motif du crédit."), field="reason")
    if amount_cents <= 0:
        _refuse(
            BillingErrorCode.INVALID_AMOUNT,
            _("Le montant du crédit doit être positif."),
            field="amount_cents",
        )
    with transaction.atomic():
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if original.kind != InvoiceKind.INVOICE or original.status not in (
            InvoiceStatus.OPEN,
            InvoiceStatus.PAID,
        ):
            _refuse(
                BillingErrorCode.NOT_OPEN,
                _("Seule une facture émise se corrige par une note de crédit."),
                status=409,
            )
        if totals([amount_cents]).total_cents > original.creditable_cents:
            _refuse(
                BillingErrorCode.CREDIT_TOO_LARGE,
                _(
                    "Le crédit, taxes comprises, dépasse ce qui reste à créditer sur la facture "
                    "{number}."
                ).format(number=original.number),
                field="amount_cents",
            )
        note = Invoice.objects.create(
            account=original.account,
            kind=InvoiceKind.CREDIT_NOTE,
            corrects=original,
            price_book=original.price_book,
            language=original.language,
            memo=reason[:2000],
            created_by=actor,
        )
        InvoiceLine.objects.create(
            invoice=note,
            kind=LineKind.ADJUSTMENT,
            description_fr=f"Crédit sur la facture {original.number} : {reason}"[:300],
            description_en=f"Credit on invoice {original.number}: {reason}"[:300],
            quantity=Decimal(1),
            unit_cents=-amount_cents,
            amount_cents=-amount_cents,
        )
        _recompute(note)
        audit_record(
            actor=actor,
            action="billing.credit_note_draft",
            target=original.number or "",
            detail={"note": note.pk, "amount_cents": amount_cents},
        )
    return note


def invoice_void(*, actor: User | None, invoice: Invoice, reason: str) -> Invoice:
    """Void an issued invoice nobody paid anything on (it keeps its number: the series has no
    gap). Raises BillingError `reason_required`, `not_open` (a draft is deleted instead; a paid
    or partly paid invoice is corrected by a credit note)."""
    reason = (reason or "").strip()
    if not reason:
        _refuse(
            BillingErrorCode.REASON_REQUIRED,
            _("Indiquez le motif de l'annulation."),
            field="reason",
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if (
            locked.status != InvoiceStatus.OPEN
            or locked.paid_cents
            or locked.credited_cents
            or locked.kind != InvoiceKind.INVOICE
            or locked.credit_notes.exclude(status=InvoiceStatus.VOID).exists()
        ):
            _refuse(
                BillingErrorCode.NOT_OPEN,
                _("Seule une facture émise et sans paiement ni crédit s'annule."),
                status=409,
            )
        locked.status = InvoiceStatus.VOID
        _tell_stripe(locked)
        # Its hours become billable again, as its fixed fee and its subscription period do.
        BilledTime.objects.filter(line__invoice=locked).delete()
        locked.memo = f"{locked.memo}\n{reason}".strip()[:2000]
        locked.save(update_fields=["status", "memo", "updated_at"])
        audit_record(
            actor=actor,
            action="billing.invoice_void",
            target=locked.number or "",
            detail={"reason": reason[:200]},
        )
    return locked


# --- Payments ------------------------------------------------------------------------------------
def payment_record(
    *,
    actor: User | None,
    invoice: Invoice,
    amount_cents: int,
    method: str,
    received_on: date,
    reference: str = "",
) -> Payment:
    """A cheque or a transfer received against an issued invoice: partial payments add up; the
    invoice is paid when its balance is zero. Raises BillingError `not_open` (a draft, a void or
    uncollectible invoice, a credit note), `invalid_amount`, `overpayment` (more than the
    balance)."""
    if method not in (PaymentMethod.CHEQUE, PaymentMethod.EFT):
        _refuse(BillingErrorCode.INVALID_AMOUNT, _("Mode de paiement inconnu."), field="method")
    if amount_cents <= 0:
        _refuse(
            BillingErrorCode.INVALID_AMOUNT,
            _("Le montant doit être positif."),
            field="amount_cents",
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != InvoiceStatus.OPEN or locked.kind != InvoiceKind.INVOICE:
            _refuse(
                BillingErrorCode.NOT_OPEN,
                _("Un paiement s'inscrit sur une facture émise et non soldée."),
                status=409,
            )
        if amount_cents > locked.balance_cents:
            _refuse(
                BillingErrorCode.OVERPAYMENT,
                _("Le montant dépasse le solde de la facture ({balance}).").format(
                    balance=money(locked.balance_cents)
                ),
                field="amount_cents",
            )
        payment = Payment.objects.create(
            invoice=locked,
            method=method,
            amount_cents=amount_cents,
            received_on=received_on,
            reference=reference.strip()[:100],
            recorded_by=actor,
        )
        locked.paid_cents += amount_cents
        if locked.balance_cents == 0:
            locked.status = InvoiceStatus.PAID
        _tell_stripe(locked)  # Stripe then asks for the balance only, or nothing
        locked.save(update_fields=["paid_cents", "status", "updated_at"])
        audit_record(
            actor=actor,
            action="billing.payment_record",
            target=locked.number or "",
            detail={"amount_cents": amount_cents, "method": method, "payment": payment.pk},
        )
    return payment


def invoiced_and_collected(*, host: Municipality) -> dict[str, int]:
    """What the host has invoiced (net of credit notes) and collected, in cents."""
    issued = Invoice.objects.filter(account__municipality__host=host).exclude(
        Q(status=InvoiceStatus.DRAFT) | Q(status=InvoiceStatus.VOID)
    )
    figures = issued.aggregate(invoiced=Sum("total_cents"), collected=Sum("paid_cents"))
    return {"invoiced": figures["invoiced"] or 0, "collected": figures["collected"] or 0}
