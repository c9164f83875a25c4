"""Where a request is: coordinates checked against Québec, and distances between two points."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Literal

from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode

# Québec, generously: a coordinate outside is a typo (or a swapped latitude and longitude).
LATITUDE_BOUNDS = (Decimal("44.9"), Decimal("62.7"))
LONGITUDE_BOUNDS = (Decimal("-79.8"), Decimal("-57.0"))
BOUNDS = {"latitude": LATITUDE_BOUNDS, "longitude": LONGITUDE_BOUNDS}
EARTH_RADIUS_M = 6_371_000

Axis = Literal["latitude", "longitude"]


def coordinate_parse(value: object, *, field: Axis) -> Decimal:
    """`value` (a number, or a text with a point or a comma) as a latitude or longitude in
    Québec, to the micro-degree. Raises CrmError `invalid_location` otherwise."""
    bounds = BOUNDS[field]
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not bounds[0] <= number <= bounds[1]:
        label = _("La latitude") if field == "latitude" else _("La longitude")
        raise CrmError(
            CrmErrorCode.INVALID_LOCATION,
            _("{label} {value} est hors du Québec (entre {low} et {high}).").format(
                label=label, value=value, low=bounds[0], high=bounds[1]
            ),
            field=field,
        )
    return number.quantize(Decimal("0.000001"))


def distance_m(lat1: Decimal, lon1: Decimal, lat2: Decimal, lon2: Decimal) -> float:
    """Great-circle distance (haversine), precise to a metre at a town's scale."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
