"""REST API routes (/api/v1/) and its OpenAPI schema and documentation."""

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from crm.api.rest import views

# What Redoc needs beyond the project's policy (shared_config/settings.py): a web worker started
# from a blob: URL (its search index), and the stylesheet its bundle injects as it loads, before
# it can be handed the request's nonce (perfect-scrollbar's, allowed by its hash, and the empty
# <style> it starts as). The styles Redoc adds later carry the nonce (static/relais/js/redoc.js).
# Another Redoc may inject another stylesheet: the browser tests report it as a violation.
REDOC_POLICY = {
    "worker-src": ["blob:"],
    "style-src": [
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    ],
}

urlpatterns = [
    path("v1/services/", views.ServiceTypeList.as_view(), name="api-services"),
    path("v1/services/<str:code>/", views.ServiceTypeDetail.as_view(), name="api-service"),
    path("v1/faq/", views.FaqSearch.as_view(), name="api-faq"),
    path("v1/requests/", views.RequestListCreate.as_view(), name="api-requests"),
    path("v1/requests/<str:number>/", views.RequestDetail.as_view(), name="api-request"),
    path(
        "v1/requests/<str:number>/status/",
        views.RequestStatusChange.as_view(),
        name="api-request-status",
    ),
    path(
        "v1/requests/<str:number>/assignment/",
        views.RequestAssignment.as_view(),
        name="api-request-assignment",
    ),
    path(
        "v1/requests/<str:number>/replies/", views.RequestReply.as_view(), name="api-request-reply"
    ),
    path("v1/requests/<str:number>/notes/", views.RequestNote.as_view(), name="api-request-note"),
    path("v1/citizens/", views.CitizenListCreate.as_view(), name="api-citizens"),
    path("v1/citizens/<int:pk>/", views.CitizenDetail.as_view(), name="api-citizen"),
    path("v1/interactions/", views.InteractionListCreate.as_view(), name="api-interactions"),
    path("v1/me/requests/", views.MyRequests.as_view(), name="api-my-requests"),
    path("v1/me/preferences/", views.MyPreferences.as_view(), name="api-my-preferences"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        csp_update(REDOC_POLICY)(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    re_path(r"^", views.api_not_found),
]
