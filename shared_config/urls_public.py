"""URLs of the base domain (public schema): the platform and its console."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from billing import views as billing_views
from shared_config.urls_accounts import account_patterns, invitation_patterns
from tenants import views as tenant_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Stripe's events: one address whatever the language, no session, no CSRF (signed).
    path("stripe/webhook/", billing_views.stripe_webhook, name="stripe_webhook"),
    *invitation_patterns,
    *i18n_patterns(
        *account_patterns,
        path("console/facturation/", include("billing.urls")),
        path("console/", include("onboarding.urls")),
        path("", tenant_views.platform_home, name="home"),
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
