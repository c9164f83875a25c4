"""Writes of citizens' records: contact details, consents, merges, account links."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    Citizen,
    CitizenChange,
    CitizenMerge,
    Consent,
    ConsentPurpose,
    Interaction,
    ServiceRequest,
)
from crm.services.common import author_of, refuse_anonymised
from tenants.accounts.models import User

__all__ = [
    "CITIZEN_FIELDS",
    "IntakeContact",
    "citizen_create",
    "citizen_for_account",
    "citizen_for_contact",
    "citizen_merge",
    "citizen_update",
    "citizen_validate",
    "consent_record",
    "normalize_phone",
]

_CITIZEN_FIELDS = ("first_name", "last_name", "email", "phone", "address", "preferred_language")
CITIZEN_FIELDS = (*_CITIZEN_FIELDS, "notify_by_email", "notify_by_sms", "notify_by_phone")


def normalize_phone(raw: str) -> str:
    """ASCII digits only, without the North American country code: "+1 (450) 555-1234" →
    4505551234. Digits of any script count as theirs ("４５０" is 450), so the number is
    stored, searched and dialled in ASCII."""
    digits = "".join(
        str(unicodedata.decimal(character)) for character in raw or "" if character.isdecimal()
    )
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


def citizen_validate(citizen: Citizen) -> Citizen:
    """Normalize and validate contact data in place. Raises CrmError naming the field."""
    citizen.email = (citizen.email or "").strip().lower()
    raw_phone = citizen.phone
    citizen.phone = normalize_phone(citizen.phone)
    if raw_phone and len(citizen.phone) != 10:
        raise CrmError(
            CrmErrorCode.INVALID_PHONE,
            _("Le numéro de téléphone {phone} doit compter 10 chiffres.").format(phone=raw_phone),
            field="phone",
        )
    if not (citizen.email or citizen.phone or citizen.first_name or citizen.last_name):
        raise CrmError(
            CrmErrorCode.EMPTY_CITIZEN,
            _("Donnez au moins un nom, un courriel ou un numéro de téléphone."),
            field="email",
        )
    try:
        citizen.full_clean(exclude=["account", "merged_into"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CrmError(CrmErrorCode.INVALID_CITIZEN, messages[0], field=field) from error
    return citizen


def citizen_create(*, actor: User | None, **fields: object) -> Citizen:
    """Create a citizen record. Fields: first_name, last_name, email, phone, address,
    preferred_language, notify_by_email, notify_by_sms, notify_by_phone."""
    citizen = citizen_validate(Citizen(**fields))
    with transaction.atomic():
        citizen.save()
        given = sorted(name for name in fields if getattr(citizen, name) not in ("", None))
        CitizenChange.objects.create(
            citizen=citizen, actor=author_of(actor), created=True, fields=given
        )
    return citizen


def citizen_update(*, actor: User | None, citizen: Citizen, **fields: object) -> Citizen:
    unknown = set(fields) - {
        *_CITIZEN_FIELDS,
        "notify_by_email",
        "notify_by_sms",
        "notify_by_phone",
    }
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
        )
    with transaction.atomic():
        current = Citizen.objects.select_for_update().get(pk=citizen.pk)
        refuse_anonymised(current)
        before = {name: getattr(current, name) for name in fields}
        for name, value in fields.items():
            setattr(current, name, value)
        citizen_validate(current).save()
        changed = sorted(name for name in fields if getattr(current, name) != before[name])
        if changed:
            CitizenChange.objects.create(citizen=current, actor=author_of(actor), fields=changed)
    return current


def consent_record(
    *, actor: User | None, citizen: Citizen, purpose: str, granted: bool, channel: str = ""
) -> Consent:
    """Record a consent given or withdrawn; the history is kept, the latest one counts."""
    if purpose not in ConsentPurpose.values:
        raise CrmError(
            CrmErrorCode.INVALID_PURPOSE,
            _("Finalité de consentement inconnue : {purpose}.").format(purpose=purpose),
            field="purpose",
        )
    refuse_anonymised(citizen)
    with transaction.atomic():
        return Consent.objects.create(
            citizen=citizen,
            purpose=purpose,
            granted=granted,
            channel=channel,
            recorded_by=author_of(actor),
        )


def citizen_merge(*, actor: User | None, kept: Citizen, merged: Citizen) -> CitizenMerge:
    """Fold `merged` into `kept`: requests, interactions and consents move to `kept`, its empty
    contact fields are filled from `merged`, and `merged` stays as a trace pointing to `kept`."""
    if kept.pk == merged.pk:
        raise CrmError(
            CrmErrorCode.MERGE_INTO_ITSELF,
            _("Une fiche ne peut pas être fusionnée avec elle-même."),
        )
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Citizen.objects.select_for_update().filter(pk__in=sorted([kept.pk, merged.pk]))
        }
        target, source = locked[kept.pk], locked[merged.pk]
        refuse_anonymised(target)
        refuse_anonymised(source)
        if target.merged_into_id or source.merged_into_id:
            raise CrmError(
                CrmErrorCode.ALREADY_MERGED,
                _("L'une de ces fiches a déjà été fusionnée dans une autre."),
                status=409,
            )
        moved: dict[str, int | list[str]] = {
            "requests": ServiceRequest.objects.filter(citizen=source).update(citizen=target),
            "interactions": Interaction.objects.filter(citizen=source).update(citizen=target),
            "consents": Consent.objects.filter(citizen=source).update(citizen=target),
        }
        filled: list[str] = []
        for name in _CITIZEN_FIELDS:
            if not getattr(target, name) and getattr(source, name):
                setattr(target, name, getattr(source, name))
                filled.append(name)
        if target.account_id is None and source.account_id is not None:
            target.account_id, source.account_id = source.account_id, None
            filled.append("account")
        moved["filled"] = filled
        source.merged_into = target
        source.save()
        target.save()
        return CitizenMerge.objects.create(
            kept=target,
            merged=source,
            actor=author_of(actor),
            moved=moved,
        )


def citizen_for_account(*, user: User) -> Citizen:
    """The citizen record of a citizen's own account (created at sign-up). A new record each
    time: an existing record with the same e-mail is not linked, since nobody has proven yet
    that the account's owner is that person (staff merge the two when they are)."""
    existing = Citizen.objects.filter(account=user).first()
    if existing is not None:
        return existing
    citizen = Citizen(email=user.email, account=user, preferred_language=user.preferred_language)
    citizen_validate(citizen).save()
    return citizen


