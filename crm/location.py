"""Where a request is: coordinates checked against Québec, and distances between two points."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Literal

import shapely.geometry
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

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


def boundary_parse(value: object) -> BaseGeometry:
    """A sector's boundary: a GeoJSON Polygon or MultiPolygon (a Feature holding one is
    accepted), in longitude, latitude, valid (no self-crossing) and inside Québec. Raises
    CrmError `invalid_boundary` otherwise."""
    geometry = value.get("geometry") if isinstance(value, dict) and "geometry" in value else value
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise CrmError(
            CrmErrorCode.INVALID_BOUNDARY,
            _("Les limites doivent être un polygone GeoJSON (Polygon ou MultiPolygon)."),
            field="boundary",
        )
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, IndexError, AttributeError) as error:
        raise CrmError(
            CrmErrorCode.INVALID_BOUNDARY,
            _("Ce polygone GeoJSON est illisible : ses coordonnées sont incomplètes."),
            field="boundary",
        ) from error
    if shape.is_empty or not shape.is_valid:
        raise CrmError(
            CrmErrorCode.INVALID_BOUNDARY,
            _("Ce polygone se croise lui-même ou n'a pas de surface."),
            field="boundary",
        )
    west, south, east, north = shape.bounds
    if not (
        LONGITUDE_BOUNDS[0] <= Decimal(str(west))
        and Decimal(str(east)) <= LONGITUDE_BOUNDS[1]
        and LATITUDE_BOUNDS[0] <= Decimal(str(south))
        and Decimal(str(north)) <= LATITUDE_BOUNDS[1]
    ):
        raise CrmError(
            CrmErrorCode.INVALID_BOUNDARY,
            _(
                "Ce polygone sort du Québec : les coordonnées GeoJSON s'écrivent longitude, "
                "puis latitude."
            ),
            field="boundary",
        )
    return shape


def contains(boundary: BaseGeometry, latitude: Decimal, longitude: Decimal) -> bool:
    """Whether the point is inside the boundary or on its edge."""
    return bool(boundary.covers(shapely.geometry.Point(float(longitude), float(latitude))))
