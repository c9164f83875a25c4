from django.urls import path

from crm.desk.queues import views

urlpatterns = [
    path("", views.index, name="queue"),
]
