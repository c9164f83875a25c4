"""Rendering a workspace page: every page gets the navigation its viewer may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm.desk.navigation import navigation
from crm.roles import Viewer


def desk_render(
    request: HttpRequest,
    viewer: Viewer,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    section: str,
    status: int = 200,
) -> HttpResponse:
    """`section`: the navigation entry this page belongs to (marked as the current page)."""
    return render(
        request,
        template,
        {"viewer": viewer, "desk_nav": navigation(viewer), "desk_section": section}
        | (context or {}),
        status=status,
    )
