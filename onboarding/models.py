"""The platform console's records (public schema): console roles, the audit of console actions,
onboarding projects with their milestones and logged hours, and the per-town activity rollup
that the console home reads instead of visiting every schema."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import DEFAULT_BRAND_COLOUR, Municipality, Region


class ConsoleRole(models.TextChoices):
    OPERATOR = "operator", _("opérateur de la plateforme")
    SPECIALIST = "specialist", _("spécialiste de l'implantation")


class ConsoleMember(models.Model):
    """A platform staff account allowed into the console, and its role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="console_member",
        verbose_name=_("compte"),
    )
    role = models.CharField(_("rôle"), max_length=16, choices=ConsoleRole.choices)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("membre de la console")
        verbose_name_plural = _("membres de la console")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditEntry(models.Model):
    """One action taken in the console. Append-only: never changed, never deleted."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    # Kept when the account goes: the audit must still say who acted.
    actor_email = models.EmailField(_("courriel de l'auteur"))
    action = models.CharField(_("action"), max_length=64)
    target = models.CharField(_("objet"), max_length=200, blank=True)
    detail = models.JSONField(_("détail"), default=dict, blank=True)
    at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("entrée du journal de la console")
        verbose_name_plural = _("journal de la console")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError(_("Le journal de la console ne se modifie pas."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError(_("Le journal de la console ne s'efface pas."))


class Plan(models.TextChoices):
    """Subscription plans (the billing app prices them)."""

    ESSENTIAL = "essentiel", _("Essentiel (moins de 10 000 habitants)")
    STANDARD = "standard", _("Standard (10 000 à 100 000 habitants)")
    METROPOLITAN = "metropole", _("Métropole (plus de 100 000 habitants)")


class StaffRole(models.TextChoices):
    ADMINISTRATOR = "administrateur", _("administrateur municipal")
    STAFF = "personnel", _("personnel")


class OnboardingProject(models.Model):
    """A partner town's onboarding, from the first wizard step to going live. Each wizard step
    saves here, so the wizard resumes where it was left."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("en préparation")
        PROVISIONED = "provisioned", _("mise en service faite")
        LIVE = "live", _("en ligne")
        FAILED = "failed", _("mise en service échouée")

    host = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="hosted_projects",
        limit_choices_to={"kind": Municipality.Kind.HOST},
        verbose_name=_("ville hôte"),
    )
    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="onboarding_project",
        verbose_name=_("municipalité"),
    )
    status = models.CharField(
        _("état"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    # Identity and domain.
    name = models.CharField(_("nom officiel"), max_length=200)
    slug = models.CharField(_("identifiant"), max_length=63)
    domain = models.CharField(_("domaine"), max_length=253)
    # Profile.
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    region = models.CharField(_("région administrative"), max_length=2, choices=Region.choices)
    plan = models.CharField(_("forfait"), max_length=16, choices=Plan.choices, blank=True)
    # Catalog: None in service_type_codes means every service type of the host.
    copy_catalog = models.BooleanField(_("copier le catalogue de l'hôte"), default=True)
    include_faq = models.BooleanField(_("copier la banque d'information"), default=True)
    service_type_codes = models.JSONField(_("types de requêtes choisis"), null=True, blank=True)
    department_map = models.JSONField(_("correspondance des services"), default=dict, blank=True)
    # Staff: the first administrator and the validated lines of the staff file.
    administrator_email = models.EmailField(_("courriel de l'administrateur"), blank=True)
    staff = models.JSONField(_("personnel à inviter"), default=list, blank=True)
    # Branding and privacy.
    display_name = models.CharField(_("nom affiché"), max_length=100, blank=True)
    primary_colour = models.CharField(
        _("couleur principale"), max_length=7, default=DEFAULT_BRAND_COLOUR
    )
    privacy_officer_name = models.CharField(
        _("responsable de la protection des renseignements personnels"),
        max_length=200,
        blank=True,
    )
    privacy_officer_email = models.EmailField(_("courriel du responsable"), blank=True)
    # Progress.
    completed_steps = models.JSONField(_("étapes terminées"), default=list, blank=True)
    provisioning_log = models.JSONField(_("journal de mise en service"), default=list, blank=True)
    failure_message = models.TextField(_("motif de l'échec"), blank=True)
    checklist = models.JSONField(_("liste de mise en ligne"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("projet d'implantation")
        verbose_name_plural = _("projets d'implantation")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Milestone(models.Model):
    """A dated step of a project: the console derives implementation durations from these."""

    class Kind(models.TextChoices):
        STARTED = "started", _("projet commencé")
        PROVISIONED = "provisioned", _("municipalité mise en service")
        CATALOG_COPIED = "catalog_copied", _("catalogue copié")
        STAFF_INVITED = "staff_invited", _("personnel invité")
        WENT_LIVE = "went_live", _("mise en ligne")

    project = models.ForeignKey(
        OnboardingProject, on_delete=models.CASCADE, related_name="milestones"
    )
    kind = models.CharField(_("jalon"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("le"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("jalon")
        verbose_name_plural = _("jalons")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="milestone_once_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.project} — {self.get_kind_display()}"


class Activity(models.TextChoices):
    ANALYSIS = "analyse", _("analyse des besoins")
    CONFIGURATION = "configuration", _("configuration du catalogue")
    DATA = "donnees", _("migration de données")
    TRAINING = "formation", _("formation")
    SUPPORT = "accompagnement", _("accompagnement")
    MANAGEMENT = "gestion", _("gestion de projet")


class TimeEntry(models.Model):
    """Hours an implementation specialist spent on a project; they feed the charge-back."""

    project = models.ForeignKey(
        OnboardingProject, on_delete=models.PROTECT, related_name="time_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("personne"),
    )
    day = models.DateField(_("date"))
    activity = models.CharField(_("activité"), max_length=16, choices=Activity.choices)
    hours = models.DecimalField(
        _("heures"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("24"))],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("temps consigné")
        verbose_name_plural = _("temps consignés")
        ordering = ["-day", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0, hours__lte=24), name="time_entry_hours_in_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_activity_display()} {self.hours} h"


class TownRollup(models.Model):
    """What the console home shows of a town's activity, refreshed by a scheduled task so that
    a page view never visits every schema."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, primary_key=True, related_name="rollup"
    )
    staff_count = models.PositiveIntegerField(_("personnel"), default=0)
    requests_this_month = models.PositiveIntegerField(_("requêtes ce mois-ci"), default=0)
    last_activity_at = models.DateTimeField(_("dernière activité"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("calculé le"))

    class Meta:
        verbose_name = _("activité d'une municipalité")
        verbose_name_plural = _("activité des municipalités")

    def __str__(self) -> str:
        return str(self.municipality)
