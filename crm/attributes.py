"""Validation of a request's answers against its service type's Open311 attributes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import AttributeDatatype, ServiceAttribute

STRING_MAX = 255
TEXT_MAX = 4000
NUMBER_DIGITS = 15  # before the decimal point
NUMBER_PLACES = 10  # after it

Answer = str | list[str]


def _invalid(attribute: ServiceAttribute, message: str) -> CrmError:
    return CrmError(CrmErrorCode.INVALID_ATTRIBUTE, message, field=f"attribute[{attribute.code}]")


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [part for part in (v.strip() for v in value.split(",")) if part]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _clean_one(attribute: ServiceAttribute, value: object) -> Answer:
    label = attribute.localized("label")
    datatype = attribute.datatype
    if datatype in {AttributeDatatype.STRING, AttributeDatatype.TEXT}:
        if isinstance(value, dict | list | tuple):  # JSON from the REST API
            raise _invalid(
                attribute,
                _("La réponse à « {label} » doit être un texte.").format(label=label),
            )
        text = str(value).strip()
        if "\x00" in text:  # PostgreSQL's JSON cannot hold it
            raise _invalid(
                attribute,
                _("La réponse à « {label} » contient un caractère nul.").format(label=label),
            )
        limit = STRING_MAX if datatype == AttributeDatatype.STRING else TEXT_MAX
        if len(text) > limit:
            raise _invalid(
                attribute,
                _("La réponse à « {label} » dépasse {limit} caractères.").format(
                    label=label, limit=limit
                ),
            )
        return text
    if datatype == AttributeDatatype.NUMBER:
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise _invalid(
                attribute, _("La réponse à « {label} » doit être un nombre.").format(label=label)
            )
        number = number.normalize() if number else Decimal(0)  # "-0" is 0
        # Bounded before it is written out: "1e999999" would otherwise be a million-digit
        # integer (seconds of work, then refused by Python's int-to-text limit).
        places = len(number.as_tuple().digits) - 1 - number.adjusted()
        if number.adjusted() >= NUMBER_DIGITS or places > NUMBER_PLACES:
            raise _invalid(
                attribute,
                _(
                    "La réponse à « {label} » doit être un nombre d'au plus {digits} chiffres "
                    "avant la virgule et {places} après."
                ).format(label=label, digits=NUMBER_DIGITS, places=NUMBER_PLACES),
            )
        return format(number, "f")
    if datatype == AttributeDatatype.DATETIME:
        moment: datetime | None = None
        try:
            moment = parse_datetime(str(value).strip())
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise _invalid(
                attribute,
                _(
                    "La réponse à « {label} » doit être une date et heure avec fuseau "
                    "(p. ex. 2026-11-22T14:30:00-05:00)."
                ).format(label=label),
            )
        return moment.isoformat()
    allowed = {choice.key for choice in attribute.values.all()}
    keys = _as_list(value)
    if datatype == AttributeDatatype.SINGLE and len(keys) != 1:
        raise _invalid(
            attribute, _("Choisissez une seule réponse à « {label} ».").format(label=label)
        )
    unknown = [key for key in keys if key not in allowed]
    if unknown:
        raise _invalid(
            attribute,
            _("« {value} » n'est pas un choix possible pour « {label} ».").format(
                value=unknown[0], label=label
            ),
        )
    return keys[0] if datatype == AttributeDatatype.SINGLE else list(dict.fromkeys(keys))


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not any(str(v).strip() for v in value)
    return False


def clean_answers(
    attributes: Iterable[ServiceAttribute], answers: Mapping[str, object] | None
) -> dict[str, Answer]:
    """Validated answers keyed by attribute code, in the attributes' order.

    Raises CrmError (code `invalid_attribute`, field `attribute[<code>]`) for a missing required
    answer, a value of the wrong type, a value outside its list, or an unknown attribute code.
    Pass attributes with their `values` prefetched.
    """
    answers = dict(answers or {})
    by_code = {attribute.code: attribute for attribute in attributes}
    for code in answers:
        if code not in by_code:
            raise CrmError(
                CrmErrorCode.INVALID_ATTRIBUTE,
                _("Ce type de requête n'a pas de champ « {code} ».").format(code=code),
                field=f"attribute[{code}]",
            )
    cleaned: dict[str, Answer] = {}
    for code, attribute in by_code.items():
        value = answers.get(code)
        if _is_blank(value):
            if attribute.required:
                raise _invalid(
                    attribute,
                    _("Le champ « {label} » est obligatoire.").format(
                        label=attribute.localized("label")
                    ),
                )
            continue
        cleaned[code] = _clean_one(attribute, value)
    return cleaned
