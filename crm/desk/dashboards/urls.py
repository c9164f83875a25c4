"""The staff workspace: dashboards and monthly reports for supervisors and administrators."""

from django.urls import path, register_converter
from django.utils.text import format_lazy
from django.utils.translation import pgettext_lazy

from crm.desk.dashboards import views


class MonthConverter:
    """`2026-11`: a month as the report's address spells it (checked by the view)."""

    regex = "[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "yyyy-mm")

urlpatterns = [
    path("", views.index, name="dashboards"),
    path(pgettext_lazy("url", "rapport/"), views.report_pick, name="dashboard_report_pick"),
    path(
        format_lazy("{}<yyyy-mm:month>/<slug:department>/", pgettext_lazy("url", "rapport/")),
        views.report,
        name="dashboard_report",
    ),
]
