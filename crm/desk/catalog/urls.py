"""The staff workspace, the catalog for administrators: service types, their questions
and routing, the host city's updates, the town's settings."""

from django.urls import path
from django.utils.translation import pgettext_lazy

from crm.desk.catalog import views

urlpatterns = [
    path("", views.index, name="catalog"),
    path(pgettext_lazy("url", "types/nouveau/"), views.service_type, name="catalog_type_new"),
    path(pgettext_lazy("url", "types/<int:pk>/"), views.service_type, name="catalog_type"),
    path(
        pgettext_lazy("url", "types/<int:pk>/questions/nouvelle/"),
        views.question,
        name="catalog_question_new",
    ),
    path(
        pgettext_lazy("url", "types/<int:pk>/questions/<int:question>/"),
        views.question,
        name="catalog_question",
    ),
    path(
        pgettext_lazy("url", "types/<int:pk>/questions/<int:question>/deplacer/"),
        views.question_move,
        name="catalog_question_move",
    ),
    path(
        pgettext_lazy("url", "types/<int:pk>/questions/<int:question>/retirer/"),
        views.question_delete,
        name="catalog_question_delete",
    ),
    path(pgettext_lazy("url", "acheminement/"), views.routing, name="catalog_routing"),
    path(
        pgettext_lazy("url", "acheminement/<int:pk>/retirer/"),
        views.routing_delete,
        name="catalog_routing_delete",
    ),
    path(pgettext_lazy("url", "mises-a-jour/"), views.upstream_updates, name="catalog_upstream"),
    path(pgettext_lazy("url", "parametres/"), views.settings, name="catalog_settings"),
]
