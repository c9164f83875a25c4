"""The host city's billing profile in the platform's admin (its legal name, address, GST and QST
numbers printed on the invoices, and its declared investment). Everything else of the ledger is
written through the console's pages and services: an issued invoice is never edited."""

from __future__ import annotations

from django.contrib import admin

from billing.models import HostBillingProfile
from tenants.admin import PlatformOnlyAdmin


@admin.register(HostBillingProfile)
class HostBillingProfileAdmin(PlatformOnlyAdmin):
    list_display = ("legal_name", "host", "gst_number", "qst_number")
