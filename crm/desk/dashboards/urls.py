from django.urls import path

from crm.desk.dashboards import views

urlpatterns = [
    path("", views.index, name="dashboards"),
]
