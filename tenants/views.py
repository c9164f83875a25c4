from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.selectors import serving_municipality_list


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tenants/platform_home.html",
        {"towns": serving_municipality_list(), "port": request.get_port()},
    )
