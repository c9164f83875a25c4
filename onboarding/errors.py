"""Coded errors of the onboarding of a town."""

from __future__ import annotations

from enum import StrEnum

from shared_config.exceptions import CodedError


class OnboardingErrorCode(StrEnum):
    """Why an onboarding step was refused."""

    CHECKLIST_INCOMPLETE = "checklist_incomplete"
    NOT_A_HOST = "not_a_host"
    NOT_PROVISIONED = "not_provisioned"
    PROJECT_PROVISIONED = "project_provisioned"
    REVIEW_MISSING = "review_missing"
    STEPS_MISSING = "steps_missing"
    UNKNOWN_ACTION = "unknown_action"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_STEP = "unknown_step"


class OnboardingError(CodedError):
    """A refused onboarding step: stable `code`, HTTP status, translated message, field."""

    Code = OnboardingErrorCode
