"""Contacts with citizens, and the access log of personal information (Law 25)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models.catalog import Department
from crm.models.citizens import Citizen
from crm.models.faq import FaqArticle
from crm.models.requests import Channel, ServiceRequest


class Interaction(models.Model):
    """Every contact with a citizen: the source of first-contact-resolution figures."""

    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices)
    summary = models.TextField(_("résumé"), max_length=2000)
    citizen = models.ForeignKey(
        Citizen,
        verbose_name=_("citoyen"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interactions",
    )
    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("requête"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interactions",
    )
    faq_articles = models.ManyToManyField(
        FaqArticle, verbose_name=_("articles utilisés"), blank=True, related_name="interactions"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interactions",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="interactions",
    )
    duration_seconds = models.PositiveIntegerField(_("durée (s)"), default=0)
    resolved_at_first_contact = models.BooleanField(_("réglée au premier contact"), default=False)
    created_at = models.DateTimeField(_("le"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.created_at:%Y-%m-%d %H:%M}"


class AccessAction(models.TextChoices):
    VIEW = "view", _("Consultation")
    EXPORT = "export", _("Exportation")
    ERASE = "erase", _("Anonymisation")


class AccessLog(models.Model):
    """Who viewed, exported or anonymised a citizen's personal information, when and why.
    Never edited. No actor: the command line or the retention task."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("qui"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Vide : ligne de commande ou traitement automatique (conservation)."),
    )
    citizen = models.ForeignKey(
        Citizen,
        verbose_name=_("citoyen"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
        help_text=_("Vide pour une liste ou une recherche de citoyens."),
    )
    action = models.CharField(_("action"), max_length=8, choices=AccessAction.choices)
    purpose = models.CharField(_("motif"), max_length=300)
    context = models.CharField(_("écran ou outil"), max_length=120, blank=True)
    details = models.CharField(
        _("précisions (recherche, nombre de fiches)"), max_length=300, blank=True
    )
    accessed_at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("accès aux renseignements personnels")
        verbose_name_plural = _("journal des accès")
        ordering = ["-accessed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.citizen_id}"
