"""Template context shared by every page: the town (or platform) and language links."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info

from tenants.requests import town_of


def municipality(request: HttpRequest) -> dict[str, object]:
    current = get_language() or settings.LANGUAGE_CODE
    path = request.get_full_path()
    language_links = [
        # Each language is named in itself ("English" on a French page), as users look for it.
        {
            "code": code,
            "name": capfirst(get_language_info(code)["name_local"]),
            "url": translate_url(path, code),
        }
        for code, _name in settings.LANGUAGES
        if code != current
    ]
    return {
        "municipality": town_of(request),
        "language_links": language_links,
        "base_domain": settings.RELAIS_BASE_DOMAIN,
    }
