"""Municipalities (tenants) and their domains, in the public schema."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from tenants.validators import validate_brand_colour, validate_hostname, validate_slug

DEFAULT_BRAND_COLOUR = "#1f4e79"


class Region(models.TextChoices):
    """Québec's seventeen administrative regions, by official code."""

    BAS_SAINT_LAURENT = "01", "Bas-Saint-Laurent"
    SAGUENAY = "02", "Saguenay–Lac-Saint-Jean"
    CAPITALE_NATIONALE = "03", "Capitale-Nationale"
    MAURICIE = "04", "Mauricie"
    ESTRIE = "05", "Estrie"
    MONTREAL = "06", "Montréal"
    OUTAOUAIS = "07", "Outaouais"
    ABITIBI = "08", "Abitibi-Témiscamingue"
    COTE_NORD = "09", "Côte-Nord"
    NORD_DU_QUEBEC = "10", "Nord-du-Québec"
    GASPESIE = "11", "Gaspésie–Îles-de-la-Madeleine"
    CHAUDIERE_APPALACHES = "12", "Chaudière-Appalaches"
    LAVAL = "13", "Laval"
    LANAUDIERE = "14", "Lanaudière"
    LAURENTIDES = "15", "Laurentides"
    MONTEREGIE = "16", "Montérégie"
    CENTRE_DU_QUEBEC = "17", "Centre-du-Québec"


class Language(models.TextChoices):
    FRENCH = "fr", _("Français")
    ENGLISH = "en", _("Anglais")


def _default_languages() -> list[str]:
    return [Language.FRENCH, Language.ENGLISH]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("« %(value)s » n'est pas un fuseau horaire connu."),
            code="invalid_time_zone",
            params={"value": value},
        )


def logo_upload_path(instance: Municipality, filename: str) -> str:
    return f"{instance.schema_name}/branding/{filename}"


class Municipality(TenantMixin):
    class Kind(models.TextChoices):
        HOST = "host", _("Ville hôte")
        PARTNER = "partner", _("Ville partenaire")

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", _("Mise en service")
        ONBOARDING = "onboarding", _("Implantation")
        LIVE = "live", _("En service")
        SUSPENDED = "suspended", _("Suspendue")
        ARCHIVED = "archived", _("Archivée")

    name = models.CharField(_("nom"), max_length=200)
    slug = models.CharField(
        _("identifiant"),
        max_length=63,
        unique=True,
        validators=[validate_slug],
        help_text=_("Sert de sous-domaine, p. ex. « levis » pour levis.relais.quebec."),
    )
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.PARTNER)
    status = models.CharField(
        _("statut"), max_length=16, choices=Status.choices, default=Status.PROVISIONING
    )
    # The status a suspension interrupted, to return to it on resumption.
    suspended_from = models.CharField(
        _("statut avant la suspension"), max_length=16, choices=Status.choices, blank=True
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    region = models.CharField(_("région administrative"), max_length=2, choices=Region.choices)
    languages = ArrayField(
        models.CharField(max_length=2, choices=Language.choices),
        verbose_name=_("langues de service"),
        default=_default_languages,
    )
    time_zone = models.CharField(
        _("fuseau horaire"),
        max_length=64,
        default="America/Toronto",
        validators=[validate_time_zone],
    )
    host = models.ForeignKey(
        "self",
        verbose_name=_("ville hôte"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partners",
        limit_choices_to={"kind": "host"},
    )
    privacy_officer_name = models.CharField(
        _("responsable de la protection des renseignements personnels"), max_length=200
    )
    privacy_officer_email = models.EmailField(_("courriel du responsable"))
    display_name = models.CharField(
        _("nom affiché"),
        max_length=200,
        blank=True,
        help_text=_("Nom montré aux citoyens; le nom officiel s'il est vide."),
    )
    logo = models.FileField(
        _("logo"),
        upload_to=logo_upload_path,
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp"])],
    )
    primary_colour = models.CharField(
        _("couleur principale"),
        max_length=7,
        default=DEFAULT_BRAND_COLOUR,
        validators=[validate_brand_colour],
        help_text=_("Fond de l'en-tête sous du texte blanc (contraste d'au moins 4,5:1)."),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("municipalité")
        verbose_name_plural = _("municipalités")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="host") | models.Q(host__isnull=True),
                name="municipality_host_has_no_host",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def public_name(self) -> str:
        return self.display_name or self.name

    def clean(self) -> None:
        super().clean()
        if self.kind == self.Kind.HOST and self.host_id is not None:
            raise ValidationError(
                {"host": _("Une ville hôte n'est servie par aucune autre ville.")}
            )
        if self.host is not None and self.host.kind != self.Kind.HOST:
            raise ValidationError(
                {"host": _("La ville qui sert celle-ci doit être une ville hôte.")}
            )
        if not self.languages or Language.FRENCH not in self.languages:
            raise ValidationError(
                {"languages": _("Le français est obligatoire (Charte de la langue française).")}
            )

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.schema_name:
            # Schema names allow no hyphen unquoted; the slug's hyphens become underscores.
            self.schema_name = self.slug.replace("-", "_")
        super().save(*args, **kwargs)


class Domain(DomainMixin):
    """A host name that serves one municipality (sub-domain of the base domain or custom)."""

    class Meta:
        verbose_name = _("domaine")
        verbose_name_plural = _("domaines")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args: object, **kwargs: object) -> None:
        # Hosts are case-insensitive: store them lowercased so uniqueness holds.
        self.domain = (self.domain or "").strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.domain = (self.domain or "").strip().lower()
        try:
            validate_hostname(self.domain)
        except ValidationError as error:
            raise ValidationError({"domain": error.messages}) from error
        if self.domain == settings.RELAIS_BASE_DOMAIN:
            raise ValidationError(
                {"domain": _("Le domaine de base est celui de la plateforme, pas d'une ville.")}
            )


class SpareSchema(models.Model):
    """A schema migrated in advance, waiting to become a new town's (claimed by renaming it).

    `migrate_schemas` keeps spares current like any town's schema.
    """

    schema_name = models.CharField(max_length=63, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("schéma de réserve")
        verbose_name_plural = _("schémas de réserve")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.schema_name


class TownExport(models.Model):
    """An archive written by `town_export`: a town can only be deleted once one exists."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.SET_NULL, null=True, related_name="exports"
    )
    slug = models.CharField(max_length=63)
    schema_name = models.CharField(max_length=63)
    path = models.CharField(_("fichier"), max_length=500)
    rows = models.PositiveIntegerField(_("lignes"))
    files = models.PositiveIntegerField(_("fichiers"))
    created_at = models.DateTimeField(_("exportée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("exportation de municipalité")
        verbose_name_plural = _("exportations de municipalités")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.slug} {self.created_at:%Y-%m-%d %H:%M}"
