"""The one coded-error base of Relais.

Every app refuses an operation by raising a subclass of `CodedError` whose `Code` is the app's
`StrEnum` of stable codes (`crm.errors.CrmErrorCode`, `onboarding.errors.OnboardingErrorCode`,
`tenants.errors.TenancyErrorCode`). The code is what API clients and tests rely on; the message is
translated where raised, with named placeholders; `status` is the HTTP status an interface answers;
`field` names the input at fault, when there is one. The codes are listed in `docs/api.md`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class CodedError(Exception):
    """A refused operation: a stable `code`, a translated `message`, an HTTP `status`, a `field`.

    A subclass sets `Code` to its app's enum; a code outside it is a programming error and raises
    ValueError where the error is built, so that no undocumented code reaches a client.
    """

    Code: ClassVar[type[StrEnum]]

    def __init__(
        self, code: StrEnum | str, message: str, *, status: int = 400, field: str = ""
    ) -> None:
        super().__init__(message)
        self.code: StrEnum = self.Code(code)
        self.message = message
        self.status = status
        self.field = field

    def __str__(self) -> str:
        return self.message
