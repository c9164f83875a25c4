"""Law 25 (Québec's privacy law) in a town's CRM: per-person export and anonymisation, the
retention rule, and the register of confidentiality incidents. Services are keyword-only,
validate first, run in one transaction and are written to the access log; the access log
itself is `crm.services.access_log_record`."""

from crm.privacy.erasure import (
    AnonymisationResult,
    account_self_delete,
    citizen_anonymise,
    requests_scrub,
)
from crm.privacy.export import citizen_export
from crm.privacy.incidents import (
    INCIDENT_FIELDS,
    incident_by_pk,
    incident_create,
    incident_problems,
    incident_update,
    incident_validate,
    incident_version,
)
from crm.privacy.records import (
    AnonymisationPreview,
    anonymisation_preview,
    citizen_data,
    citizen_record_group,
)
from crm.privacy.retention import RetentionResult, retention_apply

__all__ = [
    "INCIDENT_FIELDS",
    "AnonymisationPreview",
    "AnonymisationResult",
    "RetentionResult",
    "account_self_delete",
    "anonymisation_preview",
    "citizen_anonymise",
    "citizen_data",
    "citizen_export",
    "citizen_record_group",
    "incident_by_pk",
    "incident_create",
    "incident_problems",
    "incident_update",
    "incident_validate",
    "incident_version",
    "requests_scrub",
    "retention_apply",
]
