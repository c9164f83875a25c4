"""Django's admin app with Relais's admin site (tenants/accounts/admin_site.py), which has no
sign-in form of its own. Listed in INSTALLED_APPS instead of django.contrib.admin."""

from django.contrib.admin.apps import AdminConfig


class RelaisAdminConfig(AdminConfig):
    default_site = "tenants.accounts.admin_site.RelaisAdminSite"
