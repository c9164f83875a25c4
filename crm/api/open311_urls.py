"""Open311 GeoReport v2 routes (filled by crm/api/open311.py)."""

urlpatterns: list = []
