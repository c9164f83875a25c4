"""The town's URLs plus the portal benchmark's baseline: a portal page through the same
middleware (routing, session, CSRF, CSP, language) and base template, with nothing on it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from shared_config.urls_tenants import urlpatterns as town_urlpatterns


def baseline(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/base.html", {"portal_section": "home"})


urlpatterns = [path("bench/baseline/", baseline), *town_urlpatterns]
