"""Open311 GeoReport v2 on each town's host (`/open311/v2/`): see `views.py`."""
