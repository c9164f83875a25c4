"""The request page and its actions, under `/personnel/requetes/<number>/` (each action's
segment translated, English in locale/en)."""

from django.urls import include, path
from django.utils.translation import pgettext_lazy

from crm.desk.requests import views

actions = [
    path("", views.request_page, name="request"),
    path(pgettext_lazy("url", "statut/"), views.status_change, name="request-status"),
    path(pgettext_lazy("url", "annulation/"), views.cancel, name="request-cancel"),
    path(pgettext_lazy("url", "assignation/"), views.assign, name="request-assign"),
    path(pgettext_lazy("url", "note/"), views.note, name="request-note"),
    path(pgettext_lazy("url", "reponse/"), views.reply, name="request-reply"),
    path(pgettext_lazy("url", "pieces-jointes/"), views.attach, name="request-attach"),
    path(
        pgettext_lazy("url", "pieces-jointes/<int:pk>/"),
        views.attachment,
        name="request-attachment",
    ),
    path(pgettext_lazy("url", "fusion/<str:other>/"), views.merge, name="request-merge"),
]

urlpatterns = [
    path("<str:number>/", include(actions)),
]
