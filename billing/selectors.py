"""Reads of the charge-back ledger for the console: the partner towns with their figures, an
account's invoices, one invoice, the list with its filters, and what the host has recovered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from billing.models import (
    BillingAccount,
    HostBillingProfile,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PriceBook,
)
from onboarding.models import OnboardingProject
from tenants.models import Municipality

__all__ = [
    "PACE_MONTHS",
    "Recovery",
    "RecoveryReport",
    "TownFigures",
    "account_of",
    "host_by_slug",
    "host_recovery",
    "invoice_detail",
    "invoice_list",
    "partner_by_slug",
    "partner_figures",
    "partner_towns",
    "price_books_of",
    "project_of",
    "recovery_report",
]

ISSUED = ~Q(status=InvoiceStatus.DRAFT) & ~Q(status=InvoiceStatus.VOID)


@dataclass(frozen=True)
class TownFigures:
    town: Municipality
    account: BillingAccount | None
    invoiced_cents: int
    collected_cents: int
    due_cents: int
    drafts: int


def partner_towns() -> list[Municipality]:
    """The towns a host bills, by name."""
    return list(Municipality.objects.filter(host__isnull=False).order_by("name"))


def partner_by_slug(*, slug: str) -> Municipality | None:
    return Municipality.objects.filter(slug=slug, host__isnull=False).first()


def project_of(*, town: Municipality) -> OnboardingProject | None:
    """The town's onboarding project: its hours and its plan are what is billed."""
    return OnboardingProject.objects.filter(municipality=town).first()


def partner_figures() -> list[TownFigures]:
    """Every partner town, with what it was invoiced (net of credit notes), what it paid, what
    it owes and its drafts. Two queries."""
    towns = list(
        Municipality.objects.filter(host__isnull=False)
        .select_related("billing_account")
        .order_by("name")
    )
    figures = {
        row["account__municipality"]: row
        for row in Invoice.objects.values("account__municipality").annotate(
            invoiced=Sum("total_cents", filter=ISSUED),
            collected=Sum("paid_cents", filter=ISSUED & Q(kind=InvoiceKind.INVOICE)),
            due=Sum("total_cents", filter=Q(status=InvoiceStatus.OPEN, kind=InvoiceKind.INVOICE)),
            paid_open=Sum(
                "paid_cents", filter=Q(status=InvoiceStatus.OPEN, kind=InvoiceKind.INVOICE)
            ),
            credited_open=Sum(
                "credited_cents", filter=Q(status=InvoiceStatus.OPEN, kind=InvoiceKind.INVOICE)
            ),
            drafts=Count("id", filter=Q(status=InvoiceStatus.DRAFT)),
        )
    }
    result = []
    for town in towns:
        row = figures.get(town.pk, {})
        due = (row.get("due") or 0) - (row.get("paid_open") or 0) - (row.get("credited_open") or 0)
        result.append(
            TownFigures(
                town=town,
                account=getattr(town, "billing_account", None),
                invoiced_cents=row.get("invoiced") or 0,
                collected_cents=row.get("collected") or 0,
                due_cents=due,
                drafts=row.get("drafts") or 0,
            )
        )
    return result


@dataclass(frozen=True)
class Recovery:
    host: Municipality
    declared_cents: int
    invoiced_cents: int
    collected_cents: int

    @property
    def recovered_percent(self) -> float:
        return 100 * self.collected_cents / self.declared_cents if self.declared_cents else 0.0


def host_recovery() -> list[Recovery]:
    """Each host city's declared investment against what its partners were invoiced and paid."""
    recoveries = []
    for profile in HostBillingProfile.objects.select_related("host").order_by("host__name"):
        issued = Invoice.objects.filter(ISSUED, account__municipality__host=profile.host)
        sums = issued.aggregate(
            invoiced=Sum("total_cents"),
            collected=Sum("paid_cents", filter=Q(kind=InvoiceKind.INVOICE)),
        )
        recoveries.append(
            Recovery(
                host=profile.host,
                declared_cents=profile.declared_investment_cents,
                invoiced_cents=sums["invoiced"] or 0,
                collected_cents=sums["collected"] or 0,
            )
        )
    return recoveries


def account_of(*, town: Municipality) -> BillingAccount | None:
    return BillingAccount.objects.filter(municipality=town).first()


