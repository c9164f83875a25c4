"""The town's business calendar: working hours per weekday and closure days."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import validate_time_zone


class BusinessCalendar(models.Model):
    """One per town (the row with pk=1): SLAs count only its working time."""

    time_zone = models.CharField(
        _("fuseau horaire"),
        max_length=64,
        default="America/Toronto",
        validators=[validate_time_zone],
    )
    quebec_holidays = models.BooleanField(
        _("jours fériés du Québec"),
        default=True,
        help_text=_("Compter les jours fériés prévus par la loi au Québec comme fermés."),
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("calendrier de travail")
        verbose_name_plural = _("calendrier de travail")

    def __str__(self) -> str:
        return str(_("Calendrier de travail"))


class WorkingHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("lundi")
        TUESDAY = 1, _("mardi")
        WEDNESDAY = 2, _("mercredi")
        THURSDAY = 3, _("jeudi")
        FRIDAY = 4, _("vendredi")
        SATURDAY = 5, _("samedi")
        SUNDAY = 6, _("dimanche")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    opens_at = models.TimeField(_("ouverture"))
    closes_at = models.TimeField(_("fermeture"))

    class Meta:
        verbose_name = _("heures d'ouverture")
        verbose_name_plural = _("heures d'ouverture")
        ordering = ["weekday"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "weekday"], name="one_interval_per_weekday"
            ),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="working_hours_close_after_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("La fermeture doit suivre l'ouverture.")})


class ClosureDay(models.Model):
    """A day the town's offices are closed besides statutory holidays (e.g. 24 December)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("motif"), max_length=120)

    class Meta:
        verbose_name = _("jour de fermeture")
        verbose_name_plural = _("jours de fermeture")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_closure_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"
