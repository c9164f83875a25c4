"""Coded errors of the tenancy layer."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext as _

from shared_config.exceptions import CodedError


class TenancyErrorCode(StrEnum):
    """Why a tenancy operation was refused."""

    CONFIRMATION_MISMATCH = "confirmation_mismatch"
    DOMAIN_TAKEN = "domain_taken"
    HAS_PARTNERS = "has_partners"
    ILLEGAL_STATUS_CHANGE = "illegal_status_change"
    INVALID_ARCHIVE = "invalid_archive"
    NO_EXPORT = "no_export"
    NOT_ARCHIVED = "not_archived"
    NOT_SUSPENDED = "not_suspended"
    SCHEMA_EXISTS = "schema_exists"
    STILL_REFERENCED = "still_referenced"
    TASK_WORKER_LOST = "task_worker_lost"


class TenancyError(CodedError):
    """A refused tenancy operation: stable `code`, HTTP status and a translated message."""

    Code = TenancyErrorCode

    @classmethod
    def schema_exists(cls, schema: str) -> TenancyError:
        return cls(
            TenancyErrorCode.SCHEMA_EXISTS,
            _(
                "Le schéma {schema} existe déjà dans la base de données : choisissez un autre "
                "identifiant, ou supprimez d'abord l'ancien schéma."
            ).format(schema=schema),
            status=409,
        )

    @classmethod
    def domain_taken(cls, domain: str) -> TenancyError:
        return cls(
            TenancyErrorCode.DOMAIN_TAKEN,
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
            TenancyErrorCode.TASK_WORKER_LOST,
            _(
                "La tâche a été commencée {attempts} fois et son travailleur s'est arrêté "
                "chaque fois avant la fin (processus tué, plantage ou base de données perdue) : "
                "elle n'est plus relancée. Corrigez la cause, puis remettez la tâche en file."
            ).format(attempts=attempts),
            status=500,
        )
