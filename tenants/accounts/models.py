"""User accounts. The table exists in every schema: platform staff live in the public schema,
each town's staff and citizens in the town's own schema (a Lévis account has no row in Laval)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(DjangoUserManager["User"]):
    """Accounts are identified by e-mail address; there is no user name."""

    def _create_user_by_email(self, email: str, password: str | None, **extra_fields: Any) -> User:
        if not email:
            raise ValueError(_("L'adresse courriel est obligatoire."))
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user_by_email(email, password, **extra_fields)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user_by_email(email, password, **extra_fields)


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("adresse courriel"), unique=True)
    preferred_language = models.CharField(
        _("langue de préférence"),
        max_length=2,
        choices=[("fr", _("Français")), ("en", _("Anglais"))],
        default="fr",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email
