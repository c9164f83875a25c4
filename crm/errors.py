"""Coded errors of the CRM: a stable code, an HTTP status, a translated message."""

from __future__ import annotations


class CrmError(Exception):
    """A refused CRM operation. `field` names the input at fault, when there is one.

    Messages are translated where raised: `_("Le service {code} n'existe pas.").format(...)`.
    """

    def __init__(self, code: str, message: str, *, status: int = 400, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field

    def __str__(self) -> str:
        return self.message
