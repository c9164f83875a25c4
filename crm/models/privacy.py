"""The register of confidentiality incidents a public body keeps under Law 25 (art. 63.11 of the
Access Act and its regulation): one per town, every version kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentRisk(models.TextChoices):
    TO_ASSESS = "to_assess", _("À évaluer")
    NOT_SERIOUS = "not_serious", _("Aucun risque de préjudice sérieux")
    SERIOUS = "serious", _("Risque de préjudice sérieux")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("En traitement")
    CLOSED = "closed", _("Clos")


class PrivacyIncident(models.Model):
    """One confidentiality incident, as the privacy officer records and follows it.

    Edited only through `crm.privacy.incident_update`, which keeps a version of every state;
    the database refuses to delete an incident."""

    title = models.CharField(_("titre"), max_length=200)
    information_concerned = models.TextField(
        _("renseignements personnels visés"),
        help_text=_(
            "Description des renseignements personnels visés par l'incident ou, si elle n'est "
            "pas connue, les raisons qui empêchent de la fournir."
        ),
    )
    circumstances = models.TextField(
        _("circonstances"), help_text=_("Brève description des circonstances de l'incident.")
    )
    occurred_on = models.DateField(
        _("date de l'incident"),
        help_text=_("Date de l'incident ou début de la période (une approximation au besoin)."),
    )
    occurred_until = models.DateField(
        _("fin de la période"),
        null=True,
        blank=True,
        help_text=_("Si l'incident s'est étendu sur une période."),
    )
    discovered_on = models.DateField(
        _("date de prise de connaissance"),
        help_text=_("Date à laquelle la Ville a pris connaissance de l'incident."),
    )
    persons_concerned = models.PositiveIntegerField(_("nombre de personnes concernées"))
    persons_concerned_estimated = models.BooleanField(
        _("nombre approximatif"),
        default=False,
        help_text=_("Cochez si le nombre exact n'est pas connu."),
    )
    risk = models.CharField(
        _("risque de préjudice sérieux"),
        max_length=12,
        choices=IncidentRisk.choices,
        default=IncidentRisk.TO_ASSESS,
    )
    risk_assessment = models.TextField(
        _("évaluation du risque"),
        blank=True,
        help_text=_(
            "Éléments qui mènent à la conclusion : sensibilité des renseignements, "
            "conséquences appréhendées de leur utilisation, probabilité qu'ils soient utilisés "
            "à des fins préjudiciables."
        ),
    )
    cai_notified_on = models.DateField(
        _("avis à la Commission d'accès à l'information le"), null=True, blank=True
    )
    persons_notified_on = models.DateField(
        _("avis aux personnes concernées le"), null=True, blank=True
    )
    notices_details = models.TextField(
        _("précisions sur les avis"),
        blank=True,
        help_text=_("Avis public, avis différé et ses motifs, autres organismes avisés."),
    )
    measures_taken = models.TextField(
        _("mesures prises"),
        blank=True,
        help_text=_("Mesures prises pour diminuer les risques qu'un préjudice soit causé."),
    )
    status = models.CharField(
        _("état"), max_length=8, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inscrit par"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("inscrit le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("incident de confidentialité")
        verbose_name_plural = _("registre des incidents de confidentialité")
        ordering = ["-discovered_on", "-id"]

    def __str__(self) -> str:
        return self.title


class PrivacyIncidentVersion(models.Model):
    """The state of an incident after each save, with who saved it and when. Never edited."""

    incident = models.ForeignKey(PrivacyIncident, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("contenu"))
    changed_fields = models.JSONField(_("champs modifiés"), default=list)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("par"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("version d'un incident")
        verbose_name_plural = _("versions d'incidents")
        ordering = ["incident", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "version"], name="privacy_incident_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} v{self.version}"
