"""Dashboards and monthly reports, for supervisors (their department) and administrators (the
whole town). Read-only pages: the choices travel in the address."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.desk.access import staff_required
from crm.desk.dashboards.forms import EARLIEST, PeriodForm, ReportForm
from crm.desk.dashboards.presentation import (
    Columns,
    blocks,
    last_months,
    period_label,
    summary,
)
from crm.desk.navigation import DASHBOARD_ROLES
from crm.desk.rendering import desk_render
from crm.models import Department
from crm.roles import Viewer
from crm.selectors import (
    PeriodKind,
    dashboard_department,
    dashboard_departments,
    dashboard_figures,
    dashboard_period,
    working_calendar,
)


def _report_form(
    departments: list[Department], today: date, data: QueryDict | None = None
) -> ReportForm:
    months = [(f"{m:%Y-%m}", date_format(m, "F Y")) for m in last_months(today)]
    choices = [(d.code, str(d)) for d in departments]
    previous_month = months[1][0]
    initial = {"month": previous_month, "department": choices[0][0] if choices else ""}
    return ReportForm(data, months=months, departments=choices, initial=initial)


@staff_required(DASHBOARD_ROLES)
def index(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    tz = working_calendar().tz
    now = timezone.now().astimezone(tz)
    today = now.date()
    form = PeriodForm(request.GET or None, today=today)
    departments = dashboard_departments(viewer=viewer)
    context: dict[str, object] = {
        "form": form,
        "report_form": _report_form(departments, today),
    }
    if form.is_bound and not form.is_valid():
        return desk_render(
            request, viewer, "desk/dashboards/index.html", context, section="dashboards", status=400
        )
    kind = form.kind() if form.is_bound else PeriodKind.MONTH
    day = form.day() if form.is_bound else today
    period = dashboard_period(kind=kind, day=day, tz=tz)
    figures = dashboard_figures(viewer=viewer, period=period, now=now)
    columns = Columns(period_label(period, now=now), period_label(figures.previous_period))
    following = period.following()
    context |= {
        "figures": figures,
        "columns": columns,
        "summary": summary(figures),
        "blocks": blocks(request, figures, columns, town_wide=len(departments) > 1),
        "kind": kind,
        "previous_url": _period_url(kind, figures.previous_period.first_day),
        "following_url": (
            _period_url(kind, following.first_day) if following.start <= now else None
        ),
        "report_links": [
            (
                d,
                reverse(
                    "desk:dashboard_report",
                    kwargs={"month": f"{period.first_day:%Y-%m}", "department": d.code},
                ),
            )
            for d in departments
        ]
        if kind == PeriodKind.MONTH
        else [],
    }
    return desk_render(request, viewer, "desk/dashboards/index.html", context, section="dashboards")


def _period_url(kind: PeriodKind, day: date) -> str:
    return "?" + urlencode({"period": kind.value, "date": day.isoformat()})


@staff_required(DASHBOARD_ROLES)
def report_pick(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    """The monthly report chosen in the dashboard's form (sent to its own address)."""
    today = timezone.now().astimezone(working_calendar().tz).date()
    departments = dashboard_departments(viewer=viewer)
    form = _report_form(departments, today, request.GET or None)
    if not form.is_bound or not form.is_valid():
        return desk_render(
            request,
            viewer,
            "desk/dashboards/report_pick.html",
            {"report_form": form},
            section="dashboards",
            status=400 if form.is_bound else 200,
        )
    return HttpResponseRedirect(
        reverse(
            "desk:dashboard_report",
            kwargs={
                "month": form.cleaned_data["month"],
                "department": form.cleaned_data["department"],
            },
        )
    )


@staff_required(DASHBOARD_ROLES)
def report(request: HttpRequest, viewer: Viewer, month: str, department: str) -> HttpResponse:
    """A department's month (`2026-11`) beside the month before, printable."""
    tz = working_calendar().tz
    now = timezone.now().astimezone(tz)
    year, number = (int(part) for part in month.split("-"))
    problem = _bad_month(year, number, now)
    if problem:
        return desk_render(
            request,
            viewer,
            "desk/dashboards/report.html",
            {"problem": problem},
            section="dashboards",
            status=400,
        )
    held = dashboard_department(viewer=viewer, code=department)
    if held is None:
        raise Http404(_("Ce service n'existe pas ou ses chiffres ne vous sont pas accessibles."))
    period = dashboard_period(kind=PeriodKind.MONTH, day=date(year, number, 1), tz=tz)
    figures = dashboard_figures(viewer=viewer, period=period, department=held, now=now)
    columns = Columns(period_label(period, now=now), period_label(figures.previous_period))
    return desk_render(
        request,
        viewer,
        "desk/dashboards/report.html",
        {
            "figures": figures,
            "department": held,
            "columns": columns,
            "summary": summary(figures),
            "blocks": blocks(request, figures, columns, town_wide=False),
            "printed_at": now,
        },
        section="dashboards",
    )


def _bad_month(year: int, month: int, now: datetime) -> str:
    if not 1 <= month <= 12:
        return _("Le mois {month} n'existe pas : choisissez un mois de 01 à 12.").format(
            month=month
        )
    if year < EARLIEST.year:
        return _("Choisissez un mois à partir de l'an 2000.")
    if (year, month) > (now.year, now.month):
        return _("Ce mois n'est pas encore commencé.")
    return ""
