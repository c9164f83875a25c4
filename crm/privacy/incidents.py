"""The register of confidentiality incidents (Law 25): every save is a new version, kept with
who made it and when; an incident is never deleted."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import IncidentRisk, IncidentStatus, PrivacyIncident, PrivacyIncidentVersion
from tenants.accounts.models import User

INCIDENT_FIELDS = (
    "title",
    "information_concerned",
    "circumstances",
    "occurred_on",
    "occurred_until",
    "discovered_on",
    "persons_concerned",
    "persons_concerned_estimated",
    "risk",
    "risk_assessment",
    "cai_notified_on",
    "persons_notified_on",
    "notices_details",
    "measures_taken",
    "status",
)
_DATES = (
    "occurred_on",
    "occurred_until",
    "discovered_on",
    "cai_notified_on",
    "persons_notified_on",
)


def incident_problems(
    incident: PrivacyIncident, *, today: date | None = None
) -> list[tuple[str, str]]:
    """Every reason the incident cannot be saved as it is, as (field, message) pairs, so that a
    form shows them all at once. Empty when it can."""
    today = today or timezone.localdate()
    problems: list[tuple[str, str]] = []
    try:
        incident.full_clean(exclude=["created_by"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            problems += [(field, message) for message in messages]
        return problems
    for field in _DATES:
        value = getattr(incident, field)
        if value is not None and value > today:
            problems.append((field, _("Cette date est dans le futur.")))
    if incident.occurred_until and incident.occurred_until < incident.occurred_on:
        problems.append(
            ("occurred_until", _("La fin de la période précède la date de l'incident."))
        )
    if incident.discovered_on < incident.occurred_on:
        problems.append(
            (
                "discovered_on",
                _(
                    "La Ville ne peut pas avoir pris connaissance de l'incident avant qu'il "
                    "survienne."
                ),
            )
        )
    for field in ("cai_notified_on", "persons_notified_on"):
        value = getattr(incident, field)
        if value is not None and value < incident.discovered_on:
            problems.append(
                (field, _("Un avis ne peut pas précéder la prise de connaissance de l'incident."))
            )
    if incident.persons_concerned < 1:
        problems.append(
            (
                "persons_concerned",
                _(
                    "Au moins une personne est concernée : donnez une approximation si le "
                    "nombre exact n'est pas connu."
                ),
            )
        )
    if incident.risk != IncidentRisk.TO_ASSESS and not incident.risk_assessment.strip():
        problems.append(
            (
                "risk_assessment",
                _("Indiquez les éléments sur lesquels repose l'évaluation du risque."),
            )
        )
    if incident.status == IncidentStatus.CLOSED:
        if incident.risk == IncidentRisk.TO_ASSESS:
            problems.append(
                ("risk", _("Évaluez le risque de préjudice avant de clore l'incident."))
            )
        if not incident.measures_taken.strip():
            problems.append(
                ("measures_taken", _("Décrivez les mesures prises avant de clore l'incident."))
            )
        if incident.risk == IncidentRisk.SERIOUS:
            if incident.cai_notified_on is None:
                problems.append(
                    (
                        "cai_notified_on",
                        _(
                            "Un incident qui présente un risque de préjudice sérieux doit être "
                            "déclaré à la Commission d'accès à l'information avant d'être clos."
                        ),
                    )
                )
            if incident.persons_notified_on is None and not incident.notices_details.strip():
                problems.append(
                    (
                        "persons_notified_on",
                        _(
                            "Avisez les personnes concernées (ou expliquez l'avis public ou "
                            "différé dans les précisions) avant de clore l'incident."
                        ),
                    )
                )
    return problems


def incident_validate(incident: PrivacyIncident, *, today: date | None = None) -> PrivacyIncident:
    """Raises CrmError `invalid_incident` naming the first field at fault."""
    problems = incident_problems(incident, today=today)
    if problems:
        field, message = problems[0]
        raise CrmError(CrmErrorCode.INVALID_INCIDENT, message, field=field)
    return incident


def _snapshot(incident: PrivacyIncident) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for name in INCIDENT_FIELDS:
        value = getattr(incident, name)
        snapshot[name] = value.isoformat() if isinstance(value, date) else value
    return snapshot


def _unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(INCIDENT_FIELDS)
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
        )


def incident_create(*, actor: User, **fields: Any) -> PrivacyIncident:
    """Record an incident in the register (version 1). Raises CrmError `invalid_incident`."""
    _unknown(fields)
    incident = incident_validate(PrivacyIncident(created_by=actor, **fields))
    with transaction.atomic():
        incident.save()
        PrivacyIncidentVersion.objects.create(
            incident=incident,
            version=incident.version,
            snapshot=_snapshot(incident),
            changed_fields=[
                name for name in INCIDENT_FIELDS if getattr(incident, name) not in ("", None)
            ],
            changed_by=actor,
        )
    return incident


def incident_update(
    *,
    actor: User,
    incident: PrivacyIncident,
    expected_version: int | None = None,
    **fields: Any,
) -> PrivacyIncident:
    """Change an incident as it is handled: the new state becomes a new version, every earlier
    one stays. Saving without a change writes nothing.

    Raises CrmError `changed_meanwhile` (409) when `expected_version` (the version the editor
    started from) is no longer the current one, so nobody overwrites a change they have not
    seen, and `invalid_incident` for an incident that breaks a rule."""
    _unknown(fields)
    with transaction.atomic():
        current = PrivacyIncident.objects.select_for_update().get(pk=incident.pk)
        if expected_version is not None and expected_version != current.version:
            raise CrmError(
                CrmErrorCode.CHANGED_MEANWHILE,
                _(
                    "Cet incident a été modifié par quelqu'un d'autre depuis que vous l'avez "
                    "ouvert (version {version}) : rechargez-le pour voir ses changements."
                ).format(version=current.version),
                status=409,
            )
        before = _snapshot(current)
        for name, value in fields.items():
            setattr(current, name, value)
        incident_validate(current)
        after = _snapshot(current)
        changed = [name for name in INCIDENT_FIELDS if before[name] != after[name]]
        if not changed:
            return current
        current.version += 1
        current.save()
        PrivacyIncidentVersion.objects.create(
            incident=current,
            version=current.version,
            snapshot=after,
            changed_fields=changed,
            changed_by=actor,
        )
    return current


def incident_by_pk(*, pk: int) -> PrivacyIncident:
    return PrivacyIncident.objects.get(pk=pk)


def incident_version(*, pk: int) -> int | None:
    """The incident's current version (None when it no longer exists)."""
    return PrivacyIncident.objects.filter(pk=pk).values_list("version", flat=True).first()
