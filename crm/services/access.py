"""The Law 25 access log: who read or exported a citizen's personal information, and why."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    AccessAction,
    AccessLog,
    Citizen,
    ServiceRequest,
)
from crm.roles import Viewer
from crm.services.common import author_of
from tenants.accounts.models import User

__all__ = [
    "access_list_log_record",
    "access_log_record",
    "access_log_record_many",
    "access_log_requests_seen",
    "access_log_requests_shown",
]


def access_list_log_record(
    *, actor: User | None, purpose: str, context: str, details: str
) -> AccessLog:
    """Log that `actor` saw a list or search result of citizens (no single record)."""
    with transaction.atomic():
        return AccessLog.objects.create(
            actor=author_of(actor),
            citizen=None,
            action=AccessAction.VIEW,
            purpose=purpose[:300],
            context=context[:120],
            details=details[:300],
        )


def _access_purpose(action: str, purpose: str) -> str:
    purpose = (purpose or "").strip()
    if action not in AccessAction.values:
        raise CrmError(
            CrmErrorCode.INVALID_ACTION, _("Action inconnue : {action}.").format(action=action)
        )
    if not purpose:
        raise CrmError(
            CrmErrorCode.PURPOSE_REQUIRED,
            _("Indiquez pourquoi vous consultez ces renseignements personnels."),
            field="purpose",
        )
    return purpose[:300]


def access_log_record(
    *,
    actor: User | None,
    citizen: Citizen,
    action: str,
    purpose: str,
    context: str = "",
    details: str = "",
) -> AccessLog:
    """Log that `actor` viewed, exported or anonymised `citizen`'s personal information, and
    why (Law 25). No actor: the command line or an automatic task. Raises CrmError
    `purpose_required` without a purpose."""
    purpose = _access_purpose(action, purpose)
    with transaction.atomic():
        return AccessLog.objects.create(
            actor=author_of(actor),
            citizen=citizen,
            action=action,
            purpose=purpose,
            context=context[:120],
            details=details[:300],
        )


def access_log_record_many(
    *,
    actor: User,
    details_by_citizen: Mapping[int, str],
    purpose: str,
    context: str,
    action: str = AccessAction.VIEW,
) -> int:
    """Log that `actor` saw (or exported: `action`) several citizens at once (a page of
    requests): one row per citizen, written in one INSERT whatever their number. Returns the
    number of rows."""
    purpose = _access_purpose(action, purpose)
    rows = [
        AccessLog(
            actor=actor,
            citizen_id=citizen_id,
            action=action,
            purpose=purpose,
            context=context[:120],
            details=details[:300],
        )
        for citizen_id, details in details_by_citizen.items()
    ]
    if rows:
        AccessLog.objects.bulk_create(rows)
    return len(rows)


def access_log_requests_seen(
    *,
    actor: User,
    service_requests: Iterable[ServiceRequest],
    purpose: str | None,
    context: str,
    action: str = AccessAction.VIEW,
) -> int:
    """Log that `actor` saw (or exported: `action`) these requests with their citizens' data:
    one row per citizen shown, naming the requests, in one INSERT. Without a stated `purpose`,
    it is derived from what was shown ("Traitement de la requête 2026-000123" for one
    request). Returns the number of rows written."""
    shown = list(service_requests)
    numbers: dict[int, list[str]] = {}
    for service_request in shown:
        if service_request.citizen_id is not None:
            numbers.setdefault(service_request.citizen_id, []).append(service_request.number)
    if not numbers:
        return 0
    purpose = (purpose or "").strip()
    if not purpose:
        with translation.override(settings.LANGUAGE_CODE):
            purpose = (
                _("Traitement de la requête {number}").format(number=shown[0].number)
                if len(shown) == 1
                else _("Consultation d'une liste de requêtes")
            )
    with translation.override(settings.LANGUAGE_CODE):
        details = {
            citizen_id: _("Requête(s) {numbers}").format(numbers=", ".join(found))
            for citizen_id, found in numbers.items()
        }
    return access_log_record_many(
        actor=actor, details_by_citizen=details, purpose=purpose, context=context, action=action
    )


def access_log_requests_shown(
    *,
    viewer: Viewer,
    service_requests: Iterable[ServiceRequest],
    purpose: str | None,
    context: str,
) -> int:
    """Staff see the citizens of the requests they are shown: log it (see
    access_log_requests_seen). Nobody else is shown a citizen; nothing is written for them."""
    if not viewer.is_staff or viewer.user is None:
        return 0
    return access_log_requests_seen(
        actor=viewer.user, service_requests=service_requests, purpose=purpose, context=context
    )
