"""The outbox: every message Relais sends a citizen, written in the same transaction as the
change it tells about, then sent by a background task (`crm/outbox.py`)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models.citizens import Citizen
from crm.models.requests import RequestEvent, ServiceRequest


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("Courriel")
    SMS = "sms", _("Texto")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    # The sender stopped after handing the message over, before the server's answer: it may
    # have left. Never sent again on its own (a person may, after checking).
    UNCERTAIN = "uncertain", _("Envoi incertain")


class NotificationKind(models.TextChoices):
    RECEIVED = "received", _("Demande reçue")
    STATUS = "status", _("Changement de statut")
    REPLY = "reply", _("Réponse de la municipalité")
    CLOSED = "closed", _("Demande terminée")
    ALERT = "alert", _("Alerte")


class Notification(models.Model):
    """One message to one address by one channel. Its text is rendered when it is written, in
    the recipient's language: what is sent is what was decided in the transaction."""

    key = models.UUIDField(_("clé"), default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    kind = models.CharField(_("sujet"), max_length=16, choices=NotificationKind.choices)
    channel = models.CharField(_("canal"), max_length=8, choices=NotificationChannel.choices)
    citizen = models.ForeignKey(
        Citizen,
        verbose_name=_("citoyen"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("requête"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    event = models.ForeignKey(
        RequestEvent,
        verbose_name=_("événement"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    alert = models.ForeignKey(
        "crm.Alert",
        verbose_name=_("alerte"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient = models.CharField(_("destinataire"), max_length=254)
    language = models.CharField(_("langue"), max_length=2, default="fr")
    subject = models.CharField(_("objet"), max_length=200, blank=True)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("texte HTML"), blank=True)
    status = models.CharField(
        _("état"),
        max_length=12,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("essais"), default=0)
    next_attempt_at = models.DateTimeField(_("prochain essai"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("remis au serveur le"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    # The kind of the last failure (an SMTP code, an exception's class), never an address.
    last_error = models.CharField(_("dernière erreur"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("avis")
        verbose_name_plural = _("avis")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One message per event, address and channel: a service that runs twice for the
            # same change never writes a second one.
            models.UniqueConstraint(
                fields=["event", "channel", "recipient"],
                condition=Q(event__isnull=False),
                name="notification_once_per_event",
            ),
            models.UniqueConstraint(
                fields=["alert", "channel", "recipient"],
                condition=Q(alert__isnull=False),
                name="notification_once_per_alert",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notification_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_channel_display()}) #{self.pk}"
