"""URLs of a municipality's hosts (its own schema)."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import pgettext_lazy

from crm.portal import views as portal_views
from shared_config.urls_accounts import account_patterns, invitation_patterns

urlpatterns = [
    path("admin/", admin.site.urls),
    *invitation_patterns,
    path("open311/v2/", include("crm.api.open311.urls")),
    path("api/", include("crm.api.rest.urls")),
    # allauth's headless API: the mobile app's citizen sign-in (X-Session-Token).
    path("_allauth/", include("allauth.headless.urls")),
    *i18n_patterns(
        *account_patterns,
        # The staff workspace: /personnel/ in French, /en/staff/ in English.
        path(pgettext_lazy("url", "personnel/"), include("crm.desk.urls")),
        # The citizen portal: the home page, /reponses/, /suivi/ (French), /en/… (English).
        path("", portal_views.home, name="home"),
        path("", include("crm.portal.urls")),
        prefix_default_language=False,
    ),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Errors raised before or outside a view answer in the client's format (shared_config/errors.py).
handler400 = "shared_config.errors.bad_request"
handler403 = "shared_config.errors.permission_denied"
handler404 = "shared_config.errors.page_not_found"
handler500 = "shared_config.errors.server_error"
