"""Coded errors of the tenancy layer."""

from __future__ import annotations

from django.utils.translation import gettext as _


class TenancyError(Exception):
    """A refused tenancy operation: stable `code`, HTTP status and a translated message."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def schema_exists(cls, schema: str) -> TenancyError:
        return cls(
            "schema_exists",
            _(
                "Le schéma {schema} existe déjà dans la base de données : choisissez un autre "
                "identifiant, ou supprimez d'abord l'ancien schéma."
            ).format(schema=schema),
            status=409,
        )

    @classmethod
    def domain_taken(cls, domain: str) -> TenancyError:
        return cls(
            "domain_taken",
            _("Le domaine {domain} est déjà utilisé par une autre municipalité.").format(
                domain=domain
            ),
            status=409,
        )
