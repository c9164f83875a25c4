"""Service requests, their numbering, routing rules and append-only timeline."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models.catalog import Department, Priority, Sector, ServiceKind, ServiceType
from crm.models.citizens import Citizen

# What anonymisation writes in place of free text that could identify a person (the timeline's
# database guard accepts this exact text: see migration 0011).
ANONYMISED_TEXT = "[anonymisé]"

# Long enough for complaints, claims and follow-ups; each town sets its own retention schedule.
DEFAULT_RETENTION_YEARS = 5


class CrmSettings(models.Model):
    """The town's CRM settings: one row (pk=1), created by migration."""

    duplicate_radius_m = models.PositiveIntegerField(
        _("rayon des doublons (m)"),
        default=50,
        help_text=_("Deux requêtes du même type à moins de cette distance sont des doublons."),
    )
    duplicate_window_days = models.PositiveIntegerField(
        _("fenêtre des doublons (jours)"), default=14
    )
    close_information_at_intake = models.BooleanField(
        _("fermer les demandes d'information répondues au premier contact"),
        default=True,
        help_text=_("Une requête fermée est alors créée et comptée dans les statistiques."),
    )
    sla_warning_ratio = models.PositiveSmallIntegerField(
        _("avertissement à (% du délai)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    staff_second_factor_required = models.BooleanField(
        _("double authentification pour tout le personnel"),
        default=True,
        help_text=_(
            "Les administrateurs et les superviseurs l'utilisent toujours ; cochée, les agents "
            "311 et le personnel des services doivent aussi l'utiliser."
        ),
    )
    retention_years = models.PositiveSmallIntegerField(
        _("durée de conservation des renseignements personnels (années)"),
        default=DEFAULT_RETENTION_YEARS,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_(
            "Après ce nombre d'années, les requêtes terminées perdent leurs renseignements "
            "personnels et les fiches de citoyens sans activité récente sont anonymisées "
            "(Loi 25). Suivez le calendrier de conservation de la Ville."
        ),
    )

    # Law 25: the town's privacy policy as its portal shows it (empty: Relais's standard text,
    # which says what the portal collects and why, with the retention period above).
    privacy_policy_fr = models.TextField(
        _("politique de confidentialité (français)"),
        blank=True,
        max_length=20000,
        help_text=_(
            "Le texte de la page « Confidentialité » du portail. Vide : le texte type de Relais, "
            "qui décrit ce que le portail recueille et pourquoi. Séparez les paragraphes par une "
            "ligne vide."
        ),
    )
    privacy_policy_en = models.TextField(
        _("politique de confidentialité (anglais)"),
        blank=True,
        max_length=20000,
        help_text=_("Vide : le texte français est affiché en anglais aussi, s'il existe."),
    )

    class Meta:
        verbose_name = _("paramètres des requêtes")
        verbose_name_plural = _("paramètres des requêtes")

    def __str__(self) -> str:
        return str(_("Paramètres des requêtes"))


class RoutingRule(models.Model):
    """Sends a sector's requests (of one type, or of every type) to another department."""

    sector = models.ForeignKey(Sector, verbose_name=_("secteur"), on_delete=models.CASCADE)
    service_type = models.ForeignKey(
        ServiceType,
        verbose_name=_("type de requête"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Vide : tous les types."),
    )
    department = models.ForeignKey(
        Department, verbose_name=_("service responsable"), on_delete=models.CASCADE
    )

    class Meta:
        verbose_name = _("règle d'acheminement")
        verbose_name_plural = _("règles d'acheminement")
        constraints = [
            models.UniqueConstraint(
                fields=["sector", "service_type"],
                name="one_rule_per_sector_and_type",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.sector} / {self.service_type or '*'} → {self.department}"


class RequestCounter(models.Model):
    """The last number given per year; incremented in the creating transaction (gap-free)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de requêtes")
        verbose_name_plural = _("compteurs de requêtes")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class RequestStatus(models.TextChoices):
    NEW = "new", _("Nouvelle")
    ASSIGNED = "assigned", _("Assignée")
    IN_PROGRESS = "in_progress", _("En traitement")
    ON_HOLD = "on_hold", _("En attente")
    RESOLVED = "resolved", _("Résolue")
    CLOSED = "closed", _("Fermée")
    CANCELLED = "cancelled", _("Annulée")
    DUPLICATE = "duplicate", _("Doublon")


OPEN_STATUSES = frozenset(
    {RequestStatus.NEW, RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS, RequestStatus.ON_HOLD}
)
FINISHED_STATUSES = frozenset(
    {RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.CANCELLED, RequestStatus.DUPLICATE}
)


class Channel(models.TextChoices):
    PHONE = "phone", _("Téléphone (311)")
    COUNTER = "counter", _("Comptoir")
    WEB = "web", _("Web")
    APP = "app", _("Application mobile")
    EMAIL = "email", _("Courriel")
    API = "api", _("API")


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)


class ServiceRequest(models.Model):
    # The timeline events `request_create` wrote, in order, on the instance it returns (the
    # whole timeline of a new request: its detail needs no read back). Not a column.
    written_events: list[RequestEvent] | None = None

    number = models.CharField(_("numéro"), max_length=16, unique=True, editable=False)
    service_type = models.ForeignKey(
        ServiceType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="requests"
    )
    kind = models.CharField(_("nature"), max_length=16, choices=ServiceKind.choices)
    status = models.CharField(
        _("statut"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.NEW
    )
    priority = models.CharField(_("priorité"), max_length=8, choices=Priority.choices)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    sector = models.ForeignKey(
        Sector, verbose_name=_("secteur"), on_delete=models.PROTECT, null=True, blank=True
    )
    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices)
    channel_detail = models.CharField(
        _("précision du canal"), max_length=120, blank=True, help_text=_("p. ex. nom de la clé API")
    )
    citizen = models.ForeignKey(
        Citizen,
        verbose_name=_("citoyen"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    attributes = models.JSONField(_("réponses"), default=dict, blank=True)
    media_url = models.URLField(
        _("photo ou document"), max_length=500, blank=True, help_text=_("Adresse d'un média joint")
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("service responsable"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsable"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
    )
    sla_due_at = models.DateTimeField(_("échéance"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("en pause depuis"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(_("avertissement prévu le"), null=True, blank=True)
    sla_warned_at = models.DateTimeField(_("avertie le"), null=True, blank=True)
    sla_breached_at = models.DateTimeField(_("échéance dépassée le"), null=True, blank=True)
    first_contact_resolution = models.BooleanField(_("réglée au premier contact"), default=False)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("doublon de"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    cancellation_reason = models.TextField(_("motif d'annulation"), blank=True)
    tracking_token = models.CharField(
        _("jeton de suivi"), max_length=32, unique=True, default=new_tracking_token, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    resolved_at = models.DateTimeField(_("résolue le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("fermée le"), null=True, blank=True)
    anonymised_at = models.DateTimeField(
        _("renseignements personnels retirés le"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("requête")
        verbose_name_plural = _("requêtes")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Newest first, as every list reads them: a page stops after its rows instead of
            # sorting the whole period (Open311's 90 days can hold tens of thousands).
            models.Index(fields=["created_at", "id"], name="request_newest_idx"),
            models.Index(fields=["status", "department"], name="request_queue_idx"),
            models.Index(fields=["service_type", "latitude", "longitude"], name="request_geo_idx"),
            # The dashboards: requests resolved in a period, and those still open at a moment
            # (never finished, or finished after it).
            models.Index(fields=["resolved_at"], name="request_resolved_idx"),
            # Covering: the dashboards' backlog reads it alone (an index-only scan), not the
            # table, to find the requests open at a moment and their age.
            models.Index(
                Coalesce("resolved_at", "closed_at", output_field=models.DateTimeField()),
                name="request_finished_idx",
                include=["resolved_at", "closed_at", "created_at", "department"],
            ),
            # The requests never finished, by age: half of a busy town's table, which the
            # backlog counts from this narrow index rather than from the finished one.
            models.Index(
                fields=["created_at"],
                name="request_unfinished_idx",
                include=["department"],
                condition=models.Q(resolved_at__isnull=True, closed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class EventKind(models.TextChoices):
    CREATED = "created", _("Création")
    STATUS_CHANGED = "status_changed", _("Changement de statut")
    ASSIGNED = "assigned", _("Assignation")
    INTERNAL_NOTE = "internal_note", _("Note interne")
    PUBLIC_REPLY = "public_reply", _("Réponse au citoyen")
    MERGED = "merged", _("Fusion")
    SLA_WARNING = "sla_warning", _("Échéance proche")
    SLA_BREACHED = "sla_breached", _("Échéance dépassée")
    NOTIFICATION_SENT = "notification_sent", _("Avis envoyé")


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Interne")
    PUBLIC = "public", _("Publique")


class RequestEvent(models.Model):
    """One line of a request's timeline. Append-only: the database refuses updates and deletes."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("type"), max_length=24, choices=EventKind.choices)
    visibility = models.CharField(
        _("visibilité"), max_length=8, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(max_length=16, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=RequestStatus.choices, blank=True)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("le"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("événement")
        verbose_name_plural = _("historique")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionDenied("RequestEvent is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("RequestEvent is append-only.")


class SatisfactionResponse(models.Model):
    """The citizen's answer to the survey of a finished request (from its tracking page): a
    score from 1 (very dissatisfied) to 5 (very satisfied) and an optional comment. One per
    request. Anonymisation replaces the comment and keeps the score."""

    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, related_name="satisfaction"
    )
    score = models.PositiveSmallIntegerField(_("note"))
    comment = models.TextField(_("commentaire"), blank=True)
    language = models.CharField(_("langue"), max_length=2)
    created_at = models.DateTimeField(_("le"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("avis de satisfaction")
        verbose_name_plural = _("avis de satisfaction")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="satisfaction_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.score}/5"
