"""The town's URLs plus the desk benchmark's baseline: a staff page through the same door
(session, second factor, role) and base template, with nothing on it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from crm.desk.access import staff_required
from crm.desk.rendering import desk_render
from crm.roles import Viewer
from shared_config.urls_tenants import urlpatterns as town_urlpatterns


@staff_required()
def baseline(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return desk_render(request, viewer, "desk/base.html", section="desk")


urlpatterns = [path("bench/baseline/", baseline), *town_urlpatterns]
