"""URLs of a municipality's hosts (its own schema)."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from crm import views as crm_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Password set and reset for staff (the invitation link of a new town's administrator).
    path("comptes/", include("django.contrib.auth.urls")),
    *i18n_patterns(
        path("", crm_views.home, name="home"),
        prefix_default_language=False,
    ),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