@dataclass(frozen=True)
class IntakeContact:
    """Contact data given with a request by someone without an account (an integration's
    citizen), all optional."""

    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    language: str = "fr"

    def is_empty(self) -> bool:
        return not (self.email or self.phone or self.first_name or self.last_name)


def citizen_for_contact(*, contact: IntakeContact, match: bool = True) -> Citizen | None:
    """The citizen with this e-mail, else with this phone (and no other e-mail on file), else
    a new record; None when no contact data is given. A merged record is returned as is:
    request_create follows it to the record it was merged into. `match=False`: always a new
    record (contact data typed by an anonymous visitor proves nothing about who they are).

    Raises CrmError `invalid_phone` for a phone number without 10 digits."""
    if contact.is_empty():
        return None
    phone_digits = normalize_phone(contact.phone) if contact.phone else ""
    if contact.phone and len(phone_digits) != 10:
        raise CrmError(
            CrmErrorCode.INVALID_PHONE,
            _("Le numéro de téléphone {phone} doit compter 10 chiffres.").format(
                phone=contact.phone[:40]
            ),
            field="phone",
        )
    active_first = (F("merged_into").asc(nulls_first=True), "pk")
    citizen = None
    if match and contact.email:
        citizen = (
            Citizen.objects.filter(email__iexact=contact.email).order_by(*active_first).first()
        )
    if match and citizen is None and phone_digits:
        same_phone = Citizen.objects.filter(phone=phone_digits)
        if contact.email:
            same_phone = same_phone.filter(Q(email="") | Q(email__iexact=contact.email))
        citizen = same_phone.order_by(*active_first).first()
    if citizen is not None:
        return citizen
    return citizen_create(
        actor=None,
        email=contact.email,
        phone=phone_digits,
        first_name=contact.first_name,
        last_name=contact.last_name,
        preferred_language=contact.language,
    )
