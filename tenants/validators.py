"""Validators for what ends up in a host name or a page's colours."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

# Sub-domains the platform keeps for itself.
RESERVED_SLUGS = frozenset(
    {"www", "public", "admin", "api", "console", "static", "media", "mail", "relais", "platform"}
)


def validate_slug(value: str) -> None:
    """A town's slug becomes a sub-domain: a lowercase host-name label, no underscore."""
    if not _LABEL.match(value):
        raise ValidationError(
            _(
                "« %(value)s » n'est pas un identifiant valide : lettres minuscules sans accent, "
                "chiffres et traits d'union seulement (pas de trait de soulignement), "
                "63 caractères au plus, sans trait d'union au début ni à la fin."
            ),
            code="invalid_slug",
            params={"value": value},
        )
    if value in RESERVED_SLUGS or value.startswith("pg-") or value == "information-schema":
        raise ValidationError(
            _("« %(value)s » est réservé par la plateforme."),
            code="reserved_slug",
            params={"value": value},
        )


def validate_hostname(value: str) -> None:
    """A full host name (no port, no scheme): dot-separated labels, 253 characters at most."""
    labels = value.split(".")
    if len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(
            _(
                "« %(value)s » n'est pas un nom d'hôte valide : lettres minuscules sans accent, "
                "chiffres, points et traits d'union seulement (pas de trait de soulignement)."
            ),
            code="invalid_hostname",
            params={"value": value},
        )


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast ratio between the colour and white text."""
    return 1.05 / (_relative_luminance(hex_colour) + 0.05)


def validate_brand_colour(value: str) -> None:
    """The primary colour is a header background under white text: WCAG AA needs 4.5:1."""
    if not _HEX_COLOUR.match(value):
        raise ValidationError(
            _("« %(value)s » n'est pas une couleur au format #RRVVBB."),
            code="invalid_colour",
            params={"value": value},
        )
    ratio = contrast_with_white(value)
    if ratio < 4.5:
        raise ValidationError(
            _(
                "La couleur %(value)s n'offre qu'un contraste de %(ratio).1f:1 avec le texte "
                "blanc; il faut au moins 4,5:1 (WCAG 2.1 AA). Choisissez une teinte plus foncée."
            ),
            code="low_contrast",
            params={"value": value, "ratio": ratio},
        )
