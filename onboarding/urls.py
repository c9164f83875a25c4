"""The platform console, under /console/ on the base domain."""

from django.urls import path

from onboarding import views

app_name = "console"

urlpatterns = [
    path("", views.console_home, name="home"),
    path("projets/", views.project_index, name="projects"),
    path("projets/nouveau/", views.project_new, name="project_new"),
    path("projets/<int:pk>/", views.project_detail, name="project_detail"),
    path("projets/<int:pk>/etapes/<str:step>/", views.project_step, name="project_step"),
    path(
        "projets/<int:pk>/mise-en-service/",
        views.project_provision_view,
        name="project_provision",
    ),
    path("projets/<int:pk>/mise-en-ligne/", views.project_golive, name="project_golive"),
    path("journal/", views.audit_log, name="audit"),
    path("membres/", views.members, name="members"),
]
