"""Reads of the charge-back ledger for the console: the partner towns with their figures, an
account's invoices, one invoice, the list with its filters, and what the host has recovered."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from billing.models import (
    BillingAccount,
    HostBillingProfile,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from onboarding.models import OnboardingProject
from tenants.models import Municipality

__all__ = [
    "Recovery",
    "TownFigures",
    "account_of",
    "host_recovery",
    "invoice_detail",
    "invoice_list",
    "partner_by_slug",
    "partner_figures",
    "partner_towns",
    "project_of",
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
