"""Double submissions (a double click, the back button, a reload) act once.

Each workspace form carries a hidden `submission` token made when the form is shown. The view
claims it in the shared cache (per town and per account) before calling its service; a second
POST with the same token finds it claimed and is sent where the first one went. A refused form
releases its token, so that the person can correct it and send it again.
"""

from __future__ import annotations

import time
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
# How long a second POST waits for the first one with the same token, and how often it looks.
WAIT_SECONDS = 20.0
WAIT_STEP = 0.2


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


def _settled(key: str) -> str:
    """What the first POST with this token left: where it sent the person, once it is done.
    A double click arrives while the first is still at work (photos to prepare, a slow
    database): wait for it, up to WAIT_SECONDS, so that the second answer leads to the same
    page (the browser shows the second one only)."""
    deadline = time.monotonic() + WAIT_SECONDS
    value = cache.get(key, "")
    while value == PENDING and time.monotonic() < deadline:
        time.sleep(WAIT_STEP)
        value = cache.get(key, "")
    return value or ""


@contextmanager
def claimed(request: HttpRequest, token: str) -> Iterator[Claim]:
    """Claim `token` for this account. If the block raises (the service refused the input, or
    failed), the claim is released and the error propagates."""
    key = f"desk-submission:{request.user.pk}:{token or uuid.uuid4().hex}"
    first = cache.add(key, PENDING, CLAIM_SECONDS)
    previous = "" if first else _settled(key)
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
