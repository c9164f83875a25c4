"""The console's billing forms. They parse; `billing.services` validates again and writes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from billing.models import BillingAccount, CatalogItem, InvoiceStatus, PaymentMethod, PlanPrice
from billing.money import money
from billing.selectors import partner_towns
from billing.services import ACCOUNT_FIELDS
from onboarding.models import Activity, Plan

# Beyond a billion dollars an amount is a typing error (and would overflow the columns).
MAX_DOLLARS = Decimal(1_000_000_000)


class DollarsField(forms.CharField):
    """An amount typed in dollars (« 1 234,56 » or "1234.56"), cleaned to integer cents."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:
        text = str(super().clean(value) or "")
        if not text.strip():
            return None  # an optional amount left blank (a required one was refused above)
        cleaned = text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("$", "")
        if "," in cleaned and "." not in cleaned:
            cleaned = cleaned.replace(",", ".")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation as error:
            raise forms.ValidationError(
                _("Saisissez un montant en dollars, par exemple 1 234,56.")
            ) from error
        if not amount.is_finite() or abs(amount) >= MAX_DOLLARS:
            raise forms.ValidationError(_("Saisissez un montant en dollars, par exemple 1 234,56."))
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


class QuantityField(forms.DecimalField):
    """A quantity as a Québec reader types it, « 1,5 » as well as "1.5"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Quantité"))
        # A text field: a number field refuses « 1,5 » in a French browser's hands.
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(
            min_value=Decimal("0.01"), max_digits=12, decimal_places=2, initial=1, **kwargs
        )

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
            if "," in value and "." not in value:
                value = value.replace(",", ".")
        return super().to_python(value)


class LineForm(forms.Form):
    description_fr = forms.CharField(label=_("Description (français)"), max_length=300)
    description_en = forms.CharField(
        label=_("Description (anglais)"), max_length=300, required=False
    )
    quantity = QuantityField()
    unit = DollarsField(
        label=_("Prix unitaire ($)"),
        allow_negative=True,
        help_text=_("Négatif pour une remise."),
    )


class ItemForm(forms.Form):
    """A one-off item of the draft's price book (its price is the book's, never typed)."""

    item = forms.ModelChoiceField(label=_("Article"), queryset=CatalogItem.objects.none())
    item_quantity = QuantityField()

    def __init__(self, *args: Any, book: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["item"])
        field.queryset = CatalogItem.objects.filter(price_book=book).order_by("label_fr")
        field.label_from_instance = _item_label  # type: ignore[method-assign,assignment]


def _item_label(item: CatalogItem) -> str:
    english = (get_language() or "fr").startswith("en") and item.label_en
    return f"{item.label_en if english else item.label_fr} — {money(item.unit_cents)}"


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


class CentsPerResidentField(forms.DecimalField):
    """Cents per resident per period, to the hundredth of a cent (2,5 ¢), cleaned to the
    price book's unit: hundredths of a cent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=Decimal("0.01"), max_digits=8, decimal_places=2, **kwargs)
        self.localize = True
        self.widget.is_localized = True

    def clean(self, value: Any) -> int | None:
        cleaned = super().clean(value)
        return None if cleaned is None else int(cleaned * 100)


class PriceBookForm(forms.Form):
    """A new version of the price book: the fixed fee, a rate per activity (blank: not billed),
    each plan flat (dollars a period) or per resident (cents a period) with a minimum."""

    effective_from = forms.DateField(
        label=_("En vigueur le"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    fixed = DollarsField(label=_("Frais fixes d'implantation ($)"), allow_negative=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for activity, label in Activity.choices:
            self.fields[f"rate_{activity}"] = DollarsField(
                label=str(label)[:1].upper() + str(label)[1:], required=False
            )
        for plan, _label in Plan.choices:
            self.fields[f"period_{plan}"] = forms.ChoiceField(
                label=_("Période"),
                choices=[("", _("— sans prix —")), *PlanPrice.Period.choices],
                required=False,
            )
            self.fields[f"flat_{plan}"] = DollarsField(
                label=_("Montant par période ($)"), required=False
            )
            self.fields[f"per_resident_{plan}"] = CentsPerResidentField(
                label=_("Ou par habitant (¢)"), required=False
            )
            self.fields[f"minimum_{plan}"] = DollarsField(
                label=_("Minimum par période ($)"), required=False, allow_negative=True
            )

    def groups(self) -> list[tuple[Any, list[Any]]]:
        """The fields by fieldset: the version, the hourly rates, then one per plan."""
        groups: list[tuple[Any, list[Any]]] = [
            (_("La version"), [self["effective_from"], self["fixed"]]),
            (
                _("Taux horaires ($ l'heure ; vide : non facturé)"),
                [self[f"rate_{activity}"] for activity, _label in Activity.choices],
            ),
        ]
        for plan, label in Plan.choices:
            groups.append(
                (
                    label,
                    [
                        self[f"{part}_{plan}"]
                        for part in ("period", "flat", "per_resident", "minimum")
                    ],
                )
            )
        return groups

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("fixed") is not None and data["fixed"] < 0:
            self.add_error("fixed", _("Le montant doit être positif ou nul."))
        for plan, _label in Plan.choices:
            flat, per = data.get(f"flat_{plan}"), data.get(f"per_resident_{plan}")
            if flat and per:
                self.add_error(
                    f"per_resident_{plan}", _("Un montant fixe ou par habitant, pas les deux.")
                )
            if (flat or per) and not data.get(f"period_{plan}"):
                self.add_error(f"period_{plan}", _("Choisissez la période."))
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        rates = {
            activity: data[f"rate_{activity}"]
            for activity, _label in Activity.choices
            if data.get(f"rate_{activity}")
        }
        plans = []
        for plan, _label in Plan.choices:
            flat, per = data.get(f"flat_{plan}"), data.get(f"per_resident_{plan}")
            if not (flat or per):
                continue
            plans.append(
                {
                    "plan": plan,
                    "basis": PlanPrice.Basis.FLAT if flat else PlanPrice.Basis.PER_RESIDENT,
                    "period": data[f"period_{plan}"],
                    "amount": flat or per,
                    "minimum_cents": max(data.get(f"minimum_{plan}") or 0, 0),
                }
            )
        return {
            "effective_from": data["effective_from"],
            "implementation_fixed_cents": data["fixed"],
            "rates": rates,
            "plans": plans,
        }

    @classmethod
    def initial_of(cls, book: Any) -> dict[str, Any]:
        """The form filled from a version (its amounts written in dollars and cents)."""
        if book is None:
            return {}
        initial: dict[str, Any] = {"fixed": _dollars(book.implementation_fixed_cents)}
        for rate in book.rates.all():
            initial[f"rate_{rate.activity}"] = _dollars(rate.hourly_cents)
        for price in book.plans.all():
            initial[f"period_{price.plan}"] = price.period
            initial[f"minimum_{price.plan}"] = _dollars(price.minimum_cents)
            if price.basis == PlanPrice.Basis.FLAT:
                initial[f"flat_{price.plan}"] = _dollars(price.amount)
            else:
                initial[f"per_resident_{price.plan}"] = Decimal(price.amount) / 100
        return initial


def _dollars(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"
