"""Citizens: contact data, preferences, consents, merges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import TextField, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from crm.models.faq import Fold


class Citizen(models.Model):
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    last_name = models.CharField(_("nom"), max_length=100, blank=True)
    email = models.EmailField(_("courriel"), blank=True, db_index=True)
    phone = models.CharField(
        _("téléphone"),
        max_length=20,
        blank=True,
        db_index=True,
        help_text=_("Chiffres seulement, indicatif régional compris (p. ex. 4505551234)."),
    )
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    preferred_language = models.CharField(
        _("langue de préférence"),
        max_length=2,
        choices=[("fr", _("Français")), ("en", _("Anglais"))],
        default="fr",
    )
    notify_by_email = models.BooleanField(_("avis par courriel"), default=True)
    notify_by_sms = models.BooleanField(_("avis par texto"), default=False)
    notify_by_phone = models.BooleanField(_("avis par téléphone"), default=False)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="citizen",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("fusionné dans"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_citizens",
    )
    anonymised_at = models.DateTimeField(
        _("anonymisé le"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Irréversible : la fiche ne permet plus d'identifier la personne."),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    # What the 311 desk searches (accents and case folded), kept by the database itself: folding
    # every record at each keystroke cost 190 ms with 20,000 citizens (bench/desk.py).
    search_text = models.GeneratedField(
        expression=Fold(
            Concat(
                "first_name",
                Value(" "),
                "last_name",
                Value(" "),
                "email",
                Value(" "),
                "address",
                output_field=TextField(),
            )
        ),
        output_field=TextField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("citoyen")
        verbose_name_plural = _("citoyens")
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        if self.anonymised_at is not None:
            return str(_("Fiche anonymisée n° {id}").format(id=self.pk))
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or f"#{self.pk}"

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None


class ConsentPurpose(models.TextChoices):
    REQUEST_FOLLOW_UP = "request_follow_up", _("Suivi de mes requêtes")
    ALERTS = "alerts", _("Alertes municipales")
    SURVEYS = "surveys", _("Sondages de satisfaction")


class Consent(models.Model):
    """A consent given or withdrawn, with its date and purpose (Law 25). Never edited."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("finalité"), max_length=32, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("accordé"))
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)
    channel = models.CharField(_("canal"), max_length=16, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("consentement")
        verbose_name_plural = _("consentements")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.granted}"


class CitizenMerge(models.Model):
    """The trace of a merge: which record was folded into which, by whom, and what moved."""

    kept = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="merges")
    merged = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    moved = models.JSONField(_("éléments déplacés"), default=dict)
    merged_at = models.DateTimeField(_("fusionné le"), auto_now_add=True)

    class Meta:
        verbose_name = _("fusion de citoyens")
        verbose_name_plural = _("fusions de citoyens")
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.kept_id}"


class CitizenChange(models.Model):
    """Who created or changed a citizen's record, when, and which fields (Law 25): the names of
    the fields only, never their values, so the trail adds no copy of personal data."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.BooleanField(_("création"), default=False)
    fields = models.JSONField(_("champs modifiés"), default=list)
    changed_at = models.DateTimeField(_("modifié le"), auto_now_add=True)

    class Meta:
        verbose_name = _("modification de fiche de citoyen")
        verbose_name_plural = _("modifications de fiches de citoyens")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.citizen_id}: {', '.join(self.fields)}"
