from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from crm.desk.access import staff_required
from crm.desk.navigation import CATALOG_ROLES
from crm.desk.rendering import desk_render
from crm.roles import Viewer


@staff_required(CATALOG_ROLES)
def index(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return desk_render(request, viewer, "desk/catalog/index.html", section="catalog")
