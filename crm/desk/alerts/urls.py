"""The staff workspace, alerts: publishing one to the citizens subscribed to its topic and
sectors (supervisors and administrators), and the latest ones with how many people each
reached."""

from django.urls import path

from crm.desk.alerts import views

urlpatterns = [
    path("", views.index, name="alerts"),
]
