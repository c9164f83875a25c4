"""Double submissions (a double click, the back button, a reload) act once.

Each workspace form carries a hidden `submission` token made when the form is shown. The view
claims it in the shared cache (per town and per account) before calling its service; a second
POST with the same token finds it claimed and is sent where the first one went. A refused form
releases its token, so that the person can correct it and send it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django import forms
from django.core.cache import cache
from django.http import HttpRequest

from crm.desk.plain_forms import PlainHiddenInput

SUBMISSION_FIELD = "submission"
# Long enough for a person to come back with the back button; the cache's entry then expires.
CLAIM_SECONDS = 6 * 3600
PENDING = "pending"


class SubmissionField(forms.CharField):
    """The hidden token; a new one each time the form is shown."""

    def __init__(self) -> None:
        super().__init__(widget=PlainHiddenInput, initial=lambda: uuid.uuid4().hex, max_length=64)


@dataclass
class Claim:
    """`first`: this POST is the first with its token (the view acts, then sets `done_url`);
    otherwise `done_url` is where the first one sent the person ("" while it is still
    running)."""

    key: str
    first: bool
    done_url: str = ""

    def done(self, url: str) -> None:
        self.done_url = url
        cache.set(self.key, url, CLAIM_SECONDS)


@contextmanager
def claimed(request: HttpRequest, token: str) -> Iterator[Claim]:
    """Claim `token` for this account. If the block raises (the service refused the input, or
    failed), the claim is released and the error propagates."""
    key = f"desk-submission:{request.user.pk}:{token or uuid.uuid4().hex}"
    first = cache.add(key, PENDING, CLAIM_SECONDS)
    previous = "" if first else cache.get(key, "")
    claim = Claim(key, first, "" if previous == PENDING else previous)
    try:
        yield claim
    except BaseException:
        if first:
            cache.delete(key)
        raise
    if first and not claim.done_url:
        # A first POST that ended without a page to return to (it re-rendered a form with
        # errors): nothing was written, the token may be sent again.
        cache.delete(key)
