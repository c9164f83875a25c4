"""Private files, one folder per town: what no URL serves (a view that checks who asks does)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage

from tenants.db import connection


class PrivateTownStorage(FileSystemStorage):
    """Files under `RELAIS_PRIVATE_ROOT/<schema>/`, the folder of the town being served; without
    a URL (`url()` raises), so that nothing but a view can hand them out."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property
    def base_location(self) -> str:
        return os.path.join(settings.RELAIS_PRIVATE_ROOT, connection.schema_name)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Private files have no URL: a view serves them.")
