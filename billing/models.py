"""The host city's charge-back ledger (public schema): its price books, the partner towns'
billing accounts, invoices and credit notes with their lines, and the payments received.

Amounts are integer cents, in Canadian dollars. The ledger is the source of truth; Stripe, when
it is configured, mirrors it. An issued invoice is never edited: a credit note corrects it."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from onboarding.models import Activity, Plan, TimeEntry
from tenants.models import Municipality


class PriceBook(models.Model):
    """One version of the host's prices. A new version is made rather than a price changed, so
    that an invoice names the version it was priced with (its lines keep the amounts too)."""

    host = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="price_books",
        limit_choices_to={"kind": "host"},
        verbose_name=_("ville hôte"),
    )
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("en vigueur le"))
    implementation_fixed_cents = models.PositiveIntegerField(
        _("frais fixes d'implantation (¢)"), default=0
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("grille de prix")
        verbose_name_plural = _("grilles de prix")
        ordering = ["host", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["host", "version"], name="price_book_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.host} v{self.version}"


class ActivityRate(models.Model):
    """The hourly rate of one implementation activity (the time entries' activities)."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="rates")
    activity = models.CharField(_("activité"), max_length=16, choices=Activity.choices)
    hourly_cents = models.PositiveIntegerField(_("taux horaire (¢)"))

    class Meta:
        verbose_name = _("taux horaire")
        verbose_name_plural = _("taux horaires")
        constraints = [
            models.UniqueConstraint(fields=["price_book", "activity"], name="rate_once_per_book")
        ]

    def __str__(self) -> str:
        return f"{self.get_activity_display()}: {self.hourly_cents} ¢/h"


class PlanPrice(models.Model):
    """A subscription plan's price: a flat amount per period, or an amount per resident (the
    town's population) with a minimum; billed monthly or yearly."""

    class Basis(models.TextChoices):
        FLAT = "flat", _("montant fixe")
        PER_RESIDENT = "per_resident", _("par habitant")

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("mensuel")
        YEARLY = "yearly", _("annuel")

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="plans")
    plan = models.CharField(_("forfait"), max_length=16, choices=Plan.choices)
    basis = models.CharField(_("base"), max_length=16, choices=Basis.choices)
    period = models.CharField(_("période"), max_length=8, choices=Period.choices)
    # FLAT: the period's amount. PER_RESIDENT: hundredths of a cent per resident per period
    # (2.5 ¢ per resident per month is 250), so that small rates stay exact.
    amount = models.PositiveIntegerField(_("montant"))
    minimum_cents = models.PositiveIntegerField(_("minimum par période (¢)"), default=0)

    class Meta:
        verbose_name = _("prix d'un forfait")
        verbose_name_plural = _("prix des forfaits")
        constraints = [
            models.UniqueConstraint(fields=["price_book", "plan"], name="plan_once_per_book")
        ]

    def __str__(self) -> str:
        return f"{self.get_plan_display()} ({self.get_period_display()})"