def invoice_list(*, status: str = "", town: str = "", year: int | None = None) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first, filtered by status, town (slug) and year."""
    invoices = Invoice.objects.select_related("account__municipality").order_by("-issued_on", "-id")
    if status:
        invoices = invoices.filter(status=status)
    if town:
        invoices = invoices.filter(account__municipality__slug=town)
    if year:
        invoices = invoices.filter(Q(issued_on__year=year) | Q(issued_on__isnull=True))
    return invoices


def invoice_detail(*, pk: int) -> Invoice | None:
    return (
        Invoice.objects.select_related(
            "account__municipality__host", "price_book", "corrects", "created_by"
        )
        .prefetch_related("lines", "payments", "credit_notes")
        .filter(pk=pk)
        .first()
    )


# The projection's pace: what was collected per month over this many months (or since the first
# invoice, when it is more recent).
PACE_MONTHS = 6
# Further than this, the projection says nothing useful (and the calendar ends in 9999).
MAX_PROJECTION_MONTHS = 1200


@dataclass(frozen=True)
class MonthFigures:
    month: date
    invoiced_cents: int
    collected_cents: int
    invoiced_total_cents: int
    collected_total_cents: int


@dataclass(frozen=True)
class RecoveryReport:
    host: Municipality
    declared_cents: int
    months: list[MonthFigures]
    monthly_pace_cents: int
    pace_months: int  # how many months the pace averages (PACE_MONTHS, or fewer at the start)
    # None: recovered already, nothing collected to project from, or more than 100 years away.
    break_even: date | None

    @property
    def recovered(self) -> bool:
        return bool(self.months) and self.months[-1].collected_total_cents >= self.declared_cents


def _month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def recovery_report(*, host: Municipality, today: date) -> RecoveryReport | None:
    """The host's investment against what its partners were invoiced (issued invoices and credit
    notes, by month of issue) and paid (payments, by month received), month by month from the
    first invoice, with the date the investment would be recovered at the pace of the last
    PACE_MONTHS months. None without a billing profile. Two grouped queries."""
    profile = HostBillingProfile.objects.filter(host=host).first()
    if profile is None:
        return None
    invoiced = dict(
        Invoice.objects.filter(ISSUED, account__municipality__host=host)
        .annotate(month=TruncMonth("issued_on"))
        .values("month")
        .annotate(total=Sum("total_cents"))
        .values_list("month", "total")
    )
    collected = dict(
        Payment.objects.filter(invoice__account__municipality__host=host)
        .exclude(invoice__status=InvoiceStatus.VOID)
        .annotate(month=TruncMonth("received_on"))
        .values("month")
        .annotate(total=Sum("amount_cents"))
        .values_list("month", "total")
    )
    starts = [month for month in (*invoiced, *collected) if month is not None]
    months: list[MonthFigures] = []
    if starts:
        month, last = min(starts), today.replace(day=1)
        invoiced_total = collected_total = 0
        while month <= last:
            invoiced_total += invoiced.get(month, 0) or 0
            collected_total += collected.get(month, 0) or 0
            months.append(
                MonthFigures(
                    month=month,
                    invoiced_cents=invoiced.get(month, 0) or 0,
                    collected_cents=collected.get(month, 0) or 0,
                    invoiced_total_cents=invoiced_total,
                    collected_total_cents=collected_total,
                )
            )
            month = _month_after(month)
    recent = months[-PACE_MONTHS:]
    pace = sum(row.collected_cents for row in recent) // len(recent) if recent else 0
    break_even = None
    owed = profile.declared_investment_cents - (months[-1].collected_total_cents if months else 0)
    needed = -(-owed // pace) if owed > 0 and pace > 0 else 0  # months, rounded up
    if 0 < needed <= MAX_PROJECTION_MONTHS:
        index = today.month - 1 + needed
        break_even = date(today.year + index // 12, index % 12 + 1, 1)
    return RecoveryReport(
        host=host,
        declared_cents=profile.declared_investment_cents,
        months=months,
        monthly_pace_cents=pace,
        pace_months=len(recent),
        break_even=break_even,
    )


def host_by_slug(*, slug: str) -> Municipality | None:
    return Municipality.objects.filter(slug=slug, kind=Municipality.Kind.HOST).first()


def price_books_of(*, host: Municipality) -> list[PriceBook]:
    """The host's price book versions, newest first, with their rates, plans and items."""
    return list(
        PriceBook.objects.filter(host=host)
        .prefetch_related("rates", "plans", "items")
        .order_by("-version")
    )
