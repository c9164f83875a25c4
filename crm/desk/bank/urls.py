"""The staff workspace, the information bank: search for every role; editing, preview,
versions and reviews for administrators."""

from django.urls import path
from django.utils.translation import pgettext_lazy

from crm.desk.bank import views

urlpatterns = [
    path("", views.index, name="bank"),
    path(pgettext_lazy("url", "a-reviser/"), views.to_review, name="bank_review"),
    path(pgettext_lazy("url", "nouvel-article/"), views.edit, name="bank_article_new"),
    path("<int:pk>/", views.article, name="bank_article"),
    path(pgettext_lazy("url", "<int:pk>/modifier/"), views.edit, name="bank_article_edit"),
    path(pgettext_lazy("url", "<int:pk>/statut/"), views.change_status, name="bank_status"),
    path(pgettext_lazy("url", "<int:pk>/versions/"), views.versions, name="bank_versions"),
]
