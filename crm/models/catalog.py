"""The service catalog: departments, categories, service types and their Open311 attributes."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$",
    _("Lettres minuscules sans accent, chiffres, « - » et « _ » seulement."),
)


class Bilingual:
    """`name`, `description`… in the active language, French when English is empty."""

    def localized(self, field: str) -> str:
        french = getattr(self, f"{field}_fr")
        if get_language() == "en":
            return str(getattr(self, f"{field}_en", "") or french)
        return str(french)


class Provenance(models.Model):
    """Stable identity for copies between towns: a partner's copy keeps the host's uuid."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source_uuid = models.UUIDField(
        _("origine"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Identifiant de l'élément de la ville hôte dont celui-ci est une copie."),
    )

    class Meta:
        abstract = True


class UpstreamTracked(models.Model):
    """What a copy was made from, so that the host's later edits can be offered (crm.upstream).

    Both hold one md5 per followed field (see crm.upstream.FOLLOWED), not the values.
    """

    source_fingerprint = models.JSONField(
        _("empreinte de l'original"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Version de la ville hôte dont cet élément est issu (copie ou mise à jour)."),
    )
    source_seen = models.JSONField(
        _("dernière version ignorée"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Version de la ville hôte examinée et ignorée; vide si aucune."),
    )

    class Meta:
        abstract = True


class Department(Bilingual, Provenance):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name_fr = models.CharField(_("nom (français)"), max_length=160)
    name_en = models.CharField(_("nom (anglais)"), max_length=160, blank=True)
    email = models.EmailField(_("courriel du service"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("service municipal")
        verbose_name_plural = _("services municipaux")
        ordering = ["name_fr"]

    def __str__(self) -> str:
        return self.localized("name")


class Sector(Bilingual, models.Model):
    """A district of the town (quartier, secteur) used for routing and alerts."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name_fr = models.CharField(_("nom (français)"), max_length=160)
    name_en = models.CharField(_("nom (anglais)"), max_length=160, blank=True)
    # A GeoJSON Polygon or MultiPolygon (longitude, latitude): a request placed inside it gets
    # this sector, and alerts for it reach the people subscribed to it.
    boundary = models.JSONField(_("limites (GeoJSON)"), null=True, blank=True)

    class Meta:
        verbose_name = _("secteur")
        verbose_name_plural = _("secteurs")
        ordering = ["name_fr"]

    def __str__(self) -> str:
        return self.localized("name")

    def clean(self) -> None:
        super().clean()
        if self.boundary is not None:
            from crm.errors import CrmError
            from crm.location import boundary_parse

            try:
                boundary_parse(self.boundary)
            except CrmError as error:
                raise ValidationError({"boundary": error.message}) from error


class ServiceCategory(Bilingual, Provenance):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name_fr = models.CharField(_("nom (français)"), max_length=160)
    name_en = models.CharField(_("nom (anglais)"), max_length=160, blank=True)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("catégorie de services")
        verbose_name_plural = _("catégories de services")
        ordering = ["order", "name_fr"]

    def __str__(self) -> str:
        return self.localized("name")


class ServiceKind(models.TextChoices):
    """Montréal's four natures of a citizen request."""

    REQUEST = "request", _("Demande")
    COMPLAINT = "complaint", _("Plainte")
    INFORMATION = "information", _("Information")
    COMMENT = "comment", _("Commentaire")


class Priority(models.TextChoices):
    LOW = "low", _("Basse")
    NORMAL = "normal", _("Normale")
    HIGH = "high", _("Haute")
    URGENT = "urgent", _("Urgente")


class SlaUnit(models.TextChoices):
    HOURS = "hours", _("heures ouvrables")
    DAYS = "days", _("jours ouvrables")


class ServiceType(Bilingual, Provenance, UpstreamTracked):
    code = models.CharField(
        _("code"),
        max_length=60,
        unique=True,
        validators=[code_validator],
        help_text=_("Identifiant stable, publié comme service_code Open311."),
    )
    name_fr = models.CharField(_("nom (français)"), max_length=200)
    name_en = models.CharField(_("nom (anglais)"), max_length=200, blank=True)
    description_fr = models.TextField(_("description (français)"), blank=True)
    description_en = models.TextField(_("description (anglais)"), blank=True)
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("catégorie"),
        on_delete=models.PROTECT,
        related_name="service_types",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("service responsable"),
        on_delete=models.PROTECT,
        related_name="service_types",
    )
    kind = models.CharField(
        _("nature"), max_length=16, choices=ServiceKind.choices, default=ServiceKind.REQUEST
    )
    sla_value = models.PositiveIntegerField(
        _("délai cible"), null=True, blank=True, help_text=_("Vide : aucun délai.")
    )
    sla_unit = models.CharField(
        _("unité du délai"), max_length=8, choices=SlaUnit.choices, default=SlaUnit.DAYS
    )
    default_priority = models.CharField(
        _("priorité par défaut"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    is_public = models.BooleanField(
        _("offert aux citoyens"),
        default=True,
        help_text=_("Visible dans le portail, l'application et Open311."),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    location_required = models.BooleanField(_("lieu obligatoire"), default=True)
    keywords = ArrayField(
        models.CharField(max_length=60), verbose_name=_("mots-clés"), default=list, blank=True
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("type de requête")
        verbose_name_plural = _("types de requêtes")
        ordering = ["category__order", "name_fr"]

    def __str__(self) -> str:
        return f"{self.code} — {self.localized('name')}"

    @property
    def localized_name(self) -> str:
        """The name in the current language, without the code (what citizens read)."""
        return self.localized("name")


class UpstreamUpdate(ServiceType):
    """The admin's entry for the host's updates (crm.upstream); no table of its own."""

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = _("mise à jour de la ville hôte")
        verbose_name_plural = _("mises à jour de la ville hôte")


class AttributeDatatype(models.TextChoices):
    """Open311 GeoReport v2 attribute datatypes."""

    STRING = "string", _("texte court")
    NUMBER = "number", _("nombre")
    DATETIME = "datetime", _("date et heure")
    TEXT = "text", _("texte long")
    SINGLE = "singlevaluelist", _("choix unique")
    MULTI = "multivaluelist", _("choix multiple")


class ServiceAttribute(Bilingual, models.Model):
    """A question asked when a request of this type is made (Open311 `attribute`)."""

    service_type = models.ForeignKey(
        ServiceType, on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.CharField(_("code"), max_length=60, validators=[code_validator])
    label_fr = models.CharField(_("question (français)"), max_length=300)
    label_en = models.CharField(_("question (anglais)"), max_length=300, blank=True)
    datatype = models.CharField(_("type de réponse"), max_length=16, choices=AttributeDatatype)
    required = models.BooleanField(_("obligatoire"), default=False)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service_type", "code"], name="attribute_code_unique")
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_list(self) -> bool:
        return self.datatype in {AttributeDatatype.SINGLE, AttributeDatatype.MULTI}


class ServiceAttributeValue(Bilingual, models.Model):
    attribute = models.ForeignKey(ServiceAttribute, on_delete=models.CASCADE, related_name="values")
    key = models.CharField(_("valeur"), max_length=60)
    name_fr = models.CharField(_("libellé (français)"), max_length=200)
    name_en = models.CharField(_("libellé (anglais)"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("choix de réponse")
        verbose_name_plural = _("choix de réponse")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["attribute", "key"], name="attribute_value_unique")
        ]

    def __str__(self) -> str:
        return self.key
