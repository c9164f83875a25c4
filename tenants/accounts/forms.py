"""allauth's forms, where Relais needs them to do a little more."""

from __future__ import annotations

from allauth.core import context
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm

from tenants.accounts.second_factor import record_enrolment_as_second_factor


class ActivateTOTPForm(AllauthActivateTOTPForm):
    """Setting up a device with a valid code also proves the second factor for this session:
    the person is not asked for another code (which would have to wait for the next 30-second
    window) before entering the staff area they came for."""

    def clean_code(self) -> str:
        code = super().clean_code()
        if context.request is not None:
            record_enrolment_as_second_factor(request=context.request, user=self.user)
        return code
