from django.urls import path

from crm.desk.bank import views

urlpatterns = [
    path("", views.index, name="bank"),
]
