from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render

from tenants.selectors import serving_municipality_list


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tenants/platform_home.html",
        # Links keep the port the visitor typed (development); behind a proxy there is none.
        {"towns": serving_municipality_list(), "port": split_domain_port(request.get_host())[1]},
    )