class CatalogItem(models.Model):
    """A one-off item (a training day on site, a data import…) at a unit price."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(_("code"), max_length=40)
    label_fr = models.CharField(_("libellé (français)"), max_length=200)
    label_en = models.CharField(_("libellé (anglais)"), max_length=200, blank=True)
    unit_cents = models.PositiveIntegerField(_("prix unitaire (¢)"))

    class Meta:
        verbose_name = _("article ponctuel")
        verbose_name_plural = _("articles ponctuels")
        constraints = [
            models.UniqueConstraint(fields=["price_book", "code"], name="item_once_per_book")
        ]

    def __str__(self) -> str:
        return self.label_fr


class HostBillingProfile(models.Model):
    """What the host city prints on its invoices, and what it invested (the cost-recovery
    report's baseline)."""

    host = models.OneToOneField(
        Municipality,
        on_delete=models.PROTECT,
        related_name="billing_profile",
        limit_choices_to={"kind": "host"},
    )
    legal_name = models.CharField(_("raison sociale"), max_length=200)
    address = models.TextField(_("adresse"), max_length=500)
    gst_number = models.CharField(_("numéro de TPS"), max_length=20)
    qst_number = models.CharField(_("numéro de TVQ"), max_length=20)
    declared_investment_cents = models.PositiveBigIntegerField(
        _("investissement déclaré (¢)"), default=0
    )

    class Meta:
        verbose_name = _("profil de facturation de la ville hôte")
        verbose_name_plural = _("profils de facturation des villes hôtes")

    def __str__(self) -> str:
        return self.legal_name


class BillingAccount(models.Model):
    """A partner town as its host bills it."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.PROTECT, related_name="billing_account"
    )
    contact_name = models.CharField(_("personne-ressource"), max_length=200)
    contact_email = models.EmailField(_("courriel de facturation"))
    address = models.TextField(_("adresse de facturation"), max_length=500)
    purchase_order = models.CharField(_("bon de commande"), max_length=60, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("délai de paiement (jours)"),
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(180)],
    )
    gst_number = models.CharField(_("numéro de TPS"), max_length=20, blank=True)
    qst_number = models.CharField(_("numéro de TVQ"), max_length=20, blank=True)
    language = models.CharField(
        _("langue des factures"),
        max_length=2,
        choices=[("fr", _("français")), ("en", _("anglais"))],
        default="fr",
    )
    # The end of the latest period the daily schedule has drafted (or found billed) for the
    # town, one period after the other; kept when that draft is deleted or its invoice voided,
    # so a period the finance team dropped is not drafted again behind its back.
    subscription_drafted_until = models.DateField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_status = models.CharField(max_length=32, blank=True)
    # When Stripe created the last subscription event applied (its `created`, in seconds).
    stripe_subscription_event_at = models.BigIntegerField(default=0)
    # The subscription at Stripe that bills the town's periods, from a console request (its
    # time makes the start's idempotency key): the product and the item it charges, the amount
    # a period costs there, and what Relais asked for last and how it went.
    stripe_product_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_item_id = models.CharField(max_length=64, blank=True)
    stripe_subscription_price_cents = models.BigIntegerField(default=0)
    stripe_subscription_request = models.CharField(
        max_length=8,
        choices=[("", "—"), ("start", _("démarrer")), ("cancel", _("arrêter"))],
        blank=True,
        default="",
    )
    stripe_subscription_interval = models.CharField(
        max_length=5, choices=[("month", "month"), ("year", "year")], blank=True, default=""
    )
    stripe_subscription_requested_at = models.DateTimeField(null=True, blank=True)
    # The first period Stripe bills (the ledger bills those before it).
    stripe_subscription_from = models.DateField(null=True, blank=True)
    stripe_subscription_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("compte de facturation")
        verbose_name_plural = _("comptes de facturation")

    def __str__(self) -> str:
        return str(self.municipality)


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("brouillon")
    OPEN = "open", _("émise")
    PAID = "paid", _("payée")
    VOID = "void", _("annulée")
    UNCOLLECTIBLE = "uncollectible", _("irrécouvrable")


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("facture")
    CREDIT_NOTE = "credit_note", _("note de crédit")


class Invoice(models.Model):
    """An invoice or a credit note. A draft is reviewed, then issued: it gets its number and its
    due date, and nothing on it changes afterwards (a credit note corrects it)."""

    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(
        _("nature"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    status = models.CharField(
        _("statut"), max_length=14, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    # The credit note's invoice.
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    price_book = models.ForeignKey(PriceBook, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("numéro"), max_length=20, unique=True, null=True, blank=True)
    language = models.CharField(_("langue"), max_length=2, default="fr")
    currency = models.CharField(max_length=3, default="CAD", editable=False)
    subtotal_cents = models.BigIntegerField(_("sous-total (¢)"), default=0)
    gst_cents = models.BigIntegerField(_("TPS (¢)"), default=0)
    qst_cents = models.BigIntegerField(_("TVQ (¢)"), default=0)
    total_cents = models.BigIntegerField(_("total (¢)"), default=0)
    paid_cents = models.BigIntegerField(_("payé (¢)"), default=0)
    # What its issued credit notes took off (positive).
    credited_cents = models.BigIntegerField(_("crédité (¢)"), default=0)
    memo = models.TextField(_("note"), max_length=2000, blank=True)
    issued_on = models.DateField(_("émise le"), null=True, blank=True)
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=64, blank=True)
    # Where its copy at Stripe stands (when Stripe is configured): the sync task carries on
    # from the last step that answered, and retries what failed for a passing reason.
    stripe_state = models.CharField(
        _("état chez Stripe"),
        max_length=10,
        choices=[
            ("", _("sans Stripe")),
            ("pending", _("à transmettre")),
            ("sent", _("transmise")),
            ("failed", _("refusée")),
        ],
        default="",
        blank=True,
    )
    stripe_error = models.CharField(_("erreur Stripe"), max_length=300, blank=True)
    stripe_url = models.URLField(_("page de paiement Stripe"), max_length=500, blank=True)
    # A period of the town's Stripe subscription: Stripe drafted the invoice, with the
    # subscription's line of this pre-tax amount; the ledger numbered it and completes it there.
    stripe_prebilled_cents = models.BigIntegerField(null=True, blank=True)
    # What Stripe's credit notes took off its copy for what the ledger settled without it
    # (cheques, transfers, credit notes) while the invoice stayed open: Stripe then asks for
    # the ledger's balance, not the whole amount.
    stripe_reduced_cents = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    total_cents=models.F("subtotal_cents")
                    + models.F("gst_cents")
                    + models.F("qst_cents")
                ),
                name="invoice_total_is_lines_and_taxes",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", number__isnull=True)
                | (~models.Q(status="draft") & models.Q(number__isnull=False)),
                name="invoice_numbered_once_issued",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", corrects__isnull=True)
                | models.Q(kind="credit_note", corrects__isnull=False),
                name="credit_note_corrects_an_invoice",
            ),
        ]

    def __str__(self) -> str:
        return self.number or str(_("brouillon n° {pk}")).format(pk=self.pk)

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents - self.credited_cents

    @property
    def creditable_cents(self) -> int:
        """What credit notes may still take off (what was paid too: it is then owed back)."""
        return self.total_cents - self.credited_cents


class LineKind(models.TextChoices):
    IMPLEMENTATION_FIXED = "implementation_fixed", _("frais fixes d'implantation")
    IMPLEMENTATION_HOURS = "implementation_hours", _("heures d'implantation")
    SUBSCRIPTION = "subscription", _("abonnement")
    ITEM = "item", _("article ponctuel")
    ADJUSTMENT = "adjustment", _("ajustement")


class InvoiceLine(models.Model):
    """One line: what, how many, at what unit price, and the line's amount (quantity × unit,
    rounded half-up to the cent), kept as issued."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("nature"), max_length=24, choices=LineKind.choices)
    description_fr = models.CharField(_("description (français)"), max_length=300)
    description_en = models.CharField(_("description (anglais)"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantité"), max_digits=12, decimal_places=4, default=1)
    unit_cents = models.BigIntegerField(_("prix unitaire (¢)"))
    amount_cents = models.BigIntegerField(_("montant (¢)"))
    activity = models.CharField(max_length=16, choices=Activity.choices, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("ligne de facture")
        verbose_name_plural = _("lignes de facture")
        ordering = ["invoice", "position", "id"]

    def __str__(self) -> str:
        return self.description_fr


class BilledTime(models.Model):
    """A time entry on the invoice line that billed it: at most once (unique), freed only when
    its draft is deleted."""

    time_entry = models.OneToOneField(
        TimeEntry, on_delete=models.PROTECT, related_name="billing", verbose_name=_("temps")
    )
    line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, related_name="time_entries")

    class Meta:
        verbose_name = _("temps facturé")
        verbose_name_plural = _("temps facturés")

    def __str__(self) -> str:
        return f"{self.time_entry_id} → {self.line_id}"


class InvoiceCounter(models.Model):
    """The last number given in a series, FAC-2026 (invoices) or NC-2026 (credit notes):
    gap-free, as the requests' counters (docs/decisions/0006)."""

    series = models.CharField(max_length=12, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de factures")
        verbose_name_plural = _("compteurs de factures")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class PaymentMethod(models.TextChoices):
    CHEQUE = "cheque", _("chèque")
    EFT = "eft", _("virement (TEF)")
    STRIPE = "stripe", _("Stripe")


class Payment(models.Model):
    """Money received against an invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("mode"), max_length=8, choices=PaymentMethod.choices)
    amount_cents = models.PositiveBigIntegerField(_("montant (¢)"))
    received_on = models.DateField(_("reçu le"))
    reference = models.CharField(_("référence"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("inscrit le"), auto_now_add=True)

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["received_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payment_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount_cents} ¢"


class StripeEvent(models.Model):
    """A webhook event from Stripe, kept once by its id (a redelivery finds it and changes
    nothing), with when its effect was applied."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("événement Stripe")
        verbose_name_plural = _("événements Stripe")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
