"""Open311 GeoReport v2 routes: every resource ends with its format, `.json` or `.xml`."""

from django.urls import re_path

from crm.api.open311 import views as open311

FORMAT = r"\.(?P<format>[^/.]+)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, open311.DiscoveryView.as_view(), name="open311-discovery"),
    re_path(r"^services" + FORMAT, open311.ServiceListView.as_view(), name="open311-services"),
    re_path(
        r"^services/(?P<service_code>[^/.]+)" + FORMAT,
        open311.ServiceDefinitionView.as_view(),
        name="open311-service",
    ),
    re_path(r"^requests" + FORMAT, open311.RequestListView.as_view(), name="open311-requests"),
    re_path(
        r"^requests/(?P<service_request_id>[^/.]+)" + FORMAT,
        open311.RequestDetailView.as_view(),
        name="open311-request",
    ),
    re_path(
        r"^tokens/(?P<token>[^/.]+)" + FORMAT, open311.TokenView.as_view(), name="open311-token"
    ),
    re_path(r"", open311.NotFoundView.as_view(), name="open311-not-found"),
]
