"""The portal's URLs: a contract (bookmarks, printed flyers, e-mails). French at the root,
English under /en/ with translated segments (`pgettext_lazy("url", ...)`, English in
locale/en): /reponses/ and /en/answers/, /signaler/ and /en/report/, /suivi/ and /en/track/,
/alertes/ and /en/alerts/."""

from django.urls import path
from django.utils.translation import pgettext_lazy

from crm.portal import views

app_name = "portal"

urlpatterns = [
    path(pgettext_lazy("url", "mon-compte/"), views.account, name="account"),
    path(
        pgettext_lazy("url", "mon-compte/coordonnees/"),
        views.account_profile,
        name="account_profile",
    ),
    path(
        pgettext_lazy("url", "mon-compte/preferences/"),
        views.account_preferences,
        name="account_preferences",
    ),
    path(pgettext_lazy("url", "alertes/"), views.alerts, name="alerts"),
    path(pgettext_lazy("url", "mon-compte/mes-donnees/"), views.account_data, name="account_data"),
    path(
        pgettext_lazy("url", "mon-compte/supprimer/"),
        views.account_delete,
        name="account_delete",
    ),
    path(pgettext_lazy("url", "confidentialite/"), views.privacy_page, name="privacy"),
    path(pgettext_lazy("url", "reponses/"), views.answers, name="answers"),
    path(pgettext_lazy("url", "reponses/<int:pk>-<slug:slug>/"), views.answer, name="answer"),
    path(pgettext_lazy("url", "reponses/<int:pk>/avis/"), views.feedback, name="feedback"),
    path(pgettext_lazy("url", "signaler/"), views.report_choose, name="report_choose"),
    path(pgettext_lazy("url", "signaler/<slug:code>/"), views.report, name="report"),
    path(
        pgettext_lazy("url", "signaler/<slug:code>/a-proximite/"),
        views.report_nearby,
        name="report_nearby",
    ),
    path(
        pgettext_lazy("url", "signaler/<slug:code>/suivre/"),
        views.report_follow,
        name="report_follow",
    ),
    path(pgettext_lazy("url", "suivi/"), views.track, name="track"),
    path(
        pgettext_lazy("url", "suivi/ne-plus-suivre/<str:token>/"),
        views.unfollow,
        name="unfollow",
    ),
    path(pgettext_lazy("url", "suivi/<str:number>/"), views.tracked, name="tracked"),
    path(pgettext_lazy("url", "suivi/<str:number>/avis/"), views.satisfaction, name="satisfaction"),
]
