"""The console's billing pages, under /console/facturation/ on the base domain."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.index, name="index"),
    path("factures/", views.invoices, name="invoices"),
    path("recuperation/", views.recovery, name="recovery"),
    path("grilles/<slug:slug>/", views.price_book, name="price_book"),
    path("factures/<int:pk>/", views.invoice, name="invoice"),
    path("factures/<int:pk>/actions/", views.invoice_action, name="invoice_action"),
    path("factures/<int:pk>/pdf/", views.invoice_pdf_view, name="invoice_pdf"),
    path("comptes/<slug:slug>/", views.account, name="account"),
]
