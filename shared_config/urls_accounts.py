"""Account pages, the same on the base domain and on every town's hosts.

django-allauth handles sign-in, sign-out, password reset and two-factor authentication. The
invitation e-mails (a town's first administrator, platform staff) carry Django's own
password-setting link, which stays at /comptes/reset/<uid>/<token>/.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from tenants.accounts.views import InvitationAcceptView

invitation_patterns = [
    path(
        "comptes/reset/<uidb64>/<token>/",
        InvitationAcceptView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "comptes/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

account_patterns = [path("comptes/", include("allauth.urls"))]
