"""The town's CRM settings, changed by its administrators in the staff workspace.

Each change is recorded in the settings' admin history (Django's `LogEntry`, as when the Django
admin changes them): who, when, and which fields (their names, not their values)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import CrmSettings
from crm.roles import Viewer
from crm.services.catalog import catalog_history_record, field_labels

__all__ = ["CRM_SETTINGS_FIELDS", "crm_settings_update"]

CRM_SETTINGS_FIELDS = (
    "staff_second_factor_required",
    "close_information_at_intake",
    "duplicate_radius_m",
    "duplicate_window_days",
    "sla_warning_ratio",
    "retention_years",
    "privacy_policy_fr",
    "privacy_policy_en",
)


def crm_settings_update(*, viewer: Viewer, **fields: Any) -> list[str]:
    """Change the town's settings; returns the names of the fields that changed (none: nothing
    is written nor recorded).

    Raises PermissionDenied unless `viewer` edits the catalog, CrmError `invalid_settings`
    naming the field for a value out of its range."""
    if not viewer.edits_catalog:
        raise PermissionDenied(_("Seuls les administrateurs modifient les paramètres."))
    unknown = set(fields) - set(CRM_SETTINGS_FIELDS)
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
            field=sorted(unknown)[0],
        )
    with transaction.atomic():
        settings, _created = CrmSettings.objects.select_for_update().get_or_create(pk=1)
        changed = [name for name, value in fields.items() if getattr(settings, name) != value]
        for name in changed:
            setattr(settings, name, fields[name])
        try:
            settings.full_clean()
        except ValidationError as error:
            field, messages = next(iter(error.message_dict.items()))
            raise CrmError(CrmErrorCode.INVALID_SETTINGS, messages[0], field=field) from error
        if changed:
            settings.save(update_fields=changed)
            catalog_history_record(
                viewer=viewer,
                item=settings,
                action=CHANGE,
                message=[{"changed": {"fields": field_labels(CrmSettings, changed)}}],
            )
    return changed
