from django.urls import path

from crm.desk.calls import views

urlpatterns = [
    path("", views.index, name="home"),
]
