from django.urls import path
from django.utils.translation import pgettext_lazy

from crm.desk.queues import views

urlpatterns = [
    path("", views.index, name="queue"),
    path("export.csv", views.export, name="queue_export"),
    path(pgettext_lazy("url", "actions/"), views.bulk, name="queue_bulk"),
    path(pgettext_lazy("url", "vues/"), views.view_save, name="queue_view_save"),
    path(
        pgettext_lazy("url", "vues/<int:pk>/supprimer/"),
        views.view_delete,
        name="queue_view_delete",
    ),
]
