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
    path("municipalites/<slug:slug>/", views.town_detail, name="town"),
    path("municipalites/<slug:slug>/statut/", views.town_lifecycle, name="town_lifecycle"),
    path("municipalites/<slug:slug>/exportation/", views.town_export_view, name="town_export"),
    path(
        "municipalites/<slug:slug>/exportations/<int:pk>/",
        views.town_export_download,
        name="town_export_download",
    ),
    path("municipalites/<slug:slug>/suppression/", views.town_delete, name="town_delete"),
    path(
        "municipalites/<slug:slug>/import-services/",
        views.town_import_services,
        name="town_import_services",
    ),
    path(
        "municipalites/<slug:slug>/import-requetes/",
        views.town_import_requests,
        name="town_import_requests",
    ),
    path("journal/", views.audit_log, name="audit"),
    path("membres/", views.members, name="members"),
]
