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


class TaskWorkerLost(TenancyError):
    """The error recorded on a background task whose worker stopped before finishing it (killed,
    crashed, or cut off from the database) as many times as it may be tried: it is not run again.
    """

    def __init__(self, *, attempts: int) -> None:
        super().__init__(
            "task_worker_lost",
            _(
                "La tâche a été commencée {attempts} fois et son travailleur s'est arrêté "
                "chaque fois avant la fin (processus tué, plantage ou base de données perdue) : "
                "elle n'est plus relancée. Corrigez la cause, puis remettez la tâche en file."
            ).format(attempts=attempts),
            status=500,
        )
