"""Alerts: what the town tells the people subscribed to a topic in a sector (collections, road
works, water, emergencies), published by staff and sent through the outbox."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models.catalog import Bilingual, Sector, code_validator
from crm.models.citizens import Citizen


def subscription_token() -> str:
    return secrets.token_urlsafe(16)


class AlertTopic(Bilingual, models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name_fr = models.CharField(_("nom (français)"), max_length=120)
    name_en = models.CharField(_("nom (anglais)"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("offert"), default=True)

    class Meta:
        verbose_name = _("sujet d'alerte")
        verbose_name_plural = _("sujets d'alerte")
        ordering = ["order", "name_fr"]

    def __str__(self) -> str:
        return self.localized("name")


class Alert(Bilingual, models.Model):
    """An alert as published: never edited afterwards (its messages are already written)."""

    topic = models.ForeignKey(
        AlertTopic, verbose_name=_("sujet"), on_delete=models.PROTECT, related_name="alerts"
    )
    # No sector: the whole town.
    sectors = models.ManyToManyField(
        Sector, verbose_name=_("secteurs"), blank=True, related_name="alerts"
    )
    title_fr = models.CharField(_("titre (français)"), max_length=160)
    title_en = models.CharField(_("titre (anglais)"), max_length=160, blank=True)
    body_fr = models.TextField(_("texte (français)"), max_length=2000)
    body_en = models.TextField(_("texte (anglais)"), max_length=2000, blank=True)
    published_at = models.DateTimeField(_("publiée le"))
    ends_at = models.DateTimeField(_("en vigueur jusqu'au"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("publiée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("alerte")
        verbose_name_plural = _("alertes")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.localized("title")


class AlertSubscription(models.Model):
    """A citizen follows a topic in a sector (no sector: anywhere in town)."""

    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="alert_subscriptions"
    )
    topic = models.ForeignKey(AlertTopic, on_delete=models.CASCADE, related_name="subscriptions")
    sector = models.ForeignKey(
        Sector, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("abonnement aux alertes")
        verbose_name_plural = _("abonnements aux alertes")
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "topic", "sector"],
                name="alert_subscription_once",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} / {self.sector or _('toute la ville')}"


class RequestSubscription(models.Model):
    """A citizen who reported the same problem follows an existing request instead of filing a
    duplicate: they are told of its progress like its author."""

    request = models.ForeignKey(
        "crm.ServiceRequest", on_delete=models.CASCADE, related_name="subscriptions"
    )
    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="request_subscriptions"
    )
    # The secret of the follower's "stop following" link (their messages carry it).
    token = models.CharField(max_length=32, unique=True, default=subscription_token)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("abonnement à une requête")
        verbose_name_plural = _("abonnements à une requête")
        constraints = [
            models.UniqueConstraint(fields=["request", "citizen"], name="request_subscription_once")
        ]

    def __str__(self) -> str:
        return f"{self.request_id} / {self.citizen_id}"
