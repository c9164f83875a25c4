"""Coded errors of the onboarding of a town."""

from __future__ import annotations


class OnboardingError(Exception):
    """A refused onboarding step: stable `code`, HTTP status, translated message, field."""

    def __init__(self, code: str, message: str, *, status: int = 400, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
