"""The console's billing forms. They parse; `billing.services` validates again and writes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import BillingAccount, InvoiceStatus, PaymentMethod
from billing.selectors import partner_towns
from billing.services import ACCOUNT_FIELDS


class DollarsField(forms.CharField):
    """An amount typed in dollars (« 1 234,56 » or "1234.56"), cleaned to integer cents."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int:
        text = str(super().clean(value) or "")
        cleaned = text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("$", "")
        if "," in cleaned and "." not in cleaned:
            cleaned = cleaned.replace(",", ".")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation as error:
            raise forms.ValidationError(
                _("Saisissez un montant en dollars, par exemple 1 234,56.")
            ) from error
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise forms.ValidationError(_("Un montant a au plus deux décimales."))
        if amount <= 0 and not self.allow_negative:
            raise forms.ValidationError(_("Le montant doit être positif."))
        return int(amount * 100)


class AccountForm(forms.ModelForm):
    class Meta:
        model = BillingAccount
        fields = ACCOUNT_FIELDS
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class ImplementationForm(forms.Form):
    until = forms.DateField(
        label=_("Heures consignées jusqu'au"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )


class SubscriptionForm(forms.Form):
    period_start = forms.DateField(
        label=_("Début de la période"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Le premier jour du mois, pour un forfait mensuel."),
    )


class LineForm(forms.Form):
    description_fr = forms.CharField(label=_("Description (français)"), max_length=300)
    description_en = forms.CharField(
        label=_("Description (anglais)"), max_length=300, required=False
    )
    quantity = forms.DecimalField(
        label=_("Quantité"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2, initial=1
    )
    unit = DollarsField(
        label=_("Prix unitaire ($)"),
        allow_negative=True,
        help_text=_("Négatif pour une remise."),
    )


class PaymentForm(forms.Form):
    amount = DollarsField(label=_("Montant reçu ($)"))
    method = forms.ChoiceField(
        label=_("Mode"),
        choices=[(PaymentMethod.CHEQUE, PaymentMethod.CHEQUE.label),
                 (PaymentMethod.EFT, PaymentMethod.EFT.label)],
    )  # fmt: skip
    received_on = forms.DateField(
        label=_("Reçu le"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )
    reference = forms.CharField(
        label=_("Référence (n° de chèque, de virement)"), max_length=100, required=False
    )


class CreditForm(forms.Form):
    amount = DollarsField(label=_("Montant avant taxes ($)"))
    reason = forms.CharField(label=_("Motif"), max_length=500)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Motif de l'annulation"), max_length=500)


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Statut"), choices=[("", _("Tous")), *InvoiceStatus.choices], required=False
    )
    town = forms.ChoiceField(label=_("Municipalité"), choices=[], required=False)
    year = forms.IntegerField(label=_("Année"), min_value=2000, max_value=2100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        towns = partner_towns()
        self.fields["town"].choices = [("", _("Toutes"))] + [  # type: ignore[attr-defined]
            (town.slug, town.name) for town in towns
        ]
