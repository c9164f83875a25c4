from django.urls import path

from crm.desk.catalog import views

urlpatterns = [
    path("", views.index, name="catalog"),
]
