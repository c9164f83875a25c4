"""The staff workspace's URLs, under `/personnel/` (French) and `/en/staff/` (English): each
segment is translated (`pgettext_lazy("url", ...)`, English in locale/en)."""

from django.urls import include, path
from django.utils.translation import pgettext_lazy

app_name = "desk"

urlpatterns = [
    path("", include("crm.desk.calls.urls")),
    path(pgettext_lazy("url", "files/"), include("crm.desk.queues.urls")),
    path(pgettext_lazy("url", "requetes/"), include("crm.desk.requests.urls")),
    path(pgettext_lazy("url", "banque-information/"), include("crm.desk.bank.urls")),
    path(pgettext_lazy("url", "catalogue/"), include("crm.desk.catalog.urls")),
    path(pgettext_lazy("url", "tableaux-de-bord/"), include("crm.desk.dashboards.urls")),
    path(pgettext_lazy("url", "alertes/"), include("crm.desk.alerts.urls")),
]
