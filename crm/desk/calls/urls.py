"""The staff workspace, the 311 desk: find the citizen, answer from the information bank,
log the call or file a request."""

from django.urls import path
from django.utils.translation import pgettext_lazy

from crm.desk.calls import views

urlpatterns = [
    path("", views.index, name="home"),
    path(pgettext_lazy("url", "motif/"), views.purpose, name="purpose"),
    path(pgettext_lazy("url", "appel/"), views.log_call, name="log_call"),
    path(pgettext_lazy("url", "nouvelle-requete/"), views.new_request, name="new_request"),
    path(
        pgettext_lazy("url", "nouvelle-requete/<str:number>/"),
        views.request_created,
        name="request_created",
    ),
]
