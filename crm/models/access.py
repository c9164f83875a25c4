"""Who may do what in a town: staff roles, and the API keys of integrations."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.catalog import Department


class StaffRole(models.TextChoices):
    AGENT = "agent", _("agent 311")
    DEPARTMENT = "department", _("personnel d'un service")
    SUPERVISOR = "supervisor", _("superviseur")
    ADMINISTRATOR = "administrator", _("administrateur municipal")


class StaffProfile(models.Model):
    """A staff account's role and, for department staff and supervisors, their department.
    A superuser is a municipal administrator whatever its profile says."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("compte"),
    )
    role = models.CharField(_("rôle"), max_length=16, choices=StaffRole.choices)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("service"),
    )

    class Meta:
        verbose_name = _("profil du personnel")
        verbose_name_plural = _("profils du personnel")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["department", "supervisor"])
                | models.Q(department__isnull=False),
                name="staff_profile_department_required",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class ApiScope(models.TextChoices):
    READ = "read", _("lecture")
    WRITE = "write", _("lecture et écriture")


API_KEY_PREFIX_LENGTH = 8


def api_key_digest(key: str) -> str:
    """Keys are long random strings: a plain SHA-256 is enough to keep them unusable at rest."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "rls_" + secrets.token_urlsafe(32)


class ApiKey(models.Model):
    """An integration's key (Open311 `api_key`, REST `Authorization: Api-Key …`). Only its
    digest is stored; the key itself is shown once, when it is created."""

    name = models.CharField(_("nom"), max_length=120, unique=True)
    prefix = models.CharField(_("début de la clé"), max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(_("portée"), max_length=8, choices=ApiScope.choices)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créée par"),
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("révoquée par"),
    )

    class Meta:
        verbose_name = _("clé d'API")
        verbose_name_plural = _("clés d'API")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == ApiScope.WRITE
