"""The door of every staff area: one sign-in path, and the second factor in the session.

Staff areas (the platform console, the Django admin on every host, the staff workspace to
come) are entered only through allauth's sign-in, whose rate limits and lock-outs are the
only ones (the admin's own login form redirects to it). Once signed in, a person whose account
has a TOTP device must have used it in this session, and a person whose area requires one must
first set it up.
"""

from __future__ import annotations

from allauth.account.authentication import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
)
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tenants.accounts.models import User

SECOND_FACTOR = "mfa"
# The staff page a person was going to when sent to set up their device (a local path).
AFTER_SET_UP = "relais_after_second_factor_set_up"


def session_used_second_factor(request: HttpRequest) -> bool:
    """Whether this session's sign-in (or a later confirmation) included a second factor."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == SECOND_FACTOR for record in records)


def session_may_act_as_staff(session: SessionBase, user: User, *, required: bool) -> bool:
    """Whether a session (a browser's, or the app's behind an X-Session-Token) may use a
    staff account's rights: it used the account's device, or the account has none and its role
    does not require one (`required`: an administrator's)."""
    if is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        records = session.get(AUTHENTICATION_METHODS_SESSION_KEY) or []
        return any(record.get("method") == SECOND_FACTOR for record in records)
    return not required


def second_factor_detour(request: HttpRequest, *, required: bool) -> HttpResponseRedirect | None:
    """Where a signed-in person must go before entering a staff area, or None to let them in.

    `required`: the area demands a TOTP device (the person is sent to set one up). Whatever
    the area, an account that has a device must have used it in this session (a session opened
    before the device was added is asked for a code)."""
    user = request.user
    query = urlencode({"next": request.get_full_path()})
    has_totp = is_mfa_enabled(user, [Authenticator.Type.TOTP])
    if required and not has_totp:
        messages.info(
            request, _("Cette page exige la double authentification : activez-la pour continuer.")
        )
        # allauth's set-up ends on the recovery codes, which offer the way back to this page.
        request.session[AFTER_SET_UP] = request.get_full_path()
        return redirect(f"{reverse('mfa_activate_totp')}?{query}")
    if has_totp and not session_used_second_factor(request):
        return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
    request.session.pop(AFTER_SET_UP, None)
    return None


def record_enrolment_as_second_factor(*, request: HttpRequest, user: User) -> None:
    """A device being set up with a valid code proves the second factor for this session."""
    record_authentication(request, user, method=SECOND_FACTOR, type=Authenticator.Type.TOTP)
