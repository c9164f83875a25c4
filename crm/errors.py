"""Coded errors of the CRM: a stable code, an HTTP status, a translated message.

The codes are a contract with API clients: `docs/api.md` lists them (a test keeps it current).
"""

from __future__ import annotations

from enum import StrEnum

from shared_config.exceptions import CodedError


class CrmErrorCode(StrEnum):
    """Why the CRM refused an operation; the `code` of REST API errors."""

    ALREADY_ANONYMISED = "already_anonymised"
    ALREADY_IMPORTED = "already_imported"
    ALREADY_MERGED = "already_merged"
    ANSWER_TOO_LONG = "answer_too_long"
    ARTICLE_REQUIRED = "article_required"
    BULK_TOO_LARGE = "bulk_too_large"
    CALENDAR_MISCONFIGURED = "calendar_misconfigured"
    CHANGED_AGAIN = "changed_again"
    CHANGED_MEANWHILE = "changed_meanwhile"
    CITIZEN_ANONYMISED = "citizen_anonymised"
    DEPARTMENT_REQUIRED = "department_required"
    DESCRIPTION_TOO_LONG = "description_too_long"
    DUPLICATE_SERVICE = "duplicate_service"
    EMPTY_CITIZEN = "empty_citizen"
    EMPTY_DOCUMENT = "empty_document"
    EMPTY_FILE = "empty_file"
    EMPTY_MESSAGE = "empty_message"
    ENGLISH_MISSING = "english_missing"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE_REFUSED = "file_type_refused"
    ILLEGAL_TRANSITION = "illegal_transition"
    IMAGE_UNREADABLE = "image_unreadable"
    INACTIVE_SERVICE = "inactive_service"
    INVALID_ACTION = "invalid_action"
    INVALID_ALERT = "invalid_alert"
    INVALID_ARTICLE = "invalid_article"
    INVALID_ATTRIBUTE = "invalid_attribute"
    INVALID_AUDIENCE = "invalid_audience"
    INVALID_BOUNDARY = "invalid_boundary"
    INVALID_CHANNEL = "invalid_channel"
    INVALID_CITIZEN = "invalid_citizen"
    INVALID_DEPARTMENT_CODE = "invalid_department_code"
    INVALID_DOCUMENT = "invalid_document"
    INVALID_DURATION = "invalid_duration"
    INVALID_FILE = "invalid_file"
    INVALID_INCIDENT = "invalid_incident"
    INVALID_LOCATION = "invalid_location"
    INVALID_MAPPING = "invalid_mapping"
    INVALID_MEDIA_URL = "invalid_media_url"
    INVALID_PHONE = "invalid_phone"
    INVALID_PRIORITY = "invalid_priority"
    INVALID_PURPOSE = "invalid_purpose"
    INVALID_QUESTION = "invalid_question"
    INVALID_ROLE = "invalid_role"
    INVALID_ROUTING_RULE = "invalid_routing_rule"
    INVALID_SCOPE = "invalid_scope"
    INVALID_SCORE = "invalid_score"
    INVALID_SERVICE = "invalid_service"
    INVALID_SERVICE_TYPE = "invalid_service_type"
    INVALID_SETTINGS = "invalid_settings"
    INVALID_STATUS = "invalid_status"
    LOCATION_REQUIRED = "location_required"
    MERGE_INTO_ITSELF = "merge_into_itself"
    MESSAGE_TOO_LONG = "message_too_long"
    NAME_REQUIRED = "name_required"
    NAME_TAKEN = "name_taken"
    NOT_FOUND = "not_found"
    NOT_INFORMATION = "not_information"
    NOT_STAFF = "not_staff"
    NOTHING_PENDING = "nothing_pending"
    NOTHING_SELECTED = "nothing_selected"
    NOTHING_TO_ASSIGN = "nothing_to_assign"
    OPEN_REQUESTS = "open_requests"
    OTHER_DEPARTMENT = "other_department"
    PURPOSE_REQUIRED = "purpose_required"
    QUERY_TOO_LONG = "query_too_long"
    REASON_REQUIRED = "reason_required"
    REQUEST_NOT_OPEN = "request_not_open"
    SUMMARY_REQUIRED = "summary_required"
    SURVEY_NOT_OPEN = "survey_not_open"
    TOO_MANY_PHOTOS = "too_many_photos"
    UNKNOWN_ASSIGNEE = "unknown_assignee"
    UNKNOWN_DEPARTMENT = "unknown_department"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_SOURCE = "unknown_source"
    UNREADABLE_FILE = "unreadable_file"
    USE_DEDICATED_ACTION = "use_dedicated_action"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105  (an error code, not a password)


class CrmError(CodedError):
    """A refused CRM operation. `field` names the input at fault, when there is one.

    Messages are translated where raised: `_("Le service {code} n'existe pas.").format(...)`.
    """

    Code = CrmErrorCode
